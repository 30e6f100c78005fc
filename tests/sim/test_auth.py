"""Bearer tokens, the client-credentials endpoint, per-endpoint permissions and TLS (graph-notes 7, 13)."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl

import httpx
import pytest

from entragit_sim.builtins import GRAPH_PERMISSIONS, graph_sp_id
from tests.sim.conftest import ADMIN, oid

APP_ID, SECRET = oid("appId"), "seed-secret-1"


def grant(sim, *perms: str) -> None:
    gsp = graph_sp_id(sim.tenant_id)
    for p in perms:
        r = httpx.post(
            f"{sim.graph_url}/servicePrincipals/{gsp}/appRoleAssignedTo",
            headers=ADMIN,
            json={"principalId": oid("sp"), "resourceId": gsp, "appRoleId": GRAPH_PERMISSIONS[p]},
            verify=ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True,
        )
        assert r.status_code == 201, r.text


def token(sim, client_id: str = APP_ID, secret: str = SECRET, **kw) -> httpx.Response:
    return httpx.post(
        sim.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "https://graph.microsoft.com/.default",
        },
        **kw,
    )


def bearer(sim) -> dict[str, str]:
    r = token(sim)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_missing_or_bad_token_is_401(sim) -> None:
    r = httpx.get(f"{sim.graph_url}/groups")
    assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationToken"
    r = httpx.get(f"{sim.graph_url}/groups", headers={"Authorization": "Bearer a.b.c"})
    assert r.status_code == 401


def test_token_endpoint_and_roles(sim) -> None:
    grant(sim, "Group.Read.All", "Policy.Read.All")
    r = token(sim)
    assert r.status_code == 200 and r.json()["expires_in"] >= 3599
    payload = r.json()["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["tid"] == sim.tenant_id and claims["appid"] == APP_ID
    assert sorted(claims["roles"]) == ["Group.Read.All", "Policy.Read.All"]
    assert token(sim, secret="wrong").json()["error"] == "invalid_client"
    assert token(sim, client_id=oid("nobody")).status_code == 400
    bad_tenant = httpx.post(
        sim.token_url.replace(sim.tenant_id, oid("other")),
        data={"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": SECRET},
    )
    assert bad_tenant.status_code == 400


def test_added_password_works_and_removed_one_does_not(sim) -> None:
    pw = httpx.post(
        f"{sim.graph_url}/applications/{oid('app')}/addPassword", headers=ADMIN, json={}
    ).json()
    assert token(sim, secret=pw["secretText"]).status_code == 200
    httpx.post(
        f"{sim.graph_url}/applications/{oid('app')}/removePassword",
        headers=ADMIN,
        json={"keyId": pw["keyId"]},
    )
    assert token(sim, secret=pw["secretText"]).status_code == 401


def test_permissions_are_checked(sim) -> None:
    grant(sim, "Group.Read.All", "Directory.Read.All")
    h = bearer(sim)
    assert httpx.get(f"{sim.graph_url}/groups", headers=h).status_code == 200
    assert (
        httpx.get(f"{sim.graph_url}/users", headers=h).status_code == 200
    )  # Directory.Read.All covers users
    denied = httpx.post(
        f"{sim.graph_url}/groups",
        headers=h,
        json={
            "displayName": "x",
            "mailEnabled": False,
            "mailNickname": "x",
            "securityEnabled": True,
        },
    )
    assert denied.status_code == 403
    assert denied.json()["error"] == {
        **denied.json()["error"],
        "code": "Authorization_RequestDenied",
        "message": "Insufficient privileges to complete the operation.",
    }
    # Directory.Read.All does not reach the policy store.
    assert (
        httpx.get(f"{sim.graph_url}/identity/conditionalAccess/policies", headers=h).status_code
        == 403
    )
    assert httpx.get(f"{sim.graph_url}/auditLogs/directoryAudits", headers=h).status_code == 403


def test_readwrite_implies_read_and_ca_write_needs_both(sim) -> None:
    grant(sim, "Policy.ReadWrite.ConditionalAccess")
    h = bearer(sim)
    body = {
        "displayName": "x",
        "state": "disabled",
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
        },
    }
    assert (
        httpx.post(
            f"{sim.graph_url}/identity/conditionalAccess/policies", headers=h, json=body
        ).status_code
        == 403
    )
    grant(sim, "Policy.Read.All")
    h = bearer(sim)
    assert (
        httpx.post(
            f"{sim.graph_url}/identity/conditionalAccess/policies", headers=h, json=body
        ).status_code
        == 201
    )
    grant(sim, "Group.ReadWrite.All")
    assert httpx.get(f"{sim.graph_url}/groups", headers=bearer(sim)).status_code == 200


def test_group_membership_permission(sim) -> None:
    grant(sim, "GroupMember.ReadWrite.All")
    h = bearer(sim)
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{oid('user1')}"}
    assert (
        httpx.post(
            f"{sim.graph_url}/groups/{oid('group0')}/members/$ref", headers=h, json=ref
        ).status_code
        == 204
    )
    assert (
        httpx.get(f"{sim.graph_url}/groups/{oid('group0')}/members", headers=h).status_code == 200
    )
    assert (
        httpx.patch(
            f"{sim.graph_url}/groups/{oid('group0')}", headers=h, json={"description": "x"}
        ).status_code
        == 403
    )


def test_token_reaches_tls_simulator_through_azure_identity_and_msgraph_core(make_sim) -> None:
    azure_identity = pytest.importorskip("azure.identity.aio")
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph_core import BaseGraphRequestAdapter, GraphClientFactory

    sim = make_sim(tls=True)
    grant(sim, "Group.Read.All")
    assert sim.graph_url.startswith("https://") and sim.ca_bundle

    async def run() -> tuple[list[str], int]:
        cred = azure_identity.ClientSecretCredential(
            sim.tenant_id,
            APP_ID,
            SECRET,
            authority=sim.authority,
            disable_instance_discovery=True,
            connection_verify=sim.ca_bundle,
            retry_total=0,
        )
        client = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=sim.ca_bundle))
        )
        provider = AzureIdentityAuthenticationProvider(
            cred, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=["127.0.0.1"]
        )
        adapter = BaseGraphRequestAdapter(provider, http_client=client)
        adapter.base_url = sim.graph_url
        info = RequestInformation()
        info.http_method = Method.GET
        info.url = f"{sim.graph_url}/groups"
        raw = await adapter.send_primitive_async(info, "bytes", {})
        names = sorted(g["displayName"] for g in json.loads(raw)["value"])
        post = RequestInformation()
        post.http_method = Method.POST
        post.url = f"{sim.graph_url}/groups"
        post.headers.try_add("Content-Type", "application/json")
        post.content = json.dumps(
            {"displayName": "x", "mailEnabled": False, "mailNickname": "x", "securityEnabled": True}
        ).encode()
        from kiota_abstractions.native_response_handler import NativeResponseHandler
        from kiota_http.middleware.options import ResponseHandlerOption

        post.add_request_options([ResponseHandlerOption(NativeResponseHandler())])
        resp = await adapter.send_async(post, None, {})
        await cred.close()
        return names, resp.status_code

    names, write_status = asyncio.run(run())
    assert names == ["Group 0", "Group 1", "Group 2"]
    assert write_status == 403
