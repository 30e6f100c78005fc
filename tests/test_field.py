"""What real tenants hold that a fresh one does not: Microsoft-managed CA policies, Graph keywords newer
than our table, Microsoft first-party service principals, compliant-network locations, portal renames.

Fixtures are written here from Graph's documentation (not taken from any tenant's export)."""

from __future__ import annotations

import json
import ssl
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from entragit import yamlio

from .conftest import app_repo
from .portal import ADMIN, CA

NS = uuid.UUID("3f0c5a52-7d1e-4c55-9a0b-1f2e3d4c5b6a")
NL = "/identity/conditionalAccess/namedLocations"
# https://learn.microsoft.com/entra/identity/conditional-access/managed-policies
MANAGED_NAME = "Microsoft-managed: Multifactor authentication for admins accessing Microsoft Admin Portals"
INTUNE_ENROLLMENT = "d4ebce55-015a-49b5-a083-c84d1797ae8c"


@pytest.fixture
def sim(sim_factory: Any) -> Any:
    return sim_factory("demo", tls=True)


@pytest.fixture
def repo(tmp_path: Path, sim: Any, monkeypatch: Any) -> Any:
    """Signed in as users sign in: an app holding exactly `entragit permissions`, over TLS."""
    return app_repo(tmp_path / "config", sim, monkeypatch)


def oid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def _managed_policy() -> dict[str, Any]:
    """Shaped as the managed-policies page describes one: a template id, report-only, admin roles."""
    return {
        "id": oid("managed-policy"), "displayName": MANAGED_NAME, "templateId": oid("managed-template"),
        "state": "enabledForReportingButNotEnforced", "createdDateTime": "2023-11-01T00:00:00Z",
        "modifiedDateTime": None, "sessionControls": None,
        "conditions": {"applications": {"includeApplications": ["MicrosoftAdminPortals"], "excludeApplications": []},
                       "users": {"includeUsers": [], "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
                                 "includeRoles": ["62e90394-69f5-4237-9190-012177145e10"], "excludeRoles": []},
                       "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }


def _compliant_network() -> dict[str, Any]:
    # https://learn.microsoft.com/graph/api/resources/compliantnetworknamedlocation?view=graph-rest-beta
    return {"@odata.type": "#microsoft.graph.compliantNetworkNamedLocation", "id": oid("compliant-network"),
            "displayName": "All Compliant Network locations", "compliantNetworkType": "allTenantCompliantNetworks",
            "isTrusted": True, "createdDateTime": "2024-01-10T00:00:00Z", "modifiedDateTime": None}


def _seed(**extra: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    from entragit_sim.seeds.demo import demo_seed

    seed = demo_seed()
    for k, objs in extra.items():
        seed[k] = [*seed.get(k, []), *objs]
    return seed


def _verify(sim: Any) -> Any:
    return ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True


def _beta(sim: Any) -> httpx.Client:
    return httpx.Client(base_url=sim.graph_url.replace("/v1.0", "/beta"), headers=ADMIN, verify=_verify(sim))


def _file(root: Path, kind: str, oid_: str) -> Path:
    for p in (root / "tenants/demo" / kind).glob("*.yaml"):
        if yamlio.load(p.read_text(encoding="utf-8")).get("id") == oid_:
            return p
    raise AssertionError(f"no {kind} file with id {oid_}")


def _commit(repo: Any, message: str) -> None:
    import subprocess

    subprocess.run(["git", "-C", str(repo.repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo.repo), "commit", "-qm", message], check=True)


# ---------------------------------------------------------------- Microsoft-managed CA policies


def test_prune_never_deletes_a_microsoft_managed_policy_and_says_why(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory(_seed(conditionalAccessPolicies=[_managed_policy()]), tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    path = _file(repo.repo, "conditionalAccessPolicies", oid("managed-policy"))
    assert yamlio.load(path.read_text())["templateId"] == oid("managed-template"), "templateId is kept"
    assert repo("plan").output.rstrip().endswith("No changes. The tenant matches the files.")

    path.unlink()  # the files of a commit from before Microsoft created the policy
    _commit(repo, "before the managed policy")
    out = repo("plan", "--prune").output
    assert "delete" not in out.split("left alone")[0]
    assert f"conditional access policy {MANAGED_NAME!r}: not in the files; never deleted: Microsoft-managed" in out
    data = json.loads(repo("plan", "--prune", "--format", "json").output)
    assert data["operations"] == []
    assert [(a["key"], a["why"]) for a in data["left_alone"]] == [(oid("managed-policy"), "not-deletable")]
    assert "Entra forbids deleting or renaming it" in data["left_alone"][0]["reason"]
    md = repo("plan", "--prune", "--format", "markdown").output
    assert "left alone (owned by Microsoft" in md and MANAGED_NAME in md
    repo("apply", "--prune", "--yes")
    assert _beta(sim).get(f"{CA}/{oid('managed-policy')}").status_code == 200


def test_a_managed_policy_keeps_its_name_but_its_state_follows_the_files(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory(_seed(conditionalAccessPolicies=[_managed_policy()]), tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    path = _file(repo.repo, "conditionalAccessPolicies", oid("managed-policy"))
    doc = yamlio.load(path.read_text())
    doc.update(displayName="Admin MFA (ours)", state="enabled")
    path.write_text(yamlio.dump(doc))
    _commit(repo, "rename and enable")
    data = json.loads(repo("plan", "--format", "json").output)
    [op] = data["operations"]
    assert op["action"] == "update" and [c["path"] for c in op["changes"]] == ["state"]
    assert [(a["why"], a["fields"]) for a in data["left_alone"]] == [("locked-fields", ["displayName"])]
    repo("apply", "--yes")
    live = _beta(sim).get(f"{CA}/{oid('managed-policy')}").json()
    assert (live["displayName"], live["state"]) == (MANAGED_NAME, "enabled")


def test_a_managed_policy_the_tenant_lacks_is_not_created(repo, sim):
    repo("export", "--commit")
    body = {k: v for k, v in _managed_policy().items() if k not in ("createdDateTime", "modifiedDateTime")}
    # As another tenant's export writes it: the built-in role it names is in its refs index.
    body["refs"] = {"62e90394-69f5-4237-9190-012177145e10": {"kind": "roleDefinitions", "name": "Global Administrator"}}
    (repo.repo / "tenants/demo/conditionalAccessPolicies/managed.yaml").write_text(yamlio.dump(body))
    _commit(repo, "a managed policy from another tenant's files")
    data = json.loads(repo("plan", "--format", "json").output)
    assert data["operations"] == []
    assert [(a["name"], a["why"]) for a in data["left_alone"]] == [(MANAGED_NAME, "not-creatable")]
    assert "in the files but not in the tenant; Graph creates it" in repo("plan").output


# ---------------------------------------------------------------- Graph keywords


def _ca_file(repo: Any) -> tuple[Path, dict[str, Any]]:
    path = sorted((repo.repo / "tenants/demo/conditionalAccessPolicies").glob("*.yaml"))[0]
    return path, yamlio.load(path.read_text())


def test_a_keyword_newer_than_our_table_is_a_warning_not_a_dangling_reference(repo, sim):
    repo("export", "--commit")
    path, doc = _ca_file(repo)
    apps = doc["conditions"]["applications"]
    apps["includeApplications"] = ["AllFutureAgentResources"]  # plausible, not in keywords.py
    apps["excludeApplications"] = ["Office365"]  # documented
    path.write_text(yamlio.dump(doc))
    res = repo("validate", code=0)
    lines = [line for line in res.output.splitlines() if "AllFutureAgentResources" in line]
    assert len(lines) == 1 and "warning: " in lines[0]
    assert "not an id and not a keyword Graph documents: 'AllFutureAgentResources'" in lines[0]
    rel = path.relative_to(repo.repo).as_posix()
    assert lines[0].startswith(f"{rel}:"), lines[0]
    line_no = int(lines[0].split(":")[1])
    assert "AllFutureAgentResources" in path.read_text().splitlines()[line_no - 1]
    assert "dangling" not in res.output and "Office365" not in res.output


def test_plan_sends_an_unknown_keyword_as_it_is(repo, sim):
    repo("export", "--commit")
    path, doc = _ca_file(repo)
    doc["conditions"]["applications"] = {"includeApplications": ["AllFutureAgentResources"],
                                         "excludeApplications": []}
    path.write_text(yamlio.dump(doc))
    _commit(repo, "future keyword")
    repo("apply", "--yes")
    live = _beta(sim).get(f"{CA}/{doc['id']}").json()
    assert live["conditions"]["applications"]["includeApplications"] == ["AllFutureAgentResources"]
    assert repo("plan").output.rstrip().endswith("No changes. The tenant matches the files.")


# ---------------------------------------------------------------- first-party service principals


def test_a_purged_first_party_sp_is_instantiated_by_app_id(tmp_path, repo, sim):
    g = httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=_verify(sim))
    [sp] = g.get("/servicePrincipals", params={"$filter": f"appId eq '{INTUNE_ENROLLMENT}'"}).json()["value"]
    assert g.patch(f"/servicePrincipals/{sp['id']}", json={"notes": "CA exclusion for device enrollment"}).is_success
    repo("export", "--commit")
    assert g.delete(f"/servicePrincipals/{sp['id']}").status_code == 204
    assert g.delete(f"/directory/deletedItems/{sp['id']}").status_code == 204

    data = json.loads(repo("plan", "--format", "json").output)
    create, update = data["operations"][:2]
    assert create["action"] == "create" and create["kind"] == "servicePrincipals"
    assert "instantiated from appId d4ebce55" in create["note"]
    assert update["action"] == "update" and update["target"] == f"{{new:{sp['id']}}}"
    saved = tmp_path / "plan.json"
    repo("plan", "--out", str(saved))
    ops = json.loads(saved.read_text())["ops"]
    assert ops[0]["body"] == {"appId": INTUNE_ENROLLMENT}, "only appId: it is not the tenant's own app"
    assert ops[1]["body"]["notes"] == "CA exclusion for device enrollment"
    repo("apply", "--yes")
    [live] = g.get("/servicePrincipals", params={"$filter": f"appId eq '{INTUNE_ENROLLMENT}'"}).json()["value"]
    assert live["appOwnerOrganizationId"] == "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
    assert live["notes"] == "CA exclusion for device enrollment"
    assert not [a for a in g.get("/applications").json()["value"] if a.get("appId") == INTUNE_ENROLLMENT]
    assert repo("plan").output.rstrip().endswith("No changes. The tenant matches the files.")


# ---------------------------------------------------------------- compliant-network named locations


def test_a_compliant_network_location_is_exported_referenced_and_never_written(tmp_path, sim_factory, monkeypatch):
    loc = _compliant_network()
    pol = {**_managed_policy(), "id": oid("gsa-policy"), "displayName": "Require compliant network", "templateId": None,
           "state": "enabled"}
    pol["conditions"] = {**pol["conditions"], "locations": {"includeLocations": ["All"],
                                                            "excludeLocations": [loc["id"]]}}
    sim = sim_factory(_seed(namedLocations=[loc], conditionalAccessPolicies=[pol]), tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    doc = yamlio.load(_file(repo.repo, "namedLocations", loc["id"]).read_text())
    assert doc["isTrusted"] is True and doc["@odata.type"] == "#microsoft.graph.compliantNetworkNamedLocation"
    assert repo("plan", "--prune").output.rstrip().endswith("No changes. The tenant matches the files.")
    repo("validate", code=0)

    # The policy naming it round-trips (deleted and purged, then recreated with the reference intact).
    b = _beta(sim)
    assert b.delete(f"{CA}/{pol['id']}").status_code == 204
    assert b.delete(f"/identity/conditionalAccess/deletedItems/policies/{pol['id']}").status_code == 204
    repo("apply", "--yes")
    [back] = [p for p in b.get(CA).json()["value"] if p["displayName"] == "Require compliant network"]
    assert back["conditions"]["locations"]["excludeLocations"] == [loc["id"]]

    # With its file gone, --prune leaves it and says why (the policy naming it goes too: validate
    # refuses a reference that would dangle).
    _file(repo.repo, "namedLocations", loc["id"]).unlink()
    _file(repo.repo, "conditionalAccessPolicies", pol["id"]).unlink()
    _commit(repo, "without the compliant network location")
    data = json.loads(repo("plan", "--prune", "--format", "json").output)
    assert not [o for o in data["operations"] if o["kind"] == "namedLocations"]
    assert [(a["key"], a["why"]) for a in data["left_alone"]] == [(loc["id"], "not-deletable")]
    assert "Global Secure Access" in data["left_alone"][0]["reason"]


@pytest.mark.parametrize("edit", [{"displayName": "Renamed GSA"}, {"isTrusted": False}])
def test_edits_to_a_compliant_network_location_are_left_alone(tmp_path, sim_factory, edit, monkeypatch):
    loc = _compliant_network()
    sim = sim_factory(_seed(namedLocations=[loc]), tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    path = _file(repo.repo, "namedLocations", loc["id"])
    path.write_text(yamlio.dump({**yamlio.load(path.read_text()), **edit}))
    _commit(repo, "edit a system location")
    data = json.loads(repo("plan", "--format", "json").output)
    assert data["operations"] == []
    assert [(a["why"], a["fields"]) for a in data["left_alone"]] == [("locked-fields", sorted(edit))]


# ---------------------------------------------------------------- renames keep their id


def test_a_renamed_location_is_one_rename_and_its_log_follows_the_id(repo, sim):
    repo("export", "--commit")
    b = _beta(sim)
    loc = next(x for x in b.get(NL).json()["value"] if x["@odata.type"].endswith("ipNamedLocation"))
    old_name = loc["displayName"]
    old_doc = _file(repo.repo, "namedLocations", loc["id"])
    r = b.patch(f"{NL}/{loc['id']}", json={"@odata.type": loc["@odata.type"], "displayName": "Head Office (renamed)",
                                          "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange",
                                                        "cidrAddress": "203.0.113.0/24"}]})
    assert r.status_code == 204, r.text
    repo("export", "--commit")
    new_doc = _file(repo.repo, "namedLocations", loc["id"])
    assert new_doc != old_doc, "the slug follows the name"
    import subprocess

    msg = subprocess.run(["git", "-C", str(repo.repo), "log", "-1", "--format=%B"], capture_output=True, text=True,
                         check=True).stdout
    assert f"namedLocations: {old_name} -> Head Office (renamed)" in msg
    assert "Removed:" not in msg and "Added:" not in msg and "1 renamed" in msg.splitlines()[0]

    by_id = repo("log", loc["id"]).output
    slug = new_doc.relative_to(repo.repo / "tenants/demo").as_posix().removesuffix(".yaml")
    assert repo("log", slug).output == by_id
    assert ": 2 commit(s)" in by_id.splitlines()[0], by_id
    data = json.loads(repo("log", loc["id"], "--format", "json").output)
    assert [c["objects"][0]["status"] for c in data["commits"]] == ["renamed", "added"]
