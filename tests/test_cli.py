"""CLI contract: init, tenant add, multi-tenant export, and bad input (one clear line, exit 1, nothing written)."""

from __future__ import annotations

import git
import httpx
import yaml
from click.testing import CliRunner

from entragit.cli import main

from .conftest import Cli, make_repo


def test_help_teaches_and_lists_every_command():
    out = CliRunner().invoke(main, ["--help"]).output
    for cmd in ("init", "tenant", "export", "plan", "apply", "validate", "fmt", "demo", "sim"):
        assert f"  {cmd}" in out
    assert "entragit demo" in out


def test_init_scaffolds_a_config_repo(tmp_path):
    r = CliRunner().invoke(main, ["init", str(tmp_path / "cfg")])
    assert r.exit_code == 0, r.output
    root = tmp_path / "cfg"
    assert (root / ".git").is_dir() and (root / "tenants").is_dir()
    assert (root / ".pre-commit-config.yaml").read_text().count("entragit") >= 2
    assert (root / "schemas" / "conditionalAccessPolicies.schema.json").is_file()
    assert (root / "schemas" / "tenant.schema.json").is_file()


def test_tenant_add_rejects_bad_input_and_writes_nothing(tmp_path):
    CliRunner().invoke(main, ["init", str(tmp_path / "cfg")])
    cli = Cli(tmp_path / "cfg")
    r = cli("tenant", "add", "contoso", "--tenant-id", "not-a-guid", code=1)
    assert "GUID" in r.output
    r = cli("tenant", "add", "Bad Name", "--tenant-id", "2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90", code=1)
    assert "tenant name" in r.output
    assert not list((tmp_path / "cfg" / "tenants").glob("*/tenant.yaml"))
    cli("tenant", "add", "contoso", "--tenant-id", "2D6B1F4E-7C3A-4E85-9F20-6A1B3C5D7E90", "--auth", "secret",
        "--client-id", "abc")
    text = (tmp_path / "cfg" / "tenants" / "contoso" / "tenant.yaml").read_text()
    assert "tenantId: 2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90" in text and "secret" in text
    assert "clientSecret" not in text
    assert "already exists" in cli("tenant", "add", "contoso", "--tenant-id",
                                   "2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90", code=1).output


def test_export_all_runs_every_tenant_and_commits_each(tmp_path, sim_factory):
    a, b = sim_factory("demo"), sim_factory("synthetic:300")
    cli = make_repo(tmp_path / "cfg", a, "contoso")
    root = b.graph_url.rsplit("/v1.0", 1)[0]
    cli("tenant", "add", "fabrikam", "--tenant-id", b.tenant_id, "--graph-url", root, "--auth", "sim")
    res = cli("export", code=1)
    assert "--tenant NAME or use --all" in res.output
    out = cli("export", "--all", "--commit").output
    assert "contoso:" in out and "fabrikam:" in out
    repo = git.Repo(tmp_path / "cfg")
    subjects = [c.summary for c in repo.iter_commits()]
    assert any(s.startswith("contoso: ") for s in subjects) and any(s.startswith("fabrikam: ") for s in subjects)


def test_malformed_yaml_names_file_and_line_and_writes_nothing(repo, sim):
    repo("export", "--commit")
    f = next((repo.repo / "tenants" / "demo" / "groups").glob("finance-admins.yaml"))
    lines = f.read_text().splitlines()
    lines[3] = "description: [unclosed"
    f.write_text("\n".join(lines) + "\n")
    since = len(sim.requests)
    res = repo("apply", "--ref", "WORKTREE", "--yes", code=1)
    assert "tenants/demo/groups/finance-admins.yaml:" in res.output and "invalid YAML" in res.output
    assert len(res.output.strip().splitlines()) <= 2
    assert not [r for r in sim.requests[since:] if r.method != "GET"]
    res = repo("validate", code=1)
    assert "finance-admins.yaml:" in res.output


def test_unknown_revision_and_unknown_tenant_are_clear_errors(repo, sim):
    repo("export", "--commit")
    assert "unknown revision 'nope'" in repo("plan", "--ref", "nope", code=1).output
    assert "unknown tenant 'acme'" in repo("plan", "--tenant", "acme", code=1).output


def test_fmt_rewrites_hand_edits_to_canonical_form(repo, sim):
    repo("export", "--commit")
    f = repo.repo / "tenants" / "demo" / "groups" / "finance-admins.yaml"
    canonical_text = f.read_text()
    doc = yaml.safe_load(canonical_text)
    doc.pop("refs")
    doc["members"].reverse()
    f.write_text(yaml.safe_dump(dict(reversed(doc.items())), sort_keys=False, default_flow_style=True))
    assert "would reformat" in repo("fmt", "--check", code=1).output
    repo("fmt")
    assert f.read_text() == canonical_text
    repo("fmt", "--check")


def test_drifted_export_shows_names_and_no_secret_env_leaks(repo, sim, monkeypatch):
    monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", "s3cr3t-value-never-written")
    repo("export", "--commit")
    with httpx.Client(base_url=sim.graph_url, headers={"Authorization": "Bearer sim-admin"}) as c:
        g = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]
        c.patch(f"/groups/{g['id']}", json={"description": "changed in the portal"})
    out = repo("plan", "--detailed-exitcode", code=2).output
    assert "group 'Finance Admins'" in out and "description:" in out
    for p in (repo.repo).rglob("*"):
        if p.is_file() and ".git" not in p.parts:
            assert "s3cr3t-value-never-written" not in p.read_text(errors="ignore")


def test_schema_error_in_an_edited_file_stops_apply_before_any_write(repo, sim):
    repo("export", "--commit")
    f = repo.repo / "tenants" / "demo" / "conditionalAccessPolicies"
    f = next(f.glob("ca100*.yaml"))
    f.write_text(f.read_text().replace("state: enabled", "state: 42"))
    since = len(sim.requests)
    res = repo("apply", "--ref", "WORKTREE", "--yes", code=1)
    line = next(i for i, t in enumerate(f.read_text().splitlines(), 1) if t.startswith("state:"))
    assert f"{f.relative_to(repo.repo)}:{line}:" in res.output and "[schema]" in res.output
    assert not [r for r in sim.requests[since:] if r.method != "GET"]


def test_one_broken_tenant_does_not_hold_back_the_others(tmp_path, sim_factory):
    good = sim_factory("demo")
    cli = make_repo(tmp_path / "cfg", good, "contoso")
    cli("tenant", "add", "gone", "--tenant-id", "6f1c2b1e-0000-4000-8000-000000000001",
        "--graph-url", "http://127.0.0.1:9", "--auth", "sim")  # nothing listens there
    res = cli("export", "--all", "--commit", code=1)
    assert "FAILED gone:" in res.output and "1 of 2 tenant(s) failed: gone" in res.output
    assert "contoso:" in res.output
    assert list((tmp_path / "cfg" / "tenants" / "contoso" / "groups").glob("*.yaml"))
    assert not list((tmp_path / "cfg" / "tenants" / "gone").glob("*/*.yaml"))
    assert git.Repo(tmp_path / "cfg").head.commit.summary.startswith("contoso: ")


def test_tenant_list_shows_each_tenant(repo, sim):
    repo("export")
    out = repo("tenant", "list").output
    assert out.startswith("demo ") and sim.tenant_id in out and "auth=sim" in out and " files" in out


def test_demo_runs_the_same_story_on_the_enterprise_seed(tmp_path):
    from click.testing import CliRunner

    from entragit.cli import main

    r = CliRunner().invoke(main, ["demo", "--seed", "enterprise", "--dir", str(tmp_path / "d")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "hard-deleted group 'Tier0 - Identity Admins'" in r.output
    assert "deleted app registration 'Northwind Payroll'" in r.output and "FAILED" not in r.output
    after = r.output.split("6. Apply again", 1)[1]
    assert "No changes. The tenant matches the files." in after


def test_demo_brings_back_who_may_join_or_request_through_the_hard_deleted_group(tmp_path):
    """The demo's own story: the PIM for Groups eligibility and the access package policy that name
    Finance Admins come back on the group apply recreates, and the second apply is empty."""
    from click.testing import CliRunner

    from entragit.cli import main

    r = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "d")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    back = next(line for line in r.output.splitlines() if "back on the recreated 'Finance Admins'" in line)
    assert "eligible group membership 'Finance Admins -- member -- Kwame Mensah'" in back
    assert "access package assignment policy 'Finance admins'" in back
    new_id = next(line for line in r.output.splitlines() if line.strip().startswith("groups: ")).split(" -> ")[1].split()[0]
    policy = next((tmp_path / "d" / "tenants" / "demo" / "accessPackageAssignmentPolicies").glob("*.yaml")).read_text()
    eligible = next((tmp_path / "d" / "tenants" / "demo" / "groupEligibilitySchedules").glob("*.yaml")).read_text()
    assert new_id in policy and new_id in eligible, "the re-export names the recreated group's id"
    assert "No changes. The tenant matches the files." in r.output.split("6. Apply again", 1)[1]
    assert "FAILED" not in r.output
