"""The Kind table's permission manifest, checked against the simulator (the oracle): each kind can be
read with exactly its listed read permission and written with its listed write permissions, and
is refused without them."""

from __future__ import annotations

import httpx
import pytest

from entragit import kinds, permissions, snapshot

ADMIN = {"Authorization": "Bearer sim-admin"}


@pytest.fixture(scope="module")
def oracle():
    from entragit_sim import Simulator

    s = Simulator(seed="demo")
    s.start(host="127.0.0.1", port=0)
    yield s
    s.stop()


def _token(sim, perms: list[str], name: str) -> str:
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        graph = c.get("/servicePrincipals", params={"$filter": "displayName eq 'Microsoft Graph'"}).json()["value"][0]
        role_ids = {r["value"]: r["id"] for r in graph["appRoles"]}
        app = c.post("/applications", json={"displayName": name}).json()
        sp = c.post("/servicePrincipals", json={"appId": app["appId"]}).json()
        for p in perms:
            if p not in role_ids:  # Policy.*.DeviceConfiguration: Microsoft publishes no app role id yet
                pytest.skip(f"Microsoft Graph's app roles here have no {p} (no published application id)")
            r = c.post(f"/servicePrincipals/{graph['id']}/appRoleAssignedTo",
                       json={"principalId": sp["id"], "resourceId": graph["id"], "appRoleId": role_ids[p]})
            assert r.status_code == 201, r.text
        secret = c.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {}}).json()["secretText"]
    tok = httpx.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": app["appId"],
                                          "client_secret": secret, "scope": "https://graph.microsoft.com/.default"})
    return tok.json()["access_token"]


def _url(sim, kind) -> str:
    base = sim.graph_url.replace("/v1.0", "/" + kind.version)
    if kind.parent:
        with httpx.Client(headers=ADMIN) as c:
            parent = kinds.get(kind.parent)
            pid = c.get(base.replace("/" + kind.version, "/v1.0") + parent.path).json()["value"][0]["id"]
        return base + snapshot.child_url(kind, pid)  # PIM for Groups: the per-group $filter
    return base + kind.path


APP_KINDS = [k for k in kinds.KINDS if not k.delegated_only]


@pytest.mark.parametrize("kind", APP_KINDS, ids=[k.name for k in APP_KINDS])
def test_read_permission_is_what_graph_asks_for(oracle, kind):
    url = _url(oracle, kind)
    scope = {"$filter": kind.list_filter} if kind.list_filter else None  # Graph requires it (PIM policies)
    allowed = _token(oracle, permissions.for_export([kind]), f"reader-{kind.name}")
    denied = _token(oracle, [], f"nobody-{kind.name}")
    assert httpx.get(url, params=scope, headers={"Authorization": f"Bearer {allowed}"}).status_code == 200
    r = httpx.get(url, params=scope, headers={"Authorization": f"Bearer {denied}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize("kind", [k for k in kinds.KINDS if k.delegated_only], ids=lambda k: k.name)
def test_delegated_only_kind_refuses_app_tokens_holding_its_permissions(oracle, kind):
    """Why the manifest leaves it out: an app token is refused even with the kind's own permissions."""
    token = _token(oracle, [*kind.read_perm, *kind.write_perm], f"app-{kind.name}")
    r = httpx.get(_url(oracle, kind), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    assert httpx.get(_url(oracle, kind), headers=ADMIN).status_code == 200


@pytest.mark.parametrize("kind", [k for k in kinds.KINDS if k.writes_delegated_only], ids=lambda k: k.name)
def test_delegated_only_writes_refuse_app_tokens_holding_the_permission(oracle, kind):
    """Why the manifest leaves the write permission out: an app reads, but never writes an item, even holding
    RoleManagement.ReadWrite.Directory (the kind's own write permission is no app role at all)."""
    token = _token(oracle, [*kind.read_perm, "RoleManagement.ReadWrite.Directory"], f"app-{kind.name}")
    url = _url(oracle, kind)
    [obj, *_] = httpx.get(url, params={"$filter": kind.list_filter}, headers={"Authorization": f"Bearer {token}"}
                          ).json()["value"]
    for sub in kind.subcollections:
        items = httpx.get(f"{url}/{obj['id']}/{sub.field}", headers={"Authorization": f"Bearer {token}"}).json()
        item = f"{url}/{obj['id']}/{sub.field}/{items['value'][0]['id']}"
        r = httpx.patch(item, json={}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
        assert httpx.patch(item, json={}, headers=ADMIN).status_code == 204


@pytest.mark.parametrize("kind", [k for k in APP_KINDS if k.write_perm and not k.writes_delegated_only],
                         ids=lambda k: k.name)
def test_write_permission_is_what_graph_asks_for(oracle, kind):
    url = _url(oracle, kind)
    allowed = _token(oracle, permissions.for_apply([kind]), f"writer-{kind.name}")
    reader = _token(oracle, permissions.for_export([kind]), f"read-only-{kind.name}")
    items = [] if kind.singleton else httpx.get(url, headers=ADMIN).json()["value"]
    if kind.update is None or not (kind.singleton or items):
        # no PATCH in Graph, or nothing to patch in the demo tenant: a (deliberately incomplete) create,
        # where the kind creates (its request collection, for PIM schedules)
        root = oracle.graph_url.replace("/v1.0", "/" + kind.version)
        target = root + kind.requests.path if kind.requests else url
        method, body = "POST", {}
    else:  # an empty PATCH (PUT where Graph updates so) of a real object: allowed means 204, not allowed means 403
        first = url if kind.singleton else f"{url}/{items[0][kind.id_field]}"
        method, target = str(kind.update).upper(), first  # PUT-replaced singletons: an empty PUT
        body = {}
        if kind.polymorphic:
            body = {"@odata.type": httpx.get(first, headers=ADMIN).json()["@odata.type"]}
    ok = httpx.request(method, target, json=body, headers={"Authorization": f"Bearer {allowed}"})
    assert ok.status_code != 403, f"{kind.name}: {' + '.join(kind.write_perm)} was not enough: {ok.text}"
    no = httpx.request(method, target, json=body, headers={"Authorization": f"Bearer {reader}"})
    assert no.status_code == 403, f"{kind.name}: a read-only token could write ({no.status_code})"
