"""PIM role management policies (roleManagementPolicies + roleManagementPolicyAssignments): exported per
role and named after it, a drifted rule PATCHed back by a signed-in admin, never created or deleted, and
an app token refused before it writes a rule (Graph: "Application: Not supported")."""

from __future__ import annotations

import json
import ssl
from typing import Any

import git
import httpx
import yaml

from tests.conftest import Cli, app_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
POLICIES = "/policies/roleManagementPolicies"
ASSIGNMENTS = "/policies/roleManagementPolicyAssignments"
SCOPE = {"$filter": "scopeId eq '/' and scopeType eq 'DirectoryRole'"}
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
GA_FILE = "tenants/demo/roleManagementPolicies/global-administrator.yaml"
RULE = "Expiration_EndUser_Assignment"


def _graph(sim: Any) -> httpx.Client:
    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify)


def _ga_rule_url(c: httpx.Client) -> str:
    [a] = [a for a in c.get(ASSIGNMENTS, params=SCOPE).json()["value"] if a["roleDefinitionId"] == GLOBAL_ADMIN]
    return f"{POLICIES}/{a['policyId']}/rules/{RULE}"


def _shorten_activation(c: httpx.Client) -> str:
    """Someone in the portal cuts Global Administrator's activation to one hour."""
    url = _ga_rule_url(c)
    r = c.patch(url, json={"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule",
                           "id": RULE, "maximumDuration": "PT1H"})
    assert r.status_code == 204, r.text
    return url


def _ops(repo: Cli) -> list[dict[str, Any]]:
    return list(json.loads(repo("plan", "--format", "json").output)["operations"])


def test_app_exports_one_policy_per_role_named_after_it(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    d = repo.repo / "tenants" / "demo"
    names = sorted(p.stem for p in (d / "roleManagementPolicies").glob("*.yaml"))
    assert "global-administrator" in names and "security-administrator" in names
    assert names == sorted(p.stem for p in (d / "roleManagementPolicyAssignments").glob("*.yaml"))
    doc = yaml.safe_load((repo.repo / GA_FILE).read_text())
    rules = {r["id"]: r for r in doc["rules"]}
    assert len(rules) == 17
    assert rules[RULE]["maximumDuration"] == "PT8H"  # Graph's default activation limit
    assert rules["Enablement_EndUser_Assignment"]["enabledRules"] == ["Justification", "MultiFactorAuthentication"]
    assert rules["Approval_EndUser_Assignment"]["@odata.type"].endswith("ApprovalRule")
    assert not {"lastModifiedBy", "lastModifiedDateTime"} & set(doc)
    pairing = yaml.safe_load((d / "roleManagementPolicyAssignments" / "global-administrator.yaml").read_text())
    assert pairing["policyId"] == doc["id"]
    assert pairing["refs"][GLOBAL_ADMIN]["name"] == "Global Administrator"
    assert "No changes" in repo("plan").output


def test_graph_refuses_an_unscoped_list(sim) -> None:
    with _graph(sim) as c:
        for path in (POLICIES, ASSIGNMENTS):
            r = c.get(path)
            assert r.status_code == 400 and "scopeId" in r.json()["error"]["message"], r.text
            assert c.get(path, params=SCOPE).status_code == 200


def test_drifted_rule_is_patched_back_by_a_signed_in_admin(repo, sim) -> None:
    repo("export", "--commit")
    with _graph(sim) as c:
        url = _shorten_activation(c)
        plan = repo("plan").output
        assert "role management policy 'Global Administrator'" in plan
        assert f"rules[{RULE}].maximumDuration: PT1H -> PT8H" in plan
        since = len(sim.requests)
        repo("apply", "--yes")
        writes = [(r.method, r.path) for r in sim.requests[since:] if r.method != "GET" and "$batch" not in r.path]
        assert len(writes) == 1 and writes[0][0] == "PATCH" and writes[0][1].endswith(url), writes
        assert c.get(url).json()["maximumDuration"] == "PT8H"
    assert "No changes" in repo("plan").output


def test_an_app_token_is_refused_before_writing_a_rule(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    with _graph(sim) as c:
        _shorten_activation(c)
        assert [(o["kind"], o["action"]) for o in _ops(repo)] == [("roleManagementPolicies", "update")]
        since = len(sim.requests)
        out = repo("apply", "--yes", code=None).output
        assert "only a signed-in user" in out
        assert not [r for r in sim.requests[since:] if r.method == "PATCH"]
        assert c.get(_ga_rule_url(c)).json()["maximumDuration"] == "PT1H"


def test_a_removed_policy_file_is_left_alone(repo) -> None:
    repo("export", "--commit")
    (repo.repo / GA_FILE).unlink()
    (repo.repo / GA_FILE.replace("roleManagementPolicies", "roleManagementPolicyAssignments")).unlink()
    git.Repo(repo.repo).git.commit("-qam", "drop the Global Administrator PIM policy")
    assert not [o for o in _ops(repo) if o["kind"].startswith("roleManagementPolic")]
    assert "PIM makes one per role" in repo("plan").output


def test_permissions_table_marks_rule_writes_delegated_only(repo) -> None:
    out = repo("permissions", "--table").output
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "RoleManagement.Read.Directory" in rows["roleManagementPolicies"]
    assert "RoleManagementPolicy.ReadWrite.Directory (delegated only)" in rows["roleManagementPolicies"]
    assert "RoleManagementPolicy" not in repo("permissions", "--writer").output


def test_policies_keep_their_role_names_when_assignments_are_not_exported(repo) -> None:
    """The assignments are read for the names alone when a tenant lists only the policies in `kinds:`."""
    path = repo.repo / "tenants" / "demo" / "tenant.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["kinds"] = ["roleManagementPolicies"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    repo("export", "--commit")
    d = repo.repo / "tenants" / "demo"
    assert (repo.repo / GA_FILE).exists()
    assert not (d / "roleManagementPolicyAssignments").exists()
    assert "No changes" in repo("plan").output
