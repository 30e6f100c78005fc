"""Daily-use guards: a fresh repo tracks everything, export refuses what would file or lose the wrong
files, plan says what it leaves out, and every refusal is one line, exit 1, with nothing written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import git
import httpx
from click.testing import CliRunner

from entragit.cli import main

from .conftest import Cli, make_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
OTHER_TENANT = "11111111-2222-4333-8444-555555555555"


def _error_lines(output: str) -> list[str]:
    """The output's lines, checked to be an error (and its hint) rather than a traceback."""
    assert "Traceback" not in output, output
    lines = [line for line in output.strip().splitlines() if line]
    # Progress lines (`export demo: 21/21 kinds, ...`) may come first; the error is one line from there.
    at = next((i for i, line in enumerate(lines) if line.startswith("error: ")), None)
    assert at is not None and not any(line.startswith("error: ") for line in lines[at + 1:]), output
    return lines[at:]


def _hand_edit(path: Path) -> None:
    path.write_text(re.sub(r"(?m)^description: .*$", "description: hand edit", path.read_text(), count=1))


def _head(cli: Cli) -> str:
    return str(git.Repo(cli.repo).head.commit.hexsha)


def test_init_and_tenant_add_commit_so_nothing_is_left_untracked(tmp_path, sim):
    cli = make_repo(tmp_path / "cfg", sim)
    cli("export", "--commit")
    r = git.Repo(cli.repo)
    assert r.git.status("--porcelain", "--untracked-files=all") == ""
    tracked = set(r.git.ls_files().splitlines())
    for path in (".pre-commit-config.yaml", ".github/workflows/entragit-nightly.yml", "azure-pipelines.yml",
                 "schemas/groups.schema.json", "schemas/tenant.schema.json", "tenants/demo/tenant.yaml"):
        assert path in tracked, path
    export, add, scaffold = list(r.iter_commits())
    assert scaffold.summary.startswith("entragit init: ") and "CI templates" in scaffold.summary
    assert "schemas" in scaffold.summary and "pre-commit" in scaffold.summary
    assert ".github/workflows/entragit-pr.yml" in scaffold.message
    assert set(add.stats.files) == {"tenants/demo/tenant.yaml"} and add.summary.startswith("demo: add tenant")
    assert "tenants/demo/tenant.yaml" not in export.stats.files


def test_export_refuses_another_tenants_objects(tmp_path, sim):
    cli = make_repo(tmp_path / "cfg", sim)
    root = sim.graph_url.rsplit("/v1.0", 1)[0]
    cli("tenant", "add", "acme", "--tenant-id", OTHER_TENANT, "--graph-url", root, "--auth", "sim")
    head = _head(cli)
    res = cli("export", "--tenant", "acme", "--commit", code=1)
    lines = _error_lines(res.output)
    assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert f"reaches tenant {sim.tenant_id}" in lines[0] and OTHER_TENANT in lines[0]
    assert "refusing to export" in lines[0]
    assert sorted(p.name for p in (cli.repo / "tenants" / "acme").iterdir()) == ["tenant.yaml"]
    assert _head(cli) == head
    assert "FAILED acme: the token reaches tenant" in cli("export", "--all", code=1).output


def test_export_refuses_to_overwrite_uncommitted_edits(repo, sim):
    repo("export", "--commit")
    repo("export")  # a second export writes what is already there: nothing to refuse
    groups = repo.repo / "tenants" / "demo" / "groups"
    edited, removed = groups / "finance-admins.yaml", groups / "all-employees.yaml"
    _hand_edit(edited)
    removed.unlink()
    (repo.repo / "tenants" / "demo" / "notes.md").write_text("kept by hand\n")
    tenant_yaml = repo.repo / "tenants" / "demo" / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text() + "# export never rewrites this file\n")
    before = edited.read_text()
    head = _head(repo)
    res = repo("export", "--commit", code=1)
    lines = _error_lines(res.output)
    assert len(lines) == 2 and "--force" in lines[1]
    assert "groups/all-employees.yaml, groups/finance-admins.yaml, notes.md" in lines[0]
    assert "tenant.yaml" not in lines[0] and "nothing written" in lines[0]
    assert edited.read_text() == before and not removed.exists()
    assert (repo.repo / "tenants" / "demo" / "notes.md").exists() and _head(repo) == head
    out = repo("export", "--commit", "--force").output
    # The summary, like the commit, is against HEAD: the hand edits undone, the tenant's objects are
    # what the last commit holds.
    assert "demo: no changes" in out
    assert "hand edit" not in edited.read_text() and removed.exists()


def test_plan_names_the_uncommitted_edits_it_leaves_out(repo, sim):
    repo("export", "--commit")
    f = repo.repo / "tenants" / "demo" / "groups" / "finance-admins.yaml"
    _hand_edit(f)
    out = repo("plan").output
    assert "No changes" in out
    note = [line for line in out.splitlines() if line.startswith("note: ")]
    assert note == ["note: this plan reads the files at HEAD; 1 uncommitted change(s) under tenants/demo/ are "
                    "not in it (groups/finance-admins.yaml); plan them with --ref WORKTREE"]
    planned = repo("plan", "--ref", "worktree").output
    assert "~ update   group 'Finance Admins'" in planned and "note: " not in planned
    assert "(HEAD -> work tree): 1 changed" in repo("diff", "HEAD", "worktree").output  # diff: any case too
    assert "note: this plan reads the files at HEAD; 1 uncommitted" in repo("apply", "--yes").output
    applied = repo("apply", "--ref", "WorkTree", "--yes").output
    assert "Applied 1/1 operations" in applied
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        g = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]
    assert g["description"] == "hand edit"


def test_unreachable_sign_in_host_is_one_line(tmp_path, sim, monkeypatch):
    monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", "not-used")
    cli = make_repo(tmp_path / "cfg", sim, "demo", "--auth", "secret", "--client-id", "abc",
                    "--authority", "https://127.0.0.1:1")  # nothing listens there
    lines = _error_lines(cli("export", code=1).output)
    assert len(lines) == 2 and lines[1].startswith("hint: ") and "authority" in lines[1]
    assert "cannot reach the sign-in host https://127.0.0.1:1" in lines[0]


def test_urls_that_are_not_urls_are_refused_by_name(tmp_path, sim):
    CliRunner().invoke(main, ["init", str(tmp_path / "cfg")], catch_exceptions=False)
    cli = Cli(tmp_path / "cfg")
    for option, value in (("--graph-url", "graph.example"), ("--authority", "http://127.0.0.1:1"),
                          ("--authority", "not a url"), ("--graph-url", "http://127.0.0.1:99999")):
        res = cli("tenant", "add", "t", "--tenant-id", sim.tenant_id, option, value, code=1)
        lines = _error_lines(res.output)
        assert lines[0].startswith(f"error: tenants/t/tenant.yaml: {option} must be ") and repr(value) in lines[0]
        assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert not (tmp_path / "cfg" / "tenants" / "t").exists()
    cli("tenant", "add", "t", "--tenant-id", sim.tenant_id, "--graph-url", sim.graph_url.rsplit("/v1.0")[0],
        "--auth", "sim")
    tyaml = tmp_path / "cfg" / "tenants" / "t" / "tenant.yaml"
    text = tyaml.read_text()
    tyaml.write_text(text.replace("graphUrl: http://", "graphUrl: "))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("graphUrl:"))
    lines = _error_lines(cli("export", code=1).output)
    assert lines[0].startswith(f"error: tenants/t/tenant.yaml:{line}: graphUrl must be an http or https URL")


def test_plan_out_into_a_missing_folder_writes_nothing(repo, sim, tmp_path):
    repo("export", "--commit")
    since = len(sim.requests)
    lines = _error_lines(repo("plan", "--out", str(tmp_path / "no" / "p.json"), code=1).output)
    assert "folder" in lines[0] and "does not exist" in lines[0] and lines[1].startswith("hint: ")
    assert not (tmp_path / "no").exists() and len(sim.requests) == since


def test_apply_without_a_terminal_asks_for_yes(repo, sim):
    repo("export", "--commit")
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        g = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]
        c.patch(f"/groups/{g['id']}", json={"description": "changed in the portal"})
    since = len(sim.requests)
    res = repo("apply", code=1)  # CliRunner's stdin is not a terminal
    assert "~ update   group 'Finance Admins'" in res.output
    lines = _error_lines(res.output.split("Plan: 1 to update.", 1)[1])
    assert "apply needs --yes when not run interactively" in lines[0] and "Aborted" not in res.output
    assert not [r for r in sim.requests[since:] if r.method != "GET" and "/$batch" not in r.path]


def test_sim_serve_on_a_busy_port_is_one_line(sim):
    port = sim.graph_url.rsplit(":", 1)[1].split("/")[0]
    proc = subprocess.run([sys.executable, "-m", "entragit.cli", "sim", "serve", "--port", port],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = _error_lines(proc.stderr)
    assert lines == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use",
                     "hint: pick another --port (0 picks a free one) or --host"]
