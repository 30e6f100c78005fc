"""apply --rehearse: the plan runs against a simulated twin seeded from HEAD; the tenant sees no write."""

from __future__ import annotations

import httpx

ADMIN = {"Authorization": "Bearer sim-admin"}


def test_rehearsal_restores_the_twin_and_never_touches_the_tenant(repo, sim):
    repo("export", "--commit")
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        gid = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]["id"]
        c.delete(f"/groups/{gid}")
        c.delete(f"/directory/deletedItems/{gid}")
    repo("export", "--commit")  # the nightly export recorded the loss: HEAD no longer has the group
    since = len(sim.requests)
    out = repo("apply", "--rehearse", "--ref", "HEAD~1").output
    assert "nothing is sent to the tenant" in out
    assert "+ create   group 'Finance Admins'" in out
    assert "Converged" in out and "FAILED" not in out
    assert sim.requests[since:] == [], "a rehearsal must not send a single request to the tenant"
    assert not (repo.repo / "tenants" / "demo" / "idmap.yaml").exists()
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        assert c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"] == []
