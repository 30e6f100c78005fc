"""SIGKILL of a real `entragit export --commit` / `entragit apply --yes` process at seeded points,
counted in requests the simulator served: the config repo is never half-written (git fsck passes,
the work tree is clean or the next run recovers it) and a rerun converges on what an unkilled run
ends with (the same files; the same tenant, no duplicates, an empty second plan, an intact id map)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from entragit_sim import Simulator

from . import chaos
from .conftest import Cli

# Each answer waits this long, so the test (polling every few ms) kills within a request or two of
# its point while the client has 8 in flight (a $batch counts its 20 parts at once).
LATENCY_MS = 15
# Kill points past the last request: the client is then writing files, the id map or the commit.
# Point total+k kills k/TAIL_POINTS of the way through the time the unkilled run took after its
# last request.
TAIL_POINTS = 5
BOUNDED, FULL = 6, 50


@dataclass
class Run:
    """What the test process saw of one client process."""

    returncode: int
    served: int  # requests the simulator recorded meanwhile
    tail: float  # seconds from its last request to its exit (unkilled runs)


def _spawn(sim: Any, repo: Path, args: tuple[str, ...], kill_at: int | None, total: int, tail: float) -> Run:
    """Run the CLI in its own process; SIGKILL it once the simulator has served `kill_at` requests
    (past `total`: that fraction of `tail` after the last one)."""
    since = len(sim.requests)
    sim.latency_ms = LATENCY_MS
    # Its own process group: a git child it started outlives its SIGKILL, as it would for a user, and
    # the test waits for that child before it looks at the repo.
    proc = subprocess.Popen([sys.executable, "-m", "entragit.cli", *args, "--repo", str(repo)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        last, seen, deadline = time.monotonic(), 0, time.monotonic() + 120
        kill_after = None
        while proc.poll() is None and time.monotonic() < deadline:
            n = len(sim.requests) - since
            if n != seen:
                last, seen = time.monotonic(), n
            if kill_at is not None and n >= min(kill_at, total) and kill_after is None:
                kill_after = time.monotonic() + max(0, kill_at - total) / TAIL_POINTS * tail
            if kill_after is not None and time.monotonic() >= kill_after:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        _, err = proc.communicate(timeout=120)
        _wait_for_group(proc.pid)
    finally:
        sim.latency_ms = 0
    assert kill_at is not None or proc.returncode == 0, err
    return Run(proc.returncode, len(sim.requests) - since, time.monotonic() - last)


def _wait_for_group(pgid: int, timeout: float = 60.0) -> None:
    """Wait until no process of the group is left: a `git commit` the killed client started runs on
    and writes its object, ref and reflog; fsck meanwhile would see a reflog entry naming a commit it
    had not yet read."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    raise AssertionError(f"a child of the killed client was still running after {timeout:g}s")


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    s = Simulator(seed="demo").start(host="127.0.0.1", port=0)
    yield s
    s.stop()


# -- export --------------------------------------------------------------------------------------
EXPORT = ("export", "--commit")


@dataclass(frozen=True)
class ExportRef:
    files: dict[str, bytes]
    total: int
    tail: float


@pytest.fixture(scope="module")
def export_ref(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> ExportRef:
    root = tmp_path_factory.mktemp("export-ref") / "r"
    sim.load("demo")
    chaos.new_repo(root, sim)
    run = _spawn(sim, root, EXPORT, None, 0, 0.0)
    return ExportRef(chaos.files(root), run.served, run.tail)


def _export_killed_at(tmp_path: Path, sim: Any, ref: ExportRef, point: int) -> None:
    root = tmp_path / f"r{point}"
    sim.load("demo")
    cli = chaos.new_repo(root, sim)
    scaffold = chaos.git(root, "rev-parse", "HEAD")
    run = _spawn(sim, root, EXPORT, point, ref.total, ref.tail)
    where = f"killed after {run.served} of {ref.total} requests (point {point})"
    assert point >= ref.total or run.returncode == -signal.SIGKILL, f"export ended before it was {where}"
    chaos.git(root, "fsck", "--no-progress")
    head = chaos.git(root, "rev-parse", "HEAD")
    if head != scaffold:  # the commit happened: it holds the whole export
        assert chaos.git(root, "rev-parse", "HEAD~1") == scaffold, where
        assert _committed(root) == ref.files, f"a commit with part of the export, {where}"
    cli("export", "--commit")
    assert chaos.files(root) == ref.files, f"the rerun's files differ from an unkilled export, {where}"
    assert chaos.git(root, "status", "--porcelain", "--ignored") == "", where
    assert _committed(root) == ref.files, where


def _committed(root: Path) -> dict[str, bytes]:
    names = chaos.git(root, "ls-tree", "-r", "--name-only", "HEAD", "tenants").split()
    return {n: subprocess.run(["git", "show", f"HEAD:{n}"], cwd=root, capture_output=True, check=True).stdout
            for n in names if not n.endswith("tenant.yaml")}


def _points(ref_total: int, count: int, seed: int) -> list[int]:
    return chaos.points(random.Random(seed), count, ref_total + TAIL_POINTS)


def test_export_killed_at_seeded_points_leaves_a_whole_repo_and_reruns_clean(tmp_path, sim, export_ref) -> None:
    for point in _points(export_ref.total, BOUNDED, seed=1):
        _export_killed_at(tmp_path, sim, export_ref, point)


@pytest.mark.slow
def test_export_killed_at_many_points(tmp_path, sim, export_ref) -> None:
    for point in _points(export_ref.total, chaos.slow_count(FULL), seed=2):
        _export_killed_at(tmp_path, sim, export_ref, point)


# -- apply ---------------------------------------------------------------------------------------
APPLY = ("apply", "--yes")


@dataclass(frozen=True)
class ApplyRef:
    template: Path  # an exported, committed repo of the undamaged tenant
    tenant: dict[str, Any]
    idmap_keys: dict[str, set[str]]
    total: int
    tail: float


def _damaged(sim: Any, template: Path, root: Path) -> Cli:
    """A copy of the exported repo, and the simulator's tenant back to the seed, then damaged."""
    sim.load("demo")
    shutil.copytree(template, root, symlinks=True)
    chaos.damage(sim)
    return Cli(root)


@pytest.fixture(scope="module")
def apply_ref(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> ApplyRef:
    base = tmp_path_factory.mktemp("apply-ref")
    sim.load("demo")
    chaos.new_repo(base / "template", sim)("export", "--commit")
    root = base / "r"
    cli = _damaged(sim, base / "template", root)
    run = _spawn(sim, root, APPLY, None, 0, 0.0)
    cli("plan", "--detailed-exitcode")
    keys = {k: set(v) for k, v in chaos.idmap(root).items()}
    return ApplyRef(base / "template", chaos.tenant_view(sim), keys, run.served, run.tail)


def _apply_killed_at(tmp_path: Path, sim: Any, ref: ApplyRef, point: int) -> None:
    root = tmp_path / f"r{point}"
    cli = _damaged(sim, ref.template, root)
    run = _spawn(sim, root, APPLY, point, ref.total, ref.tail)
    where = f"killed after {run.served} of {ref.total} requests (point {point})"
    assert point >= ref.total or run.returncode == -signal.SIGKILL, f"apply ended before it was {where}"
    chaos.git(root, "fsck", "--no-progress")
    assert set(chaos.idmap(root)) <= set(ref.idmap_keys), where  # it parses, and names no stranger
    cli(*APPLY)
    cli("plan", "--detailed-exitcode")
    got = chaos.tenant_view(sim)
    assert got == ref.tenant, f"{where}:\n" + "\n".join(chaos.differences(got, ref.tenant))
    chaos.assert_idmap_intact(root, sim, ref.idmap_keys)
    changed = chaos.git(root, "status", "--porcelain", "--ignored").splitlines()
    assert changed == ["?? tenants/demo/idmap.yaml"], f"{where}: {changed}"


def test_apply_killed_at_seeded_points_reruns_to_the_same_tenant(tmp_path, sim, apply_ref) -> None:
    for point in _points(apply_ref.total, BOUNDED, seed=3):
        _apply_killed_at(tmp_path, sim, apply_ref, point)


@pytest.mark.slow
def test_apply_killed_at_many_points(tmp_path, sim, apply_ref) -> None:
    for point in _points(apply_ref.total, chaos.slow_count(FULL), seed=4):
        _apply_killed_at(tmp_path, sim, apply_ref, point)
