"""Native backup snapshots (Microsoft Entra Backup and Recovery) through the real CLI: `native
snapshots` and the snapshot trailer of export commits, against the demo simulator nine simulated
days on, signed in as an app holding exactly the listed permissions."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from entragit import gitstore
from tests.conftest import Cli, app_repo
from tests.test_formats import _valid

ADMIN = {"Authorization": "Bearer sim-admin"}


def _verify(sim: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=sim.ca_bundle)
TRAILER = "Entragit-Native-Snapshot"


@pytest.fixture
def week_on(sim_factory: Any) -> Any:
    """The demo tenant after nine simulated days, the last snapshot taken within the past day."""
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=9)
    sim = sim_factory("demo", tls=True, now=start.isoformat())
    origin = sim.graph_url.rsplit("/v1.0", 1)[0]
    r = httpx.post(f"{origin}/_sim/clock/advance", json={"days": 9}, headers=ADMIN, verify=_verify(sim))
    assert r.status_code == 200, r.text
    assert len(r.json()["taken"]) == 9
    return sim


def listed(sim: Any) -> list[dict[str, Any]]:
    r = httpx.get(f"{sim.graph_url}/directory/recovery/snapshots", headers=ADMIN, verify=_verify(sim))
    assert r.status_code == 200, r.text
    return list(r.json()["value"])


def test_native_snapshots_lists_the_seven_kept_newest_first(tmp_path: Path, week_on: Any, monkeypatch: Any) -> None:
    repo = app_repo(tmp_path / "config", week_on, monkeypatch, extra=("EntraBackup.Read.All",))
    doc = json.loads(repo("native", "snapshots", "--format", "json").output)
    _valid("native-snapshots", doc)
    [tenant] = doc["tenants"]
    snaps = tenant["snapshots"]
    assert tenant["tenant"] == "demo" and len(snaps) == 7
    taken = [s["takenAt"] for s in snaps]
    assert taken == sorted(taken, reverse=True) and len(set(taken)) == 7
    assert [s["id"] for s in snaps] == [s["id"] for s in listed(week_on)]
    assert [s["state"] for s in snaps] == ["latest", *["retained"] * 5, "expiring"]
    text = repo("native", "snapshots").output.splitlines()
    assert len(text) == 7
    assert text[0].split() == [snaps[0]["id"], *snaps[0]["takenAt"].replace("T", " ").split(), "latest"]


def test_export_commit_names_the_newest_snapshot(tmp_path: Path, week_on: Any, monkeypatch: Any) -> None:
    repo = app_repo(tmp_path / "config", week_on, monkeypatch, extra=("EntraBackup.Read.All",))
    out = repo("export", "--commit").output
    assert "warning" not in out
    newest = listed(week_on)[0]["id"]
    assert gitstore.last_trailer(repo.repo, "tenants/demo", TRAILER) == newest


def test_without_the_permission_one_error_and_an_export_without_the_trailer(
        tmp_path: Path, week_on: Any, monkeypatch: Any) -> None:
    repo: Cli = app_repo(tmp_path / "config", week_on, monkeypatch)
    res = repo("native", "snapshots", code=1)
    errors = [line for line in res.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "native backup" in errors[0], res.output
    assert "EntraBackup.Read.All" in res.output
    out = repo("export", "--commit").output
    assert "warning" not in out and "commit" in out
    body = gitstore.last_trailer(repo.repo, "tenants/demo", "Entragit-Tenant")
    assert body is not None  # the export did commit
    assert gitstore.last_trailer(repo.repo, "tenants/demo", TRAILER) is None
