"""`entragit apply --via native` and `plan --native-marks` through the real CLI, on the bad day of
tests/test_native_recovery.py: a soft-deleted group and a CA policy switched to report-only come
back natively with their ids, the hard-deleted group the policies use is recreated by entragit
with every reference remapped, the group created since is left alone, and a second plan is empty."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from entragit import gitstore
from entragit_sim.faults import Faults
from tests import test_native_recovery as recovery
from tests.conftest import app_repo
from tests.test_formats import _valid
from tests.test_lockout import _block_all, edit

bad_day = recovery.bad_day  # the fixture: exported, a week of snapshots, then the damage
SOFT, HARD, NEW = recovery.SOFT, recovery.HARD, recovery.NEW


def _jobs(sim: Any) -> list[dict[str, Any]]:
    with recovery._client(sim) as c:
        return list(c.get("/directory/recovery/jobs").json()["value"])


def _recoveries(sim: Any) -> list[dict[str, Any]]:
    return [j for j in _jobs(sim) if j["@odata.type"].endswith("recoveryJob")]


def test_apply_via_native_splits_the_work_and_keeps_apply_s_contract(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    res = cli("apply", "--via", "native", "--yes", "--commit")
    out = res.stdout
    # The plan first, then who does what, as `plan --native-marks` shows it.
    assert out.index("Tenant demo (files at") < out.index("Native backup: snapshot") < out.index("native recovery ")
    assert re.search(rf"native +restore group '{SOFT}'", out), out
    assert re.search(rf"entragit +create group '{HARD}' +\(hard-deleted", out), out
    # entragit's part, each operation on its own line, then one summary and the second plan.
    assert f"ok  create groups '{HARD}'" in out
    assert re.search(r"Applied via native: native recovery \S+ did 2 operation\(s\) with original ids; "
                     r"entragit applied (\d+)/\1 \(\d+ write requests\)\.", out), out
    assert "Second plan: no changes." in out
    with recovery._client(sim) as c:
        # Native: original ids.
        assert c.get(f"/groups/{objs['soft']['id']}").status_code == 200
        policy = c.get(f"/identity/conditionalAccess/policies/{objs['weak']['id']}").json()
        assert policy["state"] == "enabled"
        # entragit: a new id, every CA reference remapped to it.
        again = recovery._one(c, "/groups", HARD)
        assert again["id"] != objs["hard"]["id"]
        text = json.dumps(c.get("/identity/conditionalAccess/policies").json()["value"])
        assert objs["hard"]["id"] not in text and again["id"] in text
        assert c.get(f"/groups/{objs['new']['id']}").status_code == 200  # created since: left alone
    [job] = _recoveries(sim)
    assert {i for v in job["filteringCriteria"]["filterValues"] for i in v["entityIds"]} == \
        {objs["soft"]["id"], objs["weak"]["id"]}
    # The re-export is committed naming the job and the snapshot; the tenant matches HEAD.
    assert gitstore.last_trailer(cli.repo, "tenants/demo", "Entragit-Native-Recovery") == job["id"]
    assert gitstore.last_trailer(cli.repo, "tenants/demo", "Entragit-Native-Snapshot") == recovery.doc_snapshot(sim)
    assert "tagged" in out and gitstore.applied(cli.repo, "demo") == gitstore.resolve(cli.repo, "HEAD")
    assert cli("plan", "--detailed-exitcode").exit_code == 0
    # Again: the plan is empty, no job is started.
    assert "No changes" in cli("apply", "--via", "native", "--yes").stdout
    assert len(_recoveries(sim)) == 1
    marks = cli("plan", "--native-marks").stdout  # nothing to split: no "0 of 0" line
    assert "No changes" in marks and "native recovery can do" not in marks


def test_plan_native_marks_in_every_format(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    doc = json.loads(cli("plan", "--native-marks", "--format", "json").stdout)
    _valid("plan", doc)
    assert doc["native"]["snapshot"] == recovery.doc_snapshot(sim) and doc["native"]["count"] == 2
    by = {(o["action"], o["name"]): o["native"] for o in doc["operations"] if not o["member"]}
    assert by[("restore", SOFT)]["by"] == "native"
    assert by[("update", objs["weak"]["displayName"])] == {"by": "native", "why": "update back to the snapshot",
                                                           "fields": ["state"]}
    assert by[("create", HARD)]["by"] == "entragit" and "hard-deleted" in by[("create", HARD)]["why"]
    assert all(o["name"] != NEW for o in doc["operations"])
    links = [o["native"] for o in doc["operations"] if o["action"] == "link" and o["name"] == HARD]
    assert links and all(m["by"] == "entragit" and "recreated object" in m["why"] for m in links)
    md = cli("plan", "--via", "native", "--format", "markdown").stdout
    assert "#### Native backup: snapshot" in md and f"| native | restore group '{SOFT}' |" in md
    assert "**2 of " in md
    text = cli("plan", "--native-marks", "--detailed-exitcode", code=2).stdout
    assert "2 of " in text and "native recovery can do with original ids" in text
    # Marks only read: difference reports, never a recovery.
    assert _jobs(sim) and _recoveries(sim) == []
    # Without the option the plan's JSON is as before.
    assert "native" not in json.loads(cli("plan", "--format", "json").stdout)


def test_an_app_is_refused_before_anything_is_written(bad_day: Any, tmp_path: Path, monkeypatch: Any) -> None:
    sim, _, objs = bad_day
    app = app_repo(tmp_path / "app", sim, monkeypatch, extra=("EntraBackup.Read.All",))
    app("export", "--commit")
    with recovery._client(sim) as c:  # something native could restore, so the marks need a difference report
        assert c.delete(f"/groups/{objs['new']['id']}").status_code == 204
    since = len(sim.requests)
    for cmd in (("apply", "--via", "native", "--yes"), ("plan", "--native-marks")):
        res = app(*cmd, code=1)
        errors = [line for line in res.output.splitlines() if line.startswith("error")]
        assert len(errors) == 1 and "Microsoft Entra Backup Administrator" in errors[0], res.output
    assert [r for r in sim.requests[since:] if r.method not in ("GET",) and "/oauth2/" not in r.path
            and "/$batch" not in r.path] == []
    assert _jobs(sim) == []
    # Who may do what: the app reads, a signed-in Backup Administrator recovers.
    out = app("permissions", "--native").stdout
    assert "EntraBackup.Read.All" in out and "Microsoft Entra Backup Administrator" in out
    assert "EntraBackup.ReadWrite.Recovery" in out and "Backup Reader" in out and "apply --via native" in out


def test_the_lockout_guard_stops_the_native_part_too(bad_day: Any) -> None:
    sim, cli, _ = bad_day
    edit(cli, "conditionalAccessPolicies/ca000-*.yaml", _block_all([]))
    res = cli("apply", "--via", "native", "--ref", "WORKTREE", "--yes", code=1)
    assert "LOCKOUT RISK" in res.output and "--force-lockout-risk" in res.output
    assert _recoveries(sim) == []


def test_options_that_cannot_go_with_via_native(bad_day: Any, tmp_path: Path) -> None:
    _, cli, _ = bad_day
    assert "use them together" in cli("apply", "--snapshot", "x", "--yes", code=1).output
    assert "cannot be used with --via native" in cli("apply", "--via", "native", "--rehearse", code=1).output
    assert "use them together" in cli("plan", "--snapshot", "x", code=1).output
    assert "no native snapshot nope" in cli("apply", "--via", "native", "--snapshot", "nope", "--yes", code=1).output


class _LoseTheFirstCreate(Faults):
    """The simulator commits the first group create of the run, then answers 504 (nothing else is lost)."""

    def draw_lost(self, method: str, path: str) -> str:
        if (method, path) != ("POST", "/v1.0/groups") or getattr(self, "_lost_once", False):
            return "ok"
        self._lost_once = True
        return "lost"


def test_entragit_s_part_reads_a_lost_write_back(bad_day: Any) -> None:
    sim, cli, _ = bad_day
    sim.router.faults, since = _LoseTheFirstCreate(), len(sim.requests)
    out = cli("apply", "--via", "native", "--yes").stdout
    assert [r.status for r in sim.requests[since:] if (r.method, r.path) == ("POST", "/v1.0/groups")] == [504]
    assert "Second plan: no changes." in out
    with recovery._client(sim) as c:
        groups = c.get("/groups", params={"$top": 999}).json()["value"]
    assert sum(g["displayName"] == HARD for g in groups) == 1  # read back, not sent twice


class _LoseTheRecoveryAnswer(Faults):
    """The simulator creates the recovery job, then answers 504: the client cannot tell it landed."""

    def draw_lost(self, method: str, path: str) -> str:
        if method != "POST" or not path.endswith("/recoveryJobs") or getattr(self, "_lost_once", False):
            return "ok"
        self._lost_once = True
        return "lost"


def test_a_recovery_job_whose_answer_is_lost_is_followed_not_created_twice(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    sim.router.faults = _LoseTheRecoveryAnswer()
    res = cli("apply", "--via", "native", "--yes")
    assert "the answer to its creation was lost; found it, following it" in res.stderr
    assert "Second plan: no changes." in res.stdout
    [job] = _recoveries(sim)  # one recovery job, not two
    assert job["status"] == "successful"
    with recovery._client(sim) as c:
        assert c.get(f"/groups/{objs['soft']['id']}").status_code == 200


def test_only_scopes_the_native_part_too(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    tag = gitstore.applied(cli.repo, "demo")
    out = cli("apply", "--via", "native", "--only", "groups/project-aurora", "--yes").stdout
    assert "native recovery had nothing to do" not in out and "Second plan: no changes." in out
    [job] = _recoveries(sim)
    assert [i for v in job["filteringCriteria"]["filterValues"] for i in v["entityIds"]] == [objs["soft"]["id"]]
    with recovery._client(sim) as c:
        assert c.get(f"/groups/{objs['soft']['id']}").status_code == 200
        policy = c.get(f"/identity/conditionalAccess/policies/{objs['weak']['id']}").json()
        assert policy["state"] == "enabledForReportingButNotEnforced"  # not selected: left as it is
    assert gitstore.applied(cli.repo, "demo") == tag  # a partial apply moves no tag
    cli("plan", "--detailed-exitcode", code=2)  # the rest is still to do
