"""The enterprise seed over raw HTTP: each category a real tenant carries, in Graph's shapes."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography import x509

from entragit_sim import Simulator
from entragit_sim.seeds import resolve_seed
from entragit_sim.seeds.builders import MICROSOFT_TENANT_ID

ADMIN = {"Authorization": "Bearer sim-admin"}


@pytest.fixture(scope="module")
def c() -> Iterator[httpx.Client]:
    sim = Simulator(seed="enterprise")
    sim.start(host="127.0.0.1", port=0)
    try:
        with httpx.Client(base_url=sim.graph_url, headers=ADMIN, timeout=30) as client:
            yield client
    finally:
        sim.stop()


def _all(c: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    out, page = [], c.get(path, params={"$top": "999", **params}).json()
    while True:
        out += page["value"]
        if "@odata.nextLink" not in page:
            return out
        page = c.get(page["@odata.nextLink"]).json()


def test_builds_fast_and_deterministically():
    start = time.perf_counter()
    one = resolve_seed("enterprise", "2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90")
    assert time.perf_counter() - start < 1.0
    assert one == resolve_seed("enterprise", "2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90")


def test_hybrid_users_and_groups(c):
    synced = [u for u in _all(c, "/users", **{"$select": "id,onPremisesSyncEnabled,onPremisesImmutableId,"
              "onPremisesSamAccountName,onPremisesSecurityIdentifier,onPremisesDomainName,onPremisesLastSyncDateTime"})
              if u.get("onPremisesSyncEnabled")]
    assert len(synced) >= 10
    for u in synced:
        assert u["onPremisesSecurityIdentifier"].startswith("S-1-5-21-") and u["onPremisesDomainName"]
        assert len(base64.b64decode(u["onPremisesImmutableId"])) == 16 and u["onPremisesSamAccountName"]
        assert u["onPremisesLastSyncDateTime"]
    groups = _all(c, "/groups")
    assert sum(1 for g in groups if g.get("onPremisesSyncEnabled")) >= 5


def test_distribution_list_and_mail_enabled_security_group(c):
    groups = {g["displayName"]: g for g in _all(c, "/groups")}
    dl, mesg = groups["DL - All Staff"], groups["MESG - Finance Approvers"]
    assert (dl["mailEnabled"], dl["securityEnabled"], dl["groupTypes"]) == (True, False, [])
    assert (mesg["mailEnabled"], mesg["securityEnabled"], mesg["groupTypes"]) == (True, True, [])
    for g in (dl, mesg):
        assert g["mail"] and f"SMTP:{g['mail']}" in g["proxyAddresses"]


def test_first_party_service_principals_and_managed_identities(c):
    sps = _all(c, "/servicePrincipals")
    first = [s for s in sps if s["appOwnerOrganizationId"] == MICROSOFT_TENANT_ID]
    assert 240 <= len(first) <= 260
    by_app = {s["appId"]: s for s in first}
    assert by_app["00000003-0000-0000-c000-000000000000"]["displayName"] == "Microsoft Graph"
    assert by_app["c44b4083-3bb0-49c1-b47d-974e53cbdf3c"]["displayName"] == "Azure Portal"
    assert all(s["servicePrincipalType"] == "Application" for s in first)
    assert len({s["appId"] for s in sps}) == len(sps), "one service principal per appId"
    mis = [s for s in sps if s["servicePrincipalType"] == "ManagedIdentity"]
    assert len(mis) == 20
    assert all(s["appOwnerOrganizationId"] is None and any(n.startswith("/subscriptions/") for n in s["alternativeNames"])
               for s in mis)


def test_restricted_au_holds_the_tier0_group(c):
    aus = {a["displayName"]: a for a in _all(c, "/directory/administrativeUnits")}
    r = aus["Tier0 - Restricted"]
    assert r["isMemberManagementRestricted"] is True and r["visibility"] == "HiddenMembership"
    assert aus["Region - EMEA"]["isMemberManagementRestricted"] is False
    tier0 = c.get("/groups", params={"$filter": "displayName eq 'Tier0 - Identity Admins'"}).json()["value"][0]
    assert tier0["isAssignableToRole"] is True
    members = c.get(f"/directory/administrativeUnits/{r['id']}/members").json()["value"]
    assert tier0["id"] in [m["id"] for m in members]


def test_apps_with_certificates_and_own_app_id_uris(c):
    apps = _all(c, "/applications", **{"$select": "id,appId,displayName,identifierUris,keyCredentials"})
    assert all(a["identifierUris"] == [f"api://{a['appId']}"] for a in apps)
    certified = [a for a in apps if a["keyCredentials"]]
    assert len(certified) >= 2
    for a in certified:  # Graph returns the key itself only on a single object's $select=keyCredentials
        cred = c.get(f"/applications/{a['id']}", params={"$select": "keyCredentials"}).json()["keyCredentials"][0]
        cert = x509.load_der_x509_certificate(base64.b64decode(cred["key"]))
        assert cred["type"] == "AsymmetricX509Cert" and cert.subject.rfc4514_string() == cred["displayName"]


def test_service_principals_as_group_members_and_owner(c):
    g = c.get("/groups", params={"$filter": "displayName eq 'SG - Workload Identities'"}).json()["value"][0]
    beta = str(c.base_url).replace("/v1.0", "/beta")  # v1.0 does not list service principals here
    members = c.get(f"{beta}/groups/{g['id']}/members").json()["value"]
    owners = c.get(f"{beta}/groups/{g['id']}/owners").json()["value"]
    assert c.get(f"/groups/{g['id']}/members").json()["value"] == []
    assert {m["@odata.type"] for m in members} == {"#microsoft.graph.servicePrincipal"} and len(members) == 2
    assert [o["@odata.type"] for o in owners] == ["#microsoft.graph.servicePrincipal"]


def test_pim_instances_match_their_assignments_and_the_automation_app_holds_roles(c):
    ras = {r["id"]: r for r in _all(c, "/roleManagement/directory/roleAssignments")}
    inst = _all(c, "/roleManagement/directory/roleAssignmentScheduleInstances")
    assert sorted(i["assignmentType"] for i in inst) == ["Activated", "Activated", "Assigned"]
    for i in inst:
        ra = ras[i["roleAssignmentOriginId"]]
        assert (i["principalId"], i["roleDefinitionId"], i["directoryScopeId"], i["memberType"]) == (
            ra["principalId"], ra["roleDefinitionId"], ra["directoryScopeId"], "Direct")
    auto = c.get("/servicePrincipals", params={"$filter": "displayName eq 'entragit-automation'"}).json()["value"][0]
    scopes = sorted(r["directoryScopeId"] for r in ras.values() if r["principalId"] == auto["id"])
    assert scopes[0] == "/" and scopes[1].startswith("/administrativeUnits/")


def test_tier0_group_is_named_by_a_dozen_ca_policies(c):
    tier0 = c.get("/groups", params={"$filter": "displayName eq 'Tier0 - Identity Admins'"}).json()["value"][0]
    beta = str(c.base_url).replace("/v1.0", "/beta")
    pols = c.get(f"{beta}/identity/conditionalAccess/policies").json()["value"]
    assert sum(tier0["id"] in p["conditions"]["users"]["includeGroups"] for p in pols) == 12


def test_deleted_items_in_a_seed_land_in_the_recycle_bin():
    gid = "11111111-2222-4333-8444-555555555555"
    sim = Simulator(seed={"deletedItems": [{"kind": "groups", "object": {
        "id": gid, "displayName": "Gone", "mailEnabled": False, "mailNickname": "gone",
        "securityEnabled": True, "groupTypes": []}}]})
    sim.start(host="127.0.0.1", port=0)
    try:
        with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
            assert c.get(f"/groups/{gid}").status_code == 404
            assert c.get(f"/directory/deletedItems/{gid}").json()["displayName"] == "Gone"
            assert c.post(f"/directory/deletedItems/{gid}/restore").status_code == 200
            assert c.get(f"/groups/{gid}").json()["id"] == gid
    finally:
        sim.stop()
