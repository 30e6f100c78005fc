"""`entragit sim serve`: one JSON line on start, serves until stopped, saves state on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
from click.testing import CliRunner

from entragit.cli import main
from tests.sim.conftest import ADMIN


def test_help_teaches_grammars() -> None:
    out = CliRunner().invoke(main, ["sim", "serve", "--help"]).output
    for needle in (
        "sim-admin",
        "ru=RU/SECONDS",
        "ca=N/SECONDS",
        "reset=P",
        "lost=P",
        "lostreset=P",
        "lag=MS",
        "X-Sim-Actor",
        "curl",
    ):
        assert needle in out


def test_serve_prints_one_json_line_and_saves_state(tmp_path) -> None:
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from entragit.cli import main; main()",
            "sim",
            "serve",
            "--seed",
            "empty",
            "--port",
            "0",
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        assert set(info) == {"graph_url", "token_url", "tenant_id", "ca_bundle"}
        orgs = httpx.get(f"{info['graph_url']}/organization", headers=ADMIN).json()["value"]
        assert orgs[0]["id"] == info["tenant_id"]
        httpx.post(
            f"{info['graph_url']}/groups",
            headers=ADMIN,
            json={
                "displayName": "Saved",
                "mailEnabled": False,
                "mailNickname": "saved",
                "securityEnabled": True,
            },
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    saved = json.loads(state.read_text())
    assert any(g["displayName"] == "Saved" for g in saved["objects"]["groups"].values())


def test_bad_seed_is_one_clear_line() -> None:
    result = CliRunner().invoke(main, ["sim", "serve", "--seed", "nope"])
    assert result.exit_code != 0 and "unknown seed" in result.output
