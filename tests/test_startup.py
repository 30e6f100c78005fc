"""`entragit --help` starts fast: the Graph client, git, schemas and the simulator are imported only
by the commands that use them (issue 13's budget is 0.3 s)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("msgraph", "msgraph_core", "kiota_http", "kiota_abstractions", "azure", "httpx", "jsonschema", "git",
         "entragit_sim", "ruamel", "yaml")


def _imported(*args: str) -> set[str]:
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "entragit", *args],
                       capture_output=True, text=True, check=True)
    assert "Usage:" in r.stdout
    return {line.split("|")[-1].strip().split(".")[0] for line in r.stderr.splitlines() if "|" in line}


def test_help_imports_none_of_the_heavy_packages():
    assert not _imported("--help") & set(HEAVY)


def test_sim_help_still_lists_its_commands():
    r = subprocess.run([sys.executable, "-m", "entragit", "sim", "--help"], capture_output=True, text=True, check=True)
    assert "serve" in r.stdout
