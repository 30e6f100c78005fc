"""An MSP's fleet exported by worker processes (`export --all --workers N`): every tenant signed in as
its own exact-permission app over TLS, files and commits as one process makes them, one tenant's
failure (or its worker's death) reported without holding back the others."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import git

from entragit import workers
from entragit.config import Tenant
from tests.conftest import Cli, admin, exact_app, make_repo

OTHER_TENANT = "00000000-0000-4000-8000-0000000000ff"  # no such tenant: its sign-in fails


def _fleet(path: Path, sims: list[Any], monkeypatch: Any) -> Cli:
    """A repo of one tenant per simulator, each signed in as its own app with exactly the listed
    permissions, its secret in its own variable."""
    cli: Cli | None = None
    for i, sim in enumerate(sims, 1):
        app_id, secret = exact_app(sim)
        monkeypatch.setenv(f"SECRET_T{i}", secret)
        args = ("--auth", "secret", "--client-id", app_id, "--secret-env", f"SECRET_T{i}",
                "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
        if cli is None:
            cli = make_repo(path, sim, f"t{i}", *args)
        else:
            cli("tenant", "add", f"t{i}", "--tenant-id", sim.tenant_id,
                "--graph-url", sim.graph_url.rsplit("/v1.0", 1)[0], *args)
    assert cli is not None
    return cli


def _tree(root: Path) -> dict[str, str]:
    """path -> blob id of every file HEAD holds under tenants/."""
    return {e.path: e.hexsha for e in git.Repo(root).head.commit.tree.traverse()
            if e.type == "blob" and e.path.startswith("tenants/")}


def _commits(root: Path, name: str) -> int:
    return len(list(git.Repo(root).iter_commits(paths=f"tenants/{name}"))) - 1  # less `tenant add`


def _token_posts(sim: Any) -> int:
    return sum(1 for r in sim.requests if r.path.endswith("/oauth2/v2.0/token"))


def test_two_workers_export_a_fleet_as_one_process_does(tmp_path, sim_factory, monkeypatch):
    sims = [sim_factory("demo", tls=True) for _ in range(4)]
    fleet = _fleet(tmp_path / "fleet", sims, monkeypatch)
    out = fleet("export", "--all", "--commit", "--workers", "2", "--parallel-tenants", "1").output
    assert "4 tenants, 2 worker processes" in out, out
    assert "FAILED" not in out and out.count("-> commit") == 4, out
    assert all(_commits(fleet.repo, f"t{i}") == 1 for i in range(1, 5))
    assert [_token_posts(s) for s in sims] == [1] * 4  # each tenant signed in once, in the worker that read it

    one = Cli(tmp_path / "one")  # the same repo before the exports, exported in this process
    git.Repo.clone_from(fleet.repo, one.repo).git.reset("--hard", "HEAD~4")
    out1 = one("export", "--all", "--commit", "--workers", "1").output
    assert "worker processes" not in out1 and out1.count("-> commit") == 4, out1
    assert _tree(one.repo) == _tree(fleet.repo)

    # The next night one tenant changed: only its files move, the other three are read by delta and left alone.
    with admin(sims[2]) as c:
        c.post("/groups", json={"displayName": "Night shift", "mailNickname": "night-shift", "mailEnabled": False,
                                "securityEnabled": True}).raise_for_status()
    out = fleet("export", "--all", "--commit", "--workers", "2").output
    assert out.count("-> commit") == 1 and "t3: 1 added" in out, out
    assert out.count("no changes") == 3 and out.count("(incremental read)") == 4, out
    assert not git.Repo(fleet.repo).is_dirty(untracked_files=True)


def test_a_failed_tenant_in_a_worker_does_not_hold_back_the_others(tmp_path, sim_factory, monkeypatch):
    sims = [sim_factory("demo", tls=True) for _ in range(3)]
    fleet = _fleet(tmp_path / "fleet", sims, monkeypatch)
    tyaml = fleet.repo / "tenants" / "t2" / "tenant.yaml"
    tyaml.write_text(tyaml.read_text().replace(sims[1].tenant_id, OTHER_TENANT))
    git.Repo(fleet.repo).git.commit("-qam", "t2 points at another tenant")
    res = fleet("export", "--all", "--commit", "--workers", "2", code=1)
    assert "FAILED t2: tenant t2: sign-in (secret) failed" in res.output and "AADSTS90002" in res.output, res.output
    assert res.output.count("-> commit") == 2
    assert _commits(fleet.repo, "t1") == _commits(fleet.repo, "t3") == 1
    assert sorted(p.name for p in (fleet.repo / "tenants" / "t2").iterdir()) == ["tenant.yaml"]


def test_a_worker_killed_mid_read_fails_its_tenant_and_the_next_run_exports_it(tmp_path, sim_factory, monkeypatch):
    sims = [sim_factory("demo", tls=True) for _ in range(3)]
    fleet = _fleet(tmp_path / "fleet", sims, monkeypatch)
    sims[0].latency_ms = 1500  # t1 takes one worker for most of a minute; the other worker does t2 and t3
    killed: list[int] = []

    def kill_the_one_still_reading() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            alive = multiprocessing.active_children()
            if _commits(fleet.repo, "t2") == _commits(fleet.repo, "t3") == 1 and len(alive) == 1:
                os.kill(alive[0].pid, signal.SIGKILL)
                killed.append(alive[0].pid)
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_the_one_still_reading)
    killer.start()
    res = fleet("export", "--all", "--commit", "--workers", "2", "--parallel-tenants", "1", code=1)
    killer.join()
    assert killed, res.output
    assert "FAILED t1: its worker process ended before the export finished (exit code -9)" in res.output, res.output
    assert res.output.count("-> commit") == 2
    assert sorted(p.name for p in (fleet.repo / "tenants" / "t1").iterdir()) == ["tenant.yaml"]
    assert not git.Repo(fleet.repo).is_dirty(untracked_files=True)

    sims[0].latency_ms = 0
    out = fleet("export", "--all", "--commit", "--workers", "2").output
    assert "t1: " in out and out.count("-> commit") == 1, out
    assert _commits(fleet.repo, "t1") == 1


def _tenant(name: str, method: str = "secret") -> Tenant:
    return Tenant(name, Path(name), "00000000-0000-4000-8000-000000000001", "https://graph.microsoft.com",
                  auth={"method": method})


def test_the_default_is_one_worker_per_core_and_per_four_tenants(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    fleet = [_tenant(f"t{i}") for i in range(40)]
    assert workers.count(None, fleet) == 8
    assert workers.count(None, fleet[:10]) == 2
    assert workers.count(None, fleet[:3]) == 1  # a worker's start would cost more than it saves
    assert workers.count(3, fleet) == 3 and workers.count(5, fleet[:2]) == 2
    # A sign-in that prompts would prompt once per worker: one process unless asked.
    assert workers.count(None, [*fleet, _tenant("d", "device-code")]) == 1
    assert workers.count(2, [*fleet, _tenant("d", "device-code")]) == 2
