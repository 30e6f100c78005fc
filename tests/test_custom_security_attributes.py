"""Custom security attribute sets and definitions: exported with their predefined values, drift
patched back, a deactivated attribute made available again, an empty tenant rebuilt from the files;
Graph has no delete for either, so a removed file is left alone."""

from __future__ import annotations

import json
import ssl
from typing import Any

import git
import httpx
import yaml

from tests.conftest import Cli, app_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
DEFS = "/directory/customSecurityAttributeDefinitions"
SETS = "/directory/attributeSets"
PROJECT = "tenants/demo/customSecurityAttributeDefinitions/engineering-project.yaml"


def _graph(sim: Any) -> httpx.Client:
    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify)


ONLY = ("--only", "attributeSets", "--only", "customSecurityAttributeDefinitions")


def _ops(repo: Cli, *only: str) -> list[tuple[str, str]]:
    return [(o["kind"], o["action"]) for o in json.loads(repo("plan", "--format", "json", *only).output)["operations"]
            if o["kind"] in ("attributeSets", "customSecurityAttributeDefinitions")]


def test_export_drift_and_deactivation_as_the_exact_permission_app(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    doc = yaml.safe_load((repo.repo / PROJECT).read_text())
    assert (doc["id"], doc["attributeSet"]) == ("Engineering_Project", "Engineering")
    assert sorted(v["id"] for v in doc["allowedValues"]) == ["Alpine", "Baker", "Cascade"]
    assert doc["refs"]["Engineering"]["kind"] == "attributeSets"
    assert (repo.repo / "tenants/demo/attributeSets/engineering.yaml").exists()

    with _graph(sim) as c:
        assert c.patch(f"{DEFS}/Engineering_Project", json={"status": "Deprecated",
                                                            "description": "old"}).status_code == 204
        assert c.patch(f"{SETS}/Engineering", json={"maxAttributesPerSet": 10}).status_code == 204
        assert sorted(_ops(repo)) == [("attributeSets", "update"), ("customSecurityAttributeDefinitions", "update")]
        repo("apply", "--yes")
        live = c.get(f"{DEFS}/Engineering_Project").json()
        assert (live["status"], live["description"]) == ("Available", "Active projects for user")
        assert c.get(f"{SETS}/Engineering").json()["maxAttributesPerSet"] == 25
    assert "No changes" in repo("plan").output


def test_an_empty_tenant_gets_sets_definitions_and_values_from_the_files(tmp_path, sim_factory, repo) -> None:
    """Graph never deletes them, so a restore is a rebuild elsewhere (a new tenant, a rehearsal twin)."""
    repo("export", "--commit")
    empty = sim_factory("empty")
    with _graph(empty) as c:
        assert c.get(DEFS).json()["value"] == []
    tenant = repo.repo / "tenants/demo/tenant.yaml"
    cfg = yaml.safe_load(tenant.read_text())
    cfg["graphUrl"] = empty.graph_url.removesuffix("/v1.0")
    tenant.write_text(yaml.safe_dump(cfg, sort_keys=False))
    git.Repo(repo.repo).git.commit("-am", "Point the demo files at an empty tenant")
    ops = _ops(repo, *ONLY)
    assert sorted(ops) == [("attributeSets", "create")] + [("customSecurityAttributeDefinitions", "create")] * 2
    repo("apply", "--yes", *ONLY)
    with _graph(empty) as c:
        made = c.get(DEFS, params={"$expand": "allowedValues"}).json()["value"]
        [project] = [d for d in made if d["name"] == "Project"]
        assert sorted(v["id"] for v in project["allowedValues"]) == ["Alpine", "Baker", "Cascade"]
        assert c.get(f"{SETS}/Engineering").json()["description"] == "Attributes for engineering team"
    assert "No changes" in repo("plan", *ONLY).output


def test_a_removed_file_is_left_alone_not_deleted(repo, sim) -> None:
    repo("export", "--commit")
    (repo.repo / PROJECT).unlink()
    git.Repo(repo.repo).git.commit("-am", "Project attribute no longer wanted")
    assert _ops(repo) == []
    out = repo("plan").output
    assert "Graph cannot delete it" in out, out
    with _graph(sim) as c:
        assert c.delete(f"{DEFS}/Engineering_Project").status_code == 405


def test_permissions_table_lists_both_kinds(repo) -> None:
    rows = {ln.split()[0]: ln for ln in repo("permissions", "--table").output.splitlines() if ln.strip()}
    for kind in ("attributeSets", "customSecurityAttributeDefinitions"):
        assert "CustomSecAttributeDefinition.Read.All" in rows[kind]
        assert "CustomSecAttributeDefinition.ReadWrite.All" in rows[kind]
