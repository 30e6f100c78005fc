"""Runs longer than a CI runner's OIDC token: every tenant and step of a run shares one sign-in,
and federated assertions are fetched (GitHub Actions, Azure Pipelines) or read again (a token file
the runner renews) each time a new access token is needed. The simulators refuse assertions older
than a few seconds, as Entra refuses a GitHub token after its 5 minutes."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import git
import httpx
import pytest

from entragit import auth, config, reconcile
from entragit import export as exportmod

from .conftest import Cli, exact_app, make_repo

GITHUB = ("https://token.actions.githubusercontent.com", "repo:contoso/entra-config:ref:refs/heads/main")
PIPELINES = ("https://vstoken.dev.azure.com/4c2a6b1e-0000-4000-8000-00000000ad00", "sc://contoso/entra/entragit-wif")
REQUEST_TOKEN = "runner-request-token"
SYSTEM_TOKEN = "pipeline-system-access-token"
CONNECTION_ID = "7d9f0c1e-3f55-4c4b-9a51-3b1c2f3a5e10"
MAX_AGE = 2  # seconds an assertion is accepted for, in every simulator here
RUNNER_ENV = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SYSTEM_OIDCREQUESTURI",
              "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "SYSTEM_ACCESSTOKEN", "AZURE_FEDERATED_TOKEN_FILE")


def mint(issuer: str, subject: str, age: float = 0) -> str:
    """An OIDC token shaped like the runner's, issued `age` seconds ago (the simulator checks claims)."""
    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    iat = int(time.time() - age)
    claims = {"iss": issuer, "sub": subject, "aud": auth.FEDERATED_AUDIENCE, "iat": iat, "nbf": iat,
              "exp": iat + 600}
    return f"{b64({'alg': 'RS256', 'typ': 'JWT', 'kid': 'k1'})}.{b64(claims)}.{b64({'sig': 'opaque'})}"


class Runner:
    """The CI runner's side of federation: GitHub's and Azure DevOps' OIDC token services (a fresh
    token per request, as the real ones answer) and a token file it can write again on demand."""

    def __init__(self, folder: Path) -> None:
        self.token_file = folder / "federated-token"
        self.asked: list[str] = []  # "github" / "pipelines", one per token handed out
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def write_file(self, age: float = 0) -> None:
        """Replace the token file atomically, as a kubelet renews a projected token."""
        tmp = self.token_file.with_suffix(".new")
        tmp.write_text(mint(*GITHUB, age=age))
        tmp.replace(self.token_file)

    @contextmanager
    def renewing_file(self, every: float = 0.25) -> Iterator[None]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                self.write_file()

        self.write_file()
        worker = threading.Thread(target=loop, daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join()

    def github_env(self) -> dict[str, str]:
        return {"ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/github/token?api-version=2.0",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN}

    def pipelines_env(self) -> dict[str, str]:
        return {"SYSTEM_OIDCREQUESTURI": f"{self.url}/ado/oidctoken",
                "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": CONNECTION_ID, "SYSTEM_ACCESSTOKEN": SYSTEM_TOKEN}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        runner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:  # GitHub: GET $URL&audience=..., "bearer" the request token
                url = urlsplit(self.path)
                q = parse_qs(url.query)
                ok = (url.path == "/github/token" and q.get("api-version") == ["2.0"]
                      and q.get("audience") == [auth.FEDERATED_AUDIENCE]
                      and self.headers.get("Authorization") == f"bearer {REQUEST_TOKEN}")
                self._answer(ok, "github", {"value": mint(*GITHUB)} if ok else {})

            def do_POST(self) -> None:  # Azure DevOps: POST $SYSTEM_OIDCREQUESTURI?serviceConnectionId=...
                url = urlsplit(self.path)
                q = parse_qs(url.query)
                ok = (url.path == "/ado/oidctoken" and q.get("serviceConnectionId") == [CONNECTION_ID]
                      and self.headers.get("Authorization") == f"Bearer {SYSTEM_TOKEN}")
                self._answer(ok, "pipelines", {"oidcToken": mint(*PIPELINES)} if ok else {})

            def _answer(self, ok: bool, who: str, body: dict[str, str]) -> None:
                if ok:
                    runner.asked.append(who)
                data = json.dumps(body).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: Any) -> Iterator[Runner]:
    for name in RUNNER_ENV:  # the test's own CI runner must not leak in
        monkeypatch.delenv(name, raising=False)
    r = Runner(tmp_path)
    yield r
    r.stop()


def _federated_app(sim: Any) -> str:
    """The client id of an app holding exactly `entragit permissions` and trusting both runners."""
    app_id, _secret = exact_app(sim, name="entragit-nightly")
    verify = ssl.create_default_context(cafile=sim.ca_bundle)
    with httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"}, verify=verify) as c:
        app = c.get("/applications", params={"$filter": f"appId eq '{app_id}'"}).json()["value"][0]
        for name, (issuer, subject) in (("github-main", GITHUB), ("azure-pipelines", PIPELINES)):
            r = c.post(f"/applications/{app['id']}/federatedIdentityCredentials",
                       json={"name": name, "issuer": issuer, "subject": subject})
            assert r.status_code == 201, r.text
    return app_id


def _tenants(tmp_path: Path, sim_factory: Any, n: int, **sim_kw: Any) -> tuple[Path, list[Any]]:
    """A config repo with `n` workload-identity tenants, each its own simulated tenant (own id)."""
    sims = [sim_factory("demo", tls=True, tenant_id=f"00000000-0000-4000-8000-{i:012d}",
                        assertion_max_age=MAX_AGE, **sim_kw) for i in range(1, n + 1)]
    root = tmp_path / "config"
    for i, sim in enumerate(sims, 1):
        extra = ("tenant", "add", f"t{i}", "--tenant-id", sim.tenant_id,
                 "--graph-url", sim.graph_url.rsplit("/v1.0", 1)[0])
        args = ("--auth", "workload-identity", "--client-id", _federated_app(sim),
                "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
        if i == 1:
            make_repo(root, sim, "t1", *args)
        else:
                    Cli(root)(*extra, *args)
    return root, sims


def _token_posts(sim: Any) -> list[int]:
    return [r.status for r in sim.requests if r.path.endswith("/oauth2/v2.0/token")]


def _export_commits(root: Path, name: str) -> int:
    return len(list(git.Repo(root).iter_commits(paths=f"tenants/{name}"))) - 1  # less `tenant add`


def test_six_tenant_nightly_asks_github_for_a_fresh_token_per_sign_in(tmp_path, sim_factory, runner, monkeypatch):
    root, sims = _tenants(tmp_path, sim_factory, 6)
    # As the workflow templates do: one token written at the start of the job, long expired by now.
    runner.write_file(age=10 * MAX_AGE)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(runner.token_file))
    for k, v in runner.github_env().items():
        monkeypatch.setenv(k, v)
    out = Cli(root)("export", "--all", "--commit", "--parallel-tenants", "2").output
    assert "failed" not in out, out
    for i, sim in enumerate(sims, 1):
        assert _export_commits(root, f"t{i}") == 1
        assert len(list((root / "tenants" / f"t{i}").glob("*/*.yaml"))) > 100
        assert _token_posts(sim) == [200]  # one sign-in per tenant
    assert runner.asked == ["github"] * 6

    # The next night: a change in every tenant, so each export also reads the audit log, on the same sign-in.
    for sim in sims:
        with httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"},
                          verify=ssl.create_default_context(cafile=sim.ca_bundle)) as c:
            c.post("/groups", json={"displayName": "Night shift", "mailNickname": "night-shift",
                                    "mailEnabled": False, "securityEnabled": True}).raise_for_status()
    time.sleep(MAX_AGE + 0.5)  # every token the runner handed out so far is too old now
    Cli(root)("export", "--all", "--commit")
    for i, sim in enumerate(sims, 1):
        assert _export_commits(root, f"t{i}") == 2
        assert [r.path for r in sim.requests if r.path.endswith("/directoryAudits")], "audit log read"
        assert _token_posts(sim) == [200, 200]  # one more sign-in for the second run, not one per step
    assert runner.asked == ["github"] * 12


def test_a_run_signs_in_once_per_tenant_across_commands(tmp_path, sim_factory, runner, monkeypatch):
    """A nightly loop in one process (export, then plan and the recycle bins per tenant) asks the
    token endpoint once per tenant."""
    root, sims = _tenants(tmp_path, sim_factory, 3)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(runner.token_file))
    auth.close_all()
    tenants = config.tenants(root)
    with runner.renewing_file():
        results = exportmod.export(root, tenants, do_commit=True)
        assert [r.failed for r in results] == [""] * 3
        for t in tenants:
            assert not reconcile.plan(root, t).plan.ops
            reconcile.recycle_bins(t, ["groups"])
    assert [_token_posts(s) for s in sims] == [[200]] * 3
    auth.close_all()


def test_a_shared_sign_in_reads_the_token_file_again_for_each_new_token(tmp_path, sim_factory, runner,
                                                                        monkeypatch):
    """Access tokens that live 1 s and assertions accepted for 2 s: every new access token needs the
    file as the runner has just renewed it, not as it was read at the first sign-in."""
    root, sims = _tenants(tmp_path, sim_factory, 6, token_lifetime=1)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(runner.token_file))
    auth.close_all()
    tenants = config.tenants(root)
    with runner.renewing_file():
        results = exportmod.export(root, tenants, do_commit=True, parallel_tenants=2)
        assert [r.failed for r in results] == [""] * 6
        time.sleep(MAX_AGE + 0.5)  # past the first assertion's age and every access token's life
        for t in tenants:
            assert not reconcile.plan(root, t).plan.ops
    for i, sim in enumerate(sims, 1):
        assert _export_commits(root, f"t{i}") == 1
        posts = _token_posts(sim)
        assert len(posts) >= 2 and set(posts) == {200}, posts
    assert runner.asked == []
    auth.close_all()


def test_azure_pipelines_asks_the_pipeline_for_a_fresh_token(tmp_path, sim_factory, runner, monkeypatch):
    root, sims = _tenants(tmp_path, sim_factory, 2)
    for k, v in runner.pipelines_env().items():
        monkeypatch.setenv(k, v)
    Cli(root)("export", "--all", "--commit")
    time.sleep(MAX_AGE + 0.5)
    Cli(root)("plan", "--tenant", "t2")
    assert [_token_posts(s) for s in sims] == [[200], [200, 200]]
    assert runner.asked == ["pipelines"] * 3


def test_a_stale_token_file_fails_with_the_code_and_a_hint(tmp_path, sim_factory, runner, monkeypatch):
    root, sims = _tenants(tmp_path, sim_factory, 1)
    runner.write_file(age=10 * MAX_AGE)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(runner.token_file))
    res = Cli(root)("export", code=None)
    assert res.exit_code != 0
    assert "AADSTS700024" in res.output and "fresh" in res.output
    assert not list((root / "tenants" / "t1").glob("*/*.yaml"))


def test_sim_serve_refuses_assertions_older_than_its_max_age(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "entragit.cli", "sim", "serve", "--seed", "empty", "--port", "0",
                             "--assertion-max-age", str(MAX_AGE), "--token-lifetime", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        with httpx.Client(base_url=info["graph_url"], headers={"Authorization": "Bearer sim-admin"}) as c:
            app = c.post("/applications", json={"displayName": "nightly"}).json()
            c.post("/servicePrincipals", json={"appId": app["appId"]}).raise_for_status()
            c.post(f"/applications/{app['id']}/federatedIdentityCredentials",
                   json={"name": "github-main", "issuer": GITHUB[0], "subject": GITHUB[1]}).raise_for_status()

        def sign_in(assertion: str) -> httpx.Response:
            return httpx.post(info["token_url"], data={
                "grant_type": "client_credentials", "client_id": app["appId"],
                "scope": "https://graph.microsoft.com/.default", "client_assertion": assertion,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})

        fresh = sign_in(mint(*GITHUB))
        assert fresh.status_code == 200 and fresh.json()["expires_in"] == 60
        stale = sign_in(mint(*GITHUB, age=MAX_AGE + 3))
        assert stale.status_code == 400
        assert stale.json()["error_description"].startswith("AADSTS700024: Client assertion is not within its valid")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_job_without_id_token_permission_fails_in_one_line(tmp_path, sim_factory, runner, monkeypatch):
    root, sims = _tenants(tmp_path, sim_factory, 1)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", runner.github_env()["ACTIONS_ID_TOKEN_REQUEST_URL"])
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "not-the-runner's")
    res = Cli(root)("export", code=1)
    errors = [line for line in res.output.splitlines() if line.startswith(("error:", "hint:"))]
    assert errors[0] == ("error: tenant t1: sign-in (workload-identity) failed: GitHub's OIDC token service "
                         "answered 401 without a token (does the job have `permissions: id-token: write`?)")
    assert _token_posts(sims[0]) == [] and runner.asked == []
    assert not list((root / "tenants" / "t1").glob("*/*.yaml"))
