"""apply --rehearse: the plan runs against a simulated twin seeded from HEAD and the tenant's recycle
bins, signed in as the tenant's own identity; the tenant sees reads only, never a write."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from tests.conftest import make_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
CA = "identity/conditionalAccess/policies"


def _tls_client(sim: Any, version: str = "v1.0") -> httpx.Client:
    verify = ssl.create_default_context(cafile=sim.ca_bundle)
    return httpx.Client(base_url=sim.graph_url.replace("/v1.0", f"/{version}"), headers=ADMIN, verify=verify)


def _signed_in_repo(tmp_path: Any, sim: Any, monkeypatch: Any, app_name: str) -> Any:
    """A config repo whose tenant signs in as the seed's `app_name` with a fresh client secret."""
    with _tls_client(sim) as c:
        app = c.get("/applications", params={"$filter": f"displayName eq '{app_name}'"}).json()["value"][0]
        made = c.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "t"}})
    monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", made.json()["secretText"])
    return make_repo(tmp_path / "r", sim, "demo", "--auth", "secret", "--client-id", app["appId"],
                     "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)


def _writes(requests: list[Any]) -> list[Any]:
    """Graph requests other than reads (a sign-in at the token endpoint is not a Graph request)."""
    return [r for r in requests if r.method != "GET" and "/oauth2/" not in r.path]


def test_rehearsal_restores_the_twin_and_never_touches_the_tenant(repo, sim):
    repo("export", "--commit")
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        gid = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]["id"]
        c.delete(f"/groups/{gid}")
        c.delete(f"/directory/deletedItems/{gid}")
    repo("export", "--commit")  # the nightly export recorded the loss: HEAD no longer has the group
    since = len(sim.requests)
    out = repo("apply", "--rehearse", "--ref", "HEAD~1").output
    assert "nothing is written to the tenant" in out
    assert "+ create   group 'Finance Admins'" in out
    assert "Converged" in out and "FAILED" not in out
    assert _writes(sim.requests[since:]) == [], "a rehearsal only reads the tenant"
    assert not (repo.repo / "tenants" / "demo" / "idmap.yaml").exists()
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        assert c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"] == []


def test_rehearsal_signs_in_as_the_tenant_app_and_fails_where_the_tenant_would(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("demo", tls=True)
    cli = _signed_in_repo(tmp_path, sim, monkeypatch, "entragit-reader")  # no Policy.ReadWrite.ConditionalAccess
    cli("export", "--commit")
    with _tls_client(sim, "beta") as c:
        pol = next(p for p in c.get(f"/{CA}").json()["value"] if p["displayName"].startswith("CA100"))
        assert c.patch(f"/{CA}/{pol['id']}", json={"state": "disabled"}).status_code == 204
    cli("export", "--commit")  # HEAD has the weakened policy; HEAD~1 the one to put back
    since = len(sim.requests)
    rehearsed = cli("apply", "--rehearse", "--ref", "HEAD~1", code=1).output
    assert "(rehearsal)" not in rehearsed  # the twin's app is named as the tenant's own
    assert _writes(sim.requests[since:]) == [], "a rehearsal only reads the tenant"
    real = cli("apply", "--ref", "HEAD~1", "--yes", code=1).output

    def refusal(out: str) -> str:
        return next(ln for ln in out.splitlines() if ln.startswith("error:"))

    # The twin's app holds the tenant app's permissions, so both refuse before writing, alike.
    assert f"missing Policy.ReadWrite.ConditionalAccess for update conditional access policy '{pol['displayName']}'" \
        in refusal(real), real
    assert refusal(rehearsed) == refusal(real), (rehearsed, real)


def test_rehearsal_restores_from_the_tenant_recycle_bin_with_the_original_id(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("demo", tls=True)
    cli = _signed_in_repo(tmp_path, sim, monkeypatch, "entragit-automation")
    cli("export", "--commit")
    with _tls_client(sim) as c:
        gid = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]["id"]
        assert c.delete(f"/groups/{gid}").status_code == 204  # soft delete: it waits in the recycle bin
    cli("export", "--commit")
    since = len(sim.requests)
    out = cli("apply", "--rehearse", "--ref", "HEAD~1").output
    signins = [r for r in sim.requests[since:] if r.path.endswith("/oauth2/v2.0/token")]
    assert len(signins) == 1, "one sign-in to the tenant: who it is and the recycle bins share it"
    line = next(ln for ln in out.splitlines() if "'Finance Admins'" in ln and "ok" in ln)
    assert "restore" in line, out
    assert "Converged" in out and "FAILED" not in out
    assert "group:" not in out.split("Rehearsed", 1)[1]  # no new id to record: restored with its own
    assert _writes(sim.requests[since:]) == []
    with _tls_client(sim) as c:  # the tenant's copy is still in its recycle bin, untouched
        assert c.get(f"/directory/deletedItems/{gid}").status_code == 200
        assert c.get(f"/groups/{gid}").status_code == 404
