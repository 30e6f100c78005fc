"""entragit diff (DESIGN flows 3-4): semantic, named, risk-annotated changes between revisions."""

from __future__ import annotations

import html
import json
import re

from markdown_it import MarkdownIt

from .conftest import make_repo
from .portal import Portal


def rendered_text(md: str) -> str:
    """The markdown as a reader sees it: parsed (GFM tables on), tags stripped, entities decoded."""
    out = MarkdownIt("commonmark").enable("table").render(md)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", out)))


def _exported_with_changes(tmp_path, sim):
    cli = make_repo(tmp_path / "config", sim, "demo", "--break-glass", "bg-admin-01@contosodemo.onmicrosoft.com")
    cli("export", "--commit")
    done = Portal(sim).risky_changes()
    cli("export", "--commit")
    return cli, done


def test_diff_names_objects_fields_and_risks(tmp_path, sim):
    cli, done = _exported_with_changes(tmp_path, sim)
    out = cli("diff", "HEAD~1", "HEAD").output
    assert out.startswith("Tenant demo (HEAD~1 -> HEAD): 2 added, ")
    assert f"~ conditional access policy '{done['report_only']}'" in out
    assert "state: enabled -> enabledForReportingButNotEnforced" in out
    # The rename keeps the id: one renamed object, the file moved, and referencing policies don't change.
    assert ("> group 'Finance Administrators' (was 'Finance Admins') "
            "(tenants/demo/groups/finance-admins.yaml -> tenants/demo/groups/finance-administrators.yaml)") in out
    assert "displayName: Finance Admins -> Finance Administrators" in out
    # Ids carry names: a list change shows only what was added/removed, by name.
    assert re.search(r"conditions\.users\.excludeUsers: - Break Glass Admin 01 \([0-9a-f]{8}\), "
                     r"- Break Glass Admin 02", out)
    assert "+ role assignment 'Global Administrator -- HR Portal -- directory'" in out
    assert re.search(r"roleDefinitionId: Global Administrator \(62e90394\)", out)
    assert "~ security defaults 'security defaults'" in out and "isEnabled: false -> true" in out
    assert "allowInvitesFrom: adminsAndGuestInviters -> everyone" in out
    for rule in ("ca-not-enforced", "ca-mfa-removed", "ca-new-exclusion", "ca-break-glass-unexcluded",
                 "ca-all-users-narrowed", "privileged-role-assigned", "app-high-privilege-permission",
                 "security-defaults-toggled", "guest-invites-loosened"):
        assert f"! [{rule}]" in out, rule
    assert "break-glass no longer excluded: Break Glass Admin 01" in out
    assert "Global Administrator assigned to HR Portal" in out
    assert "granted application permission RoleManagement.ReadWrite.Directory on Microsoft Graph" in out
    assert "why: a privileged directory role can take over the tenant" in out
    assert "\033[" not in out, "no colour when not on a terminal"


def test_diff_json_and_markdown_agree_and_markdown_renders(tmp_path, sim):
    cli, done = _exported_with_changes(tmp_path, sim)
    data = json.loads(cli("diff", "HEAD~1", "HEAD", "--format", "json").output)
    (t,) = data["tenants"]
    assert t["tenant"] == "demo"
    renamed = {o["name"]: o for o in t["objects"] if o["status"] == "renamed"}
    # Nameless kinds are named after what they reference, so their files move with the group too.
    assert renamed["Finance Administrators"]["oldName"] == "Finance Admins"
    assert "Billing Administrator -- Finance Administrators -- directory" in renamed
    by_name = {o["name"]: o for o in t["objects"]}
    pol = by_name[done["report_only"]]
    assert pol["status"] == "changed"
    assert {"path": "state", "old": "enabled", "new": "enabledForReportingButNotEnforced",
            "oldNames": None, "newNames": None} in pol["fields"]
    ex = next(f for f in pol["fields"] if f["path"] == "conditions.users.excludeUsers")
    assert sorted(ex["oldNames"].values()) == ["Break Glass Admin 01", "Break Glass Admin 02"]
    assert {r["rule"] for r in t["risks"]} >= {"ca-not-enforced", "privileged-role-assigned"}

    md = cli("diff", "HEAD~1", "HEAD", "--format", "markdown").output
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    assert sum(tok.type == "table_open" for tok in tokens) >= 2
    assert md.count("<details>") == md.count("</details>") == sum(1 for o in t["objects"] if o["fields"])
    seen = rendered_text(md)
    for o in t["objects"]:
        assert o["name"] in seen, o["name"]
    assert "state | enabled → enabledForReportingButNotEnforced" in seen.replace("  ", " ") or \
        "enabled → enabledForReportingButNotEnforced" in seen
    assert "Risk notes (" in seen and "Why it matters:" in seen


def test_diff_defaults_follow_git_and_bad_revs_fail(tmp_path, sim):
    cli, _ = _exported_with_changes(tmp_path, sim)
    assert cli("diff").output.strip() == "Tenant demo (HEAD -> work tree): no changes"
    f = tmp_path / "config" / "tenants" / "demo" / "securityDefaults" / "security-defaults.yaml"
    f.write_text(f.read_text().replace("isEnabled: true", "isEnabled: false"))
    out = cli("diff").output
    assert "Tenant demo (HEAD -> work tree): 1 changed" in out and "isEnabled: true -> false" in out
    assert "[security-defaults-toggled]" in out
    one = cli("diff", "HEAD~1").output  # HEAD~1 vs work tree: securityDefaults back where it was
    assert "security defaults" not in one.split("Risk notes")[0] and "Finance Administrators" in one
    assert "unknown revision 'nope'" in cli("diff", "nope", code=1).output


def test_diff_shows_an_object_apply_recreated_as_one_recreation(repo, sim):
    import httpx

    repo("export", "--commit")
    with httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"}) as c:
        gid = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]["id"]
        c.delete(f"/groups/{gid}")
        c.delete(f"/directory/deletedItems/{gid}")
    repo("apply", "--yes", "--commit")
    out = repo("diff", "HEAD~1", "HEAD").output
    assert "* group 'Finance Admins' (recreated by apply: " + gid in out
    assert "- group 'Finance Admins'" not in out and "recreated" in out.splitlines()[0]
