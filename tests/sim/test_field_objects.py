"""Objects Microsoft owns in a real tenant: managed CA policies, first-party SPs, compliant-network locations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from entragit_sim import Simulator
from tests.sim.conftest import ADMIN, oid, small_seed

CA = "identity/conditionalAccess/policies"
NL = "identity/conditionalAccess/namedLocations"
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
COMPLIANT = "#microsoft.graph.compliantNetworkNamedLocation"


def _seed() -> dict[str, list[dict[str, Any]]]:
    seed = small_seed()
    # https://learn.microsoft.com/entra/identity/conditional-access/managed-policies
    seed["conditionalAccessPolicies"] = [*seed["conditionalAccessPolicies"], {
        "id": oid("managed"), "displayName": "Microsoft-managed: Multifactor authentication for per-user MFA users",
        "templateId": oid("managed-template"), "state": "enabledForReportingButNotEnforced",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                       "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}]
    # https://learn.microsoft.com/graph/api/resources/compliantnetworknamedlocation?view=graph-rest-beta
    seed["namedLocations"] = [*seed["namedLocations"], {
        "@odata.type": COMPLIANT, "id": oid("compliant"), "displayName": "All Compliant Network locations",
        "compliantNetworkType": "allTenantCompliantNetworks", "isTrusted": True}]
    return seed


def _clients(make_sim: Callable[..., Simulator]) -> tuple[httpx.Client, httpx.Client]:
    sim = make_sim(seed=_seed())
    return (httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN, timeout=10),
            httpx.Client(base_url=sim.beta_url + "/", headers=ADMIN, timeout=10))


def test_a_microsoft_managed_policy_cannot_be_deleted_or_renamed(make_sim) -> None:
    _, beta = _clients(make_sim)
    path = f"{CA}/{oid('managed')}"
    assert beta.get(path).json()["templateId"] == oid("managed-template")
    r = beta.delete(path)
    assert r.status_code == 400 and "Microsoft-managed policy cannot be deleted" in r.json()["error"]["message"]
    r = beta.patch(path, json={"displayName": "Our MFA"})
    assert r.status_code == 400 and "cannot be changed" in r.json()["error"]["message"]
    # State and exclusions stay the admin's to change.
    cond = beta.get(path).json()["conditions"]
    cond["users"]["excludeUsers"] = [oid("user0")]
    assert beta.patch(path, json={"state": "disabled", "conditions": cond}).status_code == 204
    got = beta.get(path).json()
    assert (got["state"], got["conditions"]["users"]["excludeUsers"]) == ("disabled", [oid("user0")])
    # An ordinary policy is still deletable.
    assert beta.delete(f"{CA}/{oid('ca0')}").status_code == 204


def test_a_first_party_sp_is_instantiated_without_an_application(graph: httpx.Client) -> None:
    # https://learn.microsoft.com/graph/api/serviceprincipal-post-serviceprincipals
    r = graph.post("servicePrincipals", json={"appId": "d4ebce55-015a-49b5-a083-c84d1797ae8c"})
    assert r.status_code == 201, r.text
    sp = r.json()
    assert (sp["displayName"], sp["appOwnerOrganizationId"]) == ("Microsoft Intune Enrollment", MICROSOFT_TENANT)
    again = graph.post("servicePrincipals", json={"appId": "d4ebce55-015a-49b5-a083-c84d1797ae8c"})
    assert again.status_code == 409
    unknown = graph.post("servicePrincipals", json={"appId": oid("nobody's app")})
    assert unknown.status_code == 400 and "does not reference a valid application" in unknown.text


def test_a_compliant_network_location_is_trusted_system_managed_and_beta_only(make_sim) -> None:
    v1, beta = _clients(make_sim)
    path = f"{NL}/{oid('compliant')}"
    got = beta.get(path).json()
    assert got["isTrusted"] is True
    noop = {"@odata.type": COMPLIANT, "displayName": got["displayName"], "isTrusted": True}
    assert beta.patch(path, json=noop).status_code == 204, "trusted by definition"
    r = beta.delete(path)
    assert r.status_code == 400 and "Global Secure Access" in r.text
    body = {"@odata.type": COMPLIANT, "displayName": "Another", "compliantNetworkType": "allTenantCompliantNetworks"}
    r = beta.post(NL, json=body)
    assert r.status_code == 400 and "cannot be created" in r.text
    assert v1.post(NL, json=body).status_code == 400
    assert v1.patch(path, json=noop).status_code == 400
    # Other kinds still may not be trusted.
    country = {"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "NL",
               "countriesAndRegions": ["NL"], "isTrusted": True}
    assert "Only IP named locations can be trusted" in beta.post(NL, json=country).text
