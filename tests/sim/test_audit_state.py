"""Directory audit entries for writes, X-Sim-Actor, and state that survives a restart."""

from __future__ import annotations

import json

import httpx

from tests.sim.conftest import ADMIN, oid


def test_writes_are_audited(graph: httpx.Client) -> None:
    gid = graph.post(
        "groups",
        json={
            "displayName": "Aud",
            "mailEnabled": False,
            "mailNickname": "aud",
            "securityEnabled": True,
        },
    ).json()["id"]
    graph.patch(
        f"groups/{gid}", json={"description": "d"}, headers={"X-Sim-Actor": "alice@contoso.example"}
    )
    graph.delete(f"identity/conditionalAccess/policies/{oid('ca0')}")
    entries = graph.get("auditLogs/directoryAudits").json()["value"]
    assert [e["activityDisplayName"] for e in entries[:3]] == [
        "Delete conditional access policy",
        "Update group",
        "Add group",
    ]
    update = entries[1]
    assert update["category"] == "GroupManagement" and update["operationType"] == "Update"
    assert update["initiatedBy"]["user"]["userPrincipalName"] == "alice@contoso.example"
    assert update["initiatedBy"]["app"] is None
    target = update["targetResources"][0]
    assert target["id"] == gid and target["type"] == "Group"
    assert {"displayName": "description", "oldValue": "null", "newValue": '"d"'} in target[
        "modifiedProperties"
    ]
    assert entries[2]["initiatedBy"]["app"]["appId"] == "sim-admin"
    since = entries[1]["activityDateTime"]
    recent = graph.get(
        "auditLogs/directoryAudits", params={"$filter": f"activityDateTime ge {since}"}
    ).json()["value"]
    assert len(recent) >= 2


def test_state_file_survives_restart(make_sim, tmp_path) -> None:
    state = tmp_path / "tenant.json"
    sim = make_sim(state_file=state)
    httpx.post(
        f"{sim.graph_url}/groups",
        headers=ADMIN,
        json={
            "displayName": "Kept",
            "mailEnabled": False,
            "mailNickname": "kept",
            "securityEnabled": True,
        },
    )
    httpx.delete(f"{sim.graph_url}/groups/{oid('group0')}", headers=ADMIN)
    assert (
        httpx.post(f"{sim.graph_url.rsplit('/', 1)[0]}/_sim/save", headers=ADMIN).status_code == 204
    )
    sim.stop()
    assert json.loads(state.read_text())["tenant_id"] == sim.tenant_id
    again = make_sim(state_file=state, seed="empty")
    names = {
        g["displayName"]
        for g in httpx.get(f"{again.graph_url}/groups", headers=ADMIN).json()["value"]
    }
    assert "Kept" in names and "Group 0" not in names
    deleted = httpx.get(
        f"{again.graph_url}/directory/deletedItems/microsoft.graph.group", headers=ADMIN
    ).json()
    assert [d["id"] for d in deleted["value"]] == [oid("group0")]


def test_state_dump_needs_admin(sim) -> None:
    root = sim.graph_url.rsplit("/", 1)[0]
    assert httpx.get(f"{root}/_sim/state").status_code == 401
    dump = httpx.get(f"{root}/_sim/state", headers=ADMIN).json()
    assert oid("group0") in dump["objects"]["groups"]
    assert "seed-secret-1" not in json.dumps(dump)


def test_requests_are_recorded(sim, graph: httpx.Client) -> None:
    graph.get("groups", params={"$top": 5})
    rec = sim.requests[-1]
    assert (rec.method, rec.path, rec.status, rec.app_id) == (
        "GET",
        "/v1.0/groups",
        200,
        "sim-admin",
    )
    assert "top=5" in rec.query
