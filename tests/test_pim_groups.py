"""PIM for Groups (groupEligibilitySchedules, groupAssignmentSchedules; opt-in): who may become a member or
owner of a group is exported with names, read one filtered list per group as Graph requires, comes back
through adminAssign after an adminRemove and after the group itself is hard-deleted (on its new id);
activations are never owned. Signed in as the app holding exactly the listed permissions."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import git
import httpx
import yaml

from tests.conftest import Cli, app_repo, turn_on

ADMIN = {"Authorization": "Bearer sim-admin"}
PIM = "/identityGovernance/privilegedAccess/group"
ELIGIBLE, ACTIVE = "groupEligibilitySchedules", "groupAssignmentSchedules"
WRITE = ("PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup", "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup")
READ = ("PrivilegedEligibilitySchedule.Read.AzureADGroup", "PrivilegedAssignmentSchedule.Read.AzureADGroup")
END = "2031-06-30T00:00:00Z"


def _graph(sim: Any) -> httpx.Client:
    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify)


def _one(c: httpx.Client, path: str, name: str) -> str:
    [hit] = c.get(path, params={"$filter": f"displayName eq '{name}'"}).json()["value"]
    return str(hit["id"])


def _request(c: httpx.Client, coll: str, group: str, principal: str, access: str,
             action: str = "adminAssign") -> dict[str, Any]:
    r = c.post(f"{PIM}/{coll}", json={
        "action": action, "groupId": group, "principalId": principal, "accessId": access,
        "justification": "on-call rota", "scheduleInfo": {"expiration": {"type": "afterDateTime", "endDateTime": END}}})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _schedules(c: httpx.Client, coll: str, group: str) -> list[dict[str, Any]]:
    r = c.get(f"{PIM}/{coll}", params={"$filter": f"groupId eq '{group}'"})
    assert r.status_code == 200, r.text
    return list(r.json()["value"])


def _opt_in(repo: Cli) -> None:
    turn_on(repo, ELIGIBLE, ACTIVE)


def _ops(repo: Cli, *opts: str) -> list[tuple[str, str]]:
    return [(o["kind"], o["action"]) for o in json.loads(repo("plan", "--format", "json", *opts).output)["operations"]
            if o["kind"] in (ELIGIBLE, ACTIVE)]


def _docs(repo: Cli, kind: str) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted((Path(repo.repo) / "tenants/demo" / kind).glob("*.yaml"))]


def test_group_pim_round_trip_as_the_exact_permission_app(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    with _graph(sim) as c:
        group = _one(c, "/groups", "Finance Admins")
        kwame = _one(c, "/users", "Kwame Mensah")
        priya = _one(c, "/users", "Priya Raman")
        # The demo seed makes Kwame an eligible member of Finance Admins (no end); Priya owns it for a time.
        _request(c, "assignmentScheduleRequests", group, priya, "owner")
        _request(c, "assignmentScheduleRequests", group, kwame, "member", "selfActivate")
    repo = app_repo(tmp_path / "config", sim, monkeypatch, extra=WRITE)
    _opt_in(repo)
    repo("export", "--commit")

    [eligible] = _docs(repo, ELIGIBLE)
    assert (eligible["groupId"], eligible["principalId"], eligible["accessId"]) == (group, kwame, "member")
    assert eligible["scheduleInfo"]["expiration"]["type"] == "noExpiration"
    assert not {"status", "createdUsing", "memberType"} & set(eligible)
    assert {v.get("name") for v in eligible["refs"].values()} == {"Finance Admins", "Kwame Mensah"}
    # The activation is PIM's: only the standing owner assignment is owned.
    [active] = _docs(repo, ACTIVE)
    assert (active["principalId"], active["accessId"]) == (priya, "owner")
    assert active["scheduleInfo"]["expiration"]["endDateTime"] == END

    with _graph(sim) as c:
        _request(c, "eligibilityScheduleRequests", group, kwame, "member", "adminRemove")
        assert not _schedules(c, "eligibilitySchedules", group)
        assert _ops(repo) == [(ELIGIBLE, "create")]
        repo("apply", "--yes")
        [back] = _schedules(c, "eligibilitySchedules", group)
        assert back["principalId"] == kwame and back["scheduleInfo"]["expiration"]["type"] == "noExpiration"
    assert "No changes" in repo("plan").output
    # The recreated schedule has a new id; after that export, an incremental one (groups from the files
    # and delta) still reads the schedules per group.
    assert "1 changed" in repo("export", "--commit").output
    again = repo("export", "--commit").output
    assert "incremental" in again and "no changes" in again, again
    assert len(_docs(repo, ELIGIBLE)) == len(_docs(repo, ACTIVE)) == 1


def test_hard_deleted_group_gets_its_pim_memberships_back_on_the_new_id(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    with _graph(sim) as c:
        group = _one(c, "/groups", "Finance Admins")
        kwame = _one(c, "/users", "Kwame Mensah")
        _request(c, "assignmentScheduleRequests", group, kwame, "owner")
    repo = app_repo(tmp_path / "config", sim, monkeypatch, extra=WRITE)
    _opt_in(repo)
    repo("export", "--commit")
    with _graph(sim) as c:
        assert c.delete(f"/groups/{group}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{group}").status_code == 204
        assert not _schedules(c, "eligibilitySchedules", group), "a purged group takes its PIM schedules along"
        assert sorted(_ops(repo)) == [(ACTIVE, "create"), (ELIGIBLE, "create")]
        # A role-assignable group is written with RoleManagement.ReadWrite.Directory, which the app holds.
        repo("apply", "--yes")
        new = _one(c, "/groups", "Finance Admins")
        assert new != group
        assert [s["principalId"] for s in _schedules(c, "eligibilitySchedules", new)] == [kwame]
        assert [s["accessId"] for s in _schedules(c, "assignmentSchedules", new)] == ["owner"]
    # The plan reads groups as the last export plus delta: the new group's schedules are read with it.
    assert "No changes" in repo("plan").output


def test_an_incremental_export_reads_the_schedules_of_a_group_made_since(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch, extra=READ)
    _opt_in(repo)
    repo("export", "--commit")
    with _graph(sim) as c:
        made = c.post("/groups", json={"displayName": "On-call Responders", "mailEnabled": False,
                                       "mailNickname": "on-call", "securityEnabled": True})
        assert made.status_code == 201, made.text
        _request(c, "eligibilityScheduleRequests", made.json()["id"], _one(c, "/users", "Kwame Mensah"), "member")
    out = repo("export", "--commit").output
    assert "(incremental read)" in out, out
    assert any(d.get("group") == "On-call Responders" or "On-call Responders" in json.dumps(d)
               for d in _docs(repo, ELIGIBLE)), _docs(repo, ELIGIBLE)
    assert "no changes" in repo("export", "--commit", "--full").output  # what a full read writes


def test_a_removed_file_is_revoked_through_the_request_collection(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    with _graph(sim) as c:
        group = _one(c, "/groups", "Finance Admins")
        kwame = _one(c, "/users", "Kwame Mensah")
        priya = _one(c, "/users", "Priya Raman")
        _request(c, "eligibilityScheduleRequests", group, kwame, "owner")
        _request(c, "eligibilityScheduleRequests", group, priya, "owner")
    repo = app_repo(tmp_path / "config", sim, monkeypatch, extra=WRITE)
    _opt_in(repo)
    repo("export", "--commit")
    (Path(repo.repo) / "tenants/demo" / ELIGIBLE / "finance-admins-owner-kwame-mensah.yaml").unlink()
    git.Repo(repo.repo).git.commit("-am", "Kwame no longer owns Finance Admins")
    assert _ops(repo) == [], "a file removed is left alone without --prune"
    assert _ops(repo, "--prune") == [(ELIGIBLE, "delete")]
    repo("apply", "--prune", "--yes")
    with _graph(sim) as c:
        left = {(s["principalId"], s["accessId"]) for s in _schedules(c, "eligibilitySchedules", group)}
        assert left == {(kwame, "member"), (priya, "owner")}
    assert "No changes" in repo("plan", "--prune").output


def test_permissions_table_lists_both_kinds(repo) -> None:
    out = repo("permissions", "--table").output
    for kind, family in ((ELIGIBLE, "PrivilegedEligibilitySchedule"), (ACTIVE, "PrivilegedAssignmentSchedule")):
        [line] = [ln for ln in out.splitlines() if ln.startswith(f"{kind} ")]
        assert f"{family}.Read.AzureADGroup" in line and f"{family}.ReadWrite.AzureADGroup" in line
