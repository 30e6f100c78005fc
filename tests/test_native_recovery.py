"""Native backup recovery next to git, through the real CLI: a week of daily snapshots, a bad day
(a soft-deleted group, a CA policy switched to report-only, a hard-deleted group the CA policies
use, a group created since), then `native diff` and `native apply` as a signed-in Microsoft Entra
Backup Administrator (device code), and the refusals an app gets."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from entragit import gitstore
from tests.conftest import Cli, app_repo, make_repo
from tests.test_formats import _valid

BACKUP_ADMIN = "b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb"
# The operator's other roles: what entragit's own part of the recovery writes and reads.
OPERATOR_ROLES = {
    BACKUP_ADMIN: "Microsoft Entra Backup Administrator",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",  # a role-assignable group
    "0526716b-113d-4c15-b2c8-68e3c22b9f80": "Authentication Policy Administrator",
}
OPERATOR = "backup-operator@contosodemo.onmicrosoft.com"
SOFT, HARD, NEW, WEAK = "Project Aurora", "Finance Admins", "Dept - Legal", "CA200-"


def _client(sim: Any) -> httpx.Client:
    return httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"},
                        verify=ssl.create_default_context(cafile=sim.ca_bundle))


def _one(c: httpx.Client, path: str, name: str) -> dict[str, Any]:
    found = [o for o in c.get(path, params={"$top": 999}).json()["value"] if o["displayName"].startswith(name)]
    assert len(found) == 1, (name, found)
    return dict(found[0])


def doc_snapshot(sim: Any) -> str:
    with _client(sim) as c:
        return str(c.get("/directory/recovery/snapshots").json()["value"][0]["id"])


def _operator(sim: Any, roles: dict[str, str]) -> str:
    """A user holding `roles` tenant-wide; device code sign-ins approve as them."""
    with _client(sim) as c:
        user = c.post("/users", json={"displayName": "Backup Operator", "userPrincipalName": OPERATOR,
                                      "mailNickname": "backup-operator", "accountEnabled": True,
                                      "passwordProfile": {"password": "Unused-1-Password!"}}).json()
        for tid in roles:
            r = c.post("/roleManagement/directory/roleAssignments",
                       json={"principalId": user["id"], "roleDefinitionId": tid, "directoryScopeId": "/"})
            assert r.status_code == 201, r.text
    sim.device_flows.user = OPERATOR
    return str(user["id"])


@pytest.fixture
def bad_day(sim_factory: Any, tmp_path: Path) -> tuple[Any, Cli, dict[str, Any]]:
    """Exported to git, a week of snapshots, then the damage; the repo signs in as the operator."""
    sim = sim_factory("demo", tls=True, now=(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)).isoformat())
    _operator(sim, OPERATOR_ROLES)
    cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "device-code", "--authority", sim.authority,
                    "--ca-bundle", sim.ca_bundle)
    cli("export", "--commit")
    assert len(sim.advance(7)) == 7
    with _client(sim) as c:
        soft, hard = _one(c, "/groups", SOFT), _one(c, "/groups", HARD)
        weak = _one(c, "/identity/conditionalAccess/policies", WEAK)
        assert c.delete(f"/groups/{soft['id']}").status_code == 204
        assert c.delete(f"/groups/{hard['id']}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{hard['id']}").status_code == 204
        r = c.patch(f"/identity/conditionalAccess/policies/{weak['id']}",
                    json={"state": "enabledForReportingButNotEnforced"})
        assert r.status_code == 204, r.text
        new = c.post("/groups", json={"displayName": NEW, "mailNickname": "dept-legal", "mailEnabled": False,
                                      "securityEnabled": True}).json()
    return sim, cli, {"soft": soft, "hard": hard, "weak": weak, "new": new}


def test_native_diff_names_every_change(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    res = cli("native", "diff", "--format", "json")
    doc = json.loads(res.stdout)
    _valid("native-diff", doc)
    by_id = {c["id"]: c for c in doc["changes"]}
    assert by_id[objs["soft"]["id"]]["action"] == "restore" and by_id[objs["soft"]["id"]]["name"] == SOFT
    weak = by_id[objs["weak"]["id"]]
    assert weak["action"] == "update" and weak["name"] == objs["weak"]["displayName"]
    assert weak["values"]["state"] == {"current": "enabledForReportingButNotEnforced", "snapshot": "enabled"}
    assert by_id[objs["new"]["id"]]["action"] == "softDelete" and by_id[objs["new"]["id"]]["name"] == NEW
    assert objs["hard"]["id"] not in by_id  # hard-deleted: beyond native recovery, not reported
    text = cli("native", "diff").output
    for name in (SOFT, NEW, objs["weak"]["displayName"]):
        assert name in text
    assert "state: enabledForReportingButNotEnforced -> enabled" in text
    assert "risk: Conditional Access enforcement changes" in text
    md = cli("native", "diff", "--format", "markdown").stdout
    assert f"| restore | group **{SOFT}** (`{objs['soft']['id']}`)" in md
    # Against the files exported before the bad day: git agrees with the snapshot on the policy.
    doc = json.loads(cli("native", "diff", "--rev", "HEAD", "--format", "json").stdout)
    verdicts = {c["id"]: c["git"] for c in doc["changes"]}
    assert verdicts[objs["weak"]["id"]] == "git agrees with the snapshot"
    assert verdicts[objs["new"]["id"]] == "not in git either"


def test_native_plan_marks_what_only_entragit_can_do(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    doc = json.loads(cli("native", "plan", "--format", "json").stdout)
    _valid("native-plan", doc)
    by = {(o["action"], o["name"]): o for o in doc["operations"] if not o.get("member")}
    assert by[("restore", SOFT)]["by"] == "native"
    weak = by[("update", objs["weak"]["displayName"])]
    assert weak["by"] == "native" and weak["fields"] == ["state"]
    assert by[("create", HARD)]["by"] == "entragit" and "hard-deleted" in by[("create", HARD)]["why"]
    remapped = [o for o in doc["operations"] if o["kind"] == "conditionalAccessPolicies" and o["by"] == "entragit"]
    assert remapped and all("recreated" in o["why"] or "remapped" in o["why"] for o in remapped)
    assert all(o["name"] != NEW for o in doc["operations"])  # newer than git and the snapshot: left alone


def test_apply_via_native_restores_ids_recreates_the_rest_and_leaves_the_new_group(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    res = cli("native", "apply", "--yes", "--commit")
    out = res.stdout
    assert "native recovery" in out and "0 failed" in out, out
    assert "Second plan: no changes." in out
    with _client(sim) as c:
        # Native: the soft-deleted group and the weakened policy, with their original ids.
        assert c.get(f"/groups/{objs['soft']['id']}").status_code == 200
        policy = c.get(f"/identity/conditionalAccess/policies/{objs['weak']['id']}").json()
        assert policy["state"] == "enabled"
        # entragit: the hard-deleted group recreated, every CA reference remapped to its new id.
        again = _one(c, "/groups", HARD)
        assert again["id"] != objs["hard"]["id"]
        policies = c.get("/identity/conditionalAccess/policies").json()["value"]
        text = json.dumps(policies)
        assert objs["hard"]["id"] not in text and again["id"] in text
        # The group created after the snapshot is still there: the recovery was scoped by id.
        assert c.get(f"/groups/{objs['new']['id']}").status_code == 200
        jobs = c.get("/directory/recovery/jobs").json()["value"]
    recovery = [j for j in jobs if j["@odata.type"].endswith("recoveryJob")]
    assert len(recovery) == 1 and recovery[0]["filteringCriteria"] is not None
    ids = {i for v in recovery[0]["filteringCriteria"]["filterValues"] for i in v["entityIds"]}
    assert ids == {objs["soft"]["id"], objs["weak"]["id"]}
    assert cli("plan", "--detailed-exitcode").exit_code == 0
    # The re-export is committed with the recovery job and the snapshot it restored from.
    assert gitstore.last_trailer(cli.repo, "tenants/demo", "Entragit-Native-Recovery") == recovery[0]["id"]
    assert gitstore.last_trailer(cli.repo, "tenants/demo", "Entragit-Native-Snapshot") == doc_snapshot(sim)
    # Run again: nothing to do, no job started.
    again = cli("native", "apply", "--yes").stdout
    assert "No changes" in again and "restored" not in again
    with _client(sim) as c:
        assert len(c.get("/directory/recovery/jobs").json()["value"]) == len(jobs)


def test_an_app_is_refused_naming_the_role(bad_day: Any, tmp_path: Path, monkeypatch: Any) -> None:
    sim, _, _ = bad_day
    app = app_repo(tmp_path / "app", sim, monkeypatch, extra=("EntraBackup.Read.All",))
    app("export", "--commit")
    for cmd in (("native", "apply", "--yes"), ("native", "diff")):
        res = app(*cmd, code=1)
        errors = [line for line in res.output.splitlines() if line.startswith("error")]
        assert len(errors) == 1 and "Microsoft Entra Backup Administrator" in errors[0], res.output
    with _client(sim) as c:
        assert c.get("/directory/recovery/jobs").json()["value"] == []  # nothing was started


def test_a_failed_native_change_is_left_to_entragit(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    sim.router.recovery_failures = {objs["soft"]["id"]: "Restore failed: the object is locked."}
    out = cli("native", "apply", "--yes").stdout
    # Recovery writes leave no delta records: the next export does not trust its delta links.
    assert "the next export reads the tenant in full" in out
    assert "full read: no delta state yet" in cli("export").output
    assert "1 failed" in out and f"FAILED group '{SOFT}'" in out and "Restore failed" in out, out
    assert "entragit does the rest:" in out and f"restore  group '{SOFT}'" in out
    assert "Second plan: no changes." in out
    with _client(sim) as c:
        assert c.get(f"/groups/{objs['soft']['id']}").status_code == 200  # entragit restored it, same id


def test_native_diff_resumes_a_running_report_and_waits_out_another_job(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    with _client(sim) as c:
        snap = doc_snapshot(sim)
        r = c.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs")  # unscoped, like native diff
        assert r.status_code == 202
        mine = r.headers["Location"].rsplit("/", 1)[1]
    res = cli("native", "diff", "--format", "json")
    assert "already running with this scope: resuming it" in res.stderr
    assert json.loads(res.stdout)["job"] == mine
    with _client(sim) as c:
        scoped = {"filteringCriteria": {"@odata.type": "#microsoft.graph.entraRecoveryServices."
                                        "recoveryJobEntityNameAndIdsFilter",
                                        "filterValues": [{"entityType": "group", "entityIds": [objs["soft"]["id"]]}]}}
        other = c.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs", json=scoped)
        assert other.status_code == 202
    res = cli("native", "diff", "--format", "json")
    assert "(one job per tenant): waiting for it" in res.stderr
    with _client(sim) as c:
        jobs = c.get("/directory/recovery/jobs").json()["value"]
    assert len(jobs) == 3 and all(j["status"] == "successful" for j in jobs)


def test_a_tenant_without_native_backup_gets_one_clear_error(bad_day: Any) -> None:
    sim, cli, _ = bad_day
    sim.router.backup_available = False  # no Entra ID P1/P2 licence, or a national cloud
    for cmd in (("native", "snapshots"), ("native", "diff"), ("native", "apply", "--yes")):
        res = cli(*cmd, code=1)
        errors = [line for line in res.output.splitlines() if line.startswith("error")]
        assert len(errors) == 1 and "no native backup here" in errors[0] and "P1 or P2" in errors[0], res.output


def test_more_objects_than_one_job_takes_run_as_jobs_one_after_another(bad_day: Any, monkeypatch: Any) -> None:
    from entragit import native

    sim, cli, objs = bad_day
    monkeypatch.setattr(native, "MAX_IDS", 1)  # Graph's portal takes 100 ids a job
    out = cli("native", "apply", "--yes").stdout
    assert "Second plan: no changes." in out
    with _client(sim) as c:
        jobs = c.get("/directory/recovery/jobs").json()["value"]
    recovery = [j for j in jobs if j["@odata.type"].endswith("recoveryJob")]
    scopes = [[i for v in j["filteringCriteria"]["filterValues"] for i in v["entityIds"]] for j in recovery]
    assert sorted(scopes) == sorted([[objs["soft"]["id"]], [objs["weak"]["id"]]])
