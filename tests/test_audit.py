"""Who changed it: export --commit names the actors behind each change from the directory audit log."""

from __future__ import annotations

import ssl
import time

import git
import httpx

from .conftest import make_repo
from .portal import ADMIN, Portal


def test_actor_of_a_portal_change_is_in_the_export_commit(repo, sim):
    repo("export", "--commit")
    first = git.Repo(repo.repo).head.commit.message
    assert "Who changed it" not in first and "Entragit-Actors" not in first, "no window before the first export"
    alice = Portal(sim, actor="alice@contoso.example")
    alice.rename_group("Finance Admins", "Finance Administrators")
    bob = Portal(sim, actor="bob@contoso.example")
    pol = bob.policy("CA100")
    bob.patch_policy(pol, state="enabledForReportingButNotEnforced")
    Portal(sim).ok(Portal(sim).c.patch("/policies/authorizationPolicy", json={"allowInvitesFrom": "everyone"}))
    # The window starts at the previous export's start, inclusive, and the simulator logs whole seconds:
    # export in a later second than the edits so the next window leaves them out.
    time.sleep(1.1)
    repo("export", "--commit")
    r = git.Repo(repo.repo)
    msg = r.head.commit.message
    assert "Who changed it (directory audit log since 20" in msg
    assert "  groups: Finance Administrators: alice@contoso.example (Update group)" in msg
    assert f"  conditionalAccessPolicies: {pol['displayName']}: bob@contoso.example (Update conditional access policy)" in msg
    # Policies whose refs index merely shows the new group name changed no object: no actor for them.
    assert msg.count("alice@contoso.example") == 2  # the line above and the trailer
    trailer = r.git.log("-1", "--format=%(trailers:key=Entragit-Actors,valueonly)").strip()
    assert trailer == "alice@contoso.example, bob@contoso.example"
    assert r.git.log("-1", "--format=%(trailers:key=Entragit-Tenant,valueonly)").startswith("demo (")
    carol = Portal(sim, actor="carol@contoso.example")
    carol.patch_policy(pol, state="enabled")
    repo("export", "--commit")
    msg = git.Repo(repo.repo).head.commit.message
    assert "carol@contoso.example (Update conditional access policy)" in msg
    assert "bob@" not in msg and "Entragit-Actors: carol@contoso.example" in msg


def test_without_auditlog_permission_the_commit_says_so(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("demo", tls=True)
    verify = ssl.create_default_context(cafile=sim.ca_bundle)
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify) as c:
        app = c.get("/applications", params={"$filter": "displayName eq 'entragit-reader'"}).json()["value"][0]
        secret = c.post(f"/applications/{app['id']}/addPassword",
                        json={"passwordCredential": {"displayName": "t"}}).json()["secretText"]
    monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", secret)
    cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "secret", "--client-id", app["appId"],
                    "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    cli("export", "--commit")
    with httpx.Client(base_url=sim.graph_url, headers=dict(ADMIN, **{"X-Sim-Actor": "dave@contoso.example"}),
                      verify=verify) as c:
        g = c.get("/groups", params={"$filter": "displayName eq 'Dept - Finance'"}).json()["value"][0]
        assert c.patch(f"/groups/{g['id']}", json={"description": "changed"}).status_code == 204
    cli("export", "--commit")
    msg = git.Repo(tmp_path / "r").head.commit.message
    assert "Who changed it: skipped (the token lacks AuditLog.Read.All)" in msg
    assert "groups: Dept - Finance" in msg and "Entragit-Actors" not in msg
