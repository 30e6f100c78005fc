"""One writer per config repo (the repo lock) and recovery of a tenant swap a killed export left half done."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import git
import httpx
import pytest

from entragit import lock
from tests.conftest import Cli, make_repo

IDMAP = "# old id -> new id, written by `entragit apply`; commit it\ngroups:\n  0a0a0a0a-0000-0000-0000-000000000001: 0b0b0b0b-0000-0000-0000-000000000002\n"


@pytest.fixture
def exported(tmp_path: Path, sim: Any) -> Cli:
    """A committed export with an id map, as apply leaves it."""
    cli = make_repo(tmp_path / "r", sim)
    cli("export")
    (tmp_path / "r" / "tenants" / "demo" / "idmap.yaml").write_text(IDMAP, encoding="utf-8")
    r = git.Repo(tmp_path / "r")
    r.git.add("-A")
    r.git.commit("-qm", "baseline")
    return cli


def _spawn(cli: Cli, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "entragit.cli", *args, "--repo", str(cli.repo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_holding(cli: Cli, proc: subprocess.Popen[str]) -> None:
    """Until `proc` has written itself into the lock file."""
    path = cli.repo / ".git" / "entragit.lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if text and json.loads(text)["pid"] == proc.pid:
            return
        time.sleep(0.02)
    raise AssertionError(f"the export never took the lock: {proc.communicate()}")


def _add_group(sim: Any, name: str) -> None:
    with httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"}) as c:
        body = {
            "displayName": name,
            "mailEnabled": False,
            "mailNickname": name.lower().replace(" ", ""),
            "securityEnabled": True,
        }
        assert c.post("/groups", json=body).status_code == 201


def _assert_consistent(cli: Cli) -> None:
    r = git.Repo(cli.repo)
    subprocess.run(
        ["git", "-C", str(cli.repo), "fsck", "--no-progress"], check=True, capture_output=True
    )
    assert r.git.status("--porcelain") == "", "the work tree is clean"
    assert (cli.repo / "tenants" / "demo" / "idmap.yaml").read_text(encoding="utf-8") == IDMAP
    assert not list((cli.repo / ".git").glob("entragit-export/*")), (
        "no half-swapped tenant left behind"
    )


def test_a_second_export_fails_at_once_naming_the_holder(exported: Cli, sim: Any) -> None:
    _add_group(sim, "Lock Test")
    head = git.Repo(exported.repo).head.commit.hexsha
    sim.latency_ms = 300  # the first export is still reading when the second starts
    first = _spawn(exported, "export", "--commit")
    _wait_holding(exported, first)
    second = _spawn(exported, "export", "--commit", "--lock-timeout", "0")
    out, err = second.communicate(timeout=30)
    assert second.returncode == 1
    assert err.splitlines() == [err.strip()], "one line"
    assert err.startswith(f"error: the config repo is locked by pid {first.pid} on ")
    assert "(entragit export, since " in err and "Traceback" not in err and out == ""
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert "1 added" in out
    r = git.Repo(exported.repo)
    assert r.head.commit.parents[0].hexsha == head, "one commit, by the first export"
    _assert_consistent(exported)


def test_a_second_export_waits_for_the_first_then_succeeds(exported: Cli, sim: Any) -> None:
    _add_group(sim, "Lock Test")
    head = git.Repo(exported.repo).head.commit.hexsha
    sim.latency_ms = 300
    first = _spawn(exported, "export", "--commit")
    _wait_holding(exported, first)
    second = _spawn(exported, "export", "--commit", "--lock-timeout", "120")
    out2, err2 = second.communicate(timeout=120)
    out1, err1 = first.communicate(timeout=60)
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    assert err2.startswith(f"waiting up to 120s for the repo lock, held by pid {first.pid} on ")
    assert "Traceback" not in err1 + err2
    assert "1 added" in out1 and "no changes" in out2 and "nothing to commit" in out2
    assert git.Repo(exported.repo).head.commit.parents[0].hexsha == head
    _assert_consistent(exported)


@pytest.mark.parametrize("command", [("apply", "--yes"), ("fmt",), ("export",)])
def test_writers_refuse_while_another_holds_the_lock_and_readers_do_not(
    exported: Cli, command: tuple[str, ...]
) -> None:
    with lock.hold(exported.repo, "export"):
        res = exported(*command, "--lock-timeout", "0", code=1)
        assert (
            f"locked by pid {os.getpid()} " in res.stderr
            and "(entragit export, since " in res.stderr
        )
        for read in (("plan",), ("diff",), ("validate",), ("log",), ("fmt", "--check")):
            exported(*read)
    _assert_consistent(exported)
    exported(*command, "--lock-timeout", "0")


def test_lock_timeout_is_in_the_help_of_every_writer(exported: Cli) -> None:
    for command in ("export", "apply", "fmt"):
        assert "--lock-timeout SECONDS" in exported(command, "--help").output


def _half_swapped(
    cli: Cli, *, old: bool, new: bool, tenant_present: bool = False
) -> tuple[Path, Path]:
    """The state `write_tenant` leaves when killed part way: old-* (the backup) and/or new-* beside it."""
    tdir = cli.repo / "tenants" / "demo"
    stash = cli.repo / ".git" / "entragit-export"
    stash.mkdir(exist_ok=True)
    if new:
        shutil.copytree(tdir, stash / "new-demo")
        (stash / "new-demo" / "groups" / "from-the-killed-export.yaml").write_text(
            "displayName: x\n"
        )
    if old:
        (shutil.copytree if tenant_present else os.rename)(tdir, stash / "old-demo")
    elif not tenant_present:
        shutil.rmtree(tdir)
    return tdir, stash


@pytest.mark.parametrize("command", [("plan",), ("export", "--commit"), ("diff",), ("validate",)])
def test_a_kill_between_the_two_renames_is_rolled_back_by_the_next_command(
    exported: Cli, command: tuple[str, ...]
) -> None:
    tdir, stash = _half_swapped(exported, old=True, new=True)
    res = exported(*command)
    assert res.stderr.splitlines()[0] == (
        "recovered tenants/demo: an export was killed while replacing its files; "
        "restored the files from before it"
    )
    assert tdir.is_dir() and not (tdir / "groups" / "from-the-killed-export.yaml").exists()
    _assert_consistent(exported)


def test_only_the_finished_copy_left_is_put_in_place(exported: Cli) -> None:
    tdir, _ = _half_swapped(exported, old=False, new=True)
    res = exported("plan")
    assert "put its finished files in place" in res.stderr
    assert (tdir / "groups" / "from-the-killed-export.yaml").exists()


def test_leftovers_of_a_finished_or_unstarted_swap_are_removed_quietly(exported: Cli) -> None:
    _, stash = _half_swapped(exported, old=True, new=True, tenant_present=True)
    res = exported("export", "--commit")
    assert "recovered" not in res.stderr
    _assert_consistent(exported)


def _half_patched(cli: Cli, *, manifest: bool) -> tuple[Path, Path, Path]:
    """The state `write_tenant`'s journal leaves when killed: a group's new text staged (and, past the
    manifest, a policy file marked gone; one staged file moved into place already)."""
    tdir = cli.repo / "tenants" / "demo"
    stash = cli.repo / ".git" / "entragit-export"
    group, moved = sorted((tdir / "groups").glob("*.yaml"))[:2]
    gone = sorted((tdir / "conditionalAccessPolicies").glob("*.yaml"))[0]
    stage = stash / "patch-demo" / "groups"
    stage.mkdir(parents=True)
    (stage / group.name).write_text(group.read_text(encoding="utf-8") + "# from the killed export\n", encoding="utf-8")
    if manifest:
        moved.write_text(moved.read_text(encoding="utf-8") + "# moved before the kill\n", encoding="utf-8")
        rels = [f"groups/{group.name}", f"groups/{moved.name}"]
        (stash / "patch-demo.json").write_text(json.dumps(
            {"write": rels, "delete": [f"conditionalAccessPolicies/{gone.name}"]}), encoding="utf-8")
    return group, moved, gone


@pytest.mark.parametrize("command", [("plan",), ("export", "--commit"), ("validate",)])
def test_a_kill_past_the_journal_is_finished_by_the_next_command(exported: Cli, command: tuple[str, ...]) -> None:
    group, moved, gone = _half_patched(exported, manifest=True)
    res = exported(*command, code=None)
    assert res.stderr.splitlines()[0] == (
        "recovered tenants/demo: an export was killed while writing its files; finished writing them"
    )
    if command[0] != "export":  # the export then writes the tenant's own files back
        assert group.read_text(encoding="utf-8").endswith("# from the killed export\n")
        assert moved.read_text(encoding="utf-8").endswith("# moved before the kill\n")
        assert not gone.exists()
    assert not list((exported.repo / ".git").glob("entragit-export/*"))


def test_a_journal_killed_before_its_manifest_is_dropped_quietly(exported: Cli) -> None:
    group, _, _ = _half_patched(exported, manifest=False)
    before = group.read_bytes()
    res = exported("export", "--commit")
    assert "recovered" not in res.stderr and "no changes" in res.stdout
    assert group.read_bytes() == before, "the tenant's files were never touched"
    _assert_consistent(exported)


def test_a_live_writers_swap_is_left_to_it(exported: Cli) -> None:
    tdir, stash = _half_swapped(exported, old=True, new=True)
    with lock.hold(exported.repo, "export"):
        # The tenant is mid-swap; a reader does not take it from under the writer.
        exported("plan", code=1)
        assert (stash / "old-demo").is_dir() and not tdir.exists()
    assert "recovered tenants/demo" in exported("plan").stderr


def test_a_killed_holder_leaves_no_stale_lock(exported: Cli, sim: Any) -> None:
    sim.latency_ms = 300
    proc = _spawn(exported, "export", "--commit")
    _wait_holding(exported, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    sim.latency_ms = 0
    res = exported("export", "--commit", "--lock-timeout", "0")
    assert "no changes" in res.stdout
    _assert_consistent(exported)


def test_a_git_worktree_keeps_the_lock_and_swaps_in_its_own_git_directory(
    exported: Cli, sim: Any, tmp_path: Path
) -> None:
    git.Repo(exported.repo).git.worktree("add", "-q", str(tmp_path / "wt"), "-b", "other")
    wt = Cli(tmp_path / "wt")
    _add_group(sim, "Worktree Group")
    assert "1 added" in wt("export", "--commit").stdout
    assert git.Repo(tmp_path / "wt").git.status("--porcelain") == "", (
        "nothing of entragit's in the work tree"
    )
    assert (exported.repo / ".git" / "worktrees" / "wt" / "entragit.lock").exists()


# -- git's own index.lock --------------------------------------------------------------------------
def test_export_waits_for_a_git_process_holding_the_index_then_commits(exported: Cli, sim: Any) -> None:
    """A user's `git status`, or the `git commit` of an entragit run killed a moment ago, holds
    index.lock briefly: the export waits for it instead of failing."""
    import threading

    _add_group(sim, "Index Wait")
    index_lock = exported.repo / ".git" / "index.lock"
    index_lock.write_text("", encoding="utf-8")
    threading.Timer(1.0, index_lock.unlink).start()
    exported("export", "--commit")
    assert "Index Wait" in git.Repo(exported.repo).head.commit.message
    _assert_consistent(exported)


def test_a_stale_index_lock_fails_in_one_message_naming_it_and_the_rerun_commits(
    exported: Cli, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entragit import gitstore

    monkeypatch.setattr(gitstore, "INDEX_LOCK_WAIT", 0.3)
    _add_group(sim, "Stale Index")
    head = git.Repo(exported.repo).head.commit.hexsha
    index_lock = exported.repo / ".git" / "index.lock"
    index_lock.write_text("", encoding="utf-8")
    res = exported("export", "--commit", code=1)
    assert f"{index_lock} exists; the files are written but not committed" in res.output
    assert f"remove {index_lock} and run again" in res.output
    assert "Traceback" not in res.output
    assert git.Repo(exported.repo).head.commit.hexsha == head, "nothing committed"
    index_lock.unlink()
    exported("export", "--commit")
    message = git.Repo(exported.repo).head.commit.message
    assert "Stale Index" in message, "the commit names what changed since the last commit"
    assert "no changes" not in message
    _assert_consistent(exported)
