"""Fixtures: the Graph simulator over real HTTP (the one fake) and config repos in temp dirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from entragit.cli import main


class Cli:
    """Runs the real CLI in-process against a repo; fails loudly on unexpected exit codes."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def __call__(self, *args: str, code: int | None = 0, input: str | None = None) -> Result:
        res = CliRunner().invoke(main, [str(a) for a in args] + ["--repo", str(self.repo)], input=input,
                                 catch_exceptions=False)
        if code is not None:
            assert res.exit_code == code, f"exit {res.exit_code}, expected {code}\n{res.output}"
        return res


@pytest.fixture
def sim_factory() -> Iterator[Any]:
    from entragit_sim import Simulator

    started: list[Any] = []

    def make(seed: str = "demo", **kw: Any) -> Any:
        s = Simulator(seed=seed, **kw)
        s.start(host="127.0.0.1", port=0)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def sim(sim_factory: Any) -> Any:
    return sim_factory("demo")


def make_repo(path: Path, sim: Any, name: str = "demo", *extra: str) -> Cli:
    r = CliRunner().invoke(main, ["init", str(path)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    cli = Cli(path)
    root = sim.graph_url.rsplit("/v1.0", 1)[0]
    auth = () if "--auth" in extra else ("--auth", "sim")
    cli("tenant", "add", name, "--tenant-id", sim.tenant_id, "--graph-url", root, *auth, *extra)
    return cli


@pytest.fixture
def repo(tmp_path: Path, sim: Any) -> Cli:
    return make_repo(tmp_path / "config", sim)


def admin(sim: Any, version: str = "v1.0") -> Any:
    """An httpx client holding the simulator's dev token, to set a scene or look behind entragit's back
    (never for entragit itself); trusts the simulator's certificate when it serves TLS."""
    import ssl

    import httpx

    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(base_url=sim.graph_url.replace("/v1.0", f"/{version}"),
                        headers={"Authorization": "Bearer sim-admin"}, verify=verify)


def turn_on(repo: Cli, *names: str, drop: tuple[str, ...] = (), tenant: str = "demo") -> None:
    """tenant.yaml lists the kinds on by default that an app can read (less `drop`) and the opt-in `names`."""
    import yaml

    from entragit import kinds

    path = repo.repo / "tenants" / tenant / "tenant.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["kinds"] = [k.name for k in kinds.KINDS if k.default_on and not k.delegated_only and k.name not in drop]
    doc["kinds"] += list(names)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture
def tls_sim(sim_factory: Any) -> Any:
    """The demo tenant over TLS, as azure-identity needs to sign in."""
    return sim_factory("demo", tls=True)


@pytest.fixture
def signed_in(tmp_path: Path, tls_sim: Any, monkeypatch: Any) -> Cli:
    """A config repo signed in as the app holding exactly what `entragit permissions` lists."""
    return app_repo(tmp_path / "config", tls_sim, monkeypatch)


def exact_app(sim: Any, name: str = "entragit-exact", users: bool = False, drop: tuple[str, ...] = (),
              extra: tuple[str, ...] = ()) -> tuple[str, str]:
    """(appId, secret) of a new app holding exactly what `entragit permissions` lists for apply
    (with the users kind when the tenant manages users; less `drop`, plus the opt-in `extra`)."""
    import ssl

    import httpx

    from entragit import kinds, permissions

    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    with httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"}, verify=verify) as c:
        graph = c.get("/servicePrincipals", params={"$filter": "displayName eq 'Microsoft Graph'"}).json()["value"][0]
        role_ids = {r["value"]: r["id"] for r in graph["appRoles"]}
        app = c.post("/applications", json={"displayName": name}).json()
        sp = c.post("/servicePrincipals", json={"appId": app["appId"]}).json()
        wanted = permissions.for_apply([k for k in kinds.KINDS if k.default_on or (users and k.name == "users")])
        for p in sorted((set(wanted) | set(extra)) - set(drop)):
            r = c.post(f"/servicePrincipals/{graph['id']}/appRoleAssignedTo",
                       json={"principalId": sp["id"], "resourceId": graph["id"], "appRoleId": role_ids[p]})
            assert r.status_code == 201, (p, r.text)
        secret = c.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {}}).json()["secretText"]
    return str(app["appId"]), str(secret)


def app_repo(path: Path, sim: Any, monkeypatch: Any, name: str = "demo", users: bool = False,
             drop: tuple[str, ...] = (), extra: tuple[str, ...] = (), options: tuple[str, ...] = ()) -> Cli:
    """A config repo signed in the way users sign in: client secret, exactly the listed permissions
    (less `drop`, plus `extra`), TLS; `options` go to `tenant add`."""
    app_id, secret = exact_app(sim, users=users, drop=drop, extra=extra)
    monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", secret)
    return make_repo(path, sim, name, "--auth", "secret", "--client-id", app_id,
                     "--authority", sim.authority, "--ca-bundle", sim.ca_bundle, *(("--users",) if users else ()),
                     *options)
