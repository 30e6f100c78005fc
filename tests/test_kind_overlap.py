"""A tenant.yaml enabling both roleAssignments and roleAssignmentSchedules (the same active assignments
under two views) gets one warning naming tenant.yaml and both kinds from validate, plan and export."""

from __future__ import annotations

from pathlib import Path

import yaml

from entragit import kinds
from tests.conftest import app_repo

PAIR = ("roleAssignments", "roleAssignmentSchedules")


def _warnings(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if "roleAssignmentSchedules" in ln and "roleAssignments" in ln
            and "tenant.yaml" in ln]


def test_both_role_assignment_views_warn_once(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    path = Path(repo.repo) / "tenants" / "demo" / "tenant.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["kinds"] = [k.name for k in kinds.KINDS if k.default_on and not k.delegated_only] + ["roleAssignmentSchedules"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    for args in (("export", "--commit"), ("plan",), ("validate",)):
        [line] = _warnings(repo(*args).output)
        assert "demo/tenant.yaml" in line and "written twice" in line, args


def test_one_view_does_not_warn(repo) -> None:
    assert _warnings(repo("export", "--commit").output) == []
    assert _warnings(repo("validate").output) == []
    assert _warnings(repo("plan").output) == []
