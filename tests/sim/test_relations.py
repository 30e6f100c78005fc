"""$ref relationships, app role assignments, consent grants, role assignments (graph-notes 1, 4.5-4.9)."""

from __future__ import annotations

import httpx

from tests.sim.conftest import oid

GA = "62e90394-69f5-4237-9190-012177145e10"


def ref(x: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{x}"}


def test_members_ref_add_list_remove(graph: httpx.Client, beta: httpx.Client) -> None:
    gid, uid = oid("group0"), oid("user1")
    assert graph.post(f"groups/{gid}/members/$ref", json=ref(uid)).status_code == 204
    members = graph.get(f"groups/{gid}/members").json()
    assert members["@odata.context"].endswith("#directoryObjects")
    assert {m["id"] for m in members["value"]} == {oid("user0"), uid}
    assert all(m["@odata.type"] == "#microsoft.graph.user" for m in members["value"])
    dup = graph.post(f"groups/{gid}/members/$ref", json=ref(uid))
    assert dup.status_code == 400
    assert dup.json()["error"]["message"] == (
        "One or more added object references already exist for the following modified properties: 'members'."
    )
    assert graph.post(f"groups/{gid}/members/$ref", json=ref(oid("ghost"))).status_code == 404
    assert graph.delete(f"groups/{gid}/members/{uid}/$ref").status_code == 204
    assert graph.delete(f"groups/{gid}/members/{uid}/$ref").status_code == 404
    assert graph.post(f"groups/{gid}/owners/$ref", json=ref(oid("sp"))).status_code == 204
    # v1.0 does not list service principals as group owners or members; beta does
    # (https://learn.microsoft.com/graph/api/group-list-owners, .../group-list-members).
    owners = beta.get(f"groups/{gid}/owners").json()["value"]
    assert {o["@odata.type"] for o in owners} == {
        "#microsoft.graph.user",
        "#microsoft.graph.servicePrincipal",
    }
    v1 = graph.get(f"groups/{gid}/owners").json()["value"]
    assert {o["@odata.type"] for o in v1} == {"#microsoft.graph.user"}
    assert graph.post(f"groups/{gid}/members/$ref", json=ref(oid("sp"))).status_code == 204
    assert oid("sp") not in {m["id"] for m in graph.get(f"groups/{gid}/members").json()["value"]}
    assert oid("sp") in {m["id"] for m in beta.get(f"groups/{gid}/members").json()["value"]}


def test_dynamic_group_rejects_manual_members(graph: httpx.Client) -> None:
    g = graph.post(
        "groups",
        json={
            "displayName": "Dyn",
            "mailEnabled": False,
            "mailNickname": "dyn",
            "securityEnabled": True,
            "groupTypes": ["DynamicMembership"],
            "membershipRule": 'user.department -eq "Sales"',
            "membershipRuleProcessingState": "On",
        },
    ).json()
    assert graph.post(f"groups/{g['id']}/members/$ref", json=ref(oid("user0"))).status_code == 400


def test_bind_on_create_and_limit(graph: httpx.Client) -> None:
    users = [
        graph.post(
            "users",
            json={
                "accountEnabled": True,
                "displayName": f"b{i}",
                "mailNickname": f"b{i}",
                "userPrincipalName": f"b{i}@contoso.example",
                "passwordProfile": {"password": "x"},
            },
        ).json()["id"]
        for i in range(21)
    ]
    base = {
        "displayName": "Bound",
        "mailEnabled": False,
        "mailNickname": "bound",
        "securityEnabled": True,
    }
    url = "https://graph.microsoft.com/v1.0/users/"
    too_many = {
        **base,
        "members@odata.bind": [url + u for u in users[:15]],
        "owners@odata.bind": [url + u for u in users[15:]],
    }
    assert graph.post("groups", json=too_many).status_code == 400
    ok = {
        **base,
        "members@odata.bind": [url + u for u in users[:19]],
        "owners@odata.bind": [url + users[20]],
    }
    r = graph.post("groups", json=ok)
    assert r.status_code == 201
    assert (
        len(graph.get(f"groups/{r.json()['id']}/members", params={"$top": 999}).json()["value"])
        == 19
    )


def test_role_assignable_group_needs_role_management(graph: httpx.Client) -> None:
    g = graph.post(
        "groups",
        json={
            "displayName": "Admins",
            "mailEnabled": False,
            "mailNickname": "admins",
            "securityEnabled": True,
            "isAssignableToRole": True,
        },
    )
    assert g.status_code == 201
    assert (
        graph.patch(f"groups/{g.json()['id']}", json={"isAssignableToRole": False}).status_code
        == 400
    )
    ra = graph.post(
        "roleManagement/directory/roleAssignments",
        json={"principalId": g.json()["id"], "roleDefinitionId": GA, "directoryScopeId": "/"},
    )
    assert ra.status_code == 201
    plain = graph.post(
        "roleManagement/directory/roleAssignments",
        json={"principalId": oid("group1"), "roleDefinitionId": GA, "directoryScopeId": "/"},
    )
    assert plain.status_code == 400


def test_role_assignments(graph: httpx.Client) -> None:
    path = "roleManagement/directory/roleAssignments"
    body = {"principalId": oid("user0"), "roleDefinitionId": GA, "directoryScopeId": "/"}
    r = graph.post(path, json=body)
    assert r.status_code == 201 and r.json()["id"].endswith("-1")
    assert graph.post(path, json=body).status_code == 409
    assert graph.post(path, json={**body, "roleDefinitionId": oid("nope")}).status_code == 404
    listed = graph.get(path, params={"$filter": f"principalId eq '{oid('user0')}'"}).json()["value"]
    assert [a["id"] for a in listed] == [r.json()["id"]]
    assert (
        graph.patch(f"{path}/{r.json()['id']}", json={"directoryScopeId": "/x"}).status_code == 405
    )


def test_app_role_assignments_views(sim, graph: httpx.Client) -> None:
    from entragit_sim.builtins import GRAPH_PERMISSIONS, graph_sp_id

    gsp = graph_sp_id(sim.tenant_id)
    path = f"servicePrincipals/{gsp}/appRoleAssignedTo"
    body = {
        "principalId": oid("sp"),
        "resourceId": gsp,
        "appRoleId": GRAPH_PERMISSIONS["Group.Read.All"],
    }
    r = graph.post(path, json=body)
    assert r.status_code == 201, r.text
    a = r.json()
    assert (
        a["principalType"] == "ServicePrincipal" and a["resourceDisplayName"] == "Microsoft Graph"
    )
    assert len(a["id"]) == 43  # opaque base64url, not a GUID
    assert graph.post(path, json=body).status_code == 400
    assert graph.post(path, json={**body, "appRoleId": oid("no-role")}).status_code == 400
    mine = graph.get(f"servicePrincipals/{oid('sp')}/appRoleAssignments").json()["value"]
    assert [x["id"] for x in mine] == [a["id"]]
    assert graph.get(f"servicePrincipals/{gsp}/appRoleAssignedTo/{a['id']}").status_code == 200
    assert graph.delete(f"servicePrincipals/{gsp}/appRoleAssignedTo/{a['id']}").status_code == 204
    assert graph.get(path).json()["value"] == []
    user_path = f"users/{oid('user0')}/appRoleAssignments"
    r = graph.post(
        user_path,
        json={
            "principalId": oid("user0"),
            "resourceId": oid("sp"),
            "appRoleId": "00000000-0000-0000-0000-000000000000",
        },
    )
    assert r.status_code == 201 and r.json()["principalType"] == "User"


def test_oauth2_permission_grants(sim, graph: httpx.Client) -> None:
    from entragit_sim.builtins import graph_sp_id

    body = {
        "clientId": oid("sp"),
        "consentType": "AllPrincipals",
        "resourceId": graph_sp_id(sim.tenant_id),
        "scope": "User.Read",
    }
    r = graph.post("oauth2PermissionGrants", json=body)
    assert r.status_code == 201 and r.json()["principalId"] is None
    gid = r.json()["id"]
    assert graph.post("oauth2PermissionGrants", json=body).status_code == 409
    assert (
        graph.patch(f"oauth2PermissionGrants/{gid}", json={"scope": "User.Read openid"}).status_code
        == 204
    )
    assert (
        graph.patch(f"oauth2PermissionGrants/{gid}", json={"clientId": oid("x")}).status_code == 400
    )
    listed = graph.get(
        "oauth2PermissionGrants", params={"$filter": f"clientId eq '{oid('sp')}'"}
    ).json()["value"]
    assert listed[0]["scope"] == "User.Read openid"
    assert (
        graph.get(f"servicePrincipals/{oid('sp')}/oauth2PermissionGrants").json()["value"][0]["id"]
        == gid
    )
    assert graph.delete(f"oauth2PermissionGrants/{gid}").status_code == 204


def test_app_and_sp_owners(graph: httpx.Client) -> None:
    assert [o["id"] for o in graph.get(f"applications/{oid('app')}/owners").json()["value"]] == [
        oid("user0")
    ]
    assert (
        graph.post(f"servicePrincipals/{oid('sp')}/owners/$ref", json=ref(oid("user1"))).status_code
        == 204
    )
    assert [
        o["id"] for o in graph.get(f"servicePrincipals/{oid('sp')}/owners").json()["value"]
    ] == [oid("user1")]


def test_administrative_unit_members(graph: httpx.Client, beta: httpx.Client) -> None:
    au = graph.post("directory/administrativeUnits", json={"displayName": "EU"}).json()
    assert (
        graph.post(
            f"directory/administrativeUnits/{au['id']}/members/$ref", json=ref(oid("user0"))
        ).status_code
        == 204
    )
    assert [
        m["id"]
        for m in graph.get(f"directory/administrativeUnits/{au['id']}/members").json()["value"]
    ] == [oid("user0")]
    assert beta.get(f"administrativeUnits/{au['id']}").status_code == 200


def test_expand(graph: httpx.Client) -> None:
    g = graph.get(f"groups/{oid('group0')}", params={"$expand": "members"}).json()
    assert [m["id"] for m in g["members"]] == [oid("user0")]
    graph.post(
        "roleManagement/directory/roleAssignments",
        json={"principalId": oid("user1"), "roleDefinitionId": GA, "directoryScopeId": "/"},
    )
    listed = graph.get(
        "roleManagement/directory/roleAssignments", params={"$expand": "principal"}
    ).json()["value"]
    assert listed[0]["principal"]["userPrincipalName"] == "user1@contoso.example"
    assert graph.get("groups", params={"$expand": "nonsense"}).status_code == 400


def test_expand_on_a_directory_list_pages_by_100_and_keeps_what_select_names(graph: httpx.Client) -> None:
    """https://learn.microsoft.com/graph/query-parameters#expand-parameter: with $expand, directory
    objects come at most 100 a page whatever $top asks, and at most 20 linked objects each."""
    made = [graph.post("groups", json={"displayName": f"g{i}", "mailNickname": f"g{i}", "mailEnabled": False,
                                       "securityEnabled": True}).json()["id"] for i in range(101)]
    for i in range(22):
        u = graph.post("users", json={"displayName": f"o{i}", "userPrincipalName": f"o{i}@contoso.example",
                                      "accountEnabled": True, "mailNickname": f"o{i}",
                                      "passwordProfile": {"password": "Aa1!aaaaaaaa"}}).json()["id"]
        r = graph.post(f"groups/{made[0]}/owners/$ref", json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{u}"})
        assert r.status_code == 204, r.text
    page = graph.get("groups", params={"$select": "id", "$expand": "owners", "$top": "999"}).json()
    assert len(page["value"]) == 100 and "@odata.nextLink" in page
    first = next(g for g in page["value"] if g["id"] == made[0])
    assert set(first) == {"id", "owners"} and len(first["owners"]) == 20
    assert len(graph.get("groups", params={"$select": "id", "$top": "999"}).json()["value"]) > 100
