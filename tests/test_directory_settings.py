"""Directory settings (groupSettings made from a template, such as Group.Unified): exported with the
group they name resolved, patched back after drift, recreated after a delete, and pointed at the new
id of a hard-deleted group."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import yaml

from tests.conftest import Cli, app_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
SETTINGS = "/settings"
UNIFIED = "62375ab9-6b52-47ed-826b-58e47e0e304b"
FILE = "tenants/demo/groupSettings/group-unified.yaml"


def _graph(sim: Any) -> httpx.Client:
    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify)


def _ops(repo: Cli) -> list[tuple[str, str]]:
    return [(o["kind"], o["action"]) for o in json.loads(repo("plan", "--format", "json").output)["operations"]]


def _unified(c: httpx.Client) -> dict[str, Any]:
    [s] = [s for s in c.get(SETTINGS).json()["value"] if s["templateId"] == UNIFIED]
    return dict(s)


def _values(setting: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v["value"] for v in setting["values"]}


def test_export_drift_delete_recreate_as_the_exact_permission_app(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    doc = yaml.safe_load((repo.repo / FILE).read_text())
    values = _values(doc)
    assert values["EnableGroupCreation"] == "false"
    ref = doc["refs"][values["GroupCreationAllowedGroupId"]]
    assert (ref["kind"], ref["name"]) == ("groups", "IT Operations")

    with _graph(sim) as c:
        live = _unified(c)
        opened = [{**v, "value": "true"} if v["name"] == "EnableGroupCreation" else v for v in live["values"]]
        assert c.patch(f"{SETTINGS}/{live['id']}", json={"values": opened}).status_code == 204
        assert _ops(repo) == [("groupSettings", "update")]
        repo("apply", "--yes")
        assert _values(_unified(c))["EnableGroupCreation"] == "false"

        assert c.delete(f"{SETTINGS}/{live['id']}").status_code == 204  # gone: Graph keeps no deleted settings
        assert _ops(repo) == [("groupSettings", "create")]
        repo("apply", "--yes")
        back = _unified(c)
        assert back["id"] != live["id"] and _values(back) == values
    assert "No changes" in repo("plan").output


def test_hard_deleted_group_is_recreated_and_the_setting_names_its_new_id(repo, sim) -> None:
    repo("export", "--commit")
    with _graph(sim) as c:
        old = _values(_unified(c))["GroupCreationAllowedGroupId"]
        assert c.delete(f"/groups/{old}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{old}").status_code == 204
        ops = _ops(repo)
        assert ("groups", "create") in ops and ("groupSettings", "update") in ops, ops
        repo("apply", "--yes")
        [new] = c.get("/groups", params={"$filter": "displayName eq 'IT Operations'"}).json()["value"]
        assert new["id"] != old
        assert _values(_unified(c))["GroupCreationAllowedGroupId"] == new["id"]
    assert "No changes" in repo("plan").output


def test_a_setting_for_an_unknown_name_is_refused_by_graph(sim) -> None:
    with _graph(sim) as c:
        r = c.post(SETTINGS, json={"templateId": "5cf42378-d67d-4f36-ba46-e8b86229381d",
                                   "values": [{"name": "NoSuchSetting", "value": "1"}]})
        assert r.status_code == 400 and "NoSuchSetting" in r.text
        twice = c.post(SETTINGS, json={"templateId": UNIFIED, "values": []})
        assert twice.status_code == 400, twice.text  # one setting per template


def test_permissions_table_lists_the_kind(repo) -> None:
    out = repo("permissions", "--table").output
    [line] = [ln for ln in out.splitlines() if ln.startswith("groupSettings ")]
    assert "GroupSettings.Read.All" in line and "GroupSettings.ReadWrite.All" in line
