"""Plan and apply (DESIGN flows 2-3): restore with original ids, recreate with remapped references."""

from __future__ import annotations

import json

import git
import httpx
import pytest
import yaml

ADMIN = {"Authorization": "Bearer sim-admin"}
CA = "/identity/conditionalAccess/policies"


class G:
    """Raw Graph calls as a portal admin would make them (the damage tests then repair)."""

    def __init__(self, sim):
        self.c = httpx.Client(base_url=sim.graph_url, headers=ADMIN)
        self.beta = sim.graph_url.replace("/v1.0", "/beta")

    def one(self, path, name, field="displayName"):
        v = self.c.get(path, params={"$filter": f"{field} eq '{name}'"}).json()["value"]
        assert len(v) == 1, (path, name, v)
        return v[0]

    def get(self, path, code=200):
        r = self.c.get(path)
        assert r.status_code == code, r.text
        return r.json() if code == 200 else None

    def delete(self, path):
        r = self.c.delete(path)
        assert r.status_code == 204, r.text

    def policies(self):
        return self.c.get(f"{self.beta}{CA}").json()["value"]

    def writes(self, sim, since):
        return [r for r in sim.requests[since:] if r.method != "GET" and "/$batch" not in r.path]


@pytest.fixture
def exported(repo, sim):
    repo("export", "--commit")
    return repo


def _apply(repo, *args):
    return repo("apply", "--yes", *args)


def test_soft_deleted_group_app_and_sp_come_back_with_original_ids(exported, sim):
    g = G(sim)
    grp = g.one("/groups", "Finance Admins")
    app = g.one("/applications", "HR Portal")
    sp = g.one("/servicePrincipals", app["appId"], "appId")
    g.delete(f"/groups/{grp['id']}")
    g.delete(f"/applications/{app['id']}")  # takes its service principal with it
    g.get(f"/servicePrincipals/{sp['id']}", code=404)
    out = exported("plan").output
    assert "restore" in out and "Finance Admins" in out and "HR Portal" in out
    _apply(exported)
    assert g.get(f"/groups/{grp['id']}")["displayName"] == "Finance Admins"
    assert g.get(f"/applications/{app['id']}")["appId"] == app["appId"]
    assert g.get(f"/servicePrincipals/{sp['id']}")["appId"] == app["appId"]
    members = g.get(f"/groups/{grp['id']}/members")["value"]
    assert members, "restore keeps memberships"


def test_hard_deleted_group_is_recreated_and_every_reference_remapped(exported, sim):
    g = G(sim)
    grp = g.one("/groups", "Finance Admins")
    old = grp["id"]
    members = sorted(m["id"] for m in g.get(f"/groups/{old}/members")["value"])
    owners = sorted(m["id"] for m in g.get(f"/groups/{old}/owners")["value"])
    using = [p["id"] for p in g.policies() if old in json.dumps(p["conditions"])]
    assert len(using) == 12
    g.delete(f"/groups/{old}")
    g.delete(f"/directory/deletedItems/{old}")
    plan = exported("plan", "--only", "groups/finance-admins", "--format", "json").output
    ops = json.loads(plan)["operations"]
    assert [o["action"] for o in ops if o["kind"] == "groups" and o["action"] == "create"] == ["create"]
    patched = [o for o in ops if o["kind"] == "conditionalAccessPolicies" and o["action"] == "update"]
    assert len(patched) == 12
    _apply(exported, "--only", "groups/finance-admins")
    new = g.one("/groups", "Finance Admins")["id"]
    assert new != old
    idmap = (exported.repo / "tenants" / "demo" / "idmap.yaml").read_text()
    assert f"{old}: {new}" in idmap
    pols = {p["id"]: json.dumps(p["conditions"]) for p in g.policies()}
    for pid in using:
        assert new in pols[pid] and old not in pols[pid]
    ras = g.get("/roleManagement/directory/roleAssignments")["value"]
    assert any(r["principalId"] == new for r in ras) and not any(r["principalId"] == old for r in ras)
    expensehub = g.one("/servicePrincipals", "ExpenseHub")
    assigned = g.get(f"/servicePrincipals/{expensehub['id']}/appRoleAssignedTo")["value"]
    assert any(a["principalId"] == new for a in assigned)
    assert sorted(m["id"] for m in g.get(f"/groups/{new}/members")["value"]) == members
    assert sorted(m["id"] for m in g.get(f"/groups/{new}/owners")["value"]) == owners
    # Idempotent: nothing left to do, and the second apply writes nothing.
    since = len(sim.requests)
    assert "No changes" in _apply(exported).output
    assert G(sim).writes(sim, since) == []


def test_hard_deleted_application_gets_new_appid_everywhere(exported, sim):
    g = G(sim)
    app = g.one("/applications", "ExpenseHub")
    sp = g.one("/servicePrincipals", app["appId"], "appId")
    old_appid = app["appId"]
    uses = [p["id"] for p in g.policies() if old_appid in json.dumps(p["conditions"])]
    grants = [x for x in g.get("/oauth2PermissionGrants")["value"] if x["clientId"] == sp["id"]]
    assert uses and grants
    g.delete(f"/applications/{app['id']}")
    g.delete(f"/directory/deletedItems/{app['id']}")
    g.delete(f"/directory/deletedItems/{sp['id']}")
    _apply(exported)
    new_app = g.one("/applications", "ExpenseHub")
    assert new_app["appId"] != old_appid
    new_sp = g.one("/servicePrincipals", new_app["appId"], "appId")
    pols = {p["id"]: json.dumps(p["conditions"]) for p in g.policies()}
    for pid in uses:
        assert new_app["appId"] in pols[pid] and old_appid not in pols[pid]
    new_grants = [x for x in g.get("/oauth2PermissionGrants")["value"] if x["clientId"] == new_sp["id"]]
    assert sorted(x["scope"] for x in new_grants) == sorted(x["scope"] for x in grants)
    assert "No changes" in _apply(exported).output


def test_git_revert_of_a_portal_edit_then_apply_restores_the_policy(exported, sim):
    g = G(sim)
    pol = next(p for p in g.policies() if p["displayName"].startswith("CA100"))
    r = g.c.patch(f"{g.beta}{CA}/{pol['id']}", json={"state": "disabled"})
    assert r.status_code == 204
    exported("export", "--commit")
    repo = git.Repo(exported.repo)
    assert "conditionalAccessPolicies" in repo.git.show("--stat", "HEAD")
    repo.git.revert("--no-edit", "HEAD")
    plan = exported("plan", "--detailed-exitcode", code=2).output
    assert "state: disabled -> enabled" in plan
    _apply(exported)
    assert g.get(f"{g.beta}{CA}/{pol['id']}")["state"] == pol["state"]
    exported("plan", "--detailed-exitcode", code=0)


def test_old_commit_applies_through_a_chained_id_map(exported, sim):
    g = G(sim)
    repo = git.Repo(exported.repo)
    first = repo.head.commit.hexsha
    ids = [g.one("/groups", "Finance Admins")["id"]]
    for _ in range(2):  # two generations of disaster and recovery, each re-exported and committed
        g.delete(f"/groups/{ids[-1]}")
        g.delete(f"/directory/deletedItems/{ids[-1]}")
        exported("apply", "--yes", "--commit")
        ids.append(g.one("/groups", "Finance Admins")["id"])
    assert len(set(ids)) == 3
    g.delete(f"/groups/{ids[-1]}")
    g.delete(f"/directory/deletedItems/{ids[-1]}")
    _apply(exported, "--ref", first)  # files three generations old still name the first id
    final = g.one("/groups", "Finance Admins")["id"]
    assert final not in ids
    pols = json.dumps([p["conditions"] for p in g.policies()])
    assert final in pols and not any(i in pols for i in ids)
    assert "No changes" in _apply(exported, "--ref", first).output


def test_apply_killed_mid_way_resumes_without_duplicates(exported, sim_factory, sim):
    import os
    import signal
    import subprocess
    import sys
    import time

    g = G(sim)
    old = g.one("/groups", "Finance Admins")["id"]
    g.delete(f"/groups/{old}")
    g.delete(f"/directory/deletedItems/{old}")
    sim.latency_ms = 150  # slow enough to stop the run between the create and the references
    since = len(sim.requests)
    proc = subprocess.Popen([sys.executable, "-m", "entragit.cli", "apply", "--yes", "--repo", str(exported.repo)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any(r.method == "POST" and r.path.endswith("/groups") for r in sim.requests[since:]):
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "apply ended before the kill"
    sim.latency_ms = 0
    out = _apply(exported).output
    groups = g.c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"]
    assert len(groups) == 1, "the rerun adopted the group the killed run created instead of making another"
    new = groups[0]["id"]
    assert "adopt" in out or new in (exported.repo / "tenants" / "demo" / "idmap.yaml").read_text()
    pols = json.dumps([p["conditions"] for p in g.policies()])
    assert pols.count(new) == 12 and old not in pols
    assert "No changes" in _apply(exported).output


def test_apply_refuses_a_token_for_another_tenant(exported, sim):
    tyaml = exported.repo / "tenants" / "demo" / "tenant.yaml"
    tyaml.write_text(tyaml.read_text().replace(sim.tenant_id, "11111111-2222-3333-4444-555555555555"))
    g = G(sim)
    pol = next(p for p in g.policies() if p["displayName"].startswith("CA100"))
    g.c.patch(f"{g.beta}{CA}/{pol['id']}", json={"state": "disabled"})
    since = len(sim.requests)
    res = exported("apply", "--yes", code=1)
    assert "refusing to write" in res.output
    assert G(sim).writes(sim, since) == []


def test_apply_refuses_to_lock_out_break_glass_accounts(tmp_path, sim):
    from .conftest import make_repo

    cli = make_repo(tmp_path / "r", sim, "demo", "--break-glass", "bg-admin-01@contosodemo.onmicrosoft.com")
    cli("export", "--commit")
    f = next((tmp_path / "r" / "tenants" / "demo" / "conditionalAccessPolicies").glob("ca000*.yaml"))
    text = f.read_text()
    bg_group = "b495a2dd-d4ed-521f-ba65-d84bba718786"  # CA-BreakGlassAccounts - Exclude
    assert bg_group in text
    f.write_text(text.replace(f"    - {bg_group}\n", "", 1).replace("1c0b3a86-2c39-5fde-add6-497841c5fa46", "x"))
    res = cli("plan", "--ref", "WORKTREE")
    assert "LOCKOUT RISK" in res.output and "bg-admin-01" in res.output
    since = len(sim.requests)
    res = cli("apply", "--ref", "WORKTREE", "--yes", code=1)
    assert "break-glass" in res.output
    assert G(sim).writes(sim, since) == []


def test_prune_deletes_only_with_the_flag(exported, sim):
    g = G(sim)
    made = g.c.post("/groups", json={"displayName": "Shadow IT", "mailEnabled": False, "mailNickname": "shadow-it",
                                     "securityEnabled": True})
    assert made.status_code == 201
    plan = exported("plan").output
    assert "not in the files" in plan and "Shadow IT" in plan
    _apply(exported)
    g.get(f"/groups/{made.json()['id']}")
    out = exported("plan", "--prune", "--only", "groups").output
    assert "delete" in out and "Shadow IT" in out
    exported("apply", "--prune", "--only", "groups", "--yes")
    g.get(f"/groups/{made.json()['id']}", code=404)
    assert any(x["id"] == made.json()["id"] for x in g.get("/directory/deletedItems/microsoft.graph.group")["value"])


def test_apply_survives_throttling_and_replication_lag(tmp_path, sim_factory):
    from .conftest import make_repo

    sim = sim_factory("demo", throttle="ca=1/1", faults="lag=800,seed=3")
    cli = make_repo(tmp_path / "r", sim)
    cli("export", "--commit")
    g = G(sim)
    old = g.one("/groups", "Finance Admins")["id"]
    g.delete(f"/groups/{old}")
    g.delete(f"/directory/deletedItems/{old}")
    cli("apply", "--yes")
    new = g.one("/groups", "Finance Admins")["id"]
    assert len(g.get(f"/groups/{new}/members")["value"]) == 2
    assert "No changes" in cli("apply", "--yes").output


def test_saved_plan_runs_exactly_and_a_stale_one_is_refused(exported, sim, tmp_path):
    g = G(sim)
    pol = next(p for p in g.policies() if p["displayName"].startswith("CA100"))
    g.c.patch(f"{g.beta}{CA}/{pol['id']}", json={"state": "disabled"})
    saved = tmp_path / "plan.json"
    exported("plan", "--out", str(saved))
    # The tenant moves after review: the saved plan no longer describes it.
    grp = g.one("/groups", "Finance Admins")
    g.c.patch(f"/groups/{grp['id']}", json={"description": "edited after the review"})
    since = len(sim.requests)
    res = exported("apply", "--plan", str(saved), "--yes", code=1)
    assert "stale" in res.output
    assert G(sim).writes(sim, since) == []
    exported("plan", "--out", str(saved))
    out = exported("apply", "--plan", str(saved), "--yes").output
    assert "Applied 2/2" in out
    assert g.get(f"{g.beta}{CA}/{pol['id']}")["state"] == "enabled"


def test_hard_deleted_user_is_recreated_with_a_random_password_and_references_fixed(tmp_path, sim):
    from .conftest import make_repo

    cli = make_repo(tmp_path / "r", sim, "demo", "--users")
    cli("export", "--commit")
    g = G(sim)
    user = g.one("/users", "bg-admin-02@contosodemo.onmicrosoft.com", "userPrincipalName")
    g.delete(f"/users/{user['id']}")
    g.delete(f"/directory/deletedItems/{user['id']}")
    out = cli("apply", "--yes").output
    assert "random initial password" in out
    new = g.one("/users", "bg-admin-02@contosodemo.onmicrosoft.com", "userPrincipalName")
    assert new["id"] != user["id"]
    pols = json.dumps([p["conditions"] for p in g.policies()])
    assert new["id"] in pols and user["id"] not in pols
    ras = g.get("/roleManagement/directory/roleAssignments")["value"]
    assert any(r["principalId"] == new["id"] for r in ras)
    assert "password" not in (tmp_path / "r" / "tenants" / "demo" / "idmap.yaml").read_text()
    assert "No changes" in cli("apply", "--yes").output


def test_a_policy_blocking_everyone_is_refused_even_without_break_glass_accounts(exported, sim):
    f = next((exported.repo / "tenants" / "demo" / "conditionalAccessPolicies").glob("ca000*.yaml"))
    doc = yaml.safe_load(f.read_text())
    doc["state"] = "enabled"
    doc["conditions"]["users"].update(includeUsers=["All"], excludeUsers=[], excludeGroups=[], excludeRoles=[])
    doc["grantControls"] = {"builtInControls": ["block"], "operator": "OR"}
    f.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = exported("plan", "--ref", "WORKTREE")
    assert "would block every account" in res.output
    since = len(sim.requests)
    assert "would block every account" in exported("apply", "--ref", "WORKTREE", "--yes", code=1).output
    assert G(sim).writes(sim, since) == []


def test_token_lifetime_policy_round_trips_through_export_and_apply(exported, sim):
    g = G(sim)
    made = g.c.post("/policies/tokenLifetimePolicies", json={
        "displayName": "Short web sessions", "isOrganizationDefault": False,
        "definition": ['{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"01:00:00"}}']})
    assert made.status_code == 201, made.text
    exported("export", "--commit")
    f = exported.repo / "tenants" / "demo" / "tokenLifetimePolicies" / "short-web-sessions.yaml"
    assert "AccessTokenLifetime" in f.read_text()
    g.delete(f"/policies/tokenLifetimePolicies/{made.json()['id']}")
    assert "+ create   token lifetime policy 'Short web sessions'" in exported("plan").output
    _apply(exported)
    again = g.one("/policies/tokenLifetimePolicies", "Short web sessions")
    assert again["definition"] == made.json()["definition"]
    assert "No changes" in _apply(exported).output


def test_prune_deletes_an_app_role_assignment_through_its_resource(exported, sim):
    g = G(sim)
    hr = g.one("/servicePrincipals", "HR Portal")
    user = g.one("/servicePrincipals", "Sales Dashboard")
    made = g.c.post(f"/servicePrincipals/{hr['id']}/appRoleAssignedTo", json={
        "principalId": user["id"], "resourceId": hr["id"], "appRoleId": "00000000-0000-0000-0000-000000000000"})
    assert made.status_code == 201, made.text
    exported("apply", "--prune", "--only", "appRoleAssignments", "--yes")
    left = g.get(f"/servicePrincipals/{hr['id']}/appRoleAssignedTo")["value"]
    assert made.json()["id"] not in {a["id"] for a in left}
    assert "No changes" in exported("apply", "--prune", "--only", "appRoleAssignments", "--yes").output
