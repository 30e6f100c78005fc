"""The lock-out guard over the whole desired state: each known bypass is refused by validate, plan and apply."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import Cli, app_repo

BG1, BG2 = "bg-admin-01@contosodemo.onmicrosoft.com", "bg-admin-02@contosodemo.onmicrosoft.com"
BG_GROUP = "b495a2dd-d4ed-521f-ba65-d84bba718786"  # CA-BreakGlassAccounts - Exclude
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
TOMAS = "51a9662f-1802-5e86-97f9-93e639f8b7ce"  # an ordinary user of the demo seed
TOMAS_REF = {"kind": "users", "name": "Tomas Ortega", "userPrincipalName": "tomas.ortega@contosodemo.onmicrosoft.com"}


@pytest.fixture
def sim(tls_sim: Any) -> Any:
    """Signed in as users sign in: over TLS, as the app holding exactly the listed permissions."""
    return tls_sim


@pytest.fixture
def bg_repo(tmp_path: Path, sim: Any, monkeypatch: Any) -> Cli:
    cli = app_repo(tmp_path / "r", sim, monkeypatch, options=("--break-glass", BG1, "--break-glass", BG2))
    cli("export", "--commit")
    return cli


@pytest.fixture
def plain_repo(tmp_path: Path, sim: Any, monkeypatch: Any) -> Cli:
    """The demo tenant with no break-glass account in tenant.yaml."""
    cli = app_repo(tmp_path / "r", sim, monkeypatch)
    cli("export", "--commit")
    return cli


def edit(cli: Cli, pattern: str, change: Callable[[dict[str, Any]], None]) -> str:
    """Change the one file matching tenants/demo/<pattern>; returns its repo-relative path."""
    [f] = (cli.repo / "tenants" / "demo").glob(pattern)
    doc = yaml.safe_load(f.read_text())
    change(doc)
    f.write_text(yaml.safe_dump(doc, sort_keys=False))
    return f.relative_to(cli.repo).as_posix()


def users(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["conditions"]["users"]  # type: ignore[no-any-return]


def writes(sim: Any, since: int) -> list[Any]:
    return [r for r in sim.requests[since:]
            if r.method != "GET" and "/$batch" not in r.path and "/oauth2/" not in r.path]


def refused(cli: Cli, sim: Any, path: str, name: str, why: str, validate: tuple[str, ...] = ()) -> None:
    """validate fails naming path:line; plan warns and apply refuses, naming the object and why; nothing written."""
    out = cli("validate", *validate, code=1).output
    assert re.search(rf"{re.escape(path)}:\d+: error: .*{re.escape(why)}.*\[ca-lockout\]", out), out
    plan = cli("plan", "--ref", "WORKTREE").output
    assert re.search(rf"LOCKOUT RISK: .*{re.escape(name)}.*{re.escape(why)}", plan), plan
    since = len(sim.requests)
    res = cli("apply", "--ref", "WORKTREE", "--yes", code=1)
    assert name in res.output and why in res.output and "--force-lockout-risk" in res.output
    assert writes(sim, since) == []


def test_blocking_policy_including_a_role_the_break_glass_accounts_hold(bg_repo: Cli, sim: Any) -> None:
    def new_policy(doc: dict[str, Any]) -> None:
        doc.update(id="0d1e7c55-7a39-4a6e-9a43-8f1b3c2d4e5f", displayName="Block admins everywhere",
                   state="enabled")
        users(doc).update(includeRoles=[GLOBAL_ADMIN], excludeUsers=[], excludeGroups=[])

    src = next((bg_repo.repo / "tenants" / "demo" / "conditionalAccessPolicies").glob("ca104-*.yaml"))
    copy = src.with_name("block-admins-everywhere.yaml")
    copy.write_text(src.read_text())
    path = edit(bg_repo, f"conditionalAccessPolicies/{copy.name}", new_policy)
    refused(bg_repo, sim, path, "Block admins everywhere", f"break-glass account {BG1}: the policy blocks a role it holds")


def test_dropping_the_break_glass_exclusions_from_an_mfa_policy(bg_repo: Cli, sim: Any) -> None:
    def drop(doc: dict[str, Any]) -> None:
        assert doc["state"] == "enabled" and doc["grantControls"]["builtInControls"] == ["mfa"]
        users(doc).update(excludeUsers=[], excludeGroups=[])

    path = edit(bg_repo, "conditionalAccessPolicies/ca100-*.yaml", drop)
    refused(bg_repo, sim, path, "CA100-", f"break-glass account {BG2}: the policy requires grant controls for a role")


def test_nesting_the_break_glass_group_inside_another_group(bg_repo: Cli, sim: Any) -> None:
    # Not Finance Admins: it sits in a restricted unit, so this app cannot write its members at all
    # and plan leaves the edit alone instead of weighing it.
    path = edit(bg_repo, "groups/it-operations.yaml", lambda doc: doc["members"].append(BG_GROUP))
    refused(bg_repo, sim, path, "IT Operations", "holds the break-glass group 'CA-BreakGlassAccounts - Exclude'")


def test_a_policy_reaching_break_glass_through_a_nested_group(bg_repo: Cli, sim: Any) -> None:
    """The nesting, plus a policy that includes the outer group and no longer excludes the break-glass group."""
    edit(bg_repo, "groups/finance-admins.yaml", lambda doc: doc["members"].append(BG_GROUP))

    def scoped(doc: dict[str, Any]) -> None:
        doc["state"] = "enabled"  # blocks Finance Admins (and admin roles) outside trusted locations
        users(doc).update(includeRoles=[], excludeUsers=[], excludeGroups=[])

    path = edit(bg_repo, "conditionalAccessPolicies/ca104-*.yaml", scoped)
    refused(bg_repo, sim, path, "CA104-", f"break-glass account {BG1}: the policy blocks a group it is a member of")


def test_emptying_the_break_glass_group(bg_repo: Cli, sim: Any) -> None:
    group = edit(bg_repo, "groups/ca-breakglassaccounts-exclude.yaml", lambda doc: doc.update(members=[]))
    [ca000] = (bg_repo.repo / "tenants" / "demo" / "conditionalAccessPolicies").glob("ca000-*.yaml")
    # Only the group file changed, as pre-commit would pass it: the policies it unprotects still show.
    refused(bg_repo, sim, ca000.relative_to(bg_repo.repo).as_posix(), "CA000-",
            f"break-glass account {BG1}: the policy requires grant controls for All users", validate=(group,))
    plan = bg_repo("plan", "--ref", "WORKTREE").output
    assert f"group 'CA-BreakGlassAccounts - Exclude' ({group}) no longer holds {BG1}, {BG2}" in plan


def _block_all(exclude_users: list[str]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        users(doc).update(includeUsers=["All"], excludeUsers=exclude_users, excludeGroups=[], excludeRoles=[])
        doc["grantControls"] = {"builtInControls": ["block"], "operator": "OR"}
        doc["refs"][TOMAS] = TOMAS_REF

    return change


def test_no_break_glass_configured_and_block_all_users_with_one_exclusion(plain_repo: Cli, sim: Any) -> None:
    path = edit(plain_repo, "conditionalAccessPolicies/ca000-*.yaml", _block_all([TOMAS]))
    refused(plain_repo, sim, path, "CA000-", "would block every account holding Global Administrator (2)")


def test_an_exclusion_of_guests_only_excludes_no_administrator(plain_repo: Cli, sim: Any) -> None:
    path = edit(plain_repo, "conditionalAccessPolicies/ca000-*.yaml", _block_all(["GuestsOrExternalUsers"]))
    refused(plain_repo, sim, path, "CA000-", "would block every account holding Global Administrator (2)")


def _applies(cli: Cli, sim: Any, policy: str) -> None:
    assert cli("validate").output.strip().endswith(("ok", "warning(s))"))
    plan = cli("plan", "--ref", "WORKTREE").output
    assert "LOCKOUT RISK" not in plan and "Plan: 1 to update." in plan and policy in plan, plan
    since = len(sim.requests)
    assert "Applied 1/1" in cli("apply", "--ref", "WORKTREE", "--yes").output
    assert [r.method for r in writes(sim, since) if "conditionalAccess/policies" in r.path] == ["PATCH"]


def test_a_normal_policy_edit_still_applies(bg_repo: Cli, sim: Any) -> None:
    def tighten(doc: dict[str, Any]) -> None:
        users(doc)["excludeUsers"] = [TOMAS]  # still excludes the break-glass group
        doc["refs"][TOMAS] = TOMAS_REF

    edit(bg_repo, "conditionalAccessPolicies/ca000-*.yaml", tighten)
    _applies(bg_repo, sim, "CA000-")


def test_a_report_only_policy_locks_nobody_out(bg_repo: Cli, sim: Any) -> None:
    def report_only(doc: dict[str, Any]) -> None:
        doc["state"] = "enabledForReportingButNotEnforced"
        users(doc).update(excludeUsers=[], excludeGroups=[])

    edit(bg_repo, "conditionalAccessPolicies/ca100-*.yaml", report_only)
    _applies(bg_repo, sim, "CA100-")


def test_review_notes_name_a_lockout_that_comes_from_a_group_edit(bg_repo: Cli, sim: Any) -> None:
    """`diff` (a PR, a nightly export) carries the same guard's findings as risk notes."""
    import git

    edit(bg_repo, "groups/ca-breakglassaccounts-exclude.yaml", lambda doc: doc.update(members=[]))
    git.Repo(bg_repo.repo).git.commit("-qam", "empty the break-glass group")
    out = bg_repo("diff", "HEAD~1", "HEAD").output
    assert (f"! [ca-lockout] group 'CA-BreakGlassAccounts - Exclude': no longer holds {BG1}, {BG2}") in out
    assert re.search(rf"! \[ca-lockout\] conditional access policy 'CA000-[^']*': would lock out break-glass "
                     rf"account {re.escape(BG1)}: the policy requires grant controls for All users", out), out
