"""Risk notes: each rule in the table on its own, and in plan output (text, markdown, json)."""

from __future__ import annotations

import json
import re

import pytest

from entragit import risk

from .portal import Portal
from .test_diff import rendered_text

BG = "bbbbbbbb-0000-0000-0000-000000000001"
GRP = "99999999-0000-0000-0000-000000000001"
CTX = risk.Context(frozenset({BG}), {GRP: {BG}}, {BG: "Break Glass 1", GRP: "BG group"})


def ca(state="enabled", include=("All",), exclude_users=(), exclude_groups=(), controls=("mfa",), strength=None):
    return {"state": state, "conditions": {"users": {
        "includeUsers": list(include), "excludeUsers": list(exclude_users), "excludeGroups": list(exclude_groups),
        "excludeRoles": [], "includeGroups": []}},
        "grantControls": {"builtInControls": list(controls), "authenticationStrength": strength}}


CASES = [
    ("ca-not-enforced", "conditionalAccessPolicies", ca(), ca(state="enabledForReportingButNotEnforced"),
     "state enabled -> enabledForReportingButNotEnforced"),
    ("ca-not-enforced", "conditionalAccessPolicies", ca(), None, "deleted while enabled"),
    ("ca-mfa-removed", "conditionalAccessPolicies", ca(), ca(controls=("compliantDevice",)),
     "no longer requires mfa"),
    ("ca-mfa-removed", "conditionalAccessPolicies", ca(controls=(), strength={"id": "x"}), ca(controls=()),
     "no longer requires authentication strength"),
    ("ca-new-exclusion", "conditionalAccessPolicies", ca(), ca(exclude_groups=(GRP,)),
     "newly excluded: group BG group (99999999)"),
    ("ca-break-glass-unexcluded", "conditionalAccessPolicies", ca(exclude_groups=(GRP,)), ca(),
     "break-glass no longer excluded: Break Glass 1 (bbbbbbbb)"),
    ("ca-all-users-narrowed", "conditionalAccessPolicies", ca(), ca(include=(BG,)),
     "includeUsers no longer 'All'; now Break Glass 1 (bbbbbbbb)"),
    ("privileged-role-assigned", "roleAssignments", None,
     {"principalId": BG, "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10"},
     "Global Administrator assigned to Break Glass 1 (bbbbbbbb)"),
    ("app-high-privilege-permission", "appRoleAssignments", None,
     {"principalId": GRP, "resourceId": BG, "appRoleId": "19dbc75e-c2e2-444c-a770-ec69d8559fc7"},
     "granted application permission Directory.ReadWrite.All"),
    ("security-defaults-toggled", "securityDefaults", {"isEnabled": True}, {"isEnabled": False},
     "security defaults disabled"),
    ("guest-invites-loosened", "authorizationPolicy", {"allowInvitesFrom": "none"},
     {"allowInvitesFrom": "everyone"}, "allowInvitesFrom none -> everyone"),
]


@pytest.mark.parametrize(("rule", "kind", "old", "new", "detail"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_fires_with_its_detail(rule, kind, old, new, detail):
    notes = risk.assess(kind, "obj", old, new, CTX)
    hit = [n for n in notes if n.rule == rule]
    assert hit and detail in hit[0].detail and hit[0].why


def test_harmless_or_tightening_changes_are_quiet():
    assert risk.assess("conditionalAccessPolicies", "p", ca(state="disabled"), ca(), CTX) == []
    # Break-glass moved from a direct exclusion to an excluded group it belongs to: still excluded.
    moved = risk.assess("conditionalAccessPolicies", "p", ca(exclude_users=(BG,)), ca(exclude_groups=(GRP,)), CTX)
    assert {n.rule for n in moved} == {"ca-new-exclusion"}
    assert risk.assess("authorizationPolicy", "a", {"allowInvitesFrom": "everyone"}, {"allowInvitesFrom": "none"}, CTX) == []
    assert risk.assess("roleAssignments", "r", None, {"roleDefinitionId": "b0f54661-2d74-4c50-afa3-1ec803f12efe"}, CTX) == []


def test_rules_table_is_data():
    ids = [r.id for r in risk.RULES]
    assert len(ids) == len(set(ids)) >= 9
    from entragit import kinds

    for r in risk.RULES:
        assert r.kinds <= set(kinds.BY_NAME) and r.why.strip()


def test_plan_markdown_after_a_disaster_renders_and_names_every_object(repo, sim):
    """Flows 2-3 on the demo repo: hard-deleted group, deleted app, weakened policy; the PR plan comment."""
    repo("export", "--commit")
    p = Portal(sim)
    grp = p.one("/groups", "Finance Admins")
    p.ok(p.c.delete(f"/groups/{grp['id']}"))
    p.ok(p.c.delete(f"/directory/deletedItems/{grp['id']}"))
    app = p.one("/applications", "HR Portal")
    p.ok(p.c.delete(f"/applications/{app['id']}"))
    pol = p.policy("CA100")
    p.patch_policy(pol, state="enabledForReportingButNotEnforced")
    ops = json.loads(repo("plan", "--format", "json").output)["operations"]
    md = repo("plan", "--format", "markdown").output
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    assert [t.type for t in tokens].count("table_open") >= 2
    seen = rendered_text(md)
    for op in ops:
        assert op["name"] in seen, op["name"]
    assert "Finance Admins" in seen and "HR Portal" in seen and pol["displayName"] in seen
    assert re.search(r"state\s*\|?\s*enabledForReportingButNotEnforced\s*\|?\s*enabled", seen)
    # Rows stay rows: every table line has the header's cell count (no stray pipes from values).
    for block in md.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.startswith("|")]
        if lines:
            cells = [len(re.split(r"(?<!\\)\|", ln)) for ln in lines]
            assert len(set(cells)) == 1, block


def test_plan_shows_risk_notes_for_risky_files(repo, sim):
    repo("export", "--commit")
    tdir = repo.repo / "tenants" / "demo"
    f = next((tdir / "conditionalAccessPolicies").glob("ca100-*.yaml"))
    text = f.read_text().replace("state: enabled", "state: enabledForReportingButNotEnforced")
    f.write_text(re.sub(r"    excludeUsers:\n(    - .*\n)+", "    excludeUsers: []\n", text))
    s = tdir / "securityDefaults" / "security-defaults.yaml"
    s.write_text(s.read_text().replace("isEnabled: false", "isEnabled: true"))
    out = repo("plan", "--ref", "WORKTREE").output
    assert "! [ca-not-enforced] conditional access policy 'CA100-" in out
    assert "! [security-defaults-toggled] security defaults 'security defaults': security defaults enabled" in out
    assert "newly excluded" not in out
    md = repo("plan", "--ref", "WORKTREE", "--format", "markdown").output
    assert "Risk notes (" in rendered_text(md) and "Why it matters:" in rendered_text(md)
    data = json.loads(repo("plan", "--ref", "WORKTREE", "--format", "json").output)
    assert {r["rule"] for r in data["risks"]} == {"ca-not-enforced", "security-defaults-toggled"}
    assert "Plan: 2 to update." in out


def test_break_glass_excluded_through_a_role_or_a_nested_group_counts_as_excluded():
    """The note reckons exclusions as the lock-out guard does: roles held and nested groups count."""
    ga, outer = "62e90394-69f5-4237-9190-012177145e10", "99999999-0000-0000-0000-000000000002"
    ctx = risk.Context(frozenset({BG}), {outer: {GRP}, GRP: {BG}}, {BG: "Break Glass 1"}, {ga: {(BG, "/")}})
    by_role = dict(ca(), conditions={"users": {**ca()["conditions"]["users"], "excludeRoles": [ga]}})
    moved = risk.assess("conditionalAccessPolicies", "p", by_role, ca(exclude_groups=(outer,)), ctx)
    assert {n.rule for n in moved} == {"ca-new-exclusion"}  # still excluded, through the nested group
    [lost] = [n for n in risk.assess("conditionalAccessPolicies", "p", by_role, ca(), ctx)
              if n.rule == "ca-break-glass-unexcluded"]
    assert lost.detail == "break-glass no longer excluded: Break Glass 1 (bbbbbbbb)"


def test_a_break_glass_exclusion_lost_with_its_group_is_a_risk_note(tmp_path, sim_factory, monkeypatch):
    """Who is in a group comes from the tenant's files and live side (risk.context): a policy that no
    longer excludes the group holding the break-glass account is named, signed in as the reader app."""
    import yaml

    from .conftest import app_repo

    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    tdir = repo.repo / "tenants" / "demo"
    group = yaml.safe_load((tdir / "groups" / "ca-breakglassaccounts-exclude.yaml").read_text())
    member = group["members"][0]
    conf = tdir / "tenant.yaml"
    conf.write_text(conf.read_text().replace("breakGlass: []", f"breakGlass:\n- {group['refs'][member]['userPrincipalName']}"))
    policy = tdir / "conditionalAccessPolicies" / "ca000-global-identityprotection-anyapp-anyplatform-mfa.yaml"
    text = policy.read_text()
    assert f"    - {group['id']}\n" in text and member not in text  # excluded through the group only
    policy.write_text(text.replace(f"    - {group['id']}\n", ""))
    out = repo("plan", "--ref", "WORKTREE").output
    assert "! [ca-break-glass-unexcluded] conditional access policy 'CA000-" in out, out
