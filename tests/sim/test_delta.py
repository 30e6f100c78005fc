"""Delta queries: a full first round, then only what changed, removals, members@delta, expiry."""

from __future__ import annotations

from typing import Any

import httpx

from entragit_sim import Simulator
from tests.sim.conftest import ADMIN, oid


def ref(x: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{x}"}


def round_(graph: httpx.Client, url: str, **params: str) -> tuple[list[dict[str, Any]], str]:
    """Every page of one delta round: (items, the deltaLink it ends with)."""
    items: list[dict[str, Any]] = []
    page = graph.get(url, params=params or None).json()
    while "@odata.nextLink" in page:
        items += page["value"]
        page = graph.get(page["@odata.nextLink"]).json()
    items += page["value"]
    return items, page["@odata.deltaLink"]


def test_first_round_then_only_changes(graph: httpx.Client) -> None:
    first, link = round_(graph, "groups/delta", **{"$select": "id,displayName,members"})
    assert {g["id"] for g in first} == {oid(f"group{i}") for i in range(3)}
    assert first[0]["members@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": oid("user0")}]
    again, link = round_(graph, link)
    assert again == []
    assert graph.patch(f"groups/{oid('group1')}", json={"displayName": "Renamed"}).status_code == 204
    assert graph.post(f"groups/{oid('group2')}/members/$ref", json=ref(oid("user1"))).status_code == 204
    assert graph.delete(f"groups/{oid('group0')}/members/{oid('user0')}/$ref").status_code == 204
    changes, link = round_(graph, link)
    by_id = {c["id"]: c for c in changes}
    assert by_id[oid("group1")]["displayName"] == "Renamed"
    assert by_id[oid("group2")] == {"id": oid("group2"), "members@delta": [
        {"@odata.type": "#microsoft.graph.user", "id": oid("user1")}]}
    assert by_id[oid("group0")]["members@delta"][0]["@removed"] == {"reason": "deleted"}
    assert graph.delete(f"groups/{oid('group1')}").status_code == 204
    gone, _ = round_(graph, link)
    assert gone == [{"id": oid("group1"), "@removed": {"reason": "changed"}}]  # soft deleted: restorable


def test_select_trims_what_changed_objects_show(graph: httpx.Client) -> None:
    _, link = round_(graph, "users/delta", **{"$select": "id,displayName"})
    assert graph.patch(f"users/{oid('user1')}", json={"displayName": "Renamed"}).status_code == 204
    changes, _ = round_(graph, link)
    assert changes == [{"id": oid("user1"), "displayName": "Renamed"}]


def test_latest_token_and_paging(graph: httpx.Client) -> None:
    page = graph.get("users/delta", params={"$deltatoken": "latest"}).json()
    assert page["value"] == [] and "@odata.deltaLink" in page
    small = graph.get("groups/delta", headers={"Prefer": "odata.maxpagesize=2"}).json()
    assert len(small["value"]) == 2 and "@odata.nextLink" in small


def test_links_expire_after_seven_days(sim: Simulator, graph: httpx.Client) -> None:
    _, link = round_(graph, "applications/delta")
    sim.advance(6)
    _, link = round_(graph, link)  # still valid; the new link starts a new week
    sim.advance(7.5)
    r = graph.get(link)
    assert r.status_code == 410
    assert r.json()["error"]["code"] == "syncStateNotFound"


def test_expire_knob(sim: Simulator, graph: httpx.Client) -> None:
    _, link = round_(graph, "servicePrincipals/delta")
    admin = httpx.post(sim.graph_url.rsplit("/v1.0", 1)[0] + "/_sim/delta/expire", headers=ADMIN)
    assert admin.json()["expired"] >= 1
    assert graph.get(link).status_code == 410
