"""Catalog resources and access package resource role scopes (opt-in): the groups a catalog holds and the
group roles an access package grants, exported with the group named in `refs`, added by a commit through
resource requests and POSTs, and re-added under the new id after the group is hard-deleted. Signed in as
the app holding exactly the listed permissions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import httpx
import pytest
import yaml

from tests.conftest import Cli, admin, app_repo, turn_on

EM = "/identityGovernance/entitlementManagement"
CATALOGS, PACKAGES = "accessPackageCatalogs", "accessPackages"
RESOURCES, SCOPES = "accessPackageCatalogResources", "accessPackageResourceRoleScopes"
OURS = (RESOURCES, SCOPES)


@dataclass
class Scene:
    """The demo tenant exported by the exact-permission app with these kinds on, after Finance Admins was
    put in the Finance catalog and its member role granted by the month-end close package."""

    sim: Any
    repo: Cli
    catalog: str
    package: str
    group: str


@pytest.fixture
def exported(tmp_path: Path, sim_factory: Any, monkeypatch: Any) -> Scene:
    sim = sim_factory("demo", tls=True)
    with admin(sim) as c:
        catalog = _one(c, f"{EM}/catalogs", "Finance")
        package = _one(c, f"{EM}/accessPackages", "Finance month-end close")
        group = _group(c, "Finance Admins")
        _grant_group(c, catalog, package, group)
    repo = app_repo(tmp_path / "config", sim, monkeypatch, extra=("EntitlementManagement.ReadWrite.All",))
    turn_on(repo, CATALOGS, PACKAGES, RESOURCES, SCOPES)
    repo("export", "--commit")
    return Scene(sim, repo, catalog, package, group)


def _one(c: httpx.Client, path: str, name: str) -> str:
    return str(next(o["id"] for o in c.get(path).json()["value"] if o["displayName"] == name))


def _group(c: httpx.Client, name: str) -> str:
    return str(c.get("/groups", params={"$filter": f"displayName eq '{name}'"}).json()["value"][0]["id"])


def _grant_group(c: httpx.Client, catalog: str, package: str, group: str) -> None:
    """What an admin does in the portal: add the group to the catalog, then its Member role to the package."""
    r = c.post(f"{EM}/resourceRequests", json={"requestType": "adminAdd", "catalog": {"id": catalog},
                                               "resource": {"originId": group, "originSystem": "AadGroup"}})
    assert r.status_code == 201, r.text
    res = next(x for x in c.get(f"{EM}/catalogs/{catalog}/resources").json()["value"] if x["originId"] == group)
    r = c.post(f"{EM}/accessPackages/{package}/resourceRoleScopes", json={
        "role": {"originId": f"Member_{group}", "originSystem": "AadGroup", "resource": {"id": res["id"]}},
        "scope": {"originId": group, "originSystem": "AadGroup"}})
    assert r.status_code == 201, r.text


def _granted(c: httpx.Client, package: str) -> list[tuple[str, str]]:
    """(role originId, its resource's originId) of every role the package grants."""
    items = c.get(f"{EM}/accessPackages/{package}/resourceRoleScopes",
                  params={"$expand": "role($expand=resource),scope"}).json()["value"]
    return sorted((s["role"]["originId"], s["role"]["resource"]["originId"]) for s in items)


def _origins(c: httpx.Client, catalog: str) -> list[str]:
    return sorted(r["originId"] for r in c.get(f"{EM}/catalogs/{catalog}/resources").json()["value"])


def _ops(repo: Cli, *only: str) -> list[tuple[str, str]]:
    plan = json.loads(repo("plan", "--format", "json", *only).output)
    return sorted((o["kind"], o["action"]) for o in plan["operations"] if o["kind"] in (*OURS, "groups"))


def test_export_round_trip_as_the_exact_permission_app(exported: Scene) -> None:
    catalog, package, group, repo = exported.catalog, exported.package, exported.group, exported.repo
    d = Path(repo.repo) / "tenants/demo"
    [res_file] = (d / RESOURCES).glob("*.yaml")
    res = yaml.safe_load(res_file.read_text())
    assert res_file.stem == "finance-admins"
    assert {k: res[k] for k in ("catalogId", "originId", "originSystem")} == {
        "catalogId": catalog, "originId": group, "originSystem": "AadGroup"}
    assert res["refs"][group]["kind"] == "groups" and res["refs"][group]["name"] == "Finance Admins"
    assert not {"displayName", "createdDateTime", "modifiedDateTime", "attributes"} & set(res)
    [scope_file] = (d / SCOPES).glob("*.yaml")
    scope = yaml.safe_load(scope_file.read_text())
    assert scope["accessPackageId"] == package
    assert scope["role"] == {"originId": f"Member_{group}", "originSystem": "AadGroup", "resource": {"id": res["id"]}}
    assert scope["scope"] == {"isRootScope": True, "originId": group, "originSystem": "AadGroup"}
    assert scope["refs"][res["id"]]["kind"] == RESOURCES and scope["refs"][group]["name"] == "Finance Admins"
    head = git.Repo(repo.repo).head.commit.hexsha
    repo("export", "--commit")
    assert git.Repo(repo.repo).head.commit.hexsha == head, "an unchanged tenant makes no commit"
    assert "No changes" in repo("plan").output


def test_a_commit_adds_a_group_to_the_catalog_and_its_role_to_the_package(exported: Scene) -> None:
    sim, repo, catalog, package = exported.sim, exported.repo, exported.catalog, exported.package
    with admin(sim) as c:
        team = _group(c, "Finance Team")
    d = Path(repo.repo) / "tenants/demo"
    (d / RESOURCES / "finance-team.yaml").write_text(yaml.safe_dump(
        {"catalogId": catalog, "originId": team, "originSystem": "AadGroup"}))
    (d / SCOPES / "finance-team-member.yaml").write_text(yaml.safe_dump({
        "accessPackageId": package,
        "role": {"originId": f"Member_{team}", "originSystem": "AadGroup",
                 "resource": {"id": f"new:{RESOURCES}/finance-team"}},
        "scope": {"isRootScope": True, "originId": team, "originSystem": "AadGroup"}}))
    git.Repo(repo.repo).git.add(A=True)
    git.Repo(repo.repo).git.commit("-m", "Finance Team members may request the close-week package")
    assert _ops(repo) == [(RESOURCES, "create"), (SCOPES, "create")]
    repo("apply", "--yes")
    with admin(sim) as c:
        assert team in _origins(c, catalog)
        assert (f"Member_{team}", team) in _granted(c, package)
    assert "No changes" in repo("plan").output


def test_a_hard_deleted_group_is_re_added_to_the_catalog_and_the_package(exported: Scene) -> None:
    sim, repo, catalog, package, group = (exported.sim, exported.repo, exported.catalog, exported.package,
                                          exported.group)
    with admin(sim) as c:
        assert c.delete(f"/groups/{group}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{group}").status_code == 204
    # The disaster flow: only the group is selected; what names it in the catalog and the package comes along.
    only = ("--only", "groups/finance-admins")
    assert [op for op in _ops(repo, *only) if op[1] != "link"] == [
        (RESOURCES, "create"), (RESOURCES, "delete"), (SCOPES, "create"), (SCOPES, "delete"), ("groups", "create")]
    text = repo("plan", *only).output
    assert "role.originId: Member_f" in text and "-> Member_<new id of Finance Admins>" in text, text
    repo("apply", "--yes", *only)
    with admin(sim) as c:
        new = _group(c, "Finance Admins")
        assert new != group
        assert _origins(c, catalog) == [new], "the old resource is removed, the new group added"
        assert _granted(c, package) == [(f"Member_{new}", new)]
    assert "No changes" in repo("plan").output
