"""The committed export of the simulator's demo seed (tenants/demo) is the golden file of determinism."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from entragit.cli import main

PROJECT = Path(__file__).resolve().parents[1]
GOLDEN = PROJECT / "tenants" / "demo"


def _files(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): p.read_text(encoding="utf-8") for p in sorted(d.glob("*/*.yaml"))}


def test_fresh_export_of_the_demo_seed_is_byte_identical_to_the_golden_files(repo):
    repo("export")
    fresh = _files(repo.repo / "tenants" / "demo")
    golden = _files(GOLDEN)
    assert sorted(fresh) == sorted(golden)
    for rel in golden:
        assert fresh[rel] == golden[rel], f"{rel} differs from the golden export"


def test_golden_files_are_canonical_and_valid(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(PROJECT / "tenants", copy / "tenants")
    shutil.copytree(PROJECT / "schemas", copy / "schemas")
    r = CliRunner().invoke(main, ["fmt", "--check", "--repo", str(copy)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["validate", "--repo", str(copy)])
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1].startswith("ok")


def test_export_through_faults_and_throttling_still_matches_the_golden_files(tmp_path, sim_factory):
    from .conftest import make_repo

    sim = sim_factory("demo", throttle="ru=400/1", faults="500=0.04,503=0.04,504=0.02,reset=0.03,seed=11")
    cli = make_repo(tmp_path / "r", sim)
    out = cli("export").output
    assert _files(tmp_path / "r" / "tenants" / "demo") == _files(GOLDEN)
    assert " 0 retries" not in out, "the faults should have forced retries"
