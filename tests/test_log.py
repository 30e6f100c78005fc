"""entragit log (DESIGN flow 5): one object's history across renames, or a tenant's, field by field."""

from __future__ import annotations

import json

from .portal import Portal


def _three_exports(repo, sim, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Nightly Bot")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "nightly@example.test")
    repo("export", "--commit")
    p = Portal(sim)
    g = p.rename_group("Finance Admins", "Finance Administrators")
    repo("export", "--commit")
    p.ok(p.c.patch(f"/groups/{g['id']}", json={"description": "Billing and payment approvals"}))
    p.patch_policy(p.policy("CA100"), state="disabled")
    repo("export", "--commit")
    return g


def test_object_log_follows_the_rename_with_field_changes(repo, sim, monkeypatch):
    g = _three_exports(repo, sim, monkeypatch)
    out = repo("log", "groups/finance-administrators").output
    head = ("History of group 'Finance Administrators' "
            "(tenants/demo/groups/finance-administrators.yaml): 3 commit(s)")
    assert out.startswith(head)
    blocks = out.split("\ncommit ")[1:]
    assert len(blocks) == 3
    newest, renamed, first = blocks
    assert "Nightly Bot <nightly@example.test>" in newest.split("\n")[0] and "\n    demo: 2 changed" in newest
    assert "description: Finance administrators: billing, ExpenseHub administration, payment approvals. " \
           "-> Billing and payment approvals" in newest
    assert "CA100" not in newest, "only the followed object"
    assert "> group 'Finance Administrators' (was 'Finance Admins') (tenants/demo/groups/finance-admins.yaml " \
           "-> tenants/demo/groups/finance-administrators.yaml)" in renamed
    assert "displayName: Finance Admins -> Finance Administrators" in renamed
    assert "+ group 'Finance Admins'" in first
    # The same history by id and by path.
    by_id = repo("log", g["id"]).output
    assert by_id == out
    assert repo("log", "tenants/demo/groups/finance-administrators.yaml").output == out
    data = json.loads(repo("log", g["id"], "--format", "json").output)
    assert [c["objects"][0]["status"] for c in data["commits"]] == ["changed", "renamed", "added"]
    assert data["commits"][0]["author"] == "Nightly Bot <nightly@example.test>"
    assert data["commits"][0]["objects"][0]["fields"][0]["path"] == "description"


def test_tenant_log_lists_every_change_with_risk_notes(repo, sim, monkeypatch):
    _three_exports(repo, sim, monkeypatch)
    out = repo("log", "-n", "1").output
    assert out.startswith("History of tenant demo: 1 commit(s)")
    assert "~ group 'Finance Administrators'" in out
    assert "~ conditional access policy 'CA100-" in out and "state: enabled -> disabled" in out
    assert "! [ca-not-enforced]" in out
    full = repo("log").output
    assert full.startswith("History of tenant demo: 3 commit(s)")


def test_log_of_unknown_object_is_one_clear_error(repo, sim):
    repo("export", "--commit")
    res = repo("log", "groups/no-such-group", code=1)
    assert "'groups/no-such-group' names no object" in res.output
    assert "unknown tenant" in repo("log", "--tenant", "x", code=1).output
