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

from tests.conftest import Cli, make_repo

BACKUP_ADMIN = "b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb"
# The operator's other roles: what entragit's own part of the recovery writes and reads.
OPERATOR_ROLES = {
    BACKUP_ADMIN: "Microsoft Entra Backup Administrator",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
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
    by_id = {c["id"]: c for c in doc["changes"]}
    assert by_id[objs["soft"]["id"]]["action"] == "restore" and by_id[objs["soft"]["id"]]["name"] == SOFT
    weak = by_id[objs["weak"]["id"]]
    assert weak["action"] == "update" and weak["name"] == objs["weak"]["displayName"]
    assert weak["properties"]["state"] == {"current": "enabledForReportingButNotEnforced", "snapshot": "enabled"}
    assert by_id[objs["new"]["id"]]["action"] == "softDelete" and by_id[objs["new"]["id"]]["name"] == NEW
    assert objs["hard"]["id"] not in by_id  # hard-deleted: beyond native recovery, not reported
    text = cli("native", "diff").output
    for name in (SOFT, NEW, objs["weak"]["displayName"]):
        assert name in text
    assert "state: enabledForReportingButNotEnforced -> enabled" in text
    assert "risk: Conditional Access enforcement changes" in text


def test_show(bad_day: Any) -> None:
    sim, cli, objs = bad_day
    print(cli("native", "diff", "--rev", "HEAD").output)
    print(cli("native", "diff", "--format", "markdown").stdout)
