"""/directory/recovery/snapshots: one snapshot a simulated day at 22:00Z, seven kept, in the live shape."""

from __future__ import annotations

import httpx

from entragit_sim import Simulator
from tests.sim.conftest import ADMIN

# The live capture of 2026-07-28 (v1.0): seven snapshots, newest first, ids base64(unix seconds).
LIVE = [("MTc4NTE4OTYwMA==", "2026-07-27T22:00:00Z"), ("MTc4NTEwMzIwMA==", "2026-07-26T22:00:00Z"),
        ("MTc4NTAxNjgwMA==", "2026-07-25T22:00:00Z"), ("MTc4NDkzMDQwMA==", "2026-07-24T22:00:00Z"),
        ("MTc4NDg0NDAwMA==", "2026-07-23T22:00:00Z"), ("MTc4NDc1NzYwMA==", "2026-07-22T22:00:00Z"),
        ("MTc4NDY3MTIwMA==", "2026-07-21T22:00:00Z")]


def test_a_week_of_days_gives_the_live_list_on_v1_and_beta() -> None:
    with Simulator(seed="demo", now="2026-07-19T23:00:00Z") as sim:
        origin = sim.graph_url.rsplit("/v1.0", 1)[0]
        assert httpx.get(f"{sim.graph_url}/directory/recovery/snapshots", headers=ADMIN).json()["value"] == []
        r = httpx.post(f"{origin}/_sim/clock/advance", json={"days": 8.5}, headers=ADMIN)
        assert r.status_code == 200 and r.json()["now"] == "2026-07-28T11:00:00Z"
        assert len(r.json()["taken"]) == 8 and r.json()["snapshots"] == [i for i, _ in LIVE]
        for root in (sim.graph_url, sim.beta_url):
            body = httpx.get(f"{root}/directory/recovery/snapshots", headers=ADMIN).json()
            assert [(s["id"], s["createdDateTime"]) for s in body["value"]] == LIVE
            assert all(set(s) == {"id", "createdDateTime"} for s in body["value"])
            one = httpx.get(f"{root}/directory/recovery/snapshots/{LIVE[3][0]}", headers=ADMIN)
            assert one.status_code == 200 and one.json()["createdDateTime"] == LIVE[3][1]


def test_snapshots_hold_the_supported_objects_as_they_were() -> None:
    with Simulator(seed="demo", now="2026-07-19T12:00:00Z") as sim:
        [first] = sim.advance(1)
        group = next(iter(sim.store.objects["groups"].values()))
        before = group["displayName"]
        group["displayName"] = "renamed after the snapshot"
        sim.advance(1)
        old, new = sim.store.backups[1], sim.store.backups[0]
        assert old["id"] == first and old["objects"]["groups"][group["id"]]["displayName"] == before
        assert new["objects"]["groups"][group["id"]]["displayName"] == "renamed after the snapshot"
        assert "roleDefinitions" not in old["objects"]  # not a supported object


def test_unknown_snapshot_and_bad_advance_are_refused() -> None:
    with Simulator(seed="demo", now="2026-07-19T12:00:00Z") as sim:
        origin = sim.graph_url.rsplit("/v1.0", 1)[0]
        r = httpx.get(f"{sim.graph_url}/directory/recovery/snapshots/MTIz", headers=ADMIN)
        assert r.status_code == 404 and "list of available backups" in r.json()["error"]["message"]
        for bad in ({"days": 0}, {"days": "two"}, [1]):
            assert httpx.post(f"{origin}/_sim/clock/advance", json=bad, headers=ADMIN).status_code == 400
        assert httpx.post(f"{origin}/_sim/clock/advance", json={"days": 1}).status_code == 401


def test_a_state_file_keeps_the_snapshots_and_the_clock(tmp_path) -> None:
    state = tmp_path / "state.json"
    with Simulator(seed="demo", now="2026-07-19T12:00:00Z", state_file=state) as sim:
        taken = sim.advance(3)
    with Simulator(state_file=state) as again:
        assert again.now.isoformat() == "2026-07-22T12:00:00+00:00"
        assert [s["id"] for s in again.store.backups] == taken[::-1]
        assert len(again.advance(1)) == 1 and len(again.store.backups) == 4
