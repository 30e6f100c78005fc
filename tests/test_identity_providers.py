"""Identity providers: the social ones a tenant federates with are exported without their write-only
secret, patched back after drift and recreated after a delete (with a random secret a person must
replace); Microsoft's built-in providers are exported and left alone."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import yaml

from tests.conftest import Cli, app_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
IDPS = "/identity/identityProviders"
GOOGLE = "tenants/demo/identityProviders/google.yaml"
SEEDED_SECRET = "demo-google-client-secret-not-real"


def _graph(sim: Any) -> httpx.Client:
    verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=verify)


def _ops(repo: Cli) -> list[dict[str, Any]]:
    return [o for o in json.loads(repo("plan", "--format", "json").output)["operations"]
            if o["kind"] == "identityProviders"]


def _tree_text(repo: Cli) -> str:
    return "\n".join(p.read_text() for p in (repo.repo / "tenants").rglob("*.yaml"))


def test_export_drift_delete_and_recreate_as_the_exact_permission_app(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    doc = yaml.safe_load((repo.repo / GOOGLE).read_text())
    assert doc["@odata.type"] == "#microsoft.graph.socialIdentityProvider"
    assert doc["identityProviderType"] == "Google" and doc["id"] == "Google-OAUTH"
    assert "clientSecret" not in doc
    assert SEEDED_SECRET not in _tree_text(repo) and "******" not in _tree_text(repo)
    builtins = sorted(p.name for p in (repo.repo / "tenants/demo/identityProviders").glob("*.yaml"))
    assert len(builtins) == 4, builtins  # Google and Microsoft's three built-in providers

    with _graph(sim) as c:
        assert c.patch(f"{IDPS}/Google-OAUTH", json={"@odata.type": doc["@odata.type"],
                                                     "clientId": "someone-else"}).status_code == 204
        assert [(o["action"]) for o in _ops(repo)] == ["update"]
        repo("apply", "--yes")
        assert c.get(f"{IDPS}/Google-OAUTH").json()["clientId"] == doc["clientId"]

        assert c.delete(f"{IDPS}/Google-OAUTH").status_code == 204  # no recycle bin for providers
        plan = repo("plan")
        assert "set the provider's client secret again" in plan.output, plan.output
        assert [o["action"] for o in _ops(repo)] == ["create"]
        out = repo("apply", "--yes").output
        assert "random clientSecret" in out, out
        back = c.get(f"{IDPS}/Google-OAUTH").json()
        assert back["clientId"] == doc["clientId"] and back["clientSecret"] == "******"
        assert len([r for r in sim.requests if r.method == "POST" and r.path.endswith(IDPS)]) == 1
        assert SEEDED_SECRET not in out
    assert "No changes" in repo("plan").output


def test_built_in_providers_are_left_alone_and_a_new_social_one_is_created(repo, sim) -> None:
    repo("export", "--commit")
    folder = repo.repo / "tenants/demo/identityProviders"
    [msa] = [p for p in folder.glob("*.yaml") if yaml.safe_load(p.read_text())["id"] == "MSASignup-OAUTH"]
    msa.unlink()
    (folder / "facebook.yaml").write_text(yaml.safe_dump({
        "@odata.type": "#microsoft.graph.socialIdentityProvider", "displayName": "Facebook",
        "identityProviderType": "Facebook", "clientId": "contoso-facebook-app"}))
    import git

    git.Repo(repo.repo).git.add("-A")
    git.Repo(repo.repo).git.commit("-m", "Facebook for guests; the Microsoft account file removed")
    ops = _ops(repo)
    assert [o["action"] for o in ops] == ["create"], ops  # the built-in one is never deleted
    repo("apply", "--yes")
    with _graph(sim) as c:
        ids = {p["id"] for p in c.get(IDPS).json()["value"]}
    assert {"Facebook-OAUTH", "MSASignup-OAUTH"} <= ids


def test_permissions_table_lists_the_kind(repo) -> None:
    out = repo("permissions", "--table").output
    [line] = [ln for ln in out.splitlines() if ln.startswith("identityProviders ")]
    assert "IdentityProvider.Read.All" in line and "IdentityProvider.ReadWrite.All" in line
