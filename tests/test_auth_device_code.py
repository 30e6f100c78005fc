"""`tenant add --auth device-code`, then export and plan as a signed-in administrator: the real CLI,
azure-identity's DeviceCodeCredential, the TLS simulator approving codes for `--user`."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from .conftest import make_repo

BREAK_GLASS = "bg-admin-01@contosodemo.onmicrosoft.com"  # Global Administrator in the demo seed
GRAPH_CLI = "14d82eec-204b-4c2f-b7e8-296a70dab67e"


def _device_code_posts(sim: Any) -> list[int]:
    return [r.status for r in sim.requests if r.path.endswith("/oauth2/v2.0/devicecode")]


def _repo(tmp_path: Any, sim: Any, *extra: str) -> Any:
    return make_repo(tmp_path / "r", sim, "t", "--auth", "device-code", "--authority", sim.authority,
                     "--ca-bundle", sim.ca_bundle, *extra)


def test_plan_runs_as_the_signed_in_administrator_and_shows_the_code(tmp_path, sim_factory):
    sim = sim_factory("demo", tls=True, user=BREAK_GLASS)
    cli = _repo(tmp_path, sim)
    tenant_yaml = (tmp_path / "r" / "tenants" / "t" / "tenant.yaml").read_text()
    assert "method: device-code" in tenant_yaml and "clientId" not in tenant_yaml
    res = cli("export", "--commit")
    assert "To sign in, open https://" in res.output and "/devicelogin" in res.output
    assert len(list((tmp_path / "r" / "tenants" / "t").glob("*/*.yaml"))) > 100
    # The break-glass path: the automation app is gone, an administrator plans its return as themselves.
    with httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"},
                      verify=ssl.create_default_context(cafile=sim.ca_bundle)) as c:
        app = c.get("/applications", params={"$filter": "displayName eq 'entragit-automation'"}).json()["value"][0]
        assert c.delete(f"/applications/{app['id']}").status_code == 204
    sim.requests.clear()
    res = cli("plan", "--tenant", "t", code=None)
    assert res.exit_code in (0, 2), res.output
    assert "To sign in, open https://" in res.output and "enter the code" in res.output
    assert "entragit-automation" in res.output
    # Graph saw the Graph Command Line Tools client acting for the user, signed in once per run.
    assert _device_code_posts(sim) == [200]
    assert {r.app_id for r in sim.requests if r.path.startswith("/v1.0/")} == {GRAPH_CLI}


def test_client_id_option_and_a_refused_client(tmp_path, sim_factory):
    sim = sim_factory("demo", tls=True, user=BREAK_GLASS)
    # entragit-reader is a confidential client: no device code sign-in without a secret (AADSTS7000218).
    with httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"},
                      verify=ssl.create_default_context(cafile=sim.ca_bundle)) as c:
        reader = c.get("/applications", params={"$filter": "displayName eq 'entragit-reader'"}).json()["value"][0]
    cli = _repo(tmp_path, sim, "--client-id", reader["appId"])
    assert f"clientId: {reader['appId']}" in (tmp_path / "r" / "tenants" / "t" / "tenant.yaml").read_text()
    res = cli("export", code=None)
    assert res.exit_code != 0
    assert "sign-in (device-code) failed" in res.output and "AADSTS7000218" in res.output


def test_help_teaches_when_to_sign_in_as_a_person(tmp_path, sim):
    from click.testing import CliRunner

    from entragit.cli import main

    out = " ".join(CliRunner().invoke(main, ["tenant", "add", "--help"]).output.split())
    assert "device-code" in out and "break-glass" in out and "Graph refuses to apps" in out
    assert GRAPH_CLI in out
