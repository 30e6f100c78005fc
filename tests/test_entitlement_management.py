"""Entitlement management catalogs and access packages (opt-in): exported with the catalog an access
package lives in named in `refs`, updated in place, and recreated after a delete with the package
remapped to its recreated catalog; the tenant's default catalog is never deleted. Signed in as the
app holding exactly the listed permissions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import httpx
import yaml

from tests.conftest import Cli, admin, app_repo, turn_on

EM = "/identityGovernance/entitlementManagement"
CATALOGS, PACKAGES, POLICIES = "accessPackageCatalogs", "accessPackages", "accessPackageAssignmentPolicies"
PACKAGE_FILE = f"tenants/demo/{PACKAGES}/finance-month-end-close.yaml"


def _repo(tmp_path: Path, sim: Any, monkeypatch: Any) -> Cli:
    repo = app_repo(tmp_path / "config", sim, monkeypatch, extra=("EntitlementManagement.ReadWrite.All",))
    turn_on(repo, CATALOGS, PACKAGES, POLICIES)
    return repo


def _ops(repo: Cli) -> list[tuple[str, str]]:
    return sorted((o["kind"], o["action"]) for o in json.loads(repo("plan", "--format", "json").output)["operations"]
                  if o["kind"] in (CATALOGS, PACKAGES, POLICIES, "groups"))


def _live(c: httpx.Client, coll: str) -> dict[str, dict[str, Any]]:
    params = {"$expand": {"accessPackages": "catalog", "assignmentPolicies": "accessPackage"}[coll]} \
        if coll in ("accessPackages", "assignmentPolicies") else None
    return {o["displayName"]: o for o in c.get(f"{EM}/{coll}", params=params).json()["value"]}


def test_catalog_and_package_round_trip_as_the_exact_permission_app(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = _repo(tmp_path, sim, monkeypatch)
    repo("export", "--commit")
    d = Path(repo.repo) / "tenants/demo"
    assert sorted(p.stem for p in (d / CATALOGS).glob("*.yaml")) == ["finance", "general"]
    package = yaml.safe_load((d / PACKAGES / "finance-month-end-close.yaml").read_text())
    with admin(sim) as c:
        finance = _live(c, "catalogs")["Finance"]["id"]
    assert package["catalog"] == {"id": finance}
    assert package["refs"][finance]["name"] == "Finance"
    assert not {"createdDateTime", "modifiedDateTime"} & set(package)

    # An edit in git is a PATCH of that one field.
    path = repo.repo / PACKAGE_FILE
    path.write_text(path.read_text().replace("isHidden: false", "isHidden: true"))
    git.Repo(repo.repo).git.commit("-am", "Hide the close-week package from the My Access portal")
    assert _ops(repo) == [(PACKAGES, "update")]
    repo("apply", "--yes")
    with admin(sim) as c:
        assert _live(c, "accessPackages")["Finance month-end close"]["isHidden"] is True

        # Deleted in the portal (package, then its catalog): both come back, the package in the new catalog.
        pid = _live(c, "accessPackages")["Finance month-end close"]["id"]
        assert c.delete(f"{EM}/catalogs/{finance}").status_code == 400, "a catalog holding packages stays"
        assert c.delete(f"{EM}/accessPackages/{pid}").status_code == 204
        assert c.delete(f"{EM}/catalogs/{finance}").status_code == 204
        assert _ops(repo) == [(CATALOGS, "create"), (PACKAGES, "create")]
        repo("apply", "--yes")
        new = _live(c, "catalogs")["Finance"]["id"]
        assert new != finance
        back = _live(c, "accessPackages")["Finance month-end close"]
        assert back["catalog"]["id"] == new and back["isHidden"] is True
    assert "No changes" in repo("plan").output


def test_the_default_catalog_is_never_deleted(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = _repo(tmp_path, sim, monkeypatch)
    repo("export", "--commit")
    (Path(repo.repo) / f"tenants/demo/{CATALOGS}/general.yaml").unlink()
    git.Repo(repo.repo).git.commit("-am", "No General catalog")
    plan = json.loads(repo("plan", "--prune", "--format", "json").output)
    assert not [o for o in plan["operations"] if o["kind"] == CATALOGS]
    assert [a["name"] for a in plan.get("left_alone", []) if a["kind"] == CATALOGS] == ["General"]


def test_assignment_policy_round_trip_and_recreated_group(tmp_path, sim_factory, monkeypatch) -> None:
    """A policy's subjectSets name a group and a user: edited by PUT of the whole policy, and after the
    group is hard-deleted, apply recreates it and the policy names its new id."""
    sim = sim_factory("demo", tls=True)
    repo = _repo(tmp_path, sim, monkeypatch)
    repo("export", "--commit")
    path = Path(repo.repo) / f"tenants/demo/{POLICIES}/finance-admins.yaml"
    policy = yaml.safe_load(path.read_text())
    with admin(sim) as c:
        group = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]["id"]
        package = _live(c, "accessPackages")["Finance month-end close"]["id"]
    [target] = policy["specificAllowedTargets"]
    assert target["groupId"] == group and policy["refs"][group]["kind"] == "groups"
    assert policy["accessPackage"] == {"id": package}
    approver = policy["requestApprovalSettings"]["stages"][0]["primaryApprovers"][0]["userId"]
    assert policy["refs"][approver]["kind"] == "users"

    path.write_text(path.read_text().replace("duration: P14D", "duration: P7D"))
    git.Repo(repo.repo).git.commit("-am", "Close-week access lasts a week")
    assert _ops(repo) == [(POLICIES, "update")]
    repo("apply", "--yes")
    with admin(sim) as c:
        live = _live(c, "assignmentPolicies")["Finance admins"]
        assert live["expiration"]["duration"] == "P7D"
        assert live["requestApprovalSettings"]["stages"][0]["primaryApprovers"][0]["userId"] == approver
    assert "No changes" in repo("plan").output

    with admin(sim) as c:  # hard-deleted: gone from the recycle bin too
        assert c.delete(f"/groups/{group}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{group}").status_code == 204
        assert (POLICIES, "update") in _ops(repo) and ("groups", "create") in _ops(repo)
        repo("apply", "--yes")
        new = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]["id"]
        assert new != group
        assert _live(c, "assignmentPolicies")["Finance admins"]["specificAllowedTargets"][0]["groupId"] == new
    assert "No changes" in repo("plan").output


def test_permissions_table_lists_the_kinds(repo) -> None:
    out = repo("permissions", "--table").output
    for kind in (CATALOGS, PACKAGES, POLICIES):
        [line] = [ln for ln in out.splitlines() if ln.startswith(f"{kind} ")]
        assert "EntitlementManagement.Read.All" in line and "EntitlementManagement.ReadWrite.All" in line
