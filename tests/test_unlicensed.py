"""A tenant without Entra ID P2 / Governance licences: Graph answers entitlement management and access
reviews with 403 NoLicense and PIM schedules with AadPremiumLicenseRequired (as reported, entragit_sim.table.
Licence). Export skips each such kind with one line naming it and the licence (the tenant does not fail, its
files are kept), and plan neither deletes nor recreates what it could not read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from entragit.errors import GraphError
from entragit.snapshot import licence_refusal
from tests.conftest import Cli, app_repo, turn_on

GOV = ("accessReviewDefinitions", "accessPackageCatalogs", "accessPackages")
PIM = ("roleEligibilitySchedules",)  # on by default; Graph refuses its PIM schedules too


def _repo(tmp_path: Path, sim: Any, monkeypatch: Any) -> Cli:
    repo = app_repo(tmp_path / "config", sim, monkeypatch,
                    extra=("AccessReview.ReadWrite.All", "EntitlementManagement.ReadWrite.All"))
    turn_on(repo, *GOV)
    return repo


def _skipped(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith("skipped:")]


def test_a_tenant_seeded_without_the_licence_exports_the_rest(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True, unlicensed=True)
    repo = _repo(tmp_path, sim, monkeypatch)
    out = repo("export", "--commit").output
    lines = {ln.split(": ")[2]: ln for ln in _skipped(out)}
    assert sorted(lines) == sorted(GOV + PIM)
    assert all("Entra ID P2 / Governance" in lines[k] and "403 NoLicense" in lines[k] for k in GOV)
    assert all("Entra ID P2 / Governance" in lines[k] and "AadPremiumLicenseRequired" in lines[k] for k in PIM)
    d = Path(repo.repo) / "tenants/demo"
    assert list((d / "groups").glob("*.yaml")) and not any((d / k).exists() for k in GOV + PIM)
    # Role assignments need no licence: only their PIM activations could not be read, and there are none.
    assert list((d / "roleAssignments").glob("*.yaml"))


def test_a_lapsed_licence_keeps_the_files_and_plans_nothing_for_them(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = _repo(tmp_path, sim, monkeypatch)
    repo("export", "--commit")
    d = Path(repo.repo) / "tenants/demo"
    before = {p: p.read_text() for k in GOV for p in (d / k).glob("*.yaml")}
    pim = {p: p.read_text() for k in PIM for p in (d / k).glob("*.yaml")}
    assert before and pim
    sim.router.unlicensed = True
    assert len(_skipped(repo("export", "--commit").output)) == len(GOV + PIM)
    assert {p: p.read_text() for k in GOV for p in (d / k).glob("*.yaml")} == before
    assert {p: p.read_text() for k in PIM for p in (d / k).glob("*.yaml")} == pim
    plan = json.loads(repo("plan", "--prune", "--format", "json").output)
    assert not [o for o in plan["operations"] if o["kind"] in GOV + PIM]
    assert any("licence" in w for w in plan["warnings"])


def test_a_licence_refusal_is_known_by_its_code_or_else_by_its_message() -> None:
    assert licence_refusal(GraphError(403, "NoLicense", "anything"))
    assert licence_refusal(GraphError(400, "AadPremiumLicenseRequired", "anything"))
    assert licence_refusal(GraphError(403, "Forbidden", "The tenant needs an AAD Premium 2 license."))
    assert licence_refusal(GraphError(403, "", "User is not authorized to perform the operation. Reason: Tenant does "
                                          "not meet license requirement!"))
    assert not licence_refusal(GraphError(403, "Authorization_RequestDenied", "Insufficient privileges."))
    assert not licence_refusal(GraphError(404, "NoLicense", "not a refusal"))
