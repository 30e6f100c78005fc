"""An app-only identity can't restore CA policies from the recycle bin (Graph: "Application: Not
supported"), so plan recreates them with a new id instead of planning a restore that fails at apply."""

from __future__ import annotations

import ssl

import httpx

from tests.conftest import make_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
CA = "identity/conditionalAccess/policies"


def _automation_secret(c: httpx.Client) -> str:
    app = c.get("/applications", params={"$filter": "displayName eq 'entragit-automation'"}).json()["value"][0]
    made = c.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "t"}})
    return app["appId"], made.json()["secretText"]


def test_app_identity_recreates_a_deleted_ca_policy(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("demo", tls=True)
    verify = ssl.create_default_context(cafile=sim.ca_bundle)
    beta = sim.graph_url.replace("/v1.0", "/beta")
    with httpx.Client(base_url=beta, headers=ADMIN, verify=verify) as c:
        app_id, secret = _automation_secret(c)
        monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", secret)
        cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "secret", "--client-id", app_id,
                        "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
        cli("export", "--commit")
        pol = next(p for p in c.get(f"/{CA}").json()["value"] if p["displayName"].startswith("CA100"))
        assert c.delete(f"/{CA}/{pol['id']}").status_code == 204
        plan = cli("plan", "--detailed-exitcode", code=2).output
        line = next(ln for ln in plan.splitlines() if pol["displayName"] in ln)
        assert "restore" not in line and "create" in line, plan
        assert "is in the recycle bin, but Graph lets only a signed-in administrator restore it" in plan
        cli("apply", "--yes")
        back = [p for p in c.get(f"/{CA}").json()["value"] if p["displayName"] == pol["displayName"]]
        assert len(back) == 1 and back[0]["id"] != pol["id"]
        assert back[0]["state"] == pol["state"]  # the closing plan (no changes) checks the rest
        # The old copy stays in the recycle bin: only a signed-in administrator could restore it.
        binned = c.get("/identity/conditionalAccess/deletedItems/policies").json()["value"]
        assert pol["id"] in [p["id"] for p in binned]
        cli("plan", "--detailed-exitcode", code=0)


def test_a_signed_in_ca_administrator_restores_the_policy_with_its_original_id(tmp_path, sim_factory):
    # tomas.ortega is Conditional Access Administrator (through role-ca-admins) in the demo seed.
    sim = sim_factory("demo", tls=True, user="tomas.ortega@contosodemo.onmicrosoft.com")
    verify = ssl.create_default_context(cafile=sim.ca_bundle)
    beta = sim.graph_url.replace("/v1.0", "/beta")
    with httpx.Client(base_url=beta, headers=ADMIN, verify=verify) as c:
        cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "device-code",
                        "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
        # A CA administrator may not read everything (role assignments): export says what it skipped.
        out = cli("export", "--commit", "--allow-partial").output
        assert "skipped" in out and "roleAssignments" in out
        pol = next(p for p in c.get(f"/{CA}").json()["value"] if p["displayName"].startswith("CA100"))
        assert c.delete(f"/{CA}/{pol['id']}").status_code == 204
        plan = cli("plan", "--detailed-exitcode", code=2).output
        line = next(ln for ln in plan.splitlines() if pol["displayName"] in ln)
        assert "restore" in line, plan
        cli("apply", "--yes")
        back = [p for p in c.get(f"/{CA}").json()["value"] if p["displayName"] == pol["displayName"]]
        assert [p["id"] for p in back] == [pol["id"]]
        cli("plan", "--detailed-exitcode", code=0)


def test_a_plan_as_an_app_signs_in_once(tmp_path, sim_factory, monkeypatch):
    """The identity predictions read the session's own token, not a second sign-in."""
    from tests.conftest import app_repo

    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    since = len(sim.requests)
    repo("plan")
    tokens = [r for r in sim.requests[since:] if r.path.endswith("/oauth2/v2.0/token")]
    assert len(tokens) == 1
