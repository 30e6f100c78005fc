"""A tenant without Entra ID P2 / Governance licences: Graph answers the governance kinds with 403
AadPremiumLicenseRequired. Export skips each such kind with one line naming it and the licence (the
tenant does not fail, its files are kept), and plan neither deletes nor recreates what it could not read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from entragit import kinds
from tests.conftest import Cli, app_repo

GOV = ("accessReviewDefinitions", "accessPackageCatalogs", "accessPackages")


def _repo(tmp_path: Path, sim: Any, monkeypatch: Any) -> Cli:
    repo = app_repo(tmp_path / "config", sim, monkeypatch,
                    extra=("AccessReview.ReadWrite.All", "EntitlementManagement.ReadWrite.All"))
    path = Path(repo.repo) / "tenants" / "demo" / "tenant.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["kinds"] = [k.name for k in kinds.KINDS if k.default_on and not k.delegated_only] + list(GOV)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return repo


def _skipped(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith("skipped:")]


def test_a_tenant_seeded_without_the_licence_exports_the_rest(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True, unlicensed=True)
    repo = _repo(tmp_path, sim, monkeypatch)
    out = repo("export", "--commit").output
    lines = _skipped(out)
    assert sorted(ln.split(": ")[2] for ln in lines) == sorted(GOV)
    assert all("Entra ID P2 / Governance" in ln and "AadPremiumLicenseRequired" in ln for ln in lines)
    d = Path(repo.repo) / "tenants/demo"
    assert list((d / "groups").glob("*.yaml")) and not any((d / k).exists() for k in GOV)


def test_a_lapsed_licence_keeps_the_files_and_plans_nothing_for_them(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = _repo(tmp_path, sim, monkeypatch)
    repo("export", "--commit")
    d = Path(repo.repo) / "tenants/demo"
    before = {p: p.read_text() for k in GOV for p in (d / k).glob("*.yaml")}
    assert before
    sim.router.unlicensed = True
    assert len(_skipped(repo("export", "--commit").output)) == len(GOV)
    assert {p: p.read_text() for k in GOV for p in (d / k).glob("*.yaml")} == before
    plan = json.loads(repo("plan", "--prune", "--format", "json").output)
    assert not [o for o in plan["operations"] if o["kind"] in GOV]
    assert any("licence" in w for w in plan["warnings"])
