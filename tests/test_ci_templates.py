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


# ---------------------------------------------------------------- properties of the templates as written

GITHUB = ("entragit-nightly.yml", "entragit-pr.yml", "entragit-apply.yml")
SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Z0-9_]+)\s*\}\}")


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scaffold") / "r"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    return root


def _steps(wf: dict) -> list[dict]:
    return [step for job in wf["jobs"].values() for step in job["steps"]]


def test_actions_pinned_by_full_commit_sha_with_the_tag_in_a_comment(scaffold):
    for name in GITHUB:
        text = (scaffold / ".github" / "workflows" / name).read_text()
        uses = [ln.strip() for ln in text.splitlines() if re.match(r"\s*(- )?uses:", ln)]
        assert uses, name
        for line in uses:
            assert re.fullmatch(r"(- )?uses: actions/[a-z-]+@[0-9a-f]{40} # v\d+(\.\d+)*", line), (name, line)


def test_pr_workflow_has_a_concurrency_group_per_pull_request(scaffold):
    c = workflow(scaffold, "entragit-pr.yml")["concurrency"]
    assert "github.event.pull_request.number" in c["group"] and c["cancel-in-progress"] is True


def test_reader_and_writer_secrets_are_two_sets_and_only_apply_holds_the_writer(scaffold):
    def secrets(name: str) -> set[str]:
        return set(SECRET.findall((scaffold / ".github" / "workflows" / name).read_text()))

    assert secrets("entragit-pr.yml") == secrets("entragit-nightly.yml") == {"ENTRAGIT_CLIENT_SECRET"}
    assert secrets("entragit-apply.yml") == {"ENTRAGIT_WRITER_CLIENT_SECRET"}
    for name in ("entragit-pr.yml", "entragit-nightly.yml"):  # not even under another spelling
        wf = workflow(scaffold, name)
        assert "WRITER" not in yaml.safe_dump(wf["jobs"]), name
        assert all("environment" not in job for job in wf["jobs"].values())
    # The writer's secret sits on a step of the job behind the approval environment, nowhere else.
    apply = workflow(scaffold, "entragit-apply.yml")
    [(job_name, job)] = [(n, j) for n, j in apply["jobs"].items() if "WRITER" in yaml.safe_dump(j)]
    assert job["environment"] == "entragit-apply"
    assert "WRITER" not in yaml.safe_dump({k: v for k, v in apply.items() if k != "jobs"})
    # Azure DevOps: the write connection only in the apply stage, the read one elsewhere.
    ado = yaml.safe_load((scaffold / "azure-pipelines.yml").read_text())
    by_stage = {s["stage"]: yaml.safe_dump(s) for s in ado["stages"]}
    assert "$(WRITE_CONNECTION)" in by_stage["apply"] and "$(READ_CONNECTION)" not in by_stage["apply"]
    for stage in ("nightly", "plan", "pending"):
        assert "WRITE_CONNECTION" not in by_stage[stage], stage


def test_pr_comment_is_capped_with_a_link_to_the_uploaded_plan(scaffold):
    steps = _steps(workflow(scaffold, "entragit-pr.yml"))
    names = [s.get("name") for s in steps]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    post = next(s for s in steps if "gh pr comment" in s.get("run", ""))
    assert names.index(upload["name"]) < names.index(post["name"])
    script = post["run"]
    cap = re.search(r"entragit comment (\S+) --max-chars (\d+)", script)
    assert cap and cap.group(1) == upload["with"]["path"] and int(cap.group(2)) <= 65536
    assert f"steps.{upload['id']}.outputs.artifact-url" in script
    assert "--body-file comment.md" in script and script.index("entragit comment") < script.index("gh pr comment")


def test_ci_installs_entragit_only_from_the_pinned_requirements_file(scaffold):
    req = (scaffold / "requirements-entragit.txt").read_text()
    lines = [ln for ln in req.splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 1 and re.fullmatch(r"entragit==\d+(\.\d+)*|entragit @ git\+\S+@[0-9a-f]{40}", lines[0])
    assert "--require-hashes" in req and "--hash=sha256:" in req
    scripts = [s["run"] for n in GITHUB for s in _steps(workflow(scaffold, n)) if "run" in s]
    scripts += _ado_scripts(yaml.safe_load((scaffold / "azure-pipelines.yml").read_text()))
    installs = [ln for s in scripts for ln in s.splitlines() if "pip install" in ln]
    assert len(installs) == 7  # each GitHub job, each Azure DevOps job
    for line in installs:
        assert re.search(r"pip install --quiet -r \S*requirements-entragit\.txt\"?$", line), line


def test_azure_pipeline_python_one_thread_and_approval_only_when_something_is_pending(scaffold):
    ado = yaml.safe_load((scaffold / "azure-pipelines.yml").read_text())
    stages = {s["stage"]: s for s in ado["stages"]}
    for s in stages.values():
        for job in s["jobs"]:
            steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
            assert any(str(st.get("task", "")).startswith("UsePythonVersion@") for st in steps), s["stage"]
    # Only the apply stage uses the environment (so only it asks for approval), and it runs only when
    # the pending stage found a tenant the files are ahead of: not on the nightly's own pushes.
    assert [n for n, s in stages.items() if "environment" in yaml.safe_dump(s["jobs"])] == ["apply"]
    assert stages["apply"]["dependsOn"] == "pending"
    assert "dependencies.pending.outputs['check.detect.ANY']" in stages["apply"]["condition"]
    detect = next(st for st in stages["pending"]["jobs"][0]["steps"] if st.get("name") == "detect")
    assert "entragit pending --all" in detect["script"] and "isOutput=true" in detect["script"]
    # One PR thread, found by its marker and updated (PATCH), a new one only the first time (POST).
    post = next(s for s in stages["plan"]["jobs"][0]["steps"] if "threads" in s.get("script", ""))["script"]
    assert "--marker" in post and "-X PATCH" in post and "-X POST" in post and "--max-chars" in post
    assert any(s.get("publish") == "plan.md" for s in stages["plan"]["jobs"][0]["steps"])


def test_nightly_reports_unapplied_changes_instead_of_exporting_over_them(scaffold):
    steps = {s.get("name"): s for s in _steps(workflow(scaffold, "entragit-nightly.yml"))}
    assert "--skip-unapplied" in steps["Export and commit"]["run"]
    report = steps["Open or update an issue per tenant with changes not applied"]["run"]
    assert "gh issue edit" in report and "gh issue create" in report and 'drift --tenant "$tenant" --ref' in report
    assert workflow(scaffold, "entragit-nightly.yml")["permissions"]["issues"] == "write"


def test_pre_commit_hooks_install_entragit_and_validate_runs_once(scaffold):
    hooks = {h["id"]: h for h in yaml.safe_load((Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text())}
    assert {h["language"] for h in hooks.values()} == {"python"}
    assert hooks["entragit-validate"]["pass_filenames"] is False
    assert hooks["entragit-fmt"]["require_serial"] is True
    text = (scaffold / ".pre-commit-config.yaml").read_text()
    cfg = yaml.safe_load(text)
    [repo] = cfg["repos"]
    assert repo["repo"].startswith("https://") and re.fullmatch(r"v\d+(\.\d+)*", repo["rev"])
    assert {h["id"] for h in repo["hooks"]} == set(hooks)
    # The documented local variant (commented out) parses, and validates the whole repo once.
    local = yaml.safe_load("\n".join(ln[1:] for ln in text.splitlines() if ln.startswith("#  ")))
    assert local[0]["repo"] == "local"
    validate = next(h for h in local[0]["hooks"] if h["id"] == "entragit-validate")
    assert validate["pass_filenames"] is False and validate["language"] == "system"


def test_comment_cuts_at_a_line_closes_open_blocks_and_links_the_whole_plan(tmp_path):
    body = "".join(f"<details><summary>update policy {i}</summary>\n\n```\nstate: disabled → enabled\n```\n\n"
                   f"</details>\n\n" for i in range(3000))  # ~230 KB, as a large tenant's plan
    (tmp_path / "plan.md").write_text(body)
    run = CliRunner().invoke(main, ["comment", str(tmp_path / "plan.md"), "--max-chars", "65000",
                                    "--link", "https://example.invalid/artifacts/9", "--marker", "<!-- entragit plan -->"])
    assert run.exit_code == 0, run.output
    out = run.output
    assert len(out) <= 65000 < len(body)
    assert out.startswith("<!-- entragit plan -->\n<details>")
    assert out.count("<details>") == out.count("</details>") and out.count("```") % 2 == 0
    assert out.rstrip().endswith("The whole text is in the [plan artifact](https://example.invalid/artifacts/9).")
    shown = int(re.search(r"Cut to fit a comment: ([\d,]+) of ([\d,]+)", out).group(1).replace(",", ""))
    assert body.startswith(out[len("<!-- entragit plan -->\n"):][:shown])
    # A body that fits is printed as it is.
    (tmp_path / "small.md").write_text("Plan: 1 to update.\n")
    assert CliRunner().invoke(main, ["comment", str(tmp_path / "small.md")]).output == "Plan: 1 to update.\n"
