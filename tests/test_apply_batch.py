"""Independent writes go in JSON $batch envelopes of 20; a write whose envelope loses its answer is
read back, never sent again."""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from entragit import apply
from entragit.graph import Graph
from entragit.plan import Op, Plan

from .conftest import admin, app_repo

ADMIN = {"Authorization": "Bearer sim-admin"}


def _group(n: int) -> dict[str, Any]:
    return {"displayName": f"Batch {n:02}", "mailEnabled": False, "mailNickname": f"batch{n:02}",
            "securityEnabled": True}


def _creates(n: int) -> Plan:
    ops = tuple(Op("create", "groups", f"old-{i:02}", f"Batch {i:02}", body=_group(i)) for i in range(n))
    return Plan("demo", "HEAD", ops)


def _execute(sim: Any, plan: Plan, tenant_dir: Path) -> apply.ApplyResult:
    async def run() -> apply.ApplyResult:
        async with Graph(sim.graph_url, token="sim-admin") as g:
            return await apply.execute(g, plan, tenant_dir)

    return asyncio.run(run())


def _groups(sim: Any) -> Counter[str]:
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        return Counter(g["displayName"] for g in c.get("/groups?$top=999").json()["value"])


def _sent(sim: Any, method: str, path: str) -> int:
    return sum(1 for r in sim.requests if r.method == method and r.path == path)


def test_independent_creates_go_twenty_to_an_envelope(tmp_path, sim_factory) -> None:
    sim = sim_factory("empty")
    n = 45
    result = _execute(sim, _creates(n), tmp_path)
    assert [o.ok for o in result.outcomes] == [True] * n, [o.detail for o in result.failed]
    assert [o.op.key for o in result.outcomes] == [f"old-{i:02}" for i in range(n)], "outcomes in plan order"
    assert _sent(sim, "POST", "/v1.0/$batch") == math.ceil(n / 20) == 3
    assert [r.method for r in sim.requests if r.path != "/v1.0/groups"] == ["POST"] * 3, "no write sent alone"
    assert _sent(sim, "POST", "/v1.0/groups") == n, "each create once, inside an envelope"
    assert _groups(sim) == Counter(f"Batch {i:02}" for i in range(n))
    made = apply.load_idmap(tmp_path)
    assert sorted(made) == [f"old-{i:02}" for i in range(n)]
    assert {made[o.op.key] for o in result.outcomes} == {o.detail.split()[1] for o in result.outcomes}


@pytest.mark.parametrize("faults", ["lost=1", "lostreset=1"], ids=["envelope-504", "envelope-dropped"])
def test_a_batched_write_whose_envelope_answer_is_lost_is_read_back(tmp_path, sim_factory, faults) -> None:
    sim = sim_factory("empty", faults=faults)  # the envelope runs, then its answer is lost
    n = 5
    result = _execute(sim, _creates(n), tmp_path)
    assert [o.ok for o in result.outcomes] == [True] * n, [o.detail for o in result.failed]
    assert _sent(sim, "POST", "/v1.0/$batch") == 1
    assert _sent(sim, "POST", "/v1.0/groups") == n, "read back, never resent"
    assert _groups(sim) == Counter(f"Batch {i:02}" for i in range(n)), "every group once"
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        live = {g["displayName"]: g["id"] for g in c.get("/groups?$top=999").json()["value"]}
    assert apply.load_idmap(tmp_path) == {f"old-{i:02}": live[f"Batch {i:02}"] for i in range(n)}


def test_dependent_writes_are_not_batched_together(tmp_path, sim_factory) -> None:
    """A create whose body names another create's placeholder waits for it: separate requests."""
    sim = sim_factory("empty")
    first = Op("create", "groups", "old-a", "Batch A", body=_group(1))
    second = Op("create", "groups", "old-b", "Batch B", body={**_group(2), "description": "{new:old-a}"})
    result = _execute(sim, Plan("demo", "HEAD", (first, second)), tmp_path)
    assert all(o.ok for o in result.outcomes), [o.detail for o in result.failed]
    assert _sent(sim, "POST", "/v1.0/$batch") == 0
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        b = c.get("/groups", params={"$filter": "displayName eq 'Batch 02'"}).json()["value"][0]
    assert b["description"] == apply.load_idmap(tmp_path)["old-a"], "the placeholder was resolved"


@pytest.mark.parametrize("hard", ["container", "member"])
def test_a_restore_next_to_a_recreation_relinks_them(tmp_path, sim_factory, monkeypatch, hard) -> None:
    """A group restored from the recycle bin does not bring back its link to a group that was
    hard-deleted (and is made anew): apply adds that link, and the next plan is empty. Signed in as
    users sign in: the batched writes go as the app holding exactly the listed permissions."""
    sim = sim_factory("demo", tls=True)
    cli = app_repo(tmp_path / "r", sim, monkeypatch)
    cli("export", "--commit")
    with admin(sim) as c:
        ids = {g["displayName"]: g["id"] for g in c.get("/groups?$top=999").json()["value"]}
        container, member = ids["APP - HR Portal Editors"], ids["Dept - HR"]
        gone = container if hard == "container" else member
        for gid in (container, member):
            assert c.delete(f"/groups/{gid}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{gone}").status_code == 204
    cli("apply", "--yes")
    with admin(sim) as c:
        now = {g["displayName"]: g["id"] for g in c.get("/groups?$top=999").json()["value"]}
        members = {m["id"] for m in c.get(f"/groups/{now['APP - HR Portal Editors']}/members").json()["value"]}
    assert now["Dept - HR"] in members
    assert (now["APP - HR Portal Editors"] == container) is (hard == "member"), "the restored one keeps its id"
    cli("plan", "--detailed-exitcode")  # exit 0: nothing left to do


def test_apply_s_summary_counts_writes_not_its_envelopes_of_reads(tmp_path, sim_factory, monkeypatch) -> None:
    """Apply's summary counts write requests; the $batch envelopes of GETs its reads go in are POSTs
    that write nothing, signed in as the exact-permission app."""
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    with admin(sim) as c:
        gid = next(g["id"] for g in c.get("/groups").json()["value"] if g["displayName"] == "Project Aurora")
        assert c.patch(f"/groups/{gid}", json={"description": "edited in the portal"}).status_code == 204
    since = len(sim.requests)
    out = repo("apply", "--yes").output
    # The one update goes in an envelope of its own; the plan's reads went in others before it.
    assert _sent_since(sim, since, "POST", "/v1.0/$batch") >= 2
    assert "Applied 1/1 operations (1 write requests)." in out, out
    with admin(sim) as c:
        assert c.get(f"/groups/{gid}").json()["description"] != "edited in the portal"


def _sent_since(sim: Any, since: int, method: str, path: str) -> int:
    return sum(1 for r in sim.requests[since:] if r.method == method and r.path == path)


def _named_creates(kind: str, n: int, body: Any) -> list[Op]:
    return [Op("create", kind, f"old-{kind}-{i:02}", f"Batch {kind} {i:02}", body=body(i)) for i in range(n)]


def test_writes_of_unrelated_kinds_share_envelopes_and_a_kind_written_after_another_waits(tmp_path, sim_factory) -> None:
    """Groups and applications name nothing of each other: 10 + 10 creates fill one envelope.
    Administrative units are written after groups (a kind's references point at kinds before it):
    their creates wait for the groups' envelope."""
    sim = sim_factory("empty")
    apps = _named_creates("applications", 10, lambda i: {"displayName": f"Batch app {i:02}"})
    groups = [Op("create", "groups", f"old-g-{i:02}", f"Batch {i:02}", body=_group(i)) for i in range(10)]
    units = _named_creates("administrativeUnits", 5, lambda i: {"displayName": f"Batch unit {i:02}"})
    result = _execute(sim, Plan("demo", "HEAD", tuple(groups + apps)), tmp_path)
    assert all(o.ok for o in result.outcomes), [o.detail for o in result.failed]
    assert _sent(sim, "POST", "/v1.0/$batch") == 1
    assert _sent(sim, "POST", "/v1.0/groups") == 10 and _sent(sim, "POST", "/v1.0/applications") == 10

    more = [Op("create", "groups", f"old-h-{i:02}", f"Batch {i + 10:02}", body=_group(i + 10)) for i in range(5)]
    result = _execute(sim, Plan("demo", "HEAD", tuple(more + units)), tmp_path)
    assert all(o.ok for o in result.outcomes), [o.detail for o in result.failed]
    assert _sent(sim, "POST", "/v1.0/$batch") == 1 + 2, "the units' creates went in an envelope of their own"
    assert [o.op.kind for o in result.outcomes] == ["groups"] * 5 + ["administrativeUnits"] * 5


def test_conditional_access_writes_keep_the_family_pace_inside_envelopes(tmp_path, sim_factory, monkeypatch) -> None:
    """Graph counts each $batch sub-request against Conditional Access's 1 request/second: apply's
    CA writes go one to an envelope, and after the first 429 the rest keep the pace, so the family
    costs at most one refused sub-request however many policies there are. As the exact-permission app."""
    sim = sim_factory("demo", tls=True, throttle="ca=1/1")
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    beta = sim.graph_url.replace("/v1.0", "/beta")
    time.sleep(1.0)  # the export's last CA-family read
    with admin(sim) as c:
        policies = c.get(f"{beta}/identity/conditionalAccess/policies").json()["value"]
        changed = [p["id"] for p in policies if p["state"] == "enabled"][:4]
        assert len(changed) == 4
        for pid in changed:
            time.sleep(1.0)  # the admin keeps to the family's pace too
            assert c.patch(f"{beta}/identity/conditionalAccess/policies/{pid}",
                           json={"state": "disabled"}).status_code == 204
    time.sleep(1.0)
    since = len(sim.requests)
    out = repo("apply", "--yes").output
    assert "Applied 4/4 operations" in out, out
    patches = [r for r in sim.requests[since:] if r.method == "PATCH" and "/conditionalAccess/policies/" in r.path]
    assert sorted({r.path.rsplit("/", 1)[1] for r in patches if r.status == 204}) == sorted(changed)
    assert sum(r.status == 429 for r in patches) <= 1, [(r.path, r.status) for r in patches]
    time.sleep(1.0)
    with admin(sim) as c:
        states = {p["id"]: p["state"] for p in c.get(f"{beta}/identity/conditionalAccess/policies").json()["value"]}
    assert all(states[pid] == "enabled" for pid in changed)


def test_conditional_access_writes_are_spread_through_the_run_not_sent_after_it(tmp_path, sim_factory,
                                                                              monkeypatch) -> None:
    """CA policies are written through beta, memberships through v1.0; neither waits for the other,
    so they share a run, and the beta envelopes go among the v1.0 ones: the family's pace runs
    alongside the rest of the run instead of after it."""
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    removed = []
    with admin(sim) as c, admin(sim, "beta") as b:
        for g in c.get("/groups?$top=999").json()["value"]:
            if g.get("membershipRule") or len(removed) >= 25:
                continue
            for m in c.get(f"/groups/{g['id']}/members").json()["value"][: 25 - len(removed)]:
                assert c.delete(f"/groups/{g['id']}/members/{m['id']}/$ref").status_code == 204
                removed.append((g["id"], m["id"]))
        policies = [p["id"] for p in b.get("/identity/conditionalAccess/policies").json()["value"]
                    if p["state"] == "enabled"][:2]
        for pid in policies:
            assert b.patch(f"/identity/conditionalAccess/policies/{pid}", json={"state": "disabled"}).status_code == 204
    assert len(removed) == 25 and len(policies) == 2
    since = len(sim.requests)
    out = repo("apply", "--yes").output
    done = re.search(r"Applied (\d+)/(\d+) operations", out)
    assert done and done[1] == done[2], out
    writes = [r.path for r in sim.requests[since:] if r.method in ("PATCH", "POST") and r.status < 300]
    ca = [i for i, p in enumerate(writes) if "/conditionalAccess/policies/" in p]
    links = [i for i, p in enumerate(writes) if p.endswith("/members/$ref")]
    # A group in a restricted administrative unit is left alone (the app holds no role at its
    # scope): its removed members stay removed. More than one envelope of links is what matters.
    assert len(ca) == 2 and 20 < len(links) == int(done[1]) - 2, (writes, out)
    assert ca[0] < links[-1], "the first CA write went after every membership's"
