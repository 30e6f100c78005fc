"""Paging, $select, $filter, $count and JSON $batch (graph-notes 6.1, 6.2, 6.4)."""

from __future__ import annotations

import httpx

from tests.sim.conftest import oid


def test_paging_follows_absolute_next_links(sim, graph: httpx.Client) -> None:
    for i in range(120):
        graph.post(
            "users",
            json={
                "accountEnabled": True,
                "displayName": f"P{i:03d}",
                "mailNickname": f"p{i}",
                "userPrincipalName": f"p{i}@contoso.example",
                "passwordProfile": {"password": "x"},
            },
        )
    first = graph.get("users").json()
    assert len(first["value"]) == 100 and first["@odata.nextLink"].startswith(
        sim.graph_url + "/users?"
    )
    assert "$skiptoken=" in first["@odata.nextLink"]
    second = graph.get(first["@odata.nextLink"]).json()
    assert len(second["value"]) == 22 and "@odata.nextLink" not in second
    ids = [u["id"] for u in first["value"] + second["value"]]
    assert len(set(ids)) == 122


def test_top_limits(graph: httpx.Client) -> None:
    page = graph.get("identity/conditionalAccess/policies", params={"$top": 2}).json()
    assert len(page["value"]) == 2 and "$top=2" in page["@odata.nextLink"]
    rest = graph.get(page["@odata.nextLink"]).json()
    assert len(rest["value"]) == 2
    assert graph.get("groups", params={"$top": 1000}).status_code == 400
    assert graph.get("groups", params={"$top": 999}).status_code == 200


def test_select(graph: httpx.Client) -> None:
    items = graph.get("groups", params={"$select": "id,displayName"}).json()["value"]
    assert items and all(set(i) == {"id", "displayName"} for i in items)
    one = graph.get(f"groups/{oid('group1')}", params={"$select": "displayName"}).json()
    assert one["displayName"] == "Group 1" and "securityEnabled" not in one


def test_filter(graph: httpx.Client) -> None:
    def names(path: str, f: str) -> list[str]:
        r = graph.get(path, params={"$filter": f})
        assert r.status_code == 200, r.text
        return sorted(i["displayName"] for i in r.json()["value"])

    assert names("groups", "displayName eq 'Group 1'") == ["Group 1"]
    assert names("groups", "startswith(displayName,'group')") == ["Group 0", "Group 1", "Group 2"]
    assert names("groups", f"id in ('{oid('group0')}', '{oid('group2')}')") == [
        "Group 0",
        "Group 2",
    ]
    assert names("groups", f"id eq '{oid('group2')}'") == ["Group 2"]
    assert names("groups", "securityEnabled eq true and mailEnabled eq false") == [
        "Group 0",
        "Group 1",
        "Group 2",
    ]
    assert names("servicePrincipals", f"appId eq '{oid('appId')}'") == ["Export tool"]
    assert names("identity/conditionalAccess/policies", "state eq 'enabled'")[:2] == [
        "CA000",
        "CA001",
    ]
    assert graph.get("groups", params={"$filter": "displayName eq"}).status_code == 400


def test_advanced_queries_need_consistency_level(graph: httpx.Client) -> None:
    r = graph.get("groups", params={"$filter": "displayName ne 'Group 1'"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "Request_UnsupportedQuery"
    r = graph.get(
        "groups",
        params={"$filter": "displayName ne 'Group 1'", "$count": "true"},
        headers={"ConsistencyLevel": "eventual"},
    )
    assert r.status_code == 200 and r.json()["@odata.count"] == 2
    assert graph.get("groups", params={"$count": "true"}).status_code == 400
    c = graph.get("groups/$count", headers={"ConsistencyLevel": "eventual"})
    assert c.status_code == 200 and c.text == "3"


def test_batch(graph: httpx.Client) -> None:
    body = {
        "requests": [
            {
                "id": "1",
                "method": "POST",
                "url": "/groups",
                "headers": {"Content-Type": "application/json"},
                "body": {
                    "displayName": "B",
                    "mailEnabled": False,
                    "mailNickname": "b",
                    "securityEnabled": True,
                },
            },
            {
                "id": "2",
                "method": "GET",
                "url": f"/groups/{oid('group0')}?$select=displayName",
                "dependsOn": ["1"],
            },
            {"id": "3", "method": "GET", "url": "/groups/00000000-0000-0000-0000-00000000dead"},
            {"id": "4", "method": "GET", "url": "/groups", "dependsOn": ["3"]},
        ]
    }
    r = graph.post("$batch", json=body)
    assert r.status_code == 200
    by_id = {x["id"]: x for x in r.json()["responses"]}
    assert by_id["1"]["status"] == 201 and by_id["1"]["body"]["displayName"] == "B"
    assert by_id["2"]["status"] == 200 and by_id["2"]["body"]["displayName"] == "Group 0"
    assert by_id["3"]["status"] == 404
    assert by_id["4"]["status"] == 424


def test_batch_limits(graph: httpx.Client) -> None:
    many = {"requests": [{"id": str(i), "method": "GET", "url": "/groups"} for i in range(21)]}
    assert graph.post("$batch", json=many).status_code == 400
    dup = {"requests": [{"id": "1", "method": "GET", "url": "/groups"}] * 2}
    assert graph.post("$batch", json=dup).status_code == 400
    absolute = {"requests": [{"id": "1", "method": "GET", "url": "/v1.0/groups"}]}
    assert graph.post("$batch", json=absolute).status_code == 400
