"""Create/read/update/delete per kind with Graph's verbs, status codes and error bodies (graph-notes 1, 6.6, 6.7)."""

from __future__ import annotations

import re

import httpx

from tests.sim.conftest import ADMIN, oid

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code
    assert set(err["innerError"]) >= {"date", "request-id", "client-request-id"}
    return err


def test_group_lifecycle(graph: httpx.Client) -> None:
    r = graph.post(
        "groups",
        json={
            "displayName": "Finance",
            "mailEnabled": False,
            "mailNickname": "finance",
            "securityEnabled": True,
        },
    )
    assert r.status_code == 201
    body = r.json()
    assert GUID.match(body["id"])
    assert body["@odata.context"].endswith("/v1.0/$metadata#groups/$entity")
    assert body["createdDateTime"] and body["securityIdentifier"].startswith("S-1-12-1-")
    gid = body["id"]
    assert graph.patch(f"groups/{gid}", json={"description": "money"}).status_code == 204
    got = graph.get(f"groups/{gid}").json()
    assert got["description"] == "money" and got["displayName"] == "Finance"
    assert graph.delete(f"groups/{gid}").status_code == 204
    assert_error(graph.get(f"groups/{gid}"), 404, "Request_ResourceNotFound")


def test_required_and_read_only(graph: httpx.Client) -> None:
    err = assert_error(
        graph.post(
            "groups", json={"displayName": "x", "mailEnabled": False, "securityEnabled": True}
        ),
        400,
        "Request_BadRequest",
    )
    assert "mailNickname" in err["message"]
    assert_error(
        graph.post(
            "groups",
            json={
                "displayName": "x",
                "mailEnabled": False,
                "securityEnabled": True,
                "mailNickname": "x",
                "mail": "x@y",
            },
        ),
        400,
        "Request_BadRequest",
    )
    assert_error(
        graph.patch(f"groups/{oid('group0')}", json={"createdDateTime": "2020-01-01T00:00:00Z"}),
        400,
        "Request_BadRequest",
    )
    err = assert_error(
        graph.post(
            "identity/conditionalAccess/policies", json={"displayName": "x", "state": "enabled"}
        ),
        400,
        "BadRequest",
    )
    assert err["message"].startswith("1007:")


def test_unknown_segment_and_method(graph: httpx.Client) -> None:
    assert graph.get("nonsense").status_code == 400
    assert graph.put("groups").status_code == 405


def test_ca_policy_create_update(graph: httpx.Client) -> None:
    body = {
        "displayName": "Block legacy",
        "state": "enabledForReportingButNotEnforced",
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
            "clientAppTypes": ["exchangeActiveSync", "other"],
        },
        "grantControls": {"operator": "OR", "builtInControls": ["block"]},
    }
    r = graph.post("identity/conditionalAccess/policies", json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["createdDateTime"]
    assert (
        graph.patch(
            f"identity/conditionalAccess/policies/{pid}", json={"state": "enabled"}
        ).status_code
        == 204
    )
    got = graph.get(f"identity/conditionalAccess/policies/{pid}").json()
    assert got["state"] == "enabled" and got["modifiedDateTime"]


def test_ca_policy_rejects_unknown_named_location(graph: httpx.Client) -> None:
    body = {
        "displayName": "x",
        "state": "disabled",
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
            "locations": {"includeLocations": [oid("nowhere")]},
        },
    }
    assert_error(graph.post("identity/conditionalAccess/policies", json=body), 400, "BadRequest")
    body["conditions"]["locations"]["includeLocations"] = [oid("loc"), "AllTrusted"]
    assert graph.post("identity/conditionalAccess/policies", json=body).status_code == 201


def test_ca_policy_expands_authentication_strength(graph: httpx.Client) -> None:
    body = {
        "displayName": "x",
        "state": "disabled",
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
        },
        "grantControls": {
            "operator": "OR",
            "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004"},
        },
    }
    pid = graph.post("identity/conditionalAccess/policies", json=body).json()["id"]
    got = graph.get(f"identity/conditionalAccess/policies/{pid}").json()
    assert got["grantControls"]["authenticationStrength"]["displayName"] == "Phishing resistant MFA"


def test_named_location_needs_odata_type(graph: httpx.Client) -> None:
    path = "identity/conditionalAccess/namedLocations"
    assert graph.post(path, json={"displayName": "x", "ipRanges": []}).status_code == 400
    r = graph.post(
        path,
        json={
            "@odata.type": "#microsoft.graph.countryNamedLocation",
            "displayName": "NL",
            "countriesAndRegions": ["NL"],
            "includeUnknownCountriesAndRegions": False,
        },
    )
    assert (
        r.status_code == 201 and r.json()["@odata.type"] == "#microsoft.graph.countryNamedLocation"
    )
    lid = r.json()["id"]
    assert graph.patch(f"{path}/{lid}", json={"displayName": "NL2"}).status_code == 400
    ok = graph.patch(
        f"{path}/{lid}",
        json={"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "NL2"},
    )
    assert ok.status_code == 204
    items = graph.get(path).json()["value"]
    assert all("@odata.type" in i for i in items)


def test_named_location_in_use_or_trusted_cannot_be_deleted(graph: httpx.Client) -> None:
    path = "identity/conditionalAccess/namedLocations"
    assert graph.delete(f"{path}/{oid('loc')}").status_code == 400  # used by the seeded CA policies
    r = graph.post(
        path,
        json={
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "displayName": "T",
            "isTrusted": True,
            "ipRanges": [
                {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "1.2.3.0/24"}
            ],
        },
    )
    lid = r.json()["id"]
    assert graph.delete(f"{path}/{lid}").status_code == 400
    graph.patch(
        f"{path}/{lid}",
        json={"@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": False},
    )
    assert graph.delete(f"{path}/{lid}").status_code == 204


def test_auth_context_patch_upsert(graph: httpx.Client) -> None:
    path = "identity/conditionalAccess/authenticationContextClassReferences"
    assert graph.patch(f"{path}/c3", json={}).status_code == 204
    assert (
        graph.patch(
            f"{path}/c3", json={"displayName": "Sensitive", "isAvailable": True}
        ).status_code
        == 204
    )
    got = graph.get(f"{path}/c3").json()
    assert got["id"] == "c3" and got["displayName"] == "Sensitive"
    assert graph.delete(f"{path}/c3").status_code == 204


def test_authentication_strengths(graph: httpx.Client) -> None:
    path = "policies/authenticationStrengthPolicies"
    ids = {p["id"] for p in graph.get(path).json()["value"]}
    assert {f"00000000-0000-0000-0000-00000000000{n}" for n in (2, 3, 4)} <= ids
    assert (
        graph.patch(
            f"{path}/00000000-0000-0000-0000-000000000002", json={"displayName": "x"}
        ).status_code
        == 400
    )
    r = graph.post(path, json={"displayName": "Keys only", "allowedCombinations": ["fido2"]})
    assert r.status_code == 201 and r.json()["policyType"] == "custom"
    sid = r.json()["id"]
    assert graph.patch(f"{path}/{sid}", json={"allowedCombinations": ["sms"]}).status_code == 400
    res = graph.post(
        f"{path}/{sid}/updateAllowedCombinations",
        json={"allowedCombinations": ["fido2", "windowsHelloForBusiness"]},
    )
    assert res.status_code == 200 and res.json()["previousCombinations"] == ["fido2"]
    assert graph.get(f"{path}/{sid}").json()["allowedCombinations"] == [
        "fido2",
        "windowsHelloForBusiness",
    ]
    assert graph.delete(f"{path}/{sid}").status_code == 204


def test_singletons(graph: httpx.Client) -> None:
    for path in (
        "policies/authorizationPolicy",
        "policies/authenticationMethodsPolicy",
        "policies/crossTenantAccessPolicy",
        "policies/crossTenantAccessPolicy/default",
        "policies/identitySecurityDefaultsEnforcementPolicy",
    ):
        r = graph.get(path)
        assert r.status_code == 200, path
        assert "value" not in r.json()
    for i in range(5):  # security defaults can't be enabled next to enabled CA policies
        graph.patch(f"identity/conditionalAccess/policies/{oid(f'ca{i}')}", json={"state": "disabled"})
    assert (
        graph.patch(
            "policies/identitySecurityDefaultsEnforcementPolicy", json={"isEnabled": True}
        ).status_code
        == 204
    )
    assert (
        graph.get("policies/identitySecurityDefaultsEnforcementPolicy").json()["isEnabled"] is True
    )
    assert (
        graph.patch(
            "policies/authorizationPolicy", json={"allowInvitesFrom": "adminsAndGuestInviters"}
        ).status_code
        == 204
    )
    assert graph.post("policies/authorizationPolicy", json={}).status_code == 405
    assert graph.delete("policies/authorizationPolicy").status_code == 405


def test_auth_method_configurations(graph: httpx.Client) -> None:
    path = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations"
    ids = {c["id"] for c in graph.get(path).json()["value"]}
    assert {"Fido2", "MicrosoftAuthenticator", "Sms", "TemporaryAccessPass", "Email"} <= ids
    assert graph.patch(f"{path}/Fido2", json={"state": "enabled"}).status_code == 400
    ok = graph.patch(
        f"{path}/Fido2",
        json={
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
            "state": "enabled",
        },
    )
    assert ok.status_code == 204
    assert graph.get(f"{path}/Fido2").json()["state"] == "enabled"
    assert graph.delete(f"{path}/Fido2").status_code == 405


def test_cross_tenant_partners_and_identity_sync(graph: httpx.Client) -> None:
    partner = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"
    base = "policies/crossTenantAccessPolicy/partners"
    assert graph.post(base, json={}).status_code == 400
    r = graph.post(base, json={"tenantId": partner})
    assert r.status_code == 201 and r.json()["tenantId"] == partner
    assert graph.post(base, json={"tenantId": partner}).status_code == 409
    assert (
        graph.patch(f"{base}/{partner}", json={"inboundTrust": {"isMfaAccepted": True}}).status_code
        == 204
    )
    sync = f"{base}/{partner}/identitySynchronization"
    assert graph.get(sync).status_code == 404
    assert (
        graph.put(
            sync, json={"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
        ).status_code
        == 204
    )
    assert graph.get(sync).json()["userSyncInbound"]["isSyncAllowed"] is True
    assert graph.patch(sync, json={"userSyncInbound": {"isSyncAllowed": False}}).status_code == 204
    assert (
        graph.post("policies/crossTenantAccessPolicy/default/resetToSystemDefault").status_code
        == 204
    )
    # The sync policy goes first (crosstenantaccesspolicyconfigurationpartner-delete)
    assert graph.delete(f"{base}/{partner}").status_code == 400
    assert graph.delete(sync).status_code == 204
    assert graph.delete(f"{base}/{partner}").status_code == 204


def test_applications_and_passwords(graph: httpx.Client) -> None:
    r = graph.post("applications", json={"displayName": "App", "identifierUris": ["api://app-one.contoso.example"]})
    assert r.status_code == 201
    app = r.json()
    assert GUID.match(app["appId"]) and app["passwordCredentials"] == []
    assert graph.get(f"applications(appId='{app['appId']}')").json()["id"] == app["id"]
    dup = graph.post(
        "applications", json={"displayName": "Other", "identifierUris": ["api://app-one.contoso.example"]}
    )
    assert dup.status_code == 400 and "already exists" in dup.json()["error"]["message"]
    assert (
        graph.post("applications", json={"displayName": "x", "passwordCredentials": []}).status_code
        == 400
    )
    pw = graph.post(
        f"applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "ci"}}
    )
    assert pw.status_code == 200 and len(pw.json()["secretText"]) >= 30
    creds = graph.get(f"applications/{app['id']}").json()["passwordCredentials"]
    assert creds[0]["secretText"] is None and creds[0]["hint"] == pw.json()["secretText"][:3]
    assert pw.json()["secretText"] not in graph.get(f"applications/{app['id']}").text
    assert (
        graph.post(
            f"applications/{app['id']}/removePassword", json={"keyId": pw.json()["keyId"]}
        ).status_code
        == 204
    )
    assert graph.get(f"applications/{app['id']}").json()["passwordCredentials"] == []


def test_application_upsert_by_unique_name(graph: httpx.Client) -> None:
    path = "applications(uniqueName='tool-x')"
    assert graph.patch(path, json={"displayName": "Tool X"}).status_code == 404
    r = graph.patch(path, json={"displayName": "Tool X"}, headers={"Prefer": "create-if-missing"})
    assert r.status_code == 201 and r.json()["uniqueName"] == "tool-x"
    assert (
        graph.patch(
            path, json={"displayName": "Tool X2"}, headers={"Prefer": "create-if-missing"}
        ).status_code
        == 204
    )


def test_service_principals(graph: httpx.Client) -> None:
    app = graph.post(
        "applications",
        json={
            "displayName": "Api",
            "appRoles": [
                {
                    "id": oid("role"),
                    "allowedMemberTypes": ["Application"],
                    "value": "Things.Read",
                    "displayName": "r",
                    "description": "r",
                    "isEnabled": True,
                }
            ],
        },
    ).json()
    assert graph.post("servicePrincipals", json={"appId": oid("no-such-app")}).status_code == 400
    sp = graph.post("servicePrincipals", json={"appId": app["appId"]})
    assert sp.status_code == 201
    assert sp.json()["appRoles"][0]["value"] == "Things.Read"
    assert graph.post("servicePrincipals", json={"appId": app["appId"]}).status_code == 409
    assert graph.get(f"servicePrincipals(appId='{app['appId']}')").json()["id"] == sp.json()["id"]


def test_users_by_upn_and_password_not_returned(graph: httpx.Client) -> None:
    r = graph.post(
        "users",
        json={
            "accountEnabled": True,
            "displayName": "Ada",
            "mailNickname": "ada",
            "userPrincipalName": "ada@contoso.example",
            "passwordProfile": {
                "password": "Secr3t!Secr3t!",
                "forceChangePasswordNextSignIn": True,
            },
        },
    )
    assert r.status_code == 201 and r.json()["passwordProfile"] is None
    assert graph.get("users/ada@contoso.example").json()["id"] == r.json()["id"]
    assert "Secr3t" not in graph.get(f"users/{r.json()['id']}").text


def test_organization_is_the_tenant(sim, graph: httpx.Client) -> None:
    orgs = graph.get("organization").json()["value"]
    assert [o["id"] for o in orgs] == [sim.tenant_id]


def test_role_definitions(graph: httpx.Client) -> None:
    ga = "62e90394-69f5-4237-9190-012177145e10"
    got = graph.get(f"roleManagement/directory/roleDefinitions/{ga}").json()
    assert got["isBuiltIn"] is True and got["templateId"] == ga
    assert (
        graph.patch(
            f"roleManagement/directory/roleDefinitions/{ga}", json={"description": "x"}
        ).status_code
        == 400
    )
    assert graph.delete(f"roleManagement/directory/roleDefinitions/{ga}").status_code == 400
    r = graph.post(
        "roleManagement/directory/roleDefinitions",
        json={
            "displayName": "App reader",
            "isEnabled": True,
            "rolePermissions": [
                {"allowedResourceActions": ["microsoft.directory/applications/standard/read"]}
            ],
        },
    )
    assert (
        r.status_code == 201
        and r.json()["isBuiltIn"] is False
        and r.json()["templateId"] == r.json()["id"]
    )


def test_beta_serves_ca_and_aliases(beta: httpx.Client, graph: httpx.Client) -> None:
    assert len(beta.get("identity/conditionalAccess/policies").json()["value"]) == 5
    assert beta.get("identity/conditionalAccess/authenticationStrength/policies").status_code == 200
    assert (
        graph.get("identity/conditionalAccess/authenticationStrength/policies").status_code == 400
    )
    r = beta.patch(
        f"identity/conditionalAccess/policies/{oid('ca0')}",
        json={
            "conditions": {
                "users": {"includeUsers": ["All"]},
                "applications": {"includeApplications": ["All"]},
                "insiderRiskLevels": "elevated",
            }
        },
    )
    assert r.status_code == 204
    assert (
        graph.get(f"identity/conditionalAccess/policies/{oid('ca0')}").json()["conditions"][
            "insiderRiskLevels"
        ]
        == "elevated"
    )


def test_put_answers_as_each_update_page_says(make_sim) -> None:
    """One PUT mechanism: the whole object replaces the item (left-out defaults come back), answered 200
    with it where the update page says so (accesspackageassignmentpolicy-update,
    deviceregistrationpolicy-update) and 204 otherwise (accessreviewscheduledefinition-update,
    adminconsentrequestpolicy-update)."""
    sim = make_sim(seed="demo")
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN, timeout=10) as graph:
        policies = "identityGovernance/entitlementManagement/assignmentPolicies"
        policy = graph.get(policies).json()["value"][0]
        assert policy["description"] and policy["requestorSettings"]
        body = {"displayName": "Renamed", "accessPackage": policy["accessPackage"]}
        r = graph.put(f"{policies}/{policy['id']}", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["displayName"] == "Renamed" and r.json()["id"] == policy["id"]
        assert r.json()["description"] is None and r.json()["requestorSettings"] is None
        assert graph.get(f"{policies}/{policy['id']}").json() == r.json()
        assert graph.patch(f"{policies}/{policy['id']}", json=body).status_code == 405

        reviews = "identityGovernance/accessReviews/definitions"
        review = graph.get(reviews).json()["value"][0]
        assert review["reviewers"]
        r = graph.put(f"{reviews}/{review['id']}", json={"displayName": "Renamed", "scope": review["scope"]})
        assert r.status_code == 204 and r.content == b""
        after = graph.get(f"{reviews}/{review['id']}").json()
        assert after["displayName"] == "Renamed" and after["reviewers"] == [] and after["createdBy"] == review["createdBy"]

        device = graph.put("policies/deviceRegistrationPolicy", json={"userDeviceQuota": 7})
        assert device.status_code == 200 and device.json()["userDeviceQuota"] == 7
        consent = graph.put("policies/adminConsentRequestPolicy", json={"requestDurationInDays": 4})
        assert consent.status_code == 204
        assert graph.get("policies/adminConsentRequestPolicy").json()["requestDurationInDays"] == 4


def test_an_unlicensed_tenant_is_answered_as_each_family_reportedly_is(make_sim) -> None:
    """entitlement management: AzureAD-Governance-Assessment issue #2; PIM: EntraExporter issue #61 and
    Microsoft365DSC (table.Licence); what needs no licence answers as ever."""
    sim = make_sim(seed="demo", unlicensed=True)
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN, timeout=10) as graph:
        err = assert_error(graph.get("identityGovernance/entitlementManagement/catalogs"), 403, "NoLicense")
        assert "Tenant does not meet license requirement!" in err["message"]
        assert_error(graph.get("identityGovernance/accessReviews/definitions"), 403, "NoLicense")
        err = assert_error(graph.get("roleManagement/directory/roleEligibilitySchedules"), 403,
                           "AadPremiumLicenseRequired")
        assert err["message"] == "The tenant needs an AAD Premium 2 license."
        assert graph.get("roleManagement/directory/roleAssignments").status_code == 200
        assert graph.get("groups").status_code == 200
