"""Export flows (DESIGN flow 1): the real CLI against the simulator over HTTP, into real git repos."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import git
import httpx
from click.testing import CliRunner

from entragit.cli import main

from .conftest import Cli, admin, make_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
PROJECT = Path(__file__).resolve().parents[1]


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.glob("*/*.yaml"))}


def test_export_twice_is_byte_identical_and_makes_no_second_commit(repo, sim):
    first = repo("export", "--commit")
    assert "added" in first.output and "commit" in first.output
    tdir = repo.repo / "tenants" / "demo"
    before = _files(tdir)
    assert len(before) > 100
    # The files went into a pack, not a loose object each (gitstore.commit: bulk check-in); trees
    # and commits are loose.
    objects = repo.repo / ".git" / "objects"
    loose = [d.name + f.name for d in objects.glob("??") for f in d.iterdir()]
    types = subprocess.run(["git", "cat-file", "--batch-check=%(objecttype)"], cwd=repo.repo, text=True,
                           input="\n".join(loose) + "\n", capture_output=True, check=True).stdout.split()
    assert types.count("blob") < 5 and "tree" in types, types
    head = git.Repo(repo.repo).head.commit.hexsha
    again = repo("export", "--commit")
    assert "no changes" in again.output and "nothing to commit" in again.output
    assert git.Repo(repo.repo).head.commit.hexsha == head
    assert _files(tdir) == before
    msg = git.Repo(repo.repo).head.commit.message
    assert msg.startswith("demo: ") and "Entragit-Tenant: demo" in msg and "Entragit-Exported-At:" in msg


def test_files_name_every_referenced_id(repo, sim):
    repo("export")
    tdir = repo.repo / "tenants" / "demo"
    policies = sorted((tdir / "conditionalAccessPolicies").glob("*.yaml"))
    assert len(policies) >= 24
    text = "".join(p.read_text() for p in policies)
    assert "refs:" in text and "kind: groups, name: Finance Admins" in text
    assert "createdDateTime" not in text and "@odata.context" not in text
    first = policies[0].read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../../schemas/conditionalAccessPolicies.schema.json"


def test_portal_edits_make_one_commit_with_exactly_those_changes(repo, sim):
    beta = sim.graph_url.replace("/v1.0", "/beta")
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        made = c.post(f"{beta}/identity/conditionalAccess/namedLocations", json={
            "@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "Old pilot countries",
            "countriesAndRegions": ["BE", "LU"], "includeUnknownCountriesAndRegions": False})
        assert made.status_code == 201, made.text
        loc = made.json()
    repo("export", "--commit")
    r = git.Repo(repo.repo)
    start = r.head.commit.hexsha
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        g = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]
        assert c.patch(f"/groups/{g['id']}", json={"displayName": "Finance Administrators"}).status_code == 204
        pols = c.get(f"{beta}/identity/conditionalAccess/policies").json()["value"]
        mfa = next(p for p in pols if (p.get("grantControls") or {}).get("builtInControls") == ["mfa"])
        grant = dict(mfa["grantControls"], builtInControls=["mfa", "compliantDevice"], operator="AND")
        assert c.patch(f"{beta}/identity/conditionalAccess/policies/{mfa['id']}",
                       json={"grantControls": grant}).status_code == 204
        assert c.delete(f"{beta}/identity/conditionalAccess/namedLocations/{loc['id']}").status_code == 204
    out = repo("export", "--commit").output
    assert r.head.commit.parents[0].hexsha == start
    changed = r.git.diff("--name-status", start, "HEAD").splitlines()
    kinds_changed = sorted({line.split("\t")[1].split("/")[2] for line in changed})
    # The rename shows in the group and in every file that names it; the policy and the location too.
    assert "groups" in kinds_changed and "namedLocations" in kinds_changed
    patch = r.git.diff(start, "HEAD")
    assert "+displayName: Finance Administrators" in patch
    assert "name: Finance Administrators" in patch  # the refs index of referencing files follows the rename
    assert "compliantDevice" in patch
    assert any(line.startswith("D\t") and "namedLocations" in line for line in changed)
    assert "removed" in out and "changed" in out
    body = r.head.commit.message
    assert "groups: Finance Administrators" in body and f"namedLocations: {loc['displayName']}" in body


def test_a_nightly_export_writes_only_the_files_that_changed(signed_in, tls_sim, tmp_path):
    """A hundred changed objects of ten thousand: the others' files are left as they are (not written
    again, so git hashes only what changed), and the folder ends byte for byte as a first export of
    the same tenant writes it; files that are no object's go, as they would in a whole rewrite."""
    repo = signed_in
    repo("export", "--commit")
    tdir = repo.repo / "tenants" / "demo"
    stray = tdir / "notes" / "handover.txt"
    stray.parent.mkdir()
    stray.write_text("not an object\n", encoding="utf-8")
    r = git.Repo(repo.repo)
    r.git.add("-A")
    r.git.commit("-qm", "a stray folder")
    stamps = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tdir.glob("*/*.yaml")}
    with admin(tls_sim) as c:
        g = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]
        assert c.patch(f"/groups/{g['id']}", json={"description": "changed tonight"}).status_code == 204
    repo("export", "--commit")
    changed = {line.split("\t")[1] for line in r.git.diff("--name-status", "HEAD~1", "HEAD").splitlines()}
    assert any("/groups/finance-admins" in c for c in changed) and "tenants/demo/notes/handover.txt" in changed
    assert not stray.parent.exists(), "the emptied folder went with its file"
    touched = [p for p, st in stamps.items() if (p.stat().st_ino, p.stat().st_mtime_ns) != st]
    assert [p.relative_to(repo.repo).as_posix() for p in touched] == sorted(c for c in changed if c.endswith(".yaml"))
    assert r.git.status("--porcelain") == ""
    fresh = Cli(tmp_path / "fresh")  # signed in as the same app: the tenant holds no second one
    assert CliRunner().invoke(main, ["init", str(fresh.repo)]).exit_code == 0
    (fresh.repo / "tenants" / "demo").mkdir(parents=True)
    (fresh.repo / "tenants" / "demo" / "tenant.yaml").write_bytes((tdir / "tenant.yaml").read_bytes())
    fresh("export")
    assert _files(tdir) == _files(fresh.repo / "tenants" / "demo")


def test_secrets_never_reach_the_repo(repo, sim):
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        app = c.get("/applications").json()["value"][0]
        made = c.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "ci"}})
        secret = made.json()["secretText"]
        assert len(secret) > 10
    repo("export", "--commit")
    for p in repo.repo.rglob("*"):
        if p.is_file() and ".git" not in p.parts:
            assert secret not in p.read_text(errors="ignore"), p
    assert secret not in git.Repo(repo.repo).git.log("-p")


def _reader_secret(sim) -> tuple[dict, str]:
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=ssl.create_default_context(cafile=sim.ca_bundle)) as c:
        app = c.get("/applications", params={"$filter": "displayName eq 'entragit-reader'"}).json()["value"][0]
        made = c.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "t"}})
        return app, made.json()["secretText"]


def test_reader_app_exports_with_a_real_client_secret_credential(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("demo", tls=True)
    app, secret = _reader_secret(sim)
    monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", secret)
    cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "secret", "--client-id", app["appId"],
                    "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    cli("export", "--commit")
    tdir = tmp_path / "r" / "tenants" / "demo"
    assert len(list(tdir.glob("*/*.yaml"))) > 100
    assert secret not in (tdir / "tenant.yaml").read_text()
    assert {r.app_id for r in sim.requests if r.path.startswith("/v1.0/groups")} == {app["appId"]}


def test_missing_permission_is_named_and_partial_is_opt_in(tmp_path, sim_factory, monkeypatch):
    sim = sim_factory("demo", tls=True)
    app, secret = _reader_secret(sim)
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=ssl.create_default_context(cafile=sim.ca_bundle)) as c:
        sp = c.get("/servicePrincipals", params={"$filter": f"appId eq '{app['appId']}'"}).json()["value"][0]
        graph = c.get("/servicePrincipals", params={"$filter": "displayName eq 'Microsoft Graph'"}).json()["value"][0]
        perm = {r["value"]: r["id"] for r in graph["appRoles"]}["Policy.Read.All"]
        for a in c.get(f"/servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"]:
            if a["appRoleId"] == perm:
                assert c.delete(f"/servicePrincipals/{sp['id']}/appRoleAssignments/{a['id']}").status_code == 204
    monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", secret)
    cli = make_repo(tmp_path / "r", sim, "demo", "--auth", "secret", "--client-id", app["appId"],
                    "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    res = cli("export", code=1)
    assert "Policy.Read.All" in res.output
    assert not list((tmp_path / "r" / "tenants" / "demo").glob("*/*.yaml")), "a failed export writes nothing"
    res = cli("export", "--allow-partial")
    assert "skipped" in res.output and "conditionalAccessPolicies" in res.output
    assert list((tmp_path / "r" / "tenants" / "demo" / "groups").glob("*.yaml"))


def test_sigkill_mid_export_leaves_the_repo_untouched(tmp_path):
    sim = subprocess.Popen([sys.executable, "-m", "entragit.cli", "sim", "serve", "--seed", "demo", "--port", "0",
                            "--latency-ms", "400"], stdout=subprocess.PIPE, text=True)
    try:
        import json

        info = json.loads(sim.stdout.readline())
        from click.testing import CliRunner

        from entragit.cli import main

        assert CliRunner().invoke(main, ["init", str(tmp_path / "r")]).exit_code == 0
        root = info["graph_url"].rsplit("/v1.0", 1)[0]
        assert CliRunner().invoke(main, ["tenant", "add", "demo", "--tenant-id", info["tenant_id"], "--graph-url",
                                         root, "--auth", "sim", "--repo", str(tmp_path / "r")]).exit_code == 0
        r = git.Repo(tmp_path / "r")
        assert r.git.status("--porcelain") == ""  # init and tenant add committed their files
        head = r.head.commit.hexsha
        proc = subprocess.Popen([sys.executable, "-m", "entragit.cli", "export", "--commit", "--repo",
                                 str(tmp_path / "r")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        assert proc.poll() is None, "export finished before it could be killed; raise --latency-ms"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert r.git.status("--porcelain") == ""
        assert r.head.commit.hexsha == head
    finally:
        sim.terminate()
        sim.wait()


def test_first_export_of_a_large_tenant_commits_with_a_bounded_message(tmp_path, sim_factory):
    sim = sim_factory("synthetic:1500")
    cli = make_repo(tmp_path / "r", sim)
    cli("export", "--commit")
    msg = git.Repo(tmp_path / "r").head.commit.message
    assert "more" in msg.split("Added:")[1] and len(msg.splitlines()) < 600


def test_a_file_changed_behind_the_last_export_is_written_again_from_the_tenant(repo, sim):
    """The render cache reuses a file only while it holds exactly what the same object rendered to:
    a committed hand edit, or a garbled cache, still ends in the canonical bytes."""
    repo("export", "--commit")
    tdir = repo.repo / "tenants" / "demo"
    canonical_files = _files(tdir)
    cache = next((repo.repo / ".git" / "entragit-render").glob("*.json"))
    assert cache.stat().st_size > 0
    policy = sorted((tdir / "conditionalAccessPolicies").glob("*.yaml"))[0]
    policy.write_text(policy.read_text().replace("state:", "state:  "))  # same YAML, other bytes
    assert policy.read_bytes() != canonical_files[str(policy.relative_to(tdir))]
    r = git.Repo(repo.repo)
    r.index.add([str(policy.relative_to(repo.repo))])
    r.index.commit("reformat a policy by hand")
    repo("export", "--commit")
    assert _files(tdir) == canonical_files
    cache.write_text("{not json")
    repo("export", "--commit")
    assert _files(tdir) == canonical_files


def test_commit_keeps_the_git_settings_the_environment_passes(monkeypatch):
    from entragit import gitstore

    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "safe.directory")
    env = gitstore._add_to_pack()
    assert env == {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_1": "core.bigFileThreshold", "GIT_CONFIG_VALUE_1": "1"}
