"""Delegated sign-in (device code flow) and directory roles of users and service principals, over raw
HTTP, plus azure-identity's unmodified DeviceCodeCredential against the TLS simulator."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
from typing import Any

import httpx
import pytest

from entragit_sim import Simulator, UnknownUser
from tests.sim.conftest import ADMIN, role_id

DOMAIN = "contosodemo.onmicrosoft.com"
GRAPH_CLI = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CA_SCOPES = "https://graph.microsoft.com/Policy.Read.All https://graph.microsoft.com/Policy.ReadWrite.ConditionalAccess"


def _http(sim: Simulator) -> httpx.Client:
    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(verify=verify, timeout=10)


def _start(c: httpx.Client, sim: Simulator, scope: str, client_id: str = GRAPH_CLI) -> httpx.Response:
    return c.post(sim.device_code_url, data={"client_id": client_id, "scope": f"{scope} openid profile offline_access"})


def _poll(c: httpx.Client, sim: Simulator, device_code: str, client_id: str = GRAPH_CLI) -> httpx.Response:
    return c.post(sim.token_url, data={"grant_type": DEVICE_GRANT, "client_id": client_id, "device_code": device_code})


def _approve(c: httpx.Client, sim: Simulator, user_code: str, upn: str, token: str = "sim-admin") -> httpx.Response:
    return c.post(f"{sim.authority}/_sim/devicecode/approve", headers={"Authorization": f"Bearer {token}"},
                  json={"user_code": user_code, "upn": upn})


def _sign_in(c: httpx.Client, sim: Simulator, user: str, scope: str, client_id: str = GRAPH_CLI) -> str:
    flow = _start(c, sim, scope, client_id).json()
    assert _approve(c, sim, flow["user_code"], f"{user}@{DOMAIN}").status_code == 200
    r = _poll(c, sim, flow["device_code"], client_id)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _whoami(c: httpx.Client, sim: Simulator, token: str) -> dict[str, Any]:
    r = c.get(f"{sim.authority}/_sim/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _user_id(c: httpx.Client, sim: Simulator, user: str) -> str:
    return str(c.get(f"{sim.graph_url}/users/{user}@{DOMAIN}", headers=ADMIN).json()["id"])


def _ca_policy(name: str) -> dict[str, Any]:
    return {"displayName": name, "state": "disabled",
            "conditions": {"users": {"includeUsers": ["None"]}, "applications": {"includeApplications": ["All"]},
                           "clientAppTypes": ["all"]},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}


def test_device_code_flow_over_raw_http(make_sim) -> None:
    sim = make_sim(seed="demo")
    with _http(sim) as c:
        flow = _start(c, sim, "https://graph.microsoft.com/.default")
        assert flow.status_code == 200, flow.text
        body = flow.json()
        assert set(body) == {"user_code", "device_code", "verification_uri", "expires_in", "interval", "message"}
        assert body["user_code"] in body["message"] and body["verification_uri"] in body["message"]
        assert c.get(body["verification_uri"]).status_code == 200
        pending = _poll(c, sim, body["device_code"])
        assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
        assert "AADSTS70016" in pending.json()["error_description"]
        # Approval is the dev token's alone, and names a real user.
        unknown = _approve(c, sim, body["user_code"], f"nobody@{DOMAIN}")
        assert unknown.status_code == 404 and f"nobody@{DOMAIN}" in unknown.json()["error"]["message"]
        assert _approve(c, sim, "NOSUCHCODE", f"bg-admin-01@{DOMAIN}").status_code == 404
        assert _approve(c, sim, body["user_code"], f"bg-admin-01@{DOMAIN}").status_code == 200
        done = _poll(c, sim, body["device_code"])
        assert done.status_code == 200, done.text
        tokens = done.json()
        assert {"access_token", "refresh_token", "id_token", "client_info"} <= set(tokens)
        # A device code is redeemed once.
        assert _poll(c, sim, body["device_code"]).json()["error"] == "invalid_grant"
        me = _whoami(c, sim, tokens["access_token"])
        assert me["delegated"] and me["userId"] == _user_id(c, sim, "bg-admin-01")
        assert me["appId"] == GRAPH_CLI and me["directoryRoles"] == [role_id("Global Administrator")]
        # .default from a well-known client: every delegated Graph permission the simulator knows.
        assert {"Policy.ReadWrite.ConditionalAccess", "Directory.Read.All"} <= set(me["permissions"])
        payload = tokens["access_token"].split(".")[1]
        import base64

        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["idtyp"] == "user" and claims["upn"] == f"bg-admin-01@{DOMAIN}"
        assert "Policy.ReadWrite.ConditionalAccess" in claims["scp"].split()
        assert claims["wids"] == [role_id("Global Administrator")]
        # The refresh token buys a new access token once; a non-admin token can't approve codes.
        again = c.post(sim.token_url, data={"grant_type": "refresh_token", "client_id": GRAPH_CLI,
                                            "refresh_token": tokens["refresh_token"]})
        assert again.status_code == 200 and _whoami(c, sim, again.json()["access_token"])["delegated"]
        assert c.post(sim.token_url, data={"grant_type": "refresh_token", "client_id": GRAPH_CLI,
                                           "refresh_token": tokens["refresh_token"]}).status_code == 400
        other = _start(c, sim, CA_SCOPES).json()
        assert _approve(c, sim, other["user_code"], f"bg-admin-01@{DOMAIN}",
                        token=tokens["access_token"]).status_code == 403


def test_public_clients_only(make_sim) -> None:
    sim = make_sim(seed="demo", user=f"bg-admin-01@{DOMAIN}")
    with _http(sim) as c:
        assert _start(c, sim, CA_SCOPES, client_id="00000000-1111-2222-3333-444444444444").json()["error"] \
            == "unauthorized_client"
        apps = c.get(f"{sim.graph_url}/applications", headers=ADMIN).json()["value"]
        reader = next(a for a in apps if a["displayName"] == "entragit-reader")
        flow = _start(c, sim, CA_SCOPES, client_id=reader["appId"]).json()
        refused = _poll(c, sim, flow["device_code"], client_id=reader["appId"])
        assert refused.status_code == 401 and "AADSTS7000218" in refused.json()["error_description"]
        # A tenant app that is a public client signs in; .default = its consented Graph scopes.
        app = c.post(f"{sim.graph_url}/applications", headers=ADMIN,
                     json={"displayName": "admin-cli", "isFallbackPublicClient": True}).json()
        sp = c.post(f"{sim.graph_url}/servicePrincipals", headers=ADMIN, json={"appId": app["appId"]}).json()
        graph_sp = c.get(f"{sim.graph_url}/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')",
                         headers=ADMIN).json()
        r = c.post(f"{sim.graph_url}/oauth2PermissionGrants", headers=ADMIN, json={
            "clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": graph_sp["id"],
            "scope": "Policy.Read.All Group.Read.All"})
        assert r.status_code == 201, r.text
        flow = _start(c, sim, "https://graph.microsoft.com/.default", client_id=app["appId"]).json()
        token = _poll(c, sim, flow["device_code"], client_id=app["appId"]).json()["access_token"]
        assert _whoami(c, sim, token)["permissions"] == ["Group.Read.All", "Policy.Read.All"]
        # Azure CLI is a well-known public client too.
        flow = _start(c, sim, CA_SCOPES, client_id=AZURE_CLI).json()
        assert _poll(c, sim, flow["device_code"], client_id=AZURE_CLI).status_code == 200


def test_effective_rights_are_scopes_and_roles(make_sim) -> None:
    """https://learn.microsoft.com/graph/auth/auth-concepts#delegated-access: both must allow it."""
    sim = make_sim(seed="demo")
    ca = f"{sim.beta_url}/identity/conditionalAccess/policies"
    with _http(sim) as c:
        # daniel.okafor holds no role in the demo seed; make him Global Reader.
        r = c.post(f"{sim.graph_url}/roleManagement/directory/roleAssignments", headers=ADMIN, json={
            "principalId": _user_id(c, sim, "daniel.okafor"), "roleDefinitionId": role_id("Global Reader"),
            "directoryScopeId": "/"})
        assert r.status_code == 201, r.text
        reader = _sign_in(c, sim, "daniel.okafor", CA_SCOPES)
        auth = {"Authorization": f"Bearer {reader}"}
        assert _whoami(c, sim, reader)["directoryRoles"] == [role_id("Global Reader")]
        assert c.get(ca, headers=auth).status_code == 200
        denied = c.post(ca, headers=auth, json=_ca_policy("by a reader"))
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
        # tomas.ortega is Conditional Access Administrator through the role-assignable group role-ca-admins.
        admin = _sign_in(c, sim, "tomas.ortega", CA_SCOPES)
        assert role_id("Conditional Access Administrator") in _whoami(c, sim, admin)["directoryRoles"]
        made = c.post(ca, headers={"Authorization": f"Bearer {admin}"}, json=_ca_policy("by a CA admin"))
        assert made.status_code == 201, made.text
        # A Global Administrator without the write scope can read but not write.
        narrow = _sign_in(c, sim, "bg-admin-01", "https://graph.microsoft.com/Policy.Read.All")
        assert c.get(ca, headers={"Authorization": f"Bearer {narrow}"}).status_code == 200
        assert c.post(ca, headers={"Authorization": f"Bearer {narrow}"},
                      json=_ca_policy("no scope")).status_code == 403
        # A user with no role at all gets nothing, whatever the scopes.
        nobody = _sign_in(c, sim, "emma.lindqvist", CA_SCOPES)
        assert c.get(ca, headers={"Authorization": f"Bearer {nobody}"}).status_code == 403


def test_service_principal_directory_roles_show_in_the_caller(make_sim) -> None:
    sim = make_sim(seed="demo")
    with _http(sim) as c:
        apps = c.get(f"{sim.graph_url}/applications", headers=ADMIN).json()["value"]
        app = next(a for a in apps if a["displayName"] == "entragit-automation")
        sp = c.get(f"{sim.graph_url}/servicePrincipals(appId='{app['appId']}')", headers=ADMIN).json()
        au = c.get(f"{sim.graph_url}/directory/administrativeUnits", headers=ADMIN).json()["value"][0]
        assignments = f"{sim.graph_url}/roleManagement/directory/roleAssignments"
        for role, scope in (("Global Reader", "/"),
                            ("Privileged Authentication Administrator", f"/administrativeUnits/{au['id']}")):
            r = c.post(assignments, headers=ADMIN, json={"principalId": sp["id"], "roleDefinitionId": role_id(role),
                                                         "directoryScopeId": scope})
            assert r.status_code == 201, r.text
        secret = c.post(f"{sim.graph_url}/applications/{app['id']}/addPassword", headers=ADMIN, json={}).json()
        r = c.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": app["appId"],
                                        "client_secret": secret["secretText"],
                                        "scope": "https://graph.microsoft.com/.default"})
        assert r.status_code == 200, r.text
        me = _whoami(c, sim, r.json()["access_token"])
        assert not me["delegated"] and me["servicePrincipalId"] == sp["id"]
        assert me["directoryRoles"] == [role_id("Global Reader")]
        assert me["scopedRoles"] == {au["id"]: [role_id("Privileged Authentication Administrator")]}
        assert "Policy.ReadWrite.ConditionalAccess" in me["permissions"]  # app role assignments, as before


def test_device_code_credential_signs_in_against_the_tls_simulator(make_sim) -> None:
    identity = pytest.importorskip("azure.identity")
    sim = make_sim(seed="demo", tls=True, user=f"hannah.schmidt@{DOMAIN}")
    prompts: list[tuple[str, str]] = []
    cred = identity.DeviceCodeCredential(
        client_id=GRAPH_CLI, tenant_id=sim.tenant_id, authority=sim.authority, disable_instance_discovery=True,
        connection_verify=sim.ca_bundle, prompt_callback=lambda url, code, _exp: prompts.append((url, code)))
    token = cred.get_token("https://graph.microsoft.com/.default")
    assert len(prompts) == 1 and prompts[0][0].startswith("https://")
    with _http(sim) as c:
        me = _whoami(c, sim, token.token)
        assert me["userId"] == _user_id(c, sim, "hannah.schmidt")
        assert role_id("Security Administrator") in me["directoryRoles"]
        r = c.get(f"{sim.graph_url}/identity/conditionalAccess/policies",
                  headers={"Authorization": f"Bearer {token.token}"})
        assert r.status_code == 200
    # The second request is served from the credential's cache and refresh token: no new prompt.
    assert cred.get_token("https://graph.microsoft.com/.default").token and len(prompts) == 1


def test_device_code_credential_with_approval_by_the_test(make_sim) -> None:
    identity = pytest.importorskip("azure.identity")
    sim = make_sim(seed="demo", tls=True)

    def approve(_url: str, code: str, _exp: Any) -> None:
        with _http(sim) as c:
            assert _approve(c, sim, code, f"priya.raman@{DOMAIN}").status_code == 200

    cred = identity.DeviceCodeCredential(
        client_id=AZURE_CLI, tenant_id=sim.tenant_id, authority=sim.authority, disable_instance_discovery=True,
        connection_verify=sim.ca_bundle, prompt_callback=approve)
    token = cred.get_token("https://graph.microsoft.com/RoleManagement.ReadWrite.Directory")
    with _http(sim) as c:
        me = _whoami(c, sim, token.token)
    assert me["permissions"] == ["RoleManagement.ReadWrite.Directory"]
    assert me["directoryRoles"] == [role_id("Privileged Role Administrator")]


def test_unknown_user_is_a_clear_error() -> None:
    with pytest.raises(UnknownUser, match="nobody@contosodemo"):
        Simulator(seed="demo", user=f"nobody@{DOMAIN}")


def test_serve_tls_with_a_user_from_the_command_line() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from entragit.cli import main; main()", "sim", "serve", "--tls",
         "--user", f"bg-admin-02@{DOMAIN}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline() if proc.stdout else "{}")
        base = info["graph_url"].rsplit("/v1.0", 1)[0]
        verify = ssl.create_default_context(cafile=info["ca_bundle"])
        with httpx.Client(verify=verify, timeout=10) as c:
            flow = c.post(info["token_url"].replace("/token", "/devicecode"),
                          data={"client_id": GRAPH_CLI, "scope": CA_SCOPES}).json()
            r = c.post(info["token_url"], data={"grant_type": DEVICE_GRANT, "client_id": GRAPH_CLI,
                                                "device_code": flow["device_code"]})
            assert r.status_code == 200, r.text
            me = c.get(f"{base}/_sim/whoami", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
            assert me["directoryRoles"] == [role_id("Global Administrator")]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    bad = subprocess.run([sys.executable, "-c", "from entragit.cli import main; main()", "sim", "serve",
                          "--user", f"nobody@{DOMAIN}"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 64 and f"no user with userPrincipalName 'nobody@{DOMAIN}'" in bad.stderr


def test_a_conditional_access_administrator_restores_and_purges_deleted_policies(make_sim) -> None:
    # Restore/purge of deleted CA policies: not supported for apps, open to a signed-in CA or Security
    # Administrator (https://learn.microsoft.com/graph/api/conditionalaccesspolicy-restore?view=graph-rest-beta).
    sim = make_sim(seed="demo")
    beta = sim.graph_url.replace("/v1.0", "/beta")
    bin_ = f"{beta}/identity/conditionalAccess/deletedItems/policies"
    with _http(sim) as c:
        made = [c.post(f"{beta}/identity/conditionalAccess/policies", headers=ADMIN, json=_ca_policy(f"probe {i}")).json()
                for i in range(2)]
        for p in made:
            assert c.delete(f"{beta}/identity/conditionalAccess/policies/{p['id']}", headers=ADMIN).status_code == 204
        admin = {"Authorization": f"Bearer {_sign_in(c, sim, 'tomas.ortega', CA_SCOPES)}"}
        r = c.post(f"{bin_}/{made[0]['id']}/restore", headers=admin)
        assert r.status_code == 200 and r.json()["id"] == made[0]["id"], r.text
        assert c.delete(f"{bin_}/{made[1]['id']}", headers=admin).status_code == 204
        # The same scopes without the role are refused (daniel.okafor holds no role in the demo seed).
        reader = {"Authorization": f"Bearer {_sign_in(c, sim, 'daniel.okafor', CA_SCOPES)}"}
        p = c.post(f"{beta}/identity/conditionalAccess/policies", headers=ADMIN, json=_ca_policy("probe 3")).json()
        assert c.delete(f"{beta}/identity/conditionalAccess/policies/{p['id']}", headers=ADMIN).status_code == 204
        assert c.post(f"{bin_}/{p['id']}/restore", headers=reader).status_code == 403
