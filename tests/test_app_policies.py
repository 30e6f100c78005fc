"""Permission grant policies (with their condition sets), app management policies (with the apps they
apply to) and the tenant default app management policy, through the CLI signed in as the app holding
exactly the listed permissions: export, a portal edit shows in plan, apply puts it back, a second plan
is empty; a hard-deleted app is recreated and both policies name the new app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import Cli, admin, app_repo

PGP, AMP = "/policies/permissionGrantPolicies", "/policies/appManagementPolicies"
DEFAULT = "/policies/defaultAppManagementPolicy"
KINDS = ("permissionGrantPolicies", "appManagementPolicies", "defaultAppManagementPolicy")
CUSTOM = "contoso-expensehub-consent"


def _ops(repo: Cli) -> list[tuple[str, str]]:
    out = repo("plan", "--format", "json").output
    return sorted((o["kind"], o["action"]) for o in json.loads(out[out.index("{"):])["operations"])


def _app(c: httpx.Client, name: str) -> dict[str, Any]:
    return c.get("/applications", params={"$filter": f"displayName eq '{name}'"}).json()["value"][0]


def _amp(c: httpx.Client) -> dict[str, Any]:
    return next(p for p in c.get(AMP).json()["value"] if p["displayName"] == "No long-lived secrets")


def test_exported_with_built_ins_kept_read_only(tmp_path: Path, sim_factory: Any, monkeypatch: Any) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    d = Path(repo.repo) / "tenants" / "demo"
    assert sorted(p.stem for p in (d / "permissionGrantPolicies").glob("*.yaml")) == [
        "default-user-legacy-policy", "default-user-low-risk-policy", "expensehub-self-consent"]
    custom = yaml.safe_load((d / "permissionGrantPolicies" / "expensehub-self-consent.yaml").read_text())
    with admin(sim) as c:
        expensehub, hr = _app(c, "ExpenseHub"), _app(c, "HR Portal")
    assert custom["includes"][0]["clientApplicationIds"] == [expensehub["appId"]]
    assert "id" not in custom["includes"][0], "condition set ids are Graph's"
    assert custom["refs"][expensehub["appId"]]["name"] == "ExpenseHub"
    amp = yaml.safe_load((d / "appManagementPolicies" / "no-long-lived-secrets.yaml").read_text())
    assert amp["appliesTo"] == [hr["id"]]
    assert amp["refs"][hr["id"]]["name"] == "HR Portal"
    assert (d / "defaultAppManagementPolicy").is_dir()

    # A built-in policy edited in the files is left alone, named, never written.
    low = d / "permissionGrantPolicies" / "default-user-low-risk-policy.yaml"
    low.write_text(low.read_text().replace("Default User Low Risk Policy", "Renamed"))
    out = repo("plan", "--ref", "WORKTREE").output
    assert "built-in permission grant policy" in out, out
    plan = json.loads(repo("plan", "--ref", "WORKTREE", "--format", "json").output)
    assert [o for o in plan["operations"] if o["kind"] in KINDS] == []


def test_edits_come_back_and_a_recreated_app_is_named_again(tmp_path: Path, sim_factory: Any,
                                                            monkeypatch: Any) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    with admin(sim) as c:
        pid = _amp(c)["id"]
        # Portal edits: a condition set removed, the credential policy disabled and unassigned, the
        # tenant default enabled.
        custom = c.get(f"{PGP}/{CUSTOM}").json()
        assert c.delete(f"{PGP}/{CUSTOM}/includes/{custom['includes'][0]['id']}").status_code == 204
        assert c.patch(f"{AMP}/{pid}", json={"isEnabled": False}).status_code == 204
        hr = _app(c, "HR Portal")
        assert c.delete(f"/applications/{hr['id']}/appManagementPolicies/{pid}/$ref").status_code == 204
        assert c.patch(DEFAULT, json={"isEnabled": True}).status_code == 204
        assert [o for o in _ops(repo) if o[0] in KINDS] == [
            ("appManagementPolicies", "link"), ("appManagementPolicies", "update"),
            ("defaultAppManagementPolicy", "update"), ("permissionGrantPolicies", "update")]
        repo("apply", "--yes")
        assert _ops(repo) == []
        assert c.get(f"{PGP}/{CUSTOM}").json()["includes"][0]["clientApplicationIds"] == [_app(c, "ExpenseHub")["appId"]]
        assert _amp(c)["isEnabled"] is True
        assert [o["id"] for o in c.get(f"{AMP}/{pid}/appliesTo").json()["value"]] == [hr["id"]]
        assert c.get(DEFAULT).json()["isEnabled"] is False

        # Hard-deleted apps: recreated with new ids, and both policies name the new ones.
        expensehub = _app(c, "ExpenseHub")
        for app in (hr, expensehub):
            assert c.delete(f"/applications/{app['id']}").status_code == 204
            assert c.delete(f"/directory/deletedItems/{app['id']}").status_code == 204
        assert c.get(f"{AMP}/{pid}/appliesTo").json()["value"] == []
        repo("apply", "--yes")
        new_hr, new_eh = _app(c, "HR Portal"), _app(c, "ExpenseHub")
        assert new_hr["id"] != hr["id"] and new_eh["appId"] != expensehub["appId"]
        assert [o["id"] for o in c.get(f"{AMP}/{pid}/appliesTo").json()["value"]] == [new_hr["id"]]
        includes = c.get(f"{PGP}/{CUSTOM}").json()["includes"]
        assert [i["clientApplicationIds"] for i in includes] == [[new_eh["appId"]]]
        # Soft-deleted: the restore brings the assignment back with the app, and the plan names the app.
        assert c.delete(f"/applications/{new_hr['id']}").status_code == 204
        returns = [ln for ln in repo("plan").output.splitlines() if "↺ returns" in ln and "appliesTo" in ln]
        assert len(returns) == 1 and "appliesTo += HR Portal" in returns[0], returns
        repo("apply", "--yes")
        assert [o["id"] for o in c.get(f"{AMP}/{pid}/appliesTo").json()["value"]] == [new_hr["id"]]
    assert _ops(repo) == []
