"""The real-tenant story end to end: an enterprise tenant (hybrid objects, restricted AU, first-party
SPs, certificates, PIM), an app holding exactly `entragit permissions`, four kinds of damage, one
apply, a second plan that is empty; the plan names what this identity cannot do and why."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx

from tests.conftest import exact_app, make_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
CA = "/identity/conditionalAccess/policies"
TIER0 = "Tier0 - Identity Admins"
API_APP = "Northwind Orders API"


def _one(c: httpx.Client, path: str, name: str, field: str = "displayName") -> dict[str, Any]:
    [hit] = c.get(path, params={"$filter": f"{field} eq '{name}'"}).json()["value"]
    return dict(hit)


def test_enterprise_damage_comes_back_through_one_apply_as_an_app(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("enterprise", tls=True)
    verify = ssl.create_default_context(cafile=sim.ca_bundle)
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify) as c, \
            httpx.Client(base_url=sim.beta_url, headers=ADMIN, verify=verify) as beta:
        app_id, secret = exact_app(sim)
        monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", secret)
        cli = make_repo(tmp_path / "r", sim, "northwind", "--auth", "secret", "--client-id", app_id,
                        "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
        cli("export", "--commit")

        policies = beta.get(CA).json()["value"]
        tier0 = _one(c, "/groups", TIER0)
        using = [p["displayName"] for p in policies if tier0["id"] in json.dumps(p["conditions"])]
        assert len(using) >= 10
        deleted = next(p for p in policies if p["state"] == "enabled" and not p["displayName"].startswith("CA100"))
        weakened = next(p for p in policies if p["displayName"].startswith("CA100"))
        api = _one(c, "/applications", API_APP)
        api_sp = _one(c, "/servicePrincipals", api["appId"], "appId")
        assert api["identifierUris"] == [f"api://{api['appId']}"] and api["keyCredentials"]

        # 1. a CA policy deleted (soft), 2. the tier-0 group hard-deleted, 3. the API app and its SP
        # hard-deleted, 4. CA100 weakened to report-only.
        assert beta.delete(f"{CA}/{deleted['id']}").status_code == 204
        for path in (f"/groups/{tier0['id']}", f"/directory/deletedItems/{tier0['id']}",
                     f"/applications/{api['id']}", f"/directory/deletedItems/{api['id']}",
                     f"/directory/deletedItems/{api_sp['id']}"):
            assert c.delete(path).status_code == 204, path
        assert beta.patch(f"{CA}/{weakened['id']}",
                          json={"state": "enabledForReportingButNotEnforced"}).status_code == 204

        plan = json.loads(cli("plan", "--format", "json").output)
        ops = {(o["action"], o["kind"], o["name"]) for o in plan["operations"]}
        assert ("create", "conditionalAccessPolicies", deleted["displayName"]) in ops  # an app may not restore it
        assert ("create", "groups", TIER0) in ops and ("create", "applications", API_APP) in ops
        assert ("update", "conditionalAccessPolicies", weakened["displayName"]) in ops
        assert {n for a, k, n in ops if a == "update" and k == "conditionalAccessPolicies"} >= set(using) - {
            deleted["displayName"]}
        warnings = "\n".join(plan["warnings"])
        assert f"{deleted['displayName']}' is in the recycle bin, but Graph lets only a signed-in administrator" in warnings
        assert f"{TIER0}' is not in the recycle bin" in warnings
        assert f"{API_APP}': keyCredentials recreated; its certificates must be uploaded again" in warnings

        cli("apply", "--yes")
        back = _one(c, "/groups", TIER0)
        assert back["id"] != tier0["id"]
        policies = {p["displayName"]: p for p in beta.get(CA).json()["value"]}
        assert all(back["id"] in json.dumps(policies[n]["conditions"]) for n in using)
        assert policies[weakened["displayName"]]["state"] == "enabled"
        assert policies[deleted["displayName"]]["id"] != deleted["id"]
        new_api = _one(c, "/applications", API_APP)
        assert new_api["identifierUris"] == [f"api://{new_api['appId']}"] and new_api["appId"] != api["appId"]
        second = json.loads(cli("plan", "--format", "json").output)
        assert second["operations"] == [], second["operations"]


def test_writes_into_a_restricted_unit_are_predicted_not_attempted(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("enterprise", tls=True)
    verify = ssl.create_default_context(cafile=sim.ca_bundle)
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify) as c:
        app_id, secret = exact_app(sim)
        monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", secret)
        cli = make_repo(tmp_path / "r", sim, "northwind", "--auth", "secret", "--client-id", app_id,
                        "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
        cli("export", "--commit")
        tier0 = _one(c, "/groups", TIER0)
        # Someone edits the tier-0 group in the portal; the files say otherwise.
        assert c.patch(f"/groups/{tier0['id']}", json={"description": "changed in the portal"}).status_code == 204
        since = len(sim.requests)
        plan = json.loads(cli("plan", "--format", "json").output)
        assert not [o for o in plan["operations"] if o["name"] == TIER0]
        [why] = [a for a in plan["left_alone"] if a["name"] == TIER0]
        assert why["why"] == "not-permitted" and "Tier0 - Restricted" in why["reason"]
        text = cli("plan").output
        assert "not writable by this identity" in text and "restricted administrative unit" in text
        cli("apply", "--yes")
        assert not [r for r in sim.requests[since:] if r.method == "PATCH" and tier0["id"] in r.path]


def test_several_refused_writes_to_one_restricted_object_are_one_object_left_alone(tmp_path, sim_factory,
                                                                                 monkeypatch):
    """Two members removed from the tier-0 group in the portal: both re-adds are refused, and the plan
    names the group once, not once per membership."""
    sim = sim_factory("enterprise", tls=True)
    verify = ssl.create_default_context(cafile=sim.ca_bundle)
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify) as c:
        app_id, secret = exact_app(sim)
        monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", secret)
        cli = make_repo(tmp_path / "r", sim, "northwind", "--auth", "secret", "--client-id", app_id,
                        "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
        cli("export", "--commit")
        tier0 = _one(c, "/groups", TIER0)
        members = c.get(f"/groups/{tier0['id']}/members").json()["value"][:2]
        assert len(members) == 2
        for m in members:
            assert c.delete(f"/groups/{tier0['id']}/members/{m['id']}/$ref").status_code == 204
        plan = json.loads(cli("plan", "--format", "json").output)
        assert [(a["why"], a["fields"]) for a in plan["left_alone"] if a["name"] == TIER0] == \
            [("not-permitted", ["members"])]
        assert cli("plan").output.count(f"= group '{TIER0}'") == 1
