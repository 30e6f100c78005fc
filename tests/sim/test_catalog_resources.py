"""Catalog resources (added and removed only through resource requests) and access package resource role
scopes, as the entitlement management docs describe them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sim.conftest import oid
from tests.sim.test_auth import bearer, grant

EM = "identityGovernance/entitlementManagement"
GROUP = oid("group0")


def _catalog(graph: httpx.Client) -> str:
    r = graph.post(f"{EM}/catalogs", json={"displayName": "Finance"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _package(graph: httpx.Client, catalog: str) -> str:
    r = graph.post(f"{EM}/accessPackages", json={"displayName": "Close", "catalog": {"id": catalog}})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _request(graph: httpx.Client, kind: str, catalog: str, resource: dict[str, Any]) -> httpx.Response:
    return graph.post(f"{EM}/resourceRequests",
                      json={"requestType": kind, "resource": resource, "catalog": {"id": catalog}})


def _resources(graph: httpx.Client, catalog: str) -> list[dict[str, Any]]:
    r = graph.get(f"{EM}/catalogs/{catalog}/resources")
    assert r.status_code == 200, r.text
    return list(r.json()["value"])


def _role(resource: dict[str, Any], role: str = "Member") -> dict[str, Any]:
    origin = resource["originId"]
    return {"role": {"originId": f"{role}_{origin}", "originSystem": "AadGroup", "resource": {"id": resource["id"]}},
            "scope": {"originId": origin, "originSystem": "AadGroup"}}


def test_adding_a_group_lists_it_in_the_catalog(graph) -> None:
    catalog = _catalog(graph)
    r = _request(graph, "adminAdd", catalog, {"originId": GROUP, "originSystem": "AadGroup"})
    assert r.status_code == 201, r.text
    assert r.json()["requestType"] == "adminAdd" and r.json()["state"] == "delivered"
    [res] = _resources(graph, catalog)
    assert res["originId"] == GROUP and res["originSystem"] == "AadGroup" and res["displayName"] == "Group 0"
    assert "catalogId" not in res
    one = graph.get(f"{EM}/catalogs/{catalog}/resources/{res['id']}")
    assert one.status_code == 200 and one.json()["originId"] == GROUP
    # The resource path is read-only: resource requests are the only writer.
    assert graph.post(f"{EM}/catalogs/{catalog}/resources", json={"originId": GROUP}).status_code == 405
    assert graph.delete(f"{EM}/catalogs/{catalog}/resources/{res['id']}").status_code == 405


def test_adding_a_missing_origin_or_a_duplicate_is_refused(graph) -> None:
    catalog = _catalog(graph)
    assert _request(graph, "adminAdd", catalog, {"originId": oid("nobody"), "originSystem": "AadGroup"}).status_code == 404
    assert _request(graph, "adminAdd", catalog, {"originId": GROUP, "originSystem": "Other"}).status_code == 400
    assert _request(graph, "adminAdd", oid("no-catalog"), {"originId": GROUP, "originSystem": "AadGroup"}).status_code == 404
    assert _request(graph, "adminAdd", catalog, {"originId": GROUP, "originSystem": "AadGroup"}).status_code == 201
    assert _request(graph, "adminAdd", catalog, {"originId": GROUP, "originSystem": "AadGroup"}).status_code == 400
    assert len(_resources(graph, catalog)) == 1


def test_an_app_adding_a_group_needs_group_readwrite_all(sim, graph) -> None:
    catalog = _catalog(graph)
    grant(sim, "EntitlementManagement.ReadWrite.All")
    body = {"requestType": "adminAdd", "resource": {"originId": GROUP, "originSystem": "AadGroup"},
            "catalog": {"id": catalog}}
    with httpx.Client(base_url=sim.graph_url + "/", headers=bearer(sim), timeout=10) as app:
        assert app.get(f"{EM}/catalogs/{catalog}/resources").status_code == 200
        assert app.post(f"{EM}/resourceRequests", json=body).status_code == 403
    grant(sim, "Group.ReadWrite.All")
    with httpx.Client(base_url=sim.graph_url + "/", headers=bearer(sim), timeout=10) as app:
        assert app.post(f"{EM}/resourceRequests", json=body).status_code == 201


def test_role_scope_create_list_delete_and_removal_in_use_refused(graph) -> None:
    catalog = _catalog(graph)
    package = _package(graph, catalog)
    _request(graph, "adminAdd", catalog, {"originId": GROUP, "originSystem": "AadGroup"})
    [res] = _resources(graph, catalog)
    scopes = f"{EM}/accessPackages/{package}/resourceRoleScopes"
    r = graph.post(scopes, json=_role(res))
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert "_" in sid and "role" not in r.json()
    assert graph.post(scopes, json=_role(res)).status_code == 400, "the package already grants that role"
    bad = _role(res)
    bad["role"]["originId"] = f"Member_{oid('group1')}"
    assert graph.post(scopes, json=bad).status_code == 400, "not a role of that resource"
    [listed] = graph.get(scopes, params={"$expand": "role($expand=resource),scope"}).json()["value"]
    assert listed["role"]["originId"] == f"Member_{GROUP}" and listed["role"]["displayName"] == "Member"
    assert listed["role"]["resource"]["id"] == res["id"] and listed["scope"]["originId"] == GROUP
    assert listed["scope"]["isRootScope"] is True and "accessPackageId" not in listed
    expanded = graph.get(f"{EM}/accessPackages/{package}")
    assert expanded.status_code == 200

    # "A resource can be removed from a catalog only if it isn't being used in any of the catalog's access packages."
    assert _request(graph, "adminRemove", catalog, {"id": res["id"]}).status_code == 400
    assert graph.delete(f"{scopes}/{sid}").status_code == 204
    assert graph.get(scopes).json()["value"] == []
    assert _request(graph, "adminRemove", catalog, {"id": res["id"]}).status_code == 201
    assert _resources(graph, catalog) == []
    assert _request(graph, "adminRemove", catalog, {"id": res["id"]}).status_code == 404


def test_a_role_scope_needs_the_resource_in_the_packages_catalog(graph) -> None:
    catalog, other = _catalog(graph), _catalog(graph)
    package = _package(graph, catalog)
    _request(graph, "adminAdd", other, {"originId": GROUP, "originSystem": "AadGroup"})
    [res] = _resources(graph, other)
    r = graph.post(f"{EM}/accessPackages/{package}/resourceRoleScopes", json=_role(res))
    assert r.status_code == 404, r.text


def test_read_only_with_entitlement_management_read_all(sim, graph) -> None:
    catalog = _catalog(graph)
    package = _package(graph, catalog)
    grant(sim, "EntitlementManagement.Read.All")
    with httpx.Client(base_url=sim.graph_url + "/", headers=bearer(sim), timeout=10) as app:
        assert app.get(f"{EM}/catalogs/{catalog}/resources").status_code == 200
        assert app.get(f"{EM}/accessPackages/{package}/resourceRoleScopes").status_code == 200
        r = app.post(f"{EM}/resourceRequests", json={"requestType": "adminAdd", "catalog": {"id": catalog},
                                                      "resource": {"originId": GROUP, "originSystem": "AadGroup"}})
        assert r.status_code == 403
