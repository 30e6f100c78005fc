"""GET /directoryObjects/{id} and POST /directoryObjects/getByIds (raw HTTP)."""

from __future__ import annotations

import httpx

from tests.sim.conftest import ADMIN, oid
from tests.sim.test_auth import bearer, grant


def _au(graph: httpx.Client) -> str:
    r = graph.post("directory/administrativeUnits", json={"displayName": "Sales AU"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_get_directory_object_by_id_answers_with_its_type(graph) -> None:
    au = _au(graph)
    for oid_, type_, name in [
        (oid("user0"), "#microsoft.graph.user", "User 0"),
        (oid("group1"), "#microsoft.graph.group", "Group 1"),
        (oid("sp"), "#microsoft.graph.servicePrincipal", "Export tool"),
        (oid("app"), "#microsoft.graph.application", "Export tool"),
        (au, "#microsoft.graph.administrativeUnit", "Sales AU"),
    ]:
        r = graph.get(f"directoryObjects/{oid_}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["@odata.type"] == type_ and body["displayName"] == name and body["id"] == oid_
        assert body["@odata.context"].endswith("$metadata#directoryObjects/$entity")
    sel = graph.get(f"directoryObjects/{oid('user0')}", params={"$select": "id,userPrincipalName"})
    assert sel.json() == {
        "@odata.context": sel.json()["@odata.context"],
        "@odata.type": "#microsoft.graph.user",
        "id": oid("user0"),
        "userPrincipalName": "user0@contoso.example",
    }
    # Upper-case GUIDs name the same object.
    assert graph.get(f"directoryObjects/{oid('group0').upper()}").status_code == 200


def test_get_directory_object_unknown_or_deleted_is_404(graph) -> None:
    r = graph.get(f"directoryObjects/{oid('nobody')}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "Request_ResourceNotFound"
    assert graph.delete(f"groups/{oid('group2')}").status_code == 204
    assert graph.get(f"directoryObjects/{oid('group2')}").status_code == 404
    # Not a directory object: a CA policy id.
    assert graph.get(f"directoryObjects/{oid('ca0')}").status_code == 404
    assert graph.delete(f"directoryObjects/{oid('group0')}").status_code == 405


def test_key_credential_keys_stay_hidden_through_directory_objects(graph) -> None:
    import base64
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    r = graph.patch(
        f"applications/{oid('app')}",
        json={"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": der}]},
    )
    assert r.status_code == 204, r.text
    assert graph.get(f"directoryObjects/{oid('app')}").json()["keyCredentials"][0]["key"] is None
    sel = graph.get(f"directoryObjects/{oid('app')}", params={"$select": "keyCredentials"}).json()
    assert sel["keyCredentials"][0]["key"] == der
    listed = graph.post("directoryObjects/getByIds", json={"ids": [oid("app")]}).json()["value"]
    assert listed[0]["keyCredentials"][0]["key"] is None


def test_directory_object_permissions(sim) -> None:
    url = f"{sim.graph_url}/directoryObjects"
    assert httpx.get(f"{url}/{oid('group0')}").status_code == 401
    # No directory read permission at all: 403, whatever the id.
    none = bearer(sim)
    assert httpx.get(f"{url}/{oid('group0')}", headers=none).status_code == 403
    assert httpx.get(f"{url}/{oid('nobody')}", headers=none).status_code == 403
    # The read permission of the object's type is enough for that type only.
    grant(sim, "Group.Read.All")
    groups_only = bearer(sim)
    assert httpx.get(f"{url}/{oid('group0')}", headers=groups_only).status_code == 200
    r = httpx.get(f"{url}/{oid('user0')}", headers=groups_only)
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    ids = {"ids": [oid("group0"), oid("group1")]}
    assert httpx.post(f"{url}/getByIds", headers=groups_only, json=ids).status_code == 200
    mixed = {"ids": [oid("group0"), oid("user0")]}
    assert httpx.post(f"{url}/getByIds", headers=groups_only, json=mixed).status_code == 403
    # Directory.Read.All reads every type.
    grant(sim, "Directory.Read.All")
    everything = bearer(sim)
    for target in (oid("user0"), oid("sp"), oid("app")):
        assert httpx.get(f"{url}/{target}", headers=everything).status_code == 200
    assert httpx.post(f"{url}/getByIds", headers=everything, json=mixed).status_code == 200


def test_get_by_ids(graph) -> None:
    au = _au(graph)
    ids = [oid("group1"), oid("nobody"), oid("user1"), oid("sp"), au, oid("ca0"), oid("group1")]
    r = graph.post("directoryObjects/getByIds", json={"ids": ids})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@odata.context"].endswith("$metadata#directoryObjects")
    # Unknown ids (and non-directory ids) are silently left out; duplicates answered once.
    assert [(o["id"], o["@odata.type"]) for o in body["value"]] == [
        (oid("group1"), "#microsoft.graph.group"),
        (oid("user1"), "#microsoft.graph.user"),
        (oid("sp"), "#microsoft.graph.servicePrincipal"),
        (au, "#microsoft.graph.administrativeUnit"),
    ]
    assert "@odata.nextLink" not in body
    typed = graph.post(
        "directoryObjects/getByIds", json={"ids": ids, "types": ["User", "servicePrincipal"]}
    ).json()["value"]
    assert [o["id"] for o in typed] == [oid("user1"), oid("sp")]
    devices = graph.post("directoryObjects/getByIds", json={"ids": ids, "types": ["device"]})
    assert devices.status_code == 200 and devices.json()["value"] == []
    sel = graph.post(
        "directoryObjects/getByIds",
        params={"$select": "displayName"},
        json={"ids": [oid("group0")], "types": ["group"]},
    ).json()["value"]
    assert sel == [{"@odata.type": "#microsoft.graph.group", "displayName": "Group 0"}]


def test_get_by_ids_rejects_bad_requests(graph) -> None:
    post = lambda body: graph.post("directoryObjects/getByIds", json=body)  # noqa: E731
    assert post({"ids": [oid(f"x{i}") for i in range(1000)]}).status_code == 200
    too_many = post({"ids": [oid(f"x{i}") for i in range(1001)]})
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "Request_BadRequest"
    assert post({}).status_code == 400
    assert post({"ids": []}).status_code == 400
    assert post({"ids": ["not-a-guid"]}).status_code == 400
    assert post({"ids": [oid("user0")], "types": ["planet"]}).status_code == 400
    assert graph.get("directoryObjects/getByIds").status_code == 405


def test_get_by_ids_costs_three_resource_units(make_sim) -> None:
    """https://learn.microsoft.com/graph/throttling-limits: base cost 3 (graph-notes said 5)."""
    sim = make_sim(throttle="ru=100/10")
    r = httpx.post(
        f"{sim.graph_url}/directoryObjects/getByIds", headers=ADMIN, json={"ids": [oid("user0")]}
    )
    assert r.status_code == 200 and r.headers["x-ms-resource-unit"] == "3"
    one = httpx.get(f"{sim.graph_url}/directoryObjects/{oid('user0')}", headers=ADMIN)
    assert one.headers["x-ms-resource-unit"] == "1"
