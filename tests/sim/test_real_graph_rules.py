"""Rules real Microsoft Graph documents that break export, apply or rehearsal when the simulator ignores them.

Each test names the row of the project's real-Graph findings it covers and the Graph docs page."""

from __future__ import annotations

import httpx

from tests.sim.conftest import oid
from tests.sim.test_auth import bearer, grant


def _add_member(client: httpx.Client, group: str, rel: str, target: str) -> None:
    r = client.post(
        f"groups/{group}/{rel}/$ref",
        json={"@odata.id": f"{client.base_url}directoryObjects/{target}"},
    )
    assert r.status_code == 204, r.text


def _ids(resp: httpx.Response) -> set[str]:
    assert resp.status_code == 200, resp.text
    return {o["id"] for o in resp.json()["value"]}


# -- row 6: https://learn.microsoft.com/graph/api/group-list-members ------------------------------
def test_v1_group_members_and_owners_leave_out_service_principals(graph, beta) -> None:
    group, sp = oid("group0"), oid("sp")
    _add_member(graph, group, "members", sp)  # $ref add works on v1.0
    _add_member(graph, group, "owners", sp)
    for rel in ("members", "owners"):
        v1 = _ids(graph.get(f"groups/{group}/{rel}"))
        b = _ids(beta.get(f"groups/{group}/{rel}"))
        assert sp not in v1 and sp in b
        assert v1 == b - {sp} and v1  # users are still listed on v1.0
    counted = graph.get(
        f"groups/{group}/members", params={"$count": "true"}, headers={"ConsistencyLevel": "eventual"}
    )
    assert counted.json()["@odata.count"] == 1  # user0 only: the SP is not counted either
    assert graph.delete(f"groups/{group}/members/{sp}/$ref").status_code == 204  # $ref remove too
    assert sp not in _ids(beta.get(f"groups/{group}/members"))


# -- row 10: https://learn.microsoft.com/graph/api/administrativeunit-list-members?view=graph-rest-beta
def _hidden_au_and_group(graph: httpx.Client) -> tuple[str, str]:
    au = graph.post(
        "directory/administrativeUnits",
        json={"displayName": "Hidden AU", "visibility": "HiddenMembership"},
    )
    group = graph.post(
        "groups",
        json={
            "displayName": "Hidden team", "mailEnabled": True, "mailNickname": "hiddenteam",
            "securityEnabled": False, "groupTypes": ["Unified"], "visibility": "HiddenMembership",
        },
    )  # fmt: skip
    assert au.status_code == group.status_code == 201, (au.text, group.text)
    ids = au.json()["id"], group.json()["id"]
    for path in (f"directory/administrativeUnits/{ids[0]}", f"groups/{ids[1]}"):
        r = graph.post(
            f"{path}/members/$ref",
            json={"@odata.id": f"{graph.base_url}directoryObjects/{oid('user0')}"},
        )
        assert r.status_code == 204, r.text
    return ids


def test_hidden_membership_needs_member_read_hidden_for_apps(sim, graph) -> None:
    au, group = _hidden_au_and_group(graph)
    grant(sim, "AdministrativeUnit.Read.All", "Group.Read.All")
    app = bearer(sim)
    paths = (f"directory/administrativeUnits/{au}/members", f"groups/{group}/members")
    for path in paths:
        r = httpx.get(f"{sim.graph_url}/{path}", headers=app)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "Authorization_RequestDenied"
    visible = httpx.get(f"{sim.graph_url}/groups/{oid('group0')}/members", headers=app)
    assert visible.status_code == 200  # ordinary groups need no more than Group.Read.All
    grant(sim, "Member.Read.Hidden")
    app = bearer(sim)
    for path in paths:
        assert _ids(httpx.get(f"{sim.graph_url}/{path}", headers=app)) == {oid("user0")}
