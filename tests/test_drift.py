"""entragit drift (DESIGN flow 3): live vs HEAD, read-only, exit 2 on drift."""

from __future__ import annotations

import json

import git

from .portal import Portal


def test_drift_reports_portal_changes_and_writes_nothing(repo, sim):
    repo("export", "--commit")
    assert repo("drift").output.strip() == "Tenant demo (HEAD -> live): no changes"
    r = git.Repo(repo.repo)
    head, status = r.head.commit.hexsha, r.git.status("--porcelain")
    p = Portal(sim)
    pol = p.policy("CA100")
    p.patch_policy(pol, state="disabled")
    p.rename_group("Dept - Finance", "Dept - Finance & Accounting")
    since = len(sim.requests)
    out = repo("drift", code=2).output
    assert out.startswith("Tenant demo (HEAD -> live): ")
    assert f"~ conditional access policy '{pol['displayName']}'" in out
    assert "state: enabled -> disabled" in out
    assert "> group 'Dept - Finance & Accounting' (was 'Dept - Finance')" in out
    assert "! [ca-not-enforced]" in out and "state enabled -> disabled" in out
    assert all(q.method == "GET" or q.path.endswith("/$batch") for q in sim.requests[since:]), "read-only"
    assert r.head.commit.hexsha == head and r.git.status("--porcelain") == status
    data = json.loads(repo("drift", "--all", "--format", "json", code=2).output)
    assert data["old"] == "HEAD" and data["new"] == "live"
    names = {o["name"]: o["status"] for o in data["tenants"][0]["objects"]}
    assert names[pol["displayName"]] == "changed" and names["Dept - Finance & Accounting"] == "renamed"
    md = repo("drift", "--format", "markdown", code=2).output
    assert "### entragit diff: `demo` (`HEAD` \u2192 `live`)" in md and "<details>" in md


def test_drift_errors_exit_1(repo, sim):
    assert "no commit yet" in repo("drift", code=1).output
    assert "unknown tenant 'nope'" in repo("drift", "--tenant", "nope", code=1).output
