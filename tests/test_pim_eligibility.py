"""PIM eligible role assignments (roleEligibilitySchedules): exported with names, re-created through
the request collection (adminAssign), revoked with adminRemove, remapped to a recreated principal."""

from __future__ import annotations

import json
import ssl
from typing import Any

import git
import httpx
import yaml

from tests.conftest import Cli, app_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
SCHEDULES = "/roleManagement/directory/roleEligibilitySchedules"
REQUESTS = "/roleManagement/directory/roleEligibilityScheduleRequests"
KWAME_FILE = "tenants/demo/roleEligibilitySchedules/security-administrator-kwame-mensah-directory.yaml"


def _graph(sim: Any) -> httpx.Client:
    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify)


def _one(c: httpx.Client, path: str, name: str) -> dict[str, Any]:
    [hit] = c.get(path, params={"$filter": f"displayName eq '{name}'"}).json()["value"]
    return dict(hit)


def _eligible(c: httpx.Client) -> list[dict[str, Any]]:
    return list(c.get(SCHEDULES).json()["value"])


def _ops(repo: Cli) -> list[dict[str, Any]]:
    return list(json.loads(repo("plan", "--format", "json").output)["operations"])


def _request_actions(sim: Any, since: int) -> list[str]:
    return [r.method for r in sim.requests[since:] if r.path.endswith(REQUESTS)]


def test_export_revoke_plan_apply_round_trip(tmp_path, sim_factory, monkeypatch) -> None:
    """Signed in with exactly `entragit permissions`: the eligibility survives an adminRemove."""
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    doc = yaml.safe_load((repo.repo / KWAME_FILE).read_text())
    names = {v["name"] for v in doc["refs"].values()}
    assert names == {"Security Administrator", "Kwame Mensah"}
    assert doc["scheduleInfo"]["expiration"]["type"] == "noExpiration"
    assert not {"status", "createdUsing", "memberType", "createdDateTime"} & set(doc)

    with _graph(sim) as c:
        [live] = [e for e in _eligible(c) if e["principalId"] == doc["principalId"]]
        r = c.post(REQUESTS, json={"action": "adminRemove", **{k: live[k] for k in
                                                              ("principalId", "roleDefinitionId", "directoryScopeId")}})
        assert r.status_code == 201 and r.json()["status"] == "Revoked", r.text
        assert c.get(f"{SCHEDULES}/{live['id']}").status_code == 404

        ops = [o for o in _ops(repo) if o["kind"] == "roleEligibilitySchedules"]
        assert [o["action"] for o in ops] == ["create"]
        since = len(sim.requests)
        out = repo("apply", "--yes").output
        assert "Security Administrator" in out, out
        assert _request_actions(sim, since) == ["POST"]
        [back] = [e for e in _eligible(c) if e["principalId"] == doc["principalId"]]
        assert back["roleDefinitionId"] == doc["roleDefinitionId"] and back["directoryScopeId"] == "/"
        assert back["id"] != live["id"]
    assert "No changes" in repo("plan").output


def test_changed_expiration_is_a_remove_and_an_assign(repo, sim) -> None:
    """Graph has no update of an eligibility through adminAssign: the change is adminRemove + adminAssign."""
    repo("export", "--commit")
    path = repo.repo / KWAME_FILE
    doc = yaml.safe_load(path.read_text())
    text = path.read_text().replace("    endDateTime: null\n    type: noExpiration",
                                    "    endDateTime: '2031-01-01T00:00:00Z'\n    type: afterDateTime")
    assert text != path.read_text()
    path.write_text(text)
    git.Repo(repo.repo).git.commit("-am", "Kwame's eligibility ends in 2031")
    actions = sorted(o["action"] for o in _ops(repo) if o["kind"] == "roleEligibilitySchedules")
    assert actions == ["create", "delete"]
    since = len(sim.requests)
    repo("apply", "--yes")
    assert _request_actions(sim, since) == ["POST", "POST"]
    with _graph(sim) as c:
        [now] = [e for e in _eligible(c) if e["principalId"] == doc["principalId"]]
    assert now["scheduleInfo"]["expiration"] == {"type": "afterDateTime", "endDateTime": "2031-01-01T00:00:00Z",
                                                 "duration": None}
    assert "No changes" in repo("plan").output


def test_hard_deleted_group_gets_its_eligibility_back_on_the_new_id(repo, sim) -> None:
    with _graph(sim) as c:
        old = _one(c, "/groups", "Finance Admins")["id"]
        reader = _one(c, "/roleManagement/directory/roleDefinitions", "Security Reader")["templateId"]
        r = c.post(REQUESTS, json={"action": "adminAssign", "principalId": old, "roleDefinitionId": reader,
                                   "directoryScopeId": "/", "justification": "quarterly audit",
                                   "scheduleInfo": {"expiration": {"type": "noExpiration"}}})
        assert r.status_code == 201, r.text
        repo("export", "--commit")
        assert c.delete(f"/groups/{old}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{old}").status_code == 204
        assert not [e for e in _eligible(c) if e["principalId"] == old], "Graph drops a purged principal's eligibility"

        ops = _ops(repo)
        assert {(o["kind"], o["action"]) for o in ops} >= {("groups", "create"), ("roleEligibilitySchedules", "create")}
        repo("apply", "--yes")
        new = _one(c, "/groups", "Finance Admins")["id"]
        assert new != old
        mine = [e for e in _eligible(c) if e["principalId"] == new]
        assert [e["roleDefinitionId"] for e in mine] == [reader]
        assert not [e for e in _eligible(c) if e["principalId"] == old]
    assert "No changes" in repo("plan").output


def test_permissions_table_lists_the_kind(repo) -> None:
    out = repo("permissions", "--table").output
    [line] = [ln for ln in out.splitlines() if ln.startswith("roleEligibilitySchedules ")]
    assert "RoleEligibilitySchedule.Read.Directory" in line and "write: RoleEligibilitySchedule.ReadWrite.Directory" in line
