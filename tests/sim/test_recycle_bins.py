"""Recycle bins as table rows: who may restore or purge, and the route table describing them."""

from __future__ import annotations

import httpx
import pytest

from entragit_sim.table import RECYCLE_BINS, Perms
from tests.sim.conftest import ADMIN, oid
from tests.sim.test_auth import bearer, grant

BINS = "identity/conditionalAccess/deletedItems"


def _deleted_location(sim) -> str:
    lid = oid("loc")
    r = httpx.delete(f"{sim.graph_url}/identity/conditionalAccess/namedLocations/{lid}", headers=ADMIN)
    assert r.status_code == 204, r.text
    return lid


@pytest.mark.parametrize(
    ("container", "collection", "make"),
    [
        ("policies", "policies", lambda sim: oid("ca1")),
        ("namedLocations", "namedLocations", None),
    ],
)
def test_app_token_cannot_restore_or_purge_ca_recycle_bin(sim, container, collection, make) -> None:
    """Restore / permanent delete: "Application: Not supported"
    (https://learn.microsoft.com/graph/api/conditionalaccesspolicy-restore?view=graph-rest-beta,
    https://learn.microsoft.com/graph/api/policydeletableitem-delete?view=graph-rest-beta)."""
    if make is None:
        # The seed's CA policies name the location; delete them first, as Graph requires.
        for i in range(5):
            httpx.delete(f"{sim.graph_url}/identity/conditionalAccess/policies/{oid(f'ca{i}')}", headers=ADMIN)
        key = _deleted_location(sim)
    else:
        key = make(sim)
        r = httpx.delete(f"{sim.graph_url}/identity/conditionalAccess/{collection}/{key}", headers=ADMIN)
        assert r.status_code == 204, r.text
    grant(sim, "Policy.Read.All", "Policy.ReadWrite.ConditionalAccess")
    app = bearer(sim)
    url = f"{sim.beta_url}/{BINS}/{container}"
    listed = httpx.get(url, headers=app)
    assert listed.status_code == 200 and key in [o["id"] for o in listed.json()["value"]]
    assert httpx.get(f"{url}/{key}", headers=app).status_code == 200
    for r in (httpx.post(f"{url}/{key}/restore", headers=app), httpx.delete(f"{url}/{key}", headers=app)):
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "Authorization_RequestDenied"
    assert key in [o["id"] for o in httpx.get(url, headers=app).json()["value"]]
    # The dev token stands for an administrator: restore and purge work.
    assert httpx.post(f"{url}/{key}/restore", headers=ADMIN).status_code == 200
    r = httpx.delete(f"{sim.graph_url}/identity/conditionalAccess/{collection}/{key}", headers=ADMIN)
    assert r.status_code == 204
    assert httpx.delete(f"{url}/{key}", headers=ADMIN).status_code == 204
    assert httpx.get(url, headers=ADMIN).json()["value"] == []


def test_app_token_still_restores_directory_objects(sim) -> None:
    gid = oid("group0")
    assert httpx.delete(f"{sim.graph_url}/groups/{gid}", headers=ADMIN).status_code == 204
    grant(sim, "Group.ReadWrite.All")
    r = httpx.post(f"{sim.graph_url}/directory/deletedItems/{gid}/restore", headers=bearer(sim))
    assert r.status_code == 200 and r.json()["id"] == gid


def test_route_table_describes_every_route(sim) -> None:
    routes = sim.router.routes
    by_template = {r.template: r for r in routes}
    members = by_template["groups/{id}/members/$ref"]
    assert members.methods == ("POST",) and isinstance(members.perms, Perms)
    assert members.regex.match("groups/abc/members/$ref")
    ca = by_template["identity/conditionalAccess/policies/{id}"]
    assert ca.family == "ca" and "Policy.ReadWrite.ConditionalAccess" in ca.perms.write[0]
    restore = by_template[f"{BINS}/policies/{{id}}/restore"]
    assert restore.beta_only and not restore.app_only_ok and restore.methods == ("POST",)
    for rbin in RECYCLE_BINS:
        assert f"{rbin.path}/{{id}}/restore" in by_template
    for r in routes:
        assert r.methods and r.template and callable(r.handler)
        assert "(?P" not in r.template
