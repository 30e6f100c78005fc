"""`tenant add --auth certificate | workload-identity` then `export`, end to end: the real CLI, the
real azure-identity credential classes, the TLS simulator's token endpoint, the entragit-reader app."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import time
from pathlib import Path
from typing import Any

import git
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .conftest import make_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:contoso/entra-config:environment:production"


def _client(sim: Any) -> httpx.Client:
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=ssl.create_default_context(cafile=sim.ca_bundle))


def _reader(c: httpx.Client) -> dict[str, Any]:
    return c.get("/applications", params={"$filter": "displayName eq 'entragit-reader'"}).json()["value"][0]


def _certificate(folder: Path, name: str = "reader.pem") -> tuple[str, str]:
    """(path of a PEM with private key + certificate, base64 DER of the certificate), made per test."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "entragit-reader")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=7)).sign(key, hashes.SHA256()))
    path = folder / name
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM))
    return str(path), base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _federated_token(sub: str = SUBJECT) -> str:
    """Shaped like a GitHub Actions OIDC token; the simulator checks its claims, not its signature."""
    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {"iss": ISSUER, "sub": sub, "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now,
              "exp": now + 900, "repository": "contoso/entra-config"}
    return f"{b64({'alg': 'RS256', 'typ': 'JWT', 'kid': 'k1'})}.{b64(claims)}.{b64({'sig': 'opaque'})}"


def _graph_callers(sim: Any) -> set[str]:
    return {r.app_id for r in sim.requests if r.path.startswith("/v1.0/groups")}


def _token_posts(sim: Any) -> list[int]:
    # One: concurrent first requests share one token request (entragit.auth.SignIn).
    return [r.status for r in sim.requests if r.path.endswith("/oauth2/v2.0/token")]


def _no_private_key_in_repo(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file() and ".git" not in p.parts:
            assert "PRIVATE KEY" not in p.read_text(errors="ignore"), p
    assert "PRIVATE KEY" not in git.Repo(root).git.log("-p")


def test_certificate_auth_exports_with_the_reader_app(tmp_path, sim_factory):
    sim = sim_factory("demo", tls=True)
    pem, der = _certificate(tmp_path)
    with _client(sim) as c:
        app = _reader(c)
        r = c.patch(f"/applications/{app['id']}", json={"keyCredentials": [
            {"type": "AsymmetricX509Cert", "usage": "Verify", "key": der, "displayName": "CN=entragit-reader"}]})
        assert r.status_code == 204, r.text
    cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "certificate", "--client-id", app["appId"],
                    "--certificate-path", pem, "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    tenant_yaml = (tmp_path / "r" / "tenants" / "demo" / "tenant.yaml").read_text()
    assert "method: certificate" in tenant_yaml and f"certificatePath: {pem}" in tenant_yaml
    cli("export", "--commit")
    tdir = tmp_path / "r" / "tenants" / "demo"
    assert len(list(tdir.glob("*/*.yaml"))) > 100
    assert _graph_callers(sim) == {app["appId"]}
    assert _token_posts(sim) == [200]
    # The certificate shows up in the export as Graph shows it: thumbprint, no key material.
    reader = (tdir / "applications" / "entragit-reader.yaml").read_text()
    assert "customKeyIdentifier" in reader and "key: null" in reader and der[:40] not in reader
    _no_private_key_in_repo(tmp_path / "r")


def test_certificate_not_registered_on_the_app_is_refused(tmp_path, sim_factory):
    sim = sim_factory("demo", tls=True)
    pem, _ = _certificate(tmp_path)
    with _client(sim) as c:
        app = _reader(c)
    cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "certificate", "--client-id", app["appId"],
                    "--certificate-path", pem, "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    res = cli("export", code=None)
    assert res.exit_code != 0
    assert "AADSTS700027" in res.output
    assert not list((tmp_path / "r" / "tenants" / "demo").glob("*/*.yaml"))


@pytest.mark.parametrize("where", ["env", "tenant.yaml"])
def test_workload_identity_exports_with_a_federated_token_file(tmp_path, sim_factory, monkeypatch, where):
    sim = sim_factory("demo", tls=True)
    with _client(sim) as c:
        app = _reader(c)
        r = c.post(f"/applications/{app['id']}/federatedIdentityCredentials",
                   json={"name": "github-production", "issuer": ISSUER, "subject": SUBJECT})
        assert r.status_code == 201, r.text
    token_file = tmp_path / "federated-token.jwt"
    token_file.write_text(_federated_token())
    extra: tuple[str, ...] = ()
    if where == "env":
        monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    else:
        monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE", raising=False)
        extra = ("--token-file", str(token_file))
    cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "workload-identity", "--client-id", app["appId"],
                    *extra, "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    tenant_yaml = (tmp_path / "r" / "tenants" / "demo" / "tenant.yaml").read_text()
    assert ("tokenFile" in tenant_yaml) == (where == "tenant.yaml")
    assert token_file.read_text() not in tenant_yaml
    cli("export", "--commit")
    assert len(list((tmp_path / "r" / "tenants" / "demo").glob("*/*.yaml"))) > 100
    assert _graph_callers(sim) == {app["appId"]}
    assert _token_posts(sim) == [200]
    assert token_file.read_text() not in git.Repo(tmp_path / "r").git.log("-p")


def test_workload_identity_with_the_wrong_subject_or_no_token_file(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("demo", tls=True)
    with _client(sim) as c:
        app = _reader(c)
        c.post(f"/applications/{app['id']}/federatedIdentityCredentials",
               json={"name": "github-production", "issuer": ISSUER, "subject": SUBJECT})
    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE", raising=False)
    cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "workload-identity", "--client-id", app["appId"],
                    "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    res = cli("export", code=None)
    assert res.exit_code != 0 and "AZURE_FEDERATED_TOKEN_FILE" in res.output
    token_file = tmp_path / "pr.jwt"
    token_file.write_text(_federated_token(sub="repo:contoso/entra-config:pull_request"))
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    res = cli("export", code=None)
    assert res.exit_code != 0 and "AADSTS700213" in res.output
    assert not list((tmp_path / "r" / "tenants" / "demo").glob("*/*.yaml"))


def test_export_all_reports_a_refused_sign_in_and_exports_the_other_tenants(tmp_path, sim_factory):
    sim = sim_factory("demo", tls=True)
    good_pem, der = _certificate(tmp_path, "good.pem")
    bad_pem, _ = _certificate(tmp_path, "bad.pem")
    with _client(sim) as c:
        app = _reader(c)
        c.patch(f"/applications/{app['id']}", json={"keyCredentials": [
            {"type": "AsymmetricX509Cert", "usage": "Verify", "key": der}]})
    common = ("--client-id", app["appId"], "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    cli = make_repo(tmp_path / "r", sim, "good", "--auth", "certificate", "--certificate-path", good_pem, *common)
    root = sim.graph_url.rsplit("/v1.0", 1)[0]
    cli("tenant", "add", "bad", "--tenant-id", sim.tenant_id, "--graph-url", root, "--auth", "certificate",
        "--certificate-path", bad_pem, *common)
    res = cli("export", "--all", code=None)
    assert res.exit_code != 0
    assert "FAILED bad" in res.output and "AADSTS700027" in res.output
    assert len(list((tmp_path / "r" / "tenants" / "good").glob("*/*.yaml"))) > 100
    assert not list((tmp_path / "r" / "tenants" / "bad").glob("*/*.yaml"))
