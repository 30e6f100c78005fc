"""Plans, diffs and commits say exactly what will happen, with names next to ids (daily use)."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import app_repo
from .portal import Portal


@pytest.fixture
def sim(tls_sim):
    """Signed in as users sign in: over TLS, as the app holding exactly the listed permissions."""
    return tls_sim


def _git(cli, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cli.repo, capture_output=True, text=True, check=True).stdout


def test_children_of_a_restored_parent_come_back_with_it_and_are_not_created(tmp_path, sim, monkeypatch):
    cli = app_repo(tmp_path / "config", sim, monkeypatch)
    cli("export", "--commit")
    p = Portal(sim)
    sp = p.one("/servicePrincipals", "HR Portal")
    group = p.one("/groups", "APP - ExpenseHub Users")
    p.ok(p.c.delete(f"/servicePrincipals/{sp['id']}"))
    p.ok(p.c.delete(f"/groups/{group['id']}"))
    cli("export", "--commit")

    out = cli("plan", "--ref", "HEAD~1").output
    assert "+ create" not in out and "+ link" not in out, out
    assert "(restored with service principal 'HR Portal')" in out
    assert "delegated permission grant 'HR Portal -- Microsoft Graph'  (restored with service principal" in out
    assert "members += Aisha Khan  (restored with group 'APP - ExpenseHub Users')" in out
    assert "app role assignment 'APP - ExpenseHub Users -- ExpenseHub" in out
    assert out.rstrip().endswith("Plan: 2 to restore, 24 restored with them.")
    data = json.loads(cli("plan", "--ref", "HEAD~1", "--format", "json").output)
    assert data["counts"] == {"restore": 2}
    back = {(r["kind"], r["parent_kind"]) for r in data["restored_with"]}
    assert back == {("appRoleAssignments", "servicePrincipals"), ("oauth2PermissionGrants", "servicePrincipals"),
                    ("appRoleAssignments", "groups"), ("groups", "groups")}

    applied = cli("apply", "--ref", "HEAD~1", "--yes").output
    # A group and a service principal: neither kind is written before the other, one envelope
    assert "Applied 2/2 operations (1 write requests)" in applied
    assert "No changes" in cli("plan", "--ref", "HEAD~1").output
    assigned = p.c.get(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo").json()["value"]
    assert len(assigned) == 2  # the originals, same ids: nothing was created


def hard_delete(p: Portal, path: str, oid: str) -> None:
    p.ok(p.c.delete(f"{path}/{oid}"))
    p.c.delete(f"/directory/deletedItems/{oid}")  # 404 when the kind hard-deletes anyway


def test_recreated_and_adopted_objects_are_marked_apart(tmp_path, sim, monkeypatch):
    cli = app_repo(tmp_path / "config", sim, monkeypatch)
    cli("export", "--commit")
    p = Portal(sim)
    hard_delete(p, "/groups", p.one("/groups", "Project Aurora")["id"])
    twin = p.one("/groups", "Dept - HR")
    hard_delete(p, "/groups", twin["id"])
    p.ok(p.c.post("/groups", json={k: twin[k] for k in ("displayName", "mailNickname", "mailEnabled",
                                                        "securityEnabled")}))
    out = cli("plan").output
    assert "+ create   group 'Project Aurora'  (recreated: new id; references to the old id are remapped)" in out
    assert "= adopt    group 'Dept - HR'  (live object with the same natural key" in out
    ops = {(o["action"], o["name"]): o for o in json.loads(cli("plan", "--format", "json").output)["operations"]}
    assert ops[("create", "Project Aurora")]["fate"] == "recreated"
    assert ops[("adopt", "Dept - HR")]["fate"] is None


def test_commit_bodies_and_files_keep_names(tmp_path, sim, monkeypatch):
    cli = app_repo(tmp_path / "config", sim, monkeypatch)
    cli("export", "--commit")
    first = _git(cli, "log", "-1", "--format=%B")
    p = Portal(sim)
    partner = p.c.get("/policies/crossTenantAccessPolicy/partners").json()["value"][0]["tenantId"]
    assert f"  crossTenantAccessPartners: cross-tenant partner {partner}\n" in first
    # An app-scoped role assignment is named after its app, and its scope is a reference (remapped).
    assert "  roleAssignments: Contoso App Credential Rotator -- Marcus Reid -- ExpenseHub\n" in first

    bg = p.one("/users", "bg-admin-02@contosodemo.onmicrosoft.com", "userPrincipalName")
    ra = p.c.get("/roleManagement/directory/roleAssignments",
                 params={"$filter": f"principalId eq '{bg['id']}'"}).json()["value"][0]
    p.ok(p.c.delete(f"/roleManagement/directory/roleAssignments/{ra['id']}"))
    hr = p.one("/servicePrincipals", "HR Portal")
    grant = next(g for g in p.c.get("/oauth2PermissionGrants").json()["value"] if g["clientId"] == hr["id"])
    p.ok(p.c.delete(f"/oauth2PermissionGrants/{grant['id']}"))
    for name in ("CA-BreakGlassAccounts - Exclude", "Project Aurora"):
        hard_delete(p, "/groups", p.one("/groups", name)["id"])
    cli("export", "--commit")
    body = _git(cli, "log", "-1", "--format=%B")
    assert "  roleAssignments: Global Administrator -- Break Glass Admin 02 -- directory\n" in body
    assert "  oauth2PermissionGrants: HR Portal -- Microsoft Graph\n" in body
    assert ra["id"] not in body and grant["id"] not in body

    # A hard-deleted group's references keep its last known name and its kind (never `users`).
    tenant = cli.repo / "tenants" / "demo"
    policy = (tenant / "authenticationMethodsPolicy" / "authentication-methods-policy.yaml").read_text()
    assert "{kind: groups, name: CA-BreakGlassAccounts - Exclude, missing: true}" in policy
    partner_file = next((tenant / "crossTenantAccessPartners").glob("*.yaml")).parent
    refs = "".join(f.read_text() for f in partner_file.glob("*.yaml"))
    assert "{kind: groups, name: Project Aurora, missing: true}" in refs
    assert "kind: users, missing: true" not in refs + policy
    # Stable: fmt keeps them, and the next export writes nothing new.
    assert cli("fmt", "--check").exit_code == 0
    assert "no changes" in cli("export", "--commit").output


def test_diff_after_a_hard_delete_notes_the_references_left_dangling(tmp_path, sim, monkeypatch):
    cli = app_repo(tmp_path / "config", sim, monkeypatch)
    cli("export", "--commit")
    assert "dangling" not in cli("plan").output  # a fresh export resolves everything it names
    p = Portal(sim)
    hard_delete(p, "/groups", p.one("/groups", "Finance Admins")["id"])
    cli("export", "--commit")
    out = cli("diff", "HEAD~1", "HEAD").output
    note = next(line for line in out.splitlines() if "[dangling-reference]" in line)
    assert note.startswith("  ! [dangling-reference] group 'Finance Admins': no longer exists (")
    holders = [f for f in (cli.repo / "tenants/demo").glob("*/*.yaml")
               if "name: Finance Admins, missing: true" in f.read_text()]
    assert len(holders) > 10 and f"still referenced by {len(holders)}: " in note
    assert note.endswith(f" and {len(holders) - 10} more")
    assert "conditional access policy 'CA600-Finance-IdentityProtection-FinanceApps-AnyPlatform-" in note
    data = json.loads(cli("diff", "HEAD~1", "HEAD", "--format", "json").output)
    assert [r["name"] for r in data["tenants"][0]["risks"] if r["rule"] == "dangling-reference"] == ["Finance Admins"]
    # The files at HEAD still name the group: the plan says so too (it exists neither there nor live).
    assert "[dangling-reference] group 'Finance Admins'" in cli("plan").output


def test_validate_is_quiet_on_an_untouched_export_and_still_catches_a_typo(tmp_path, sim, monkeypatch):
    cli = app_repo(tmp_path / "config", sim, monkeypatch)
    cli("export", "--commit")
    assert cli("validate").output.strip() == "ok"
    policy = cli.repo / "tenants/demo/authenticationMethodsPolicy/authentication-methods-policy.yaml"
    policy.write_text(policy.read_text().replace("registrationEnforcement:", "registrationEnforcment:"))
    out = cli("validate").output
    assert "'registrationEnforcment' is not a authentication methods policy property" in out


LOCATION = """'@odata.type': '#microsoft.graph.ipNamedLocation'
displayName: Branch Office
isTrusted: true
ipRanges:
- '@odata.type': '#microsoft.graph.iPv4CidrRange'
  cidrAddress: 203.0.113.0/24
"""
POLICY = """displayName: CA700 - Block outside the branch office
state: enabledForReportingButNotEnforced
conditions:
  applications: {includeApplications: [All]}
  clientAppTypes: [all]
  locations: {includeLocations: [All], excludeLocations: [new:namedLocations/branch-office]}
  users: {includeUsers: [All]}
grantControls: {operator: OR, builtInControls: [block]}
"""


def test_a_new_object_written_by_hand_is_accepted_everywhere_and_created(tmp_path, sim, monkeypatch):
    cli = app_repo(tmp_path / "config", sim, monkeypatch)
    cli("export", "--commit")
    t = cli.repo / "tenants" / "demo"
    (t / "namedLocations" / "branch-office.yaml").write_text(LOCATION)
    (t / "conditionalAccessPolicies" / "ca700-branch-block.yaml").write_text(POLICY.replace(
        "displayName:", "id: new\ndisplayName:"))
    assert cli("validate").output.strip() == "ok"
    cli("fmt")
    assert cli("fmt", "--check").exit_code == 0
    assert "new:namedLocations/branch-office: {kind: namedLocations, name: Branch Office}" in (
        t / "conditionalAccessPolicies" / "ca700-branch-block.yaml").read_text()
    assert "2 added" in cli("diff").output
    out = cli("plan", "--ref", "WORKTREE").output
    assert "+ create   named location 'Branch Office'  (new object)" in out
    assert "recycle bin" not in out and out.rstrip().endswith("Plan: 2 to create.")
    cli("apply", "--ref", "WORKTREE", "--yes")
    p = Portal(sim)
    loc = p.one(p.beta + "/identity/conditionalAccess/namedLocations", "Branch Office")
    assert p.policy("CA700")["conditions"]["locations"]["excludeLocations"] == [loc["id"]]
    assert "No changes" in cli("plan", "--ref", "WORKTREE").output
