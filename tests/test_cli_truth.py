"""The CLI says the truth and never silently does nothing: selectors that name nothing, unknown
tenants, options a saved plan would ignore and usage errors are errors, each with its own exit code."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from entragit.cli import main
from tests.conftest import admin

HR = "group 'Dept - HR'"


@pytest.fixture
def sim(tls_sim):
    return tls_sim


@pytest.fixture
def repo(signed_in):
    """Signed in as users sign in: the app holding exactly what `entragit permissions` lists."""
    return signed_in


_admin = admin


def _delete_group(sim, name: str) -> str:
    with _admin(sim) as c:
        g = c.get("/groups", params={"$filter": f"displayName eq '{name}'"}).json()["value"][0]
        assert c.delete(f"/groups/{g['id']}").status_code == 204
    return str(g["id"])


def _writes(sim, since: int) -> list:
    """Requests that change the tenant ($batch carries plan's reads; a sign-in is no write)."""
    return [r for r in sim.requests[since:]
            if r.method != "GET" and "/$batch" not in r.path and "/oauth2/" not in r.path]


@pytest.fixture
def deleted(repo, sim):
    """Dept - HR exported, then deleted live: a plan restores it."""
    repo("export", "--commit")
    return _delete_group(sim, "Dept - HR")


@pytest.mark.parametrize("typo", ["groups/dept-h", "group/dept-hr", "Dept - HR", "tenants/demo/group/dept-hr.yaml"])
def test_a_selector_that_names_nothing_is_an_error_naming_the_closest(repo, sim, deleted, typo, tmp_path):
    out = tmp_path / "p.json"
    res = repo("plan", "--only", typo, "--out", out, code=1)
    assert "No changes" not in res.output
    assert f"{typo!r} names no object in tenant demo" in res.output
    assert "closest: groups/dept-hr ('Dept - HR')" in res.output
    assert not out.exists()
    since = len(sim.requests)
    assert "closest: groups/dept-hr" in repo("apply", "--only", typo, "--yes", code=1).output
    assert not _writes(sim, since)


def test_a_selector_is_a_kind_slug_display_name_id_or_path(repo, sim, deleted, monkeypatch):
    path = repo.repo / "tenants" / "demo" / "groups" / "dept-hr.yaml"
    for sel in ("groups/dept-hr", "groups/dept - hr", "GROUPS/Dept - HR", deleted, "tenants/demo/groups/dept-hr.yaml",
                str(path)):
        out = repo("plan", "--only", sel).output
        assert f"restore  {HR}" in out and "Plan: 1 to restore, 3 restored with them." in out, sel
    monkeypatch.chdir(path.parent.parent)  # relative to the cwd
    assert f"restore  {HR}" in repo("plan", "--only", "groups/dept-hr.yaml").output
    assert "names no object: no users in tenant demo" in repo("plan", "--only", "users", code=1).output


def test_a_saved_plan_keeps_what_its_selector_named(repo, sim, deleted, tmp_path, monkeypatch):
    monkeypatch.chdir(repo.repo / "tenants" / "demo")
    saved = tmp_path / "p.json"
    repo("plan", "--only", "groups/dept-hr.yaml", "--out", saved)
    assert json.loads(saved.read_text())["selectors"] == [deleted]
    monkeypatch.chdir(tmp_path)  # elsewhere: the path would name nothing now, the id still does
    assert "ok  restore groups 'Dept - HR'" in repo("apply", "--plan", saved, "--yes").output


def test_a_live_only_object_is_selected_by_name_or_slug_for_prune(repo, sim):
    repo("export", "--commit")
    with _admin(sim) as c:
        c.post("/groups", json={"displayName": "Temp Project", "mailEnabled": False, "mailNickname": "temp",
                                "securityEnabled": True})
    for sel in ("groups/Temp Project", "groups/temp-project"):
        out = repo("plan", "--prune", "--only", sel).output
        assert "delete   group 'Temp Project'" in out and "Plan: 1 to delete." in out, out


def test_log_follows_a_deleted_object_by_its_file_path(repo, sim, deleted, monkeypatch):
    repo("export", "--commit")  # the deletion, committed: the file is gone from HEAD
    rel = "tenants/demo/groups/dept-hr.yaml"
    assert not (repo.repo / rel).exists()
    for spec in (rel, str(repo.repo / rel)):
        out = repo("log", spec).output
        assert "2 commit(s)" in out and f"- {HR}" in out and f"+ {HR}" in out
    res = repo("log", "groups/dept-i", code=1)
    assert "names no object in tenant demo at HEAD" in res.output and "closest: groups/dept-it" in res.output


def test_log_by_display_name_and_id(repo, sim):
    repo("export", "--commit")
    with _admin(sim) as c:
        gid = c.get("/groups", params={"$filter": "displayName eq 'Dept - HR'"}).json()["value"][0]["id"]
    for spec in ("groups/dept - HR", gid):
        assert f"History of {HR} (tenants/demo/groups/dept-hr.yaml)" in repo("log", spec).output
    assert "is a kind; log follows one object" in repo("log", "groups", code=1).output


@pytest.mark.parametrize("cmd", [["plan"], ["apply", "--yes"], ["diff"], ["drift"], ["log"], ["export"]])
def test_an_unknown_tenant_is_an_error_naming_the_known_ones(repo, sim, cmd):
    repo("export", "--commit")
    since = len(sim.requests)
    assert "unknown tenant 'nope' (known: demo)" in repo(*cmd, "--tenant", "nope", code=1).output
    assert not _writes(sim, since)


@pytest.mark.parametrize("extra", [["--ref", "HEAD"], ["--only", "groups"], ["--prune"]])
def test_apply_plan_refuses_options_the_saved_plan_fixed(repo, sim, deleted, tmp_path, extra):
    saved = tmp_path / "p.json"
    repo("plan", "--out", saved)
    since = len(sim.requests)
    res = repo("apply", "--plan", saved, *extra, "--yes", code=1)
    assert f"error: {extra[0]} cannot be used with --plan: the saved plan already fixed" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not _writes(sim, since)


def test_usage_errors_exit_64_never_2(repo, sim):
    repo("export", "--commit")
    assert "No such option '--detailed-exitcodes'" in repo("plan", "--detailed-exitcodes", code=64).output
    assert "'xml' is not one of" in repo("plan", "--detailed-exitcode", "--format", "xml", code=64).output
    repo("nope", code=64)
    repo("drift", "--tenant", code=64)
    assert "64 usage error" in " ".join(CliRunner().invoke(main, ["--help"]).output.split())
