"""A tenant.yaml enabling both roleAssignments and roleAssignmentSchedules (the same active assignments
under two views) gets one warning naming tenant.yaml and both kinds from validate, plan and export."""

from __future__ import annotations

from tests.conftest import app_repo, turn_on

PAIR = ("roleAssignments", "roleAssignmentSchedules")


def _warnings(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if "roleAssignmentSchedules" in ln and "roleAssignments" in ln
            and "tenant.yaml" in ln]


def test_both_role_assignment_views_warn_once(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    turn_on(repo, "roleAssignmentSchedules")
    for args in (("export", "--commit"), ("plan",), ("validate",)):
        [line] = _warnings(repo(*args).output)
        assert "demo/tenant.yaml" in line and "written twice" in line, args


def test_one_view_does_not_warn(repo) -> None:
    assert _warnings(repo("export", "--commit").output) == []
    assert _warnings(repo("validate").output) == []
    assert _warnings(repo("plan").output) == []
