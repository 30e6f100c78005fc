"""Tooling enforces the style: the same ruff and mypy checks pre-commit runs, so CI fails on them too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("ruff") is None and not Path(sys.executable).with_name("ruff").exists(),
                    reason="ruff is not installed (pip install -e '.[test]')")
def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    r = _run(ruff, "check", "entragit", "entragit_sim", "tests", "tools", "bench")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean():
    pytest.importorskip("mypy")
    r = _run(sys.executable, "-m", "mypy", "entragit", "entragit_sim")
    assert r.returncode == 0, r.stdout + r.stderr


def test_help_starts_without_importing_graph_libraries():
    code = "import sys, entragit.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('msgraph', 'msgraph_core', 'azure', 'httpx', 'git', 'jsonschema', 'kiota_http')))"
    r = _run(sys.executable, "-c", code)
    assert r.stdout.strip() == "[]", r.stdout  # start-up time itself is measured in bench/RESULTS.md
