"""Seeded faults (5xx, dropped connections, slow answers, lost write answers, 429s from small
throttle buckets; about one request in ten) do not change what export and apply end with: the same
files byte for byte, the same tenant, no duplicates, an empty second plan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entragit_sim import Simulator
from entragit_sim.faults import parse_faults
from entragit_sim.throttle import Throttle

from . import chaos

# 10% of requests fail one way or another: the rates the brief for this suite names.
# Twice the rates of earlier releases: export reads and apply writes in fewer requests now (owners by
# $expand, writes in $batch envelopes), and each seed must still land at least 10 faults.
FAULTS = "503=0.06,500=0.04,reset=0.04,slow=0.02:300,lost=0.02"
# Small buckets so some requests get 429 + Retry-After; the CA family (1 rps pacing once throttled)
# is left at Graph's size: pacing it would only add seconds, its handling is tested in tests/sim.
THROTTLE = "ru=100/1,w=15/1"


@dataclass(frozen=True)
class Outcome:
    exported: dict[str, bytes]
    tenant: dict[str, Any]
    idmap_keys: dict[str, set[str]]


def _faults(sim: Any, seed: int | None) -> None:
    """Faults on (a seed) or off (None), on a running simulator."""
    sim.router.faults = parse_faults(None if seed is None else f"{FAULTS},seed={seed}")
    sim.router.throttle = Throttle(None if seed is None else THROTTLE)


def _run(sim: Any, root: Path, seed: int | None) -> Outcome:
    """export --commit, then the damage (fault-free), then apply --yes: the last two under `seed`'s faults."""
    cli = chaos.new_repo(root, sim)
    _faults(sim, seed)
    cli("export", "--commit")
    exported = chaos.files(root)
    assert chaos.git(root, "status", "--porcelain") == ""
    _faults(sim, None)
    chaos.damage(sim)
    _faults(sim, seed)
    cli("apply", "--yes")
    _faults(sim, None)
    cli("plan", "--detailed-exitcode")  # exit 0: the second plan is empty
    keys = {k: set(v) for k, v in chaos.idmap(root).items()}
    return Outcome(exported, chaos.tenant_view(sim), keys)


@pytest.fixture(scope="module")
def fault_free(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    sim = Simulator(seed="demo").start(host="127.0.0.1", port=0)
    try:
        return _run(sim, tmp_path_factory.mktemp("fault-free") / "r", None)
    finally:
        sim.stop()


def _check(tmp_path: Path, sim_factory: Any, fault_free: Outcome, seed: int, min_faults: int = 10) -> None:
    sim = sim_factory("demo")
    got = _run(sim, tmp_path / "r", seed)
    faulted = [r for r in sim.requests if r.status in (0, 429, 500, 503, 504)]
    assert len(faulted) >= min_faults, f"seed {seed}: only {len(faulted)} faults happened; the suite tests nothing"
    assert got.exported == fault_free.exported, "export under faults differs from the fault-free export"
    assert got.tenant == fault_free.tenant, "\n".join(chaos.differences(got.tenant, fault_free.tenant))
    chaos.assert_idmap_intact(tmp_path / "r", sim, fault_free.idmap_keys)
    assert fault_free.idmap_keys.get("groups"), "the damage made apply recreate a group"


# Seeds whose faults land at least 10 times: export reads with fewer requests than it did (owners by
# $expand, users by getByIds, first pages in $batch), so seeds 2 and 3 now meet only 5 and 6.
@pytest.mark.parametrize("seed", [1, 4, 5])
def test_export_and_apply_under_faults_end_as_without_them(tmp_path, sim_factory, fault_free, seed) -> None:
    _check(tmp_path, sim_factory, fault_free, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 100 + chaos.slow_count(20)))
def test_many_seeds_of_faults_end_as_without_them(tmp_path, sim_factory, fault_free, seed) -> None:
    # A run is about eighty requests now (writes of unrelated kinds share $batch envelopes), so at 10%
    # some seeds land only two or three faults (seed 116: two resets of one envelope). The sweep asks
    # for at least one in each, a seed with none tests nothing; the seeds above land at least 10.
    _check(tmp_path, sim_factory, fault_free, seed, min_faults=1)


def test_a_write_whose_answer_is_lost_twice_is_read_back_and_sent_again(tmp_path, sim_factory) -> None:
    """Found by the suite above (seed 2): a PATCH answered 500 twice, not landed either time, failed
    the apply. Each resend follows a read showing it did not land, so a third send is safe."""
    import asyncio

    from entragit import apply
    from entragit.graph import Graph
    from entragit.plan import Op, Plan

    sim = sim_factory("empty", faults="503=0.4,seed=7")  # seed 7: the create's first two sends get 503
    body = {"displayName": "Lost Answers", "mailEnabled": False, "mailNickname": "lost", "securityEnabled": True}
    plan = Plan("demo", "HEAD", (Op("create", "groups", "old-id", "Lost Answers", body=body),))

    async def run() -> apply.ApplyResult:
        async with Graph(sim.graph_url, token="sim-admin") as g:
            return await apply.execute(g, plan, tmp_path)

    [out] = asyncio.run(run()).outcomes
    assert out.ok, out.detail
    assert [r.status for r in sim.requests if r.method == "POST"] == [503, 503, 201]
    assert [g["displayName"] for g in sim.store.snapshot()["objects"]["groups"].values()] == ["Lost Answers"]


def test_a_write_answered_503_five_times_lands_on_the_sixth_send(tmp_path, sim_factory, monkeypatch) -> None:
    """Found by the sweep above in CI (seed 112): an administrative unit's member link answered 503
    four times failed the apply, when each resend followed a read showing it had not landed. A write
    is now sent up to eight times, waiting longer before each resend (here shortened to keep the test
    quick; what is tested is the count and that no write doubles)."""
    import asyncio

    from entragit import apply
    from entragit.graph import Graph
    from entragit.plan import Op, Plan

    monkeypatch.setattr(apply, "_RESEND_WAITS", (0.0,))
    monkeypatch.setattr(apply, "_CONFIRM_DELAYS", (0.0, 0.0))
    sim = sim_factory("empty", faults="503=0.45,seed=44")  # seed 44: the create's first five sends get 503
    body = {"displayName": "Five Losses", "mailEnabled": False, "mailNickname": "five", "securityEnabled": True}
    plan = Plan("demo", "HEAD", (Op("create", "groups", "old-id", "Five Losses", body=body),))

    async def run() -> apply.ApplyResult:
        async with Graph(sim.graph_url, token="sim-admin") as g:
            return await apply.execute(g, plan, tmp_path)

    [out] = asyncio.run(run()).outcomes
    assert out.ok, out.detail
    assert [r.status for r in sim.requests if r.method == "POST"] == [503] * 5 + [201]
    assert [g["displayName"] for g in sim.store.snapshot()["objects"]["groups"].values()] == ["Five Losses"]
