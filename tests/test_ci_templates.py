"""`entragit init` CI templates run as written: each GitHub workflow's `run:` steps, executed by bash
against the simulator and a real git remote (GitHub-only tools stubbed), and export --shard."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml
from click.testing import CliRunner

from entragit.cli import main

from .conftest import make_repo
from .portal import Portal
from .test_diff import rendered_text

BIN = Path(sys.executable).parent
USES = ("actions/checkout@", "actions/setup-python@", "actions/upload-artifact@")
EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
STUBS = {
    # GitHub's OIDC token endpoint: a fixed token (the simulator tenant signs in with its dev token).
    "curl": '#!/bin/sh\necho \'{"value": "oidc-token-from-github"}\'\n',
    # gh pr comment / gh issue ... --body-file F: log the call, keep the body where the test can read it.
    "gh": '#!/bin/sh\necho "$*" >> "$GH_LOG"\n'
          'while [ $# -gt 0 ]; do [ "$1" = --body-file ] && cp "$2" "$GH_COMMENT_OUT"; shift; done\n',
    # setup-python + pip install -r requirements-entragit.txt: entragit is already installed in this
    # interpreter; the call and the requirements file it names are logged.
    "python": f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = pip ]; then echo "$*" >> "$PIP_LOG"; '
              'for a; do [ -f "$a" ] && cat "$a" >> "$PIP_LOG"; done; exit 0; fi\n'
              f'exec "{sys.executable}" "$@"\n',
}


@pytest.fixture
def stubs(tmp_path):
    d = tmp_path / "stubs"
    d.mkdir()
    for name, text in STUBS.items():
        (d / name).write_text(text)
        (d / name).chmod(0o755)
    return d


def workflow(repo: Path, name: str) -> dict:
    return yaml.safe_load((repo / ".github" / "workflows" / name).read_text())


def run_steps(repo: Path, wf: dict, exprs: dict[str, str], stubs: Path, tmp: Path) -> list[str]:
    """Run every `run:` step of every job in order, as the runner would: bash -e, $GITHUB_ENV honoured."""
    github_env = tmp / "github_env"
    github_env.write_text("")
    env = {"PATH": f"{stubs}:{BIN}:/usr/bin:/bin", "HOME": os.environ.get("HOME", str(tmp)),
           "RUNNER_TEMP": str(tmp), "GITHUB_ENV": str(github_env), "GH_COMMENT_OUT": str(tmp / "comment.md"),
           "GH_LOG": str(tmp / "gh.log"), "PIP_LOG": str(tmp / "pip.log"), "GITHUB_RUN_ID": "42",
           "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/token?x=1", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}
    ran = []
    for job in wf["jobs"].values():
        for step in job["steps"]:
            if "run" not in step:
                assert step["uses"].startswith(USES), step
                continue
            script = EXPR.sub(lambda m: exprs[m.group(1)], step["run"])  # KeyError: an expression we don't know
            step_env = {k: EXPR.sub(lambda m: exprs[m.group(1)], str(v)) for k, v in (step.get("env") or {}).items()}
            extra = dict(line.split("=", 1) for line in github_env.read_text().splitlines() if "=" in line)
            res = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=repo, capture_output=True,
                                 text=True, env={**env, **extra, **step_env}, timeout=120)
            assert res.returncode == 0, f"step {step.get('name')!r} failed:\n{res.stdout}\n{res.stderr}"
            ran.append(step.get("name", script.split()[0]))
    return ran


def _config_repo(tmp_path, sim) -> tuple[Path, git.Repo]:
    cli = make_repo(tmp_path / "config", sim)
    r = git.Repo(cli.repo)
    assert r.git.status("--porcelain") == ""  # init committed the templates, tenant add its tenant.yaml
    git.Repo.init(tmp_path / "origin.git", bare=True)
    r.create_remote("origin", str(tmp_path / "origin.git"))
    r.git.push("-q", "origin", "main")
    return cli.repo, r


def test_init_writes_ci_templates_that_parse(tmp_path, monkeypatch):
    assert CliRunner().invoke(main, ["init", str(tmp_path / "r")]).exit_code == 0
    root = tmp_path / "r"
    wfs = {n: workflow(root, n) for n in ("entragit-nightly.yml", "entragit-pr.yml", "entragit-apply.yml")}
    assert wfs["entragit-nightly.yml"]["permissions"]["id-token"] == "write"
    assert wfs["entragit-apply.yml"]["jobs"]["apply"]["environment"] == "entragit-apply"
    assert wfs["entragit-pr.yml"]["permissions"]["pull-requests"] == "write"
    ado = yaml.safe_load((root / "azure-pipelines.yml").read_text())
    assert [s["stage"] for s in ado["stages"]] == ["nightly", "plan", "pending", "apply"]
    assert ado["stages"][3]["jobs"][0]["environment"] == "entragit-apply"
    # Every entragit command line in every template is one the CLI accepts.
    scripts = [step["run"] for wf in wfs.values() for job in wf["jobs"].values() for step in job["steps"] if "run" in step]
    scripts += _ado_scripts(ado)
    lines = [ln.strip() for s in scripts for ln in s.splitlines() if ln.strip().startswith("entragit ")]
    assert len(lines) >= 10
    monkeypatch.chdir(root)
    for name in ("x", "plan.md"):  # the files `entragit comment` reads
        (root / name).write_text("")
    for line in lines:
        line = re.split(r" >>? | \|\| | \\$", line)[0]
        args = [a if "$" not in a else "x" for a in shlex.split(line)][1:]
        cmd = main.get_command(None, args[0])  # type: ignore[arg-type]
        assert cmd is not None, line
        cmd.make_context(args[0], [a.replace("x", "1/1") if a == "x" and "--shard" in line else a
                                   for a in args[1:]] + (["--repo", str(root)] if _has_repo(cmd) else []))


def _has_repo(cmd) -> bool:
    return any(p.name == "repo" for p in cmd.params)


def _ado_scripts(node) -> list[str]:
    if isinstance(node, dict):
        return ([node["script"]] if "script" in node else []) + [s for v in node.values() for s in _ado_scripts(v)]
    if isinstance(node, list):
        return [s for v in node for s in _ado_scripts(v)]
    return []


NIGHTLY = {"matrix.shard": "1/1", "github.ref_name": "main", "github.token": "t", "secrets.ENTRAGIT_CLIENT_SECRET": ""}
APPLY = {"github.ref_name": "main", "github.token": "t", "secrets.ENTRAGIT_WRITER_CLIENT_SECRET": ""}


def test_github_templates_nightly_pr_apply_against_the_simulator(tmp_path, sim, stubs):
    root, r = _config_repo(tmp_path, sim)
    origin = git.Repo(tmp_path / "origin.git")

    # Nightly: export, commit, push (with the tag saying which commit the tenant matches).
    ran = run_steps(root, workflow(root, "entragit-nightly.yml"), NIGHTLY, stubs, tmp_path)
    assert ran == ["Install entragit", "OIDC token for workload identity federation", "Changes merged but not applied",
                   "Export and commit", "Push", "Open or update an issue per tenant with changes not applied"]
    assert "pip install --quiet -r requirements-entragit.txt" in (tmp_path / "pip.log").read_text()
    assert re.search(r"^entragit==\S+$", (tmp_path / "pip.log").read_text(), re.M)
    assert origin.commit("refs/tags/entragit/applied/demo") == r.head.commit
    assert (tmp_path / "federated-token").read_text().strip() == "oidc-token-from-github"
    assert r.head.commit.message.startswith("demo: ") and " added" in r.head.commit.message
    assert r.head.commit.author.name == "entragit nightly"
    assert origin.commit("main") == r.head.commit
    # A portal change by a named admin: the next nightly commit says what and who.
    Portal(sim, actor="erin@contoso.example").patch_policy(Portal(sim).policy("CA100"), state="disabled")
    run_steps(root, workflow(root, "entragit-nightly.yml"), NIGHTLY, stubs, tmp_path)
    msg = r.head.commit.message
    assert msg.startswith("demo: 1 changed") and "erin@contoso.example (Update conditional access policy)" in msg
    assert origin.commit("main") == r.head.commit

    # Pull request: an engineer requires MFA again... by editing YAML on a branch.
    base = r.head.commit.hexsha
    r.git.checkout("-qb", "restore-ca100")
    f = next((root / "tenants" / "demo" / "conditionalAccessPolicies").glob("ca100-*.yaml"))
    f.write_text(f.read_text().replace("state: disabled", "state: enabled"))
    r.git.commit("-qam", "Re-enable CA100")
    ran = run_steps(root, workflow(root, "entragit-pr.yml"), {
        "github.event.pull_request.base.sha": base, "github.event.pull_request.number": "7", "github.token": "t",
        "secrets.ENTRAGIT_CLIENT_SECRET": "", "steps.plan-artifact.outputs.artifact-url": "https://x/artifacts/1"},
        stubs, tmp_path)
    assert "Post the plan as a comment" in ran
    body = (tmp_path / "comment.md").read_text()
    seen = rendered_text(body)
    assert "entragit diff: demo" in seen and "entragit plan: demo at " in seen
    assert "CA100-Admins-IdentityProtection-AdminPortals-AnyPlatform-MFA" in seen
    assert "disabled → enabled" in seen and "Plan: 1 to update." in seen

    # Merged, pushed, but apply waits for approval: the nightly leaves the tenant alone and opens an issue.
    r.git.checkout("-q", "main")
    r.git.merge("-q", "--ff-only", "restore-ca100")
    r.git.push("-q", "origin", "main")
    merged = r.head.commit
    (tmp_path / "gh.log").unlink()
    run_steps(root, workflow(root, "entragit-nightly.yml"), NIGHTLY, stubs, tmp_path)
    assert r.head.commit == merged and origin.commit("main") == merged, "the live state was committed over the merge"
    assert "state: enabled" in f.read_text() and Portal(sim).policy("CA100")["state"] == "disabled"
    calls = (tmp_path / "gh.log").read_text().splitlines()
    assert [c for c in calls if c.startswith("issue create")] == [
        f"issue create --title entragit: changes to tenant demo are merged but not applied --body-file {tmp_path}/issue-capped.md"]
    issue = rendered_text((tmp_path / "comment.md").read_text())
    assert "disabled → enabled" in issue and "merged but not applied" not in issue  # the diff, not the title

    # The apply job (behind its environment) makes the tenant match, pushes and moves the tag.
    run_steps(root, workflow(root, "entragit-apply.yml"), APPLY, stubs, tmp_path)
    assert Portal(sim).policy("CA100")["state"] == "enabled"
    assert origin.commit("main") == r.head.commit
    assert origin.commit("refs/tags/entragit/applied/demo") == r.head.commit
    # Then the nightly exports the tenant again, and opens no issue.
    (tmp_path / "gh.log").unlink(missing_ok=True)
    Portal(sim, actor="erin@contoso.example").patch_policy(Portal(sim).policy("CA100"), state="disabled")
    run_steps(root, workflow(root, "entragit-nightly.yml"), NIGHTLY, stubs, tmp_path)
    assert r.head.commit.message.startswith("demo: 1 changed") and origin.commit("main") == r.head.commit
    assert not (tmp_path / "gh.log").exists()


def test_export_shards_split_tenants_deterministically(tmp_path, sim):
    names = ["alpha", "bravo", "charlie", "delta", "echo"]
    cli = make_repo(tmp_path / "config", sim, names[0])
    root = sim.graph_url.rsplit("/v1.0", 1)[0]
    for n in names[1:]:
        cli("tenant", "add", n, "--tenant-id", sim.tenant_id, "--graph-url", root, "--auth", "sim")
    assert "--shard K/N" in cli("export", "--help").output and "stable hash" in cli("export", "--help").output
    seen: list[str] = []
    for k in (1, 2, 3):
        out = cli("export", "--all", "--shard", f"{k}/3").output
        got = sorted(n for n in names if f"{n}: " in out)
        seen += got
    assert sorted(seen) == names, "every tenant in exactly one shard"
    from entragit import config
    from entragit.export import shard

    ts = config.tenants(cli.repo)
    assert [t.name for t in shard(ts, "2/3")] == [t.name for t in shard(list(reversed(ts)), "2/3")][::-1]
    assert "--shard must be K/N" in cli("export", "--all", "--shard", "4/3", code=1).output
    assert "use them together" in cli("export", "--tenant", "alpha", "--shard", "1/2", code=1).output
