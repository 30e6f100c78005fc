"""Home realm discovery, token issuance, token lifetime and claims mapping policies, with the apps and
service principals they are assigned to, through the CLI signed in as the app holding exactly the listed
permissions: export, a portal edit shows in plan, apply puts it back, a second plan is empty; a deleted
policy (Graph keeps no deleted item of a policy) is recreated from its file and assigned again, and a
hard-deleted application is recreated and assigned its policies again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from entragit_sim import apppolicies
from entragit_sim.seeds import load_into
from entragit_sim.store import Store
from tests.conftest import Cli, admin, app_repo

HRD, TIP = "/policies/homeRealmDiscoveryPolicies", "/policies/tokenIssuancePolicies"
TLP, CMP = "/policies/tokenLifetimePolicies", "/policies/claimsMappingPolicies"
KINDS = ("homeRealmDiscoveryPolicies", "tokenIssuancePolicies", "tokenLifetimePolicies", "claimsMappingPolicies")
HRD_DEF = json.dumps({"HomeRealmDiscoveryPolicy": {"AccelerateToFederatedDomain": True,
                                                   "PreferredDomain": "federated.example.com"}})
TIP_DEF = json.dumps({"TokenIssuancePolicy": {"Version": 1, "SigningAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                              "TokenResponseSigningPolicy": "TokenOnly", "SamlTokenVersion": "2.0"}})


def _ops(repo: Cli) -> list[tuple[str, str]]:
    out = repo("plan", "--format", "json").output
    return sorted((o["kind"], o["action"]) for o in json.loads(out[out.index("{"):])["operations"])


def _one(c: httpx.Client, path: str, name: str) -> dict[str, Any]:
    return next(p for p in c.get(path).json()["value"] if p["displayName"] == name)


TLP_DEF = json.dumps({"TokenLifetimePolicy": {"Version": 1, "AccessTokenLifetime": "8:00:00"}})
CMP_DEF = json.dumps({"ClaimsMappingPolicy": {"Version": 1, "IncludeBasicClaimSet": "true"}})


def _by_name(c: httpx.Client, path: str, name: str) -> dict[str, Any]:
    return c.get(path, params={"$filter": f"displayName eq '{name}'"}).json()["value"][0]


def _applies_to(c: httpx.Client, path: str, pid: str) -> list[str]:
    return [o["id"] for o in c.get(f"{path}/{pid}/appliesTo").json()["value"]]


def _seed(c: httpx.Client) -> dict[str, str]:
    """The four policies, each assigned where Graph lets it be: HRD and claims mapping on HR Portal's
    service principal, token issuance and lifetime on the ExpenseHub application."""
    sp, app = _by_name(c, "/servicePrincipals", "HR Portal")["id"], _by_name(c, "/applications", "ExpenseHub")["id"]
    for path, name, definition, on in ((HRD, "Accelerate to federated", HRD_DEF, f"/servicePrincipals/{sp}"),
                                       (TIP, "SAML token only", TIP_DEF, f"/applications/{app}"),
                                       (TLP, "Eight hour tokens", TLP_DEF, f"/applications/{app}"),
                                       (CMP, "Basic claims", CMP_DEF, f"/servicePrincipals/{sp}")):
        made = c.post(path, json={"displayName": name, "definition": [definition], "isOrganizationDefault": False})
        assert made.status_code == 201, made.text
        ref = {"@odata.id": f"{c.base_url}{path}/{made.json()['id']}"}
        assert c.post(f"{on}{path.replace('/policies', '')}/$ref", json=ref).status_code == 204
    return {"sp": sp, "app": app}


def test_edits_come_back_and_a_deleted_policy_is_recreated(tmp_path: Path, sim_factory: Any,
                                                           monkeypatch: Any) -> None:
    sim = sim_factory("demo", tls=True)
    with admin(sim) as c:
        on = _seed(c)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    d = Path(repo.repo) / "tenants" / "demo"
    hrd = yaml.safe_load((d / "homeRealmDiscoveryPolicies" / "accelerate-to-federated.yaml").read_text())
    assert json.loads(hrd["definition"][0])["HomeRealmDiscoveryPolicy"]["PreferredDomain"] == "federated.example.com"
    tip = yaml.safe_load((d / "tokenIssuancePolicies" / "saml-token-only.yaml").read_text())
    assert tip["displayName"] == "SAML token only" and "deletedDateTime" not in tip
    assert hrd["appliesTo"] == [on["sp"]] and hrd["refs"][on["sp"]]["name"] == "HR Portal"
    assert tip["appliesTo"] == [on["app"]] and tip["refs"][on["app"]]["name"] == "ExpenseHub"
    with admin(sim) as c:
        # Portal edits: the preferred domain changed, the token policy renamed.
        h, t = _one(c, HRD, "Accelerate to federated"), _one(c, TIP, "SAML token only")
        edited = [HRD_DEF.replace("federated.example.com", "other.example.com")]
        assert c.patch(f"{HRD}/{h['id']}", json={"definition": edited}).status_code == 204
        assert c.patch(f"{TIP}/{t['id']}", json={"displayName": "Renamed"}).status_code == 204
        # ... and the assignments undone on the app's side.
        lt, cm = _one(c, TLP, "Eight hour tokens"), _one(c, CMP, "Basic claims")
        assert c.delete(f"/applications/{on['app']}/tokenLifetimePolicies/{lt['id']}/$ref").status_code == 204
        assert c.delete(f"/servicePrincipals/{on['sp']}/claimsMappingPolicies/{cm['id']}/$ref").status_code == 204
        assert [o for o in _ops(repo) if o[0] in KINDS] == [
            ("claimsMappingPolicies", "link"), ("homeRealmDiscoveryPolicies", "update"),
            ("tokenIssuancePolicies", "update"), ("tokenLifetimePolicies", "link")]
        repo("apply", "--yes")
        assert _ops(repo) == []
        assert c.get(f"{HRD}/{h['id']}").json()["definition"] == [HRD_DEF]
        assert c.get(f"{TIP}/{t['id']}").json()["displayName"] == "SAML token only"
        assert _applies_to(c, TLP, lt["id"]) == [on["app"]] and _applies_to(c, CMP, cm["id"]) == [on["sp"]]

        # Deleted: Graph has no deleted item to restore, so apply creates it again from the file and
        # assigns the new policy to the service principal.
        assert c.delete(f"{HRD}/{h['id']}").status_code == 204
        assert [o for o in _ops(repo) if o[0] in KINDS] == [
            ("homeRealmDiscoveryPolicies", "create"), ("homeRealmDiscoveryPolicies", "link")]
        repo("apply", "--yes")
        again = _one(c, HRD, "Accelerate to federated")
        assert again["id"] != h["id"] and again["definition"] == [HRD_DEF]
        assert _applies_to(c, HRD, again["id"]) == [on["sp"]]
    assert _ops(repo) == []


def test_a_recreated_app_is_assigned_the_policies_again(tmp_path: Path, sim_factory: Any, monkeypatch: Any) -> None:
    sim = sim_factory("demo", tls=True)
    with admin(sim) as c:
        on = _seed(c)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    with admin(sim) as c:
        tip, lt = _one(c, TIP, "SAML token only"), _one(c, TLP, "Eight hour tokens")
        assert c.delete(f"/applications/{on['app']}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{on['app']}").status_code == 204
        assert _applies_to(c, TIP, tip["id"]) == []
        repo("apply", "--yes")
        new = _by_name(c, "/applications", "ExpenseHub")["id"]
        assert new != on["app"]
        assert _applies_to(c, TIP, tip["id"]) == [new] and _applies_to(c, TLP, lt["id"]) == [new]
    assert _ops(repo) == []


def test_a_seed_listing_applies_to_holds_the_assignment_on_the_app() -> None:
    """A seed made from the files (a rehearsal's twin) lists appliesTo as a read shows it: the simulator
    keeps it as the assignment on the application or service principal, as Graph does."""
    store = Store("00000000-0000-0000-0000-0000000000aa")
    app, sp = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
    pid, hid = "33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"
    load_into(store, {
        "applications": [{"id": app, "appId": "55555555-5555-5555-5555-555555555555", "displayName": "A"}],
        "servicePrincipals": [{"id": sp, "appId": "55555555-5555-5555-5555-555555555555", "displayName": "A"}],
        "tokenIssuancePolicies": [{"id": pid, "displayName": "T", "definition": [TIP_DEF], "appliesTo": [app]}],
        "homeRealmDiscoveryPolicies": [{"id": hid, "displayName": "H", "definition": [HRD_DEF], "appliesTo": [sp]}],
    })
    assert apppolicies.assigned_policy(store, "applications", app, "tokenIssuancePolicies") == [pid]
    assert apppolicies.assigned_policy(store, "servicePrincipals", sp, "homeRealmDiscoveryPolicies") == [hid]
    assert [o["id"] for _, o in apppolicies.applies_to(store, hid, "homeRealmDiscoveryPolicies")] == [sp]
    assert "appliesTo" not in store.get("tokenIssuancePolicies", pid)
