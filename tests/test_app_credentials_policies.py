"""Federated identity credentials of applications, as their own kind: exported per app, put back
after drift, and back on the app after it is restored from the recycle bin or recreated after a hard
delete (on the new app's id). Signed in as the app with exactly the listed permissions."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.conftest import Cli, admin, app_repo

FICS = "tenants/demo/federatedIdentityCredentials"
GITHUB = "https://token.actions.githubusercontent.com"


def _ops(repo: Cli, kind: str) -> list[str]:
    return [o["action"] for o in json.loads(repo("plan", "--format", "json").output)["operations"]
            if o["kind"] == kind]


def _fics(c: Any, app_id: str) -> list[dict[str, Any]]:
    r = c.get(f"/applications/{app_id}/federatedIdentityCredentials")
    assert r.status_code == 200, r.text
    return list(r.json()["value"])


def _deploy_app(c: Any) -> str:
    """An app of its own (no service principal) with one FIC, so deleting it touches nothing else."""
    r = c.post("/applications", json={"displayName": "deploy-pipeline"})
    assert r.status_code == 201, r.text
    app = r.json()["id"]
    r = c.post(f"/applications/{app}/federatedIdentityCredentials", json={
        "name": "deploy-main", "issuer": GITHUB, "subject": "repo:contosodemo/deploy:ref:refs/heads/main",
        "audiences": ["api://AzureADTokenExchange"]})
    assert r.status_code == 201, r.text
    return str(app)


def test_ci_credential_exported_drift_put_back(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    doc = yaml.safe_load((repo.repo / FICS / "github-main.yaml").read_text())
    assert doc["issuer"] == GITHUB and doc["subject"].endswith(":ref:refs/heads/main")
    assert doc["refs"][doc["applicationId"]]["name"] == "entragit-automation"
    app = doc["applicationId"]
    with admin(sim) as c:
        r = c.patch(f"/applications/{app}/federatedIdentityCredentials/{doc['id']}",
                    json={"subject": "repo:someone/else:ref:refs/heads/main"})
        assert r.status_code == 204, r.text
        assert _ops(repo, "federatedIdentityCredentials") == ["update"]
        assert "github-main" in repo("plan").output
        repo("apply", "--yes")
        assert [f["subject"] for f in _fics(c, app)] == [doc["subject"]]
        assert "No changes" in repo("plan").output

        assert c.delete(f"/applications/{app}/federatedIdentityCredentials/{doc['id']}").status_code == 204
        assert _ops(repo, "federatedIdentityCredentials") == ["create"]
        repo("apply", "--yes")
        [back] = _fics(c, app)
        assert (back["name"], back["issuer"], back["subject"]) == ("github-main", GITHUB, doc["subject"])
    assert "No changes" in repo("plan").output


def test_hard_deleted_app_is_recreated_with_its_credentials(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    with admin(sim) as c:
        old = _deploy_app(c)
        repo("export", "--commit")
        assert (repo.repo / FICS / "deploy-main.yaml").exists()
        assert c.delete(f"/applications/{old}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{old}").status_code == 204  # gone for good
        ops = json.loads(repo("plan", "--format", "json").output)["operations"]
        assert sorted((o["kind"], o["action"]) for o in ops if o["kind"] in ("applications", "federatedIdentityCredentials")) == [
            ("applications", "create"), ("federatedIdentityCredentials", "create")], ops
        repo("apply", "--yes")
        [new] = [a for a in c.get("/applications").json()["value"] if a["displayName"] == "deploy-pipeline"]
        assert new["id"] != old
        assert [f["name"] for f in _fics(c, new["id"])] == ["deploy-main"]
    assert "No changes" in repo("plan").output


def test_restored_app_keeps_its_credentials(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    with admin(sim) as c:
        app = _deploy_app(c)
        repo("export", "--commit")
        assert c.delete(f"/applications/{app}").status_code == 204  # soft delete: in the recycle bin
        ops = json.loads(repo("plan", "--format", "json").output)["operations"]
        assert [(o["kind"], o["action"]) for o in ops] == [("applications", "restore")], ops
        repo("apply", "--yes")
        assert [f["name"] for f in _fics(c, app)] == ["deploy-main"]
        posts = [r for r in sim.requests if r.method == "POST" and r.path.endswith(f"{app}/federatedIdentityCredentials")]
        assert len(posts) == 1  # the scene's own: the restore brought the credential back, apply wrote none
    assert "No changes" in repo("plan").output


def test_same_name_on_two_apps_gets_two_files(tmp_path, sim_factory, monkeypatch) -> None:
    """Graph makes a name unique per app only: two apps' `deploy-main` are two files, and plan is empty."""
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    with admin(sim) as c:
        apps = {_deploy_app(c), _deploy_app(c)}
    repo("export", "--commit")
    files = [yaml.safe_load(p.read_text()) for p in (repo.repo / FICS).glob("deploy-main*.yaml")]
    assert {f["applicationId"] for f in files} == apps and {f["name"] for f in files} == {"deploy-main"}
    assert "No changes" in repo("plan").output
