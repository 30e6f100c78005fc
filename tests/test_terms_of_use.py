"""Terms of use agreements, the CA policies that require them, and the group expiration policy:
exported by name, recreated after a hard delete with CA references remapped, drift patched back."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

ADMIN = {"Authorization": "Bearer sim-admin"}
TOU = "/identityGovernance/termsOfUse/agreements"
CA = "/identity/conditionalAccess/policies"
GUEST_TERMS = "Contoso Guest Terms of Use"


@pytest.fixture
def graph(sim):
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        yield c


@pytest.fixture
def exported(repo):
    """The demo tenant with group expiration policies opted in (`kinds:` in tenant.yaml)."""
    from entragit import kinds

    path = Path(repo.repo) / "tenants" / "demo" / "tenant.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["kinds"] = [k.name for k in kinds.KINDS if k.default_on] + ["groupLifecyclePolicies"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    repo("export", "--commit")
    return repo


def _agreement(graph: httpx.Client) -> dict:
    [a] = [a for a in graph.get(TOU, params={"$expand": "files"}).json()["value"] if a["displayName"] == GUEST_TERMS]
    return a


def _guest_policy(sim) -> dict:
    beta = sim.graph_url.replace("/v1.0", "/beta")
    pols = httpx.get(beta + CA, headers=ADMIN).json()["value"]
    [p] = [p for p in pols if p["displayName"].startswith("CA400-")]
    return p


def _tenant(repo) -> Path:
    return Path(repo.repo) / "tenants" / "demo"


def test_export_writes_agreements_and_lifecycle_policy_with_names_in_refs(exported, graph):
    d = _tenant(exported)
    agreement = yaml.safe_load((d / "termsOfUseAgreements" / "contoso-guest-terms-of-use.yaml").read_text())
    assert agreement["displayName"] == GUEST_TERMS
    [f] = agreement["files"]
    assert f["fileName"] == "contoso-guest-terms.pdf" and f["fileData"]["data"]
    assert "id" not in f and "createdDateTime" not in f  # Graph's, per file
    ca = yaml.safe_load(next((d / "conditionalAccessPolicies").glob("ca400-*.yaml")).read_text())
    assert ca["grantControls"]["termsOfUse"] == [agreement["id"]]
    assert ca["refs"][agreement["id"]] == {"kind": "termsOfUseAgreements", "name": GUEST_TERMS}
    [lifecycle] = (d / "groupLifecyclePolicies").glob("*.yaml")
    doc = yaml.safe_load(lifecycle.read_text())
    assert (doc["groupLifetimeInDays"], doc["managedGroupTypes"]) == (365, "All")


def test_hard_deleted_agreement_is_recreated_and_the_ca_policy_names_the_new_one(exported, sim, graph):
    old = _agreement(graph)
    assert graph.delete(f"{TOU}/{old['id']}").status_code == 204  # no recycle bin for agreements
    plan = json.loads(exported("plan", "--format", "json").output)["operations"]
    acts = {(o["kind"], o["action"]) for o in plan}
    assert ("termsOfUseAgreements", "create") in acts
    assert ("conditionalAccessPolicies", "update") in acts
    exported("apply", "--yes")
    new = _agreement(graph)
    assert new["id"] != old["id"]
    assert [f["fileData"]["data"] for f in new["files"]] == [f["fileData"]["data"] for f in old["files"]]
    assert _guest_policy(sim)["grantControls"]["termsOfUse"] == [new["id"]]
    assert "No changes" in exported("plan").output


def test_a_ca_policy_cannot_name_an_agreement_that_does_not_exist(sim):
    beta = sim.graph_url.replace("/v1.0", "/beta")
    p = _guest_policy(sim)
    r = httpx.patch(f"{beta}{CA}/{p['id']}", headers=ADMIN,
                    json={"grantControls": {**p["grantControls"], "termsOfUse": ["00000000-0000-0000-0000-00000000dead"]}})
    assert r.status_code == 400 and "was not found" in r.json()["error"]["message"]


def test_a_changed_lifecycle_policy_is_patched_back(exported, graph):
    [pol] = graph.get("/groupLifecyclePolicies").json()["value"]
    assert graph.patch(f"/groupLifecyclePolicies/{pol['id']}", json={"groupLifetimeInDays": 30}).status_code == 204
    plan = json.loads(exported("plan", "--format", "json").output)["operations"]
    assert [(o["kind"], o["action"]) for o in plan] == [("groupLifecyclePolicies", "update")]
    exported("apply", "--yes")
    assert graph.get(f"/groupLifecyclePolicies/{pol['id']}").json()["groupLifetimeInDays"] == 365
    assert "No changes" in exported("plan").output


def test_permissions_table_lists_both_kinds(repo):
    out = repo("permissions", "--table").output
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "Agreement.Read.All (delegated only)" in rows["termsOfUseAgreements"]
    assert "Agreement.ReadWrite.All (delegated only)" in rows["termsOfUseAgreements"]
    assert "Directory.Read.All" in rows["groupLifecyclePolicies"]
    assert "Directory.ReadWrite.All" in rows["groupLifecyclePolicies"]
    # Not in the app's manifest: granting it to an app does nothing.
    assert "Agreement." not in repo("permissions", "--writer").output


def test_an_app_only_identity_exports_without_agreements(tmp_path, sim_factory, monkeypatch):
    """Graph refuses app tokens for terms of use; an app-only tenant leaves the kind out instead of failing."""
    from .conftest import app_repo

    sim = sim_factory("demo", tls=True)
    cli = app_repo(tmp_path / "app", sim, monkeypatch)
    cli("export", "--commit")
    d = _tenant(cli)
    assert not (d / "termsOfUseAgreements").exists()
    assert not (d / "groupLifecyclePolicies").exists()  # opt-in: it needs Directory.Read.All
    # The CA policy still names the agreement by id: unread, not gone (no `missing`, no dangling warning).
    ca = yaml.safe_load(next((d / "conditionalAccessPolicies").glob("ca400-*.yaml")).read_text())
    [tou] = ca["grantControls"]["termsOfUse"]
    assert ca["refs"][tou] == {"kind": "termsOfUseAgreements"}
    assert "dangling" not in cli("validate").output
    assert "No changes" in cli("plan").output
