"""PIM active role assignments as schedules (roleAssignmentSchedules, opt-in in place of
roleAssignments): a time-bound assignment is exported with its end, comes back time-bound after an
adminRemove, and follows a hard-deleted principal to its new id; activations are never owned."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import Cli, app_repo, turn_on

ADMIN = {"Authorization": "Bearer sim-admin"}
SCHEDULES = "/roleManagement/directory/roleAssignmentSchedules"
REQUESTS = "/roleManagement/directory/roleAssignmentScheduleRequests"
KIND = "roleAssignmentSchedules"
END = "2031-06-30T00:00:00Z"


def _graph(sim: Any) -> httpx.Client:
    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify)


def _one(c: httpx.Client, path: str, name: str) -> str:
    [hit] = c.get(path, params={"$filter": f"displayName eq '{name}'"}).json()["value"]
    return str(hit["id"])


def _opt_in(repo: Cli) -> None:
    """Schedules instead of roleAssignments: both hold the same active assignments."""
    turn_on(repo, KIND, drop=("roleAssignments",))


def _assign(c: httpx.Client, principal: str, role: str, action: str = "adminAssign") -> dict[str, Any]:
    r = c.post(REQUESTS, json={"action": action, "principalId": principal, "roleDefinitionId": role,
                               "directoryScopeId": "/", "justification": "audit season",
                               "scheduleInfo": {"expiration": {"type": "afterDateTime", "endDateTime": END}}})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _mine(c: httpx.Client, principal: str, role: str = "") -> list[dict[str, Any]]:
    return [s for s in c.get(SCHEDULES).json()["value"]
            if s["principalId"] == principal and s["roleDefinitionId"] == (role or s["roleDefinitionId"])]


def _ops(repo: Cli) -> list[str]:
    return [o["action"] for o in json.loads(repo("plan", "--format", "json").output)["operations"]
            if o["kind"] == KIND]


def _setup(sim: Any) -> tuple[str, str]:
    with _graph(sim) as c:
        group = _one(c, "/groups", "Finance Admins")
        role = [r for r in c.get("/roleManagement/directory/roleDefinitions").json()["value"]
                if r["displayName"] == "Security Reader"][0]["templateId"]
        _assign(c, group, role)
    return group, role


def test_time_bound_assignment_survives_an_admin_remove_as_the_exact_permission_app(
        tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    group, role = _setup(sim)
    repo = app_repo(tmp_path / "config", sim, monkeypatch, extra=("RoleAssignmentSchedule.ReadWrite.Directory",))
    _opt_in(repo)
    repo("export", "--commit")
    files = list((Path(repo.repo) / "tenants/demo" / KIND).glob("*.yaml"))
    docs = [yaml.safe_load(p.read_text()) for p in files]
    [doc] = [d for d in docs if d["principalId"] == group and d["roleDefinitionId"] == role]
    assert doc["scheduleInfo"]["expiration"] == {"type": "afterDateTime", "endDateTime": END, "duration": None}
    assert not {"status", "assignmentType", "createdUsing"} & set(doc)
    assert {v.get("name") for v in doc["refs"].values()} == {"Finance Admins", "Security Reader"}
    assert not (Path(repo.repo) / "tenants/demo/roleAssignments").exists()

    with _graph(sim) as c:
        removed = _assign(c, group, role, "adminRemove")
        assert removed["status"] == "Revoked" and not _mine(c, group, role)
        assert _ops(repo) == ["create"]
        repo("apply", "--yes")
        [back] = _mine(c, group, role)
        assert back["scheduleInfo"]["expiration"]["endDateTime"] == END
        assert back["assignmentType"] == "Assigned"
    assert "No changes" in repo("plan").output


def test_hard_deleted_group_gets_its_active_assignment_back_on_the_new_id(repo, sim) -> None:
    group, role = _setup(sim)
    _opt_in(repo)
    repo("export", "--commit")
    with _graph(sim) as c:
        assert c.delete(f"/groups/{group}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{group}").status_code == 204
        assert not _mine(c, group), "Graph drops a purged principal's assignments"
        repo("apply", "--yes")
        new = _one(c, "/groups", "Finance Admins")
        assert new != group
        assert len(_mine(c, new, role)) == 1
    assert "No changes" in repo("plan").output


def test_an_activation_is_never_exported(repo, sim) -> None:
    _opt_in(repo)
    with _graph(sim) as c:
        kwame = _one(c, "/users", "Kwame Mensah")
        admin = [r for r in c.get("/roleManagement/directory/roleDefinitions").json()["value"]
                 if r["displayName"] == "Security Administrator"][0]["templateId"]
        _assign(c, kwame, admin, "selfActivate")
        assert [s["assignmentType"] for s in _mine(c, kwame, admin)] == ["Activated"]
    repo("export", "--commit")
    docs = [yaml.safe_load(p.read_text()) for p in (Path(repo.repo) / "tenants/demo" / KIND).glob("*.yaml")]
    assert (kwame, admin) not in {(d["principalId"], d["roleDefinitionId"]) for d in docs}
    assert "No changes" in repo("plan").output


def test_permissions_table_lists_the_kind(repo) -> None:
    out = repo("permissions", "--table").output
    [line] = [ln for ln in out.splitlines() if ln.startswith(f"{KIND} ")]
    assert "RoleAssignmentSchedule.Read.Directory" in line and "RoleAssignmentSchedule.ReadWrite.Directory" in line
