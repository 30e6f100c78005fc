"""Certificate and workload-identity (federated) client credentials at the token endpoint, and
the Graph surface that registers them: keyCredentials and federatedIdentityCredentials.

Raw HTTP for the protocol details; azure-identity's real CertificateCredential and
WorkloadIdentityCredential (sync and async) against the TLS simulator for the end-to-end path."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import ssl
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.sim.conftest import ADMIN, oid
from tests.sim.test_auth import APP_ID, SECRET, grant, token

GH_ISSUER = "https://token.actions.githubusercontent.com"
GH_SUBJECT = "repo:contoso/entra-config:ref:refs/heads/main"
FIC_AUD = "api://AzureADTokenExchange"
SCOPE = "https://graph.microsoft.com/.default"


# -- helpers -------------------------------------------------------------------------------------
class Cert:
    """A throwaway RSA key + self-signed certificate, generated per test (nothing is committed)."""

    def __init__(self, cn: str = "entragit-test", days: int = 2, *, start_days: int = 0) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=start_days)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .sign(self.key, hashes.SHA256())
        )
        self.der = self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_b64(self) -> str:
        return base64.b64encode(self.der).decode()

    def pem_file(self, folder: Path) -> str:
        path = folder / f"{uuid.uuid4().hex}.pem"
        path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + self.cert.public_bytes(serialization.Encoding.PEM)
        )
        return str(path)

    def assertion(self, audience: str, client_id: str = APP_ID, **over: Any) -> str:
        """What an ADFS-style/older client sends: RS256, header x5t = base64url SHA-1 thumbprint."""
        now = int(time.time())
        claims = {
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "nbf": now,
            "exp": now + 600,
            **over,
        }
        header = {"alg": "RS256", "typ": "JWT", "x5t": b64u(hashlib.sha1(self.der).digest())}
        signing = f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(claims).encode())}"
        sig = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{b64u(sig)}"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def external_token(
    iss: str = GH_ISSUER, sub: str = GH_SUBJECT, aud: str = FIC_AUD, alg: str = "RS256", **over: Any
) -> str:
    """A token as GitHub's OIDC provider would issue it (signed with a key the sim never sees)."""
    now = int(time.time())
    claims = {"iss": iss, "sub": sub, "aud": aud, "iat": now, "nbf": now, "exp": now + 600, **over}
    head = b64u(json.dumps({"alg": alg, "typ": "JWT", "kid": "gh-key-1"}).encode())
    body = b64u(json.dumps(claims).encode())
    return f"{head}.{body}." + ("" if alg == "none" else b64u(b"not-a-signature-the-sim-can-check"))


def claims_of(access_token: str) -> dict[str, Any]:
    part = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def verify(sim: Any) -> Any:
    return ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True


def graph(sim: Any, headers: dict[str, str] = ADMIN) -> httpx.Client:
    return httpx.Client(base_url=sim.graph_url, headers=headers, verify=verify(sim), timeout=10)


def add_cert(sim: Any, cert: Cert, app: str = oid("app"), **extra: Any) -> dict[str, Any]:
    with graph(sim) as c:
        r = c.patch(
            f"/applications/{app}",
            json={
                "keyCredentials": [
                    {"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert.key_b64, **extra}
                ]
            },
        )
        assert r.status_code == 204, r.text
        return c.get(f"/applications/{app}").json()["keyCredentials"][0]


def add_fic(sim: Any, app: str = oid("app"), **body: Any) -> dict[str, Any]:
    body = {"name": "github-main", "issuer": GH_ISSUER, "subject": GH_SUBJECT, **body}
    with graph(sim) as c:
        r = c.post(f"/applications/{app}/federatedIdentityCredentials", json=body)
        assert r.status_code == 201, r.text
        return r.json()


def assertion_token(sim: Any, assertion: str, client_id: str = APP_ID) -> httpx.Response:
    return httpx.post(
        sim.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": SCOPE,
        },
        verify=verify(sim),
    )


def aadsts(resp: httpx.Response) -> tuple[int, str, str]:
    body = resp.json()
    return resp.status_code, body["error"], body["error_description"].split(":", 1)[0]


def kw(sim: Any) -> dict[str, Any]:
    return {
        "authority": sim.authority,
        "disable_instance_discovery": True,
        "connection_verify": sim.ca_bundle,
        "retry_total": 0,
    }


# -- keyCredentials on the Graph side ------------------------------------------------------------
def test_patch_key_credentials_fills_thumbprint_and_hides_key(sim) -> None:
    cert = Cert("reader-cert")
    got = add_cert(sim, cert, displayName=None)
    assert got["key"] is None, "Graph returns key as null on a plain GET"
    assert got["customKeyIdentifier"] == base64.b64encode(hashlib.sha1(cert.der).digest()).decode()
    assert uuid.UUID(got["keyId"]) and got["displayName"] == "CN=reader-cert"
    assert got["type"] == "AsymmetricX509Cert" and got["usage"] == "Verify"
    assert got["startDateTime"] < got["endDateTime"]
    with graph(sim) as c:
        listed = c.get("/applications").json()["value"][0]["keyCredentials"]
        assert [k["key"] for k in listed] == [None]
        one = c.get(f"/applications/{oid('app')}", params={"$select": "keyCredentials"}).json()
        assert one["keyCredentials"][0]["key"] == cert.key_b64, (
            "...but does on $select of one object"
        )
        # A read-modify-write that sends the null key back keeps the registered certificate.
        plain = c.get(f"/applications/{oid('app')}").json()["keyCredentials"]
        assert (
            c.patch(f"/applications/{oid('app')}", json={"keyCredentials": plain}).status_code
            == 204
        )
        again = c.get(f"/applications/{oid('app')}", params={"$select": "keyCredentials"}).json()
        assert again["keyCredentials"][0]["key"] == cert.key_b64
        bad = c.patch(
            f"/applications/{oid('app')}",
            json={
                "keyCredentials": [
                    {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}
                ]
            },
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_BadRequest"


# -- certificate client assertions: raw HTTP -----------------------------------------------------
def test_rs256_x5t_assertion_gets_a_token_with_the_apps_roles(sim) -> None:
    grant(sim, "Group.Read.All", "Policy.Read.All")
    cert = Cert()
    add_cert(sim, cert)
    r = assertion_token(sim, cert.assertion(sim.token_url))
    assert r.status_code == 200, r.text
    claims = claims_of(r.json()["access_token"])
    assert claims["appid"] == APP_ID and claims["roles"] == ["Group.Read.All", "Policy.Read.All"]
    groups = httpx.get(
        f"{sim.graph_url}/groups", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert groups.status_code == 200
    # The v1 token endpoint path is an accepted audience too.
    v1 = sim.token_url.replace("/oauth2/v2.0/token", "/oauth2/token")
    assert assertion_token(sim, cert.assertion(v1)).status_code == 200


def test_certificate_assertions_that_are_refused(sim) -> None:
    cert, stranger = Cert(), Cert("not-registered")
    add_cert(sim, cert)
    url = sim.token_url
    # A certificate the app does not have.
    assert aadsts(assertion_token(sim, stranger.assertion(url))) == (
        401,
        "invalid_client",
        "AADSTS700027",
    )
    # Signed by another key than the one whose thumbprint the header names.
    forged = cert.assertion(url).rsplit(".", 1)[0] + "." + stranger.assertion(url).rsplit(".", 1)[1]
    assert aadsts(assertion_token(sim, forged))[2] == "AADSTS700027"
    # Expired assertion.
    old = int(time.time()) - 3600
    expired = cert.assertion(url, nbf=old - 600, exp=old)
    assert aadsts(assertion_token(sim, expired)) == (400, "invalid_client", "AADSTS700024")
    # Wrong audience.
    assert (
        aadsts(
            assertion_token(
                sim, cert.assertion("https://login.microsoftonline.com/x/oauth2/v2.0/token")
            )
        )[2]
        == "AADSTS700023"
    )
    # iss/sub must both be the client id.
    assert aadsts(assertion_token(sim, cert.assertion(url, sub=oid("other"))))[2] == "AADSTS700021"
    # Not a JWT at all.
    assert aadsts(assertion_token(sim, "garbage")) == (400, "invalid_request", "AADSTS50027")
    # Unknown app.
    assert (
        assertion_token(
            sim, cert.assertion(url, client_id=oid("nobody")), oid("nobody")
        ).status_code
        == 400
    )


def test_a_removed_or_expired_certificate_no_longer_signs_in(sim) -> None:
    cert = Cert()
    add_cert(sim, cert)
    assert assertion_token(sim, cert.assertion(sim.token_url)).status_code == 200
    with graph(sim) as c:
        assert (
            c.patch(f"/applications/{oid('app')}", json={"keyCredentials": []}).status_code == 204
        )
    assert aadsts(assertion_token(sim, cert.assertion(sim.token_url)))[2] == "AADSTS700027"
    add_cert(sim, cert, endDateTime="2020-01-01T00:00:00Z", startDateTime="2019-01-01T00:00:00Z")
    r = assertion_token(sim, cert.assertion(sim.token_url))
    assert aadsts(r)[2] == "AADSTS700027" and "expired" in r.json()["error_description"]


def test_secret_path_unchanged_and_no_credential_at_all_is_named(sim) -> None:
    assert token(sim).status_code == 200
    r = token(sim, secret="")
    assert aadsts(r) == (401, "invalid_client", "AADSTS7000216")
    assert token(sim, secret="wrong").json()["error_description"].startswith("AADSTS7000215")


# -- federatedIdentityCredentials on the Graph side ----------------------------------------------
def test_federated_identity_credentials_crud(sim) -> None:
    base = f"/applications/{oid('app')}/federatedIdentityCredentials"
    made = add_fic(sim, description="main branch deploys")
    assert made["audiences"] == [FIC_AUD] and made["issuer"] == GH_ISSUER
    assert set(made) == {
        "@odata.context",
        "id",
        "name",
        "issuer",
        "subject",
        "description",
        "audiences",
    }
    with graph(sim) as c:
        assert [f["id"] for f in c.get(base).json()["value"]] == [made["id"]]
        assert c.get(f"{base}/{made['id']}").json()["subject"] == GH_SUBJECT
        assert c.get(f"{base}(name='github-main')").json()["id"] == made["id"]
        assert (
            c.patch(
                f"{base}/{made['id']}", json={"subject": "repo:contoso/x:environment:prod"}
            ).status_code
            == 204
        )
        assert c.get(f"{base}/{made['id']}").json()["subject"] == "repo:contoso/x:environment:prod"
        # name is immutable and unique; issuer+subject pairs are unique; name is 3-120 URL-safe chars.
        assert c.patch(f"{base}/{made['id']}", json={"name": "renamed"}).status_code == 400
        dup = {"name": "GitHub-Main", "issuer": GH_ISSUER, "subject": "repo:a/b:pull_request"}
        assert c.post(base, json=dup).status_code == 400
        same_pair = {
            "name": "other",
            "issuer": GH_ISSUER,
            "subject": "repo:contoso/x:environment:prod",
        }
        assert c.post(base, json=same_pair).status_code == 400
        assert (
            c.post(base, json={"name": "a b", "issuer": GH_ISSUER, "subject": "s"}).status_code
            == 400
        )
        assert c.post(base, json={"name": "no-issuer", "subject": "s"}).status_code == 400
        # Upsert by name.
        up = c.patch(
            f"{base}(name='pr-builds')",
            json={"issuer": GH_ISSUER, "subject": "repo:a/b:pull_request"},
        )
        assert up.status_code == 201 and up.json()["name"] == "pr-builds"
        assert len(c.get(base).json()["value"]) == 2
        # A navigation property: never inline on the application, never writable through it...
        app = c.get(f"/applications/{oid('app')}").json()
        assert "federatedIdentityCredentials" not in app
        assert (
            c.patch(
                f"/applications/{oid('app')}", json={"federatedIdentityCredentials": []}
            ).status_code
            == 400
        )
        # ...but $expand shows it.
        exp = c.get(
            f"/applications/{oid('app')}", params={"$expand": "federatedIdentityCredentials"}
        ).json()
        assert len(exp["federatedIdentityCredentials"]) == 2
        assert c.delete(f"{base}(name='pr-builds')").status_code == 204
        assert c.delete(f"{base}/{made['id']}").status_code == 204
        assert c.get(f"{base}/{made['id']}").status_code == 404
        assert c.get(base).json()["value"] == []
        assert c.get(f"/applications/{oid('nope')}/federatedIdentityCredentials").status_code == 404
        audit = c.get("/auditLogs/directoryAudits").json()["value"][0]
        assert (
            audit["targetResources"][0]["modifiedProperties"][0]["displayName"]
            == "FederatedIdentityCredentials"
        )


def test_federated_credentials_permissions_and_restore(sim) -> None:
    grant(sim, "Application.Read.All")
    token_ro = token(sim).json()["access_token"]
    add_fic(sim)
    base = f"/applications/{oid('app')}/federatedIdentityCredentials"
    with graph(sim, {"Authorization": f"Bearer {token_ro}"}) as c:
        assert c.get(base).status_code == 200
        denied = c.post(base, json={"name": "x-y-z", "issuer": GH_ISSUER, "subject": "s"})
        assert (
            denied.status_code == 403
            and denied.json()["error"]["code"] == "Authorization_RequestDenied"
        )
    grant(sim, "Application.ReadWrite.All")
    token_rw = token(sim).json()["access_token"]
    with graph(sim, {"Authorization": f"Bearer {token_rw}"}) as c:
        assert (
            c.post(base, json={"name": "x-y-z", "issuer": GH_ISSUER, "subject": "s"}).status_code
            == 201
        )
    # They belong to the application: soft delete + restore brings them back.
    with graph(sim) as c:
        assert c.delete(f"/applications/{oid('app')}").status_code == 204
        assert c.post(f"/directory/deletedItems/{oid('app')}/restore").status_code == 200
        assert len(c.get(base).json()["value"]) == 2


# -- federated assertions: raw HTTP --------------------------------------------------------------
def test_federated_assertion_claims_are_matched(sim) -> None:
    grant(sim, "Group.Read.All")
    add_fic(sim)
    ok = assertion_token(sim, external_token())
    assert ok.status_code == 200, ok.text
    assert claims_of(ok.json()["access_token"])["roles"] == ["Group.Read.All"]
    assert assertion_token(sim, external_token(alg="HS256")).status_code == 200  # unverified
    assert aadsts(
        assertion_token(sim, external_token(sub="repo:contoso/evil:ref:refs/heads/main"))
    ) == (
        400,
        "invalid_client",
        "AADSTS700213",
    )
    assert (
        aadsts(assertion_token(sim, external_token(iss="https://evil.example")))[2]
        == "AADSTS700211"
    )
    assert aadsts(assertion_token(sim, external_token(aud="api://other")))[2] == "AADSTS700212"
    old = int(time.time()) - 7200
    assert aadsts(assertion_token(sim, external_token(nbf=old - 600, exp=old))) == (
        400,
        "invalid_client",
        "AADSTS700024",
    )
    assert aadsts(assertion_token(sim, external_token(alg="none")))[2] == "AADSTS700027"
    # A federated credential of another application does not sign this one in.
    with graph(sim) as c:
        other = c.post("/applications", json={"displayName": "Other"}).json()
        assert c.post("/servicePrincipals", json={"appId": other["appId"]}).status_code == 201
    refused = assertion_token(sim, external_token(), client_id=other["appId"])
    assert aadsts(refused)[2] == "AADSTS700211"


# -- the real azure-identity credential classes against the TLS simulator ------------------------
@pytest.fixture
def tls_sim(make_sim: Any) -> Any:
    s = make_sim(tls=True)
    grant(s, "Group.Read.All", "Policy.Read.All")
    return s


def test_real_certificate_credential_sync_and_async(tls_sim, tmp_path) -> None:
    azure_identity = pytest.importorskip("azure.identity")
    from azure.identity import aio

    cert = Cert()
    add_cert(tls_sim, cert)
    pem = cert.pem_file(tmp_path)
    sync = azure_identity.CertificateCredential(tls_sim.tenant_id, APP_ID, pem, **kw(tls_sim))
    assert claims_of(sync.get_token(SCOPE).token)["roles"] == ["Group.Read.All", "Policy.Read.All"]

    async def run() -> str:
        cred = aio.CertificateCredential(tls_sim.tenant_id, APP_ID, pem, **kw(tls_sim))
        try:
            return (await cred.get_token(SCOPE)).token
        finally:
            await cred.close()

    assert claims_of(asyncio.run(run()))["appid"] == APP_ID
    posts = [r for r in tls_sim.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert [r.status for r in posts] == [200, 200]


def test_real_certificate_credential_with_unregistered_cert_is_refused(tls_sim, tmp_path) -> None:
    azure_identity = pytest.importorskip("azure.identity")
    from azure.core.exceptions import ClientAuthenticationError

    add_cert(tls_sim, Cert())
    pem = Cert("stranger").pem_file(tmp_path)
    cred = azure_identity.CertificateCredential(tls_sim.tenant_id, APP_ID, pem, **kw(tls_sim))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        cred.get_token(SCOPE)


def test_real_workload_identity_credential_sync_and_async(tls_sim, tmp_path) -> None:
    azure_identity = pytest.importorskip("azure.identity")
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import aio

    add_fic(tls_sim)
    token_file = tmp_path / "federated-token"
    token_file.write_text(external_token())
    args = {"tenant_id": tls_sim.tenant_id, "client_id": APP_ID, "token_file_path": str(token_file)}
    sync = azure_identity.WorkloadIdentityCredential(**args, **kw(tls_sim))
    assert claims_of(sync.get_token(SCOPE).token)["roles"] == ["Group.Read.All", "Policy.Read.All"]

    async def run() -> str:
        cred = aio.WorkloadIdentityCredential(**args, **kw(tls_sim))
        try:
            return (await cred.get_token(SCOPE)).token
        finally:
            await cred.close()

    assert claims_of(asyncio.run(run()))["appid"] == APP_ID

    wrong = tmp_path / "wrong-subject"
    wrong.write_text(external_token(sub="repo:contoso/entra-config:pull_request"))
    bad = azure_identity.WorkloadIdentityCredential(
        **{**args, "token_file_path": str(wrong)}, **kw(tls_sim)
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700213"):
        bad.get_token(SCOPE)

    stale = tmp_path / "expired"
    old = int(time.time()) - 7200
    stale.write_text(external_token(nbf=old - 600, exp=old))
    expired = azure_identity.WorkloadIdentityCredential(
        **{**args, "token_file_path": str(stale)}, **kw(tls_sim)
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700024"):
        expired.get_token(SCOPE)
    assert SECRET not in token_file.read_text()
