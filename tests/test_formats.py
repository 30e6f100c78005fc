"""Output formats for daily use: versioned JSON checked against schemas/output, validate as JSON and
GitHub annotations, NO_COLOR and --no-color, progress lines, tenant remove, shell completion."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from .conftest import Cli, make_repo
from .portal import Portal

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_SCHEMAS = ROOT / "schemas" / "output"
DEMO_OBJECTS = len(list((ROOT / "tenants" / "demo").glob("*/*.yaml")))  # the golden export
DOC = ROOT / "docs" / "JSON-FORMATS.md"


def _schema(name: str) -> dict[str, Any]:
    return json.loads((OUTPUT_SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def _valid(name: str, doc: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(_schema(name)).iter_errors(doc)]
    assert not errors, errors[:5]
    assert doc["format_version"] == 1


def _file(cli: Cli, kind: str, glob: str) -> Path:
    return next((cli.repo / "tenants" / "demo" / kind).glob(glob))


@pytest.fixture
def exported(tmp_path: Path, sim: Any) -> Cli:
    cli = make_repo(tmp_path / "config", sim)
    cli("export", "--commit")
    return cli


# ---------------------------------------------------------------- versioned JSON


def test_json_documents_carry_format_version_and_match_their_schemas(exported: Cli, sim: Any) -> None:
    ca = _file(exported, "conditionalAccessPolicies", "ca100-*.yaml")
    ca.write_text(ca.read_text().replace("state: enabled", "state: disabled"))
    exported("validate")  # a reviewer's edit

    diff = json.loads(exported("diff", "--format", "json").output)
    _valid("changes", diff)
    assert [o["status"] for o in diff["tenants"][0]["objects"]] == ["changed"]

    plan = json.loads(exported("plan", "--ref", "WORKTREE", "--format", "json").output)
    _valid("plan", plan)
    assert plan["counts"] == {"update": 1} and plan["risks"][0]["rule"] == "ca-not-enforced"

    Portal(sim).patch_policy(Portal(sim).policy("CA101"), state="disabled")
    drift = json.loads(exported("drift", "--format", "json", code=2).output)
    _valid("changes", drift)
    assert drift["new"] == "live" and drift["tenants"][0]["counts"] == {"changed": 1}

    log = json.loads(exported("log", "--format", "json").output)
    _valid("log", log)
    assert log["commits"][0]["counts"]["added"] > 100

    group = _file(exported, "groups", "*.yaml")
    group.write_text(group.read_text() + "securityEnabled: maybe\n")
    val = json.loads(exported("validate", "--format", "json", code=1).stdout)
    _valid("validate", val)
    assert not val["ok"] and val["counts"]["error"] == 2


def test_the_schemas_are_valid_and_strict_enough_to_catch_a_stray_field() -> None:
    names = sorted(p.name for p in OUTPUT_SCHEMAS.glob("*.schema.json"))
    assert names == ["changes.schema.json", "log.schema.json", "native-diff.schema.json", "native-plan.schema.json",
                     "native-snapshots.schema.json", "plan.schema.json", "validate.schema.json"]
    for name in names:
        Draft202012Validator.check_schema(json.loads((OUTPUT_SCHEMAS / name).read_text(encoding="utf-8")))
    doc = {"format_version": 1, "ok": True, "counts": {"error": 0, "warning": 0}, "findings": []}
    assert Draft202012Validator(_schema("validate")).is_valid(doc)
    assert not Draft202012Validator(_schema("validate")).is_valid({**doc, "format_version": 2})
    assert not Draft202012Validator(_schema("validate")).is_valid({**doc, "extra": 1})


def _fields(schema: Any) -> set[str]:
    """Every property name anywhere in a schema."""
    if isinstance(schema, dict):
        own = set(schema.get("properties", {})) if isinstance(schema.get("properties"), dict) else set()
        return own | {f for v in schema.values() for f in _fields(v)}
    if isinstance(schema, list):
        return {f for v in schema for f in _fields(v)}
    return set()


def test_json_formats_doc_names_every_field_and_links_every_schema() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for p in OUTPUT_SCHEMAS.glob("*.schema.json"):
        assert f"schemas/output/{p.name}" in doc
        missing = sorted(f for f in _fields(_schema(p.name.removesuffix(".schema.json")))
                         if not re.search(rf"`(\w+(\[\])?\.)*{re.escape(f)}(\[\])?`", doc))
        assert not missing, f"{p.name}: fields not documented in {DOC.name}: {missing}"
    # Each example in the doc is a valid document of its format.
    examples = re.findall(r"```json\n(.*?)```", doc, re.S)
    for schema, text in zip(["plan", "changes", "validate", "log", "native-snapshots", "native-diff", "native-plan"], examples, strict=True):
        _valid(schema, json.loads(text))


# ---------------------------------------------------------------- validate formats


def test_validate_json_and_github_annotations(exported: Cli) -> None:
    group = _file(exported, "groups", "sales-team.yaml")
    group.write_text(group.read_text().replace("securityEnabled: false", "securityEnabled: maybe"))
    line = next(i for i, t in enumerate(group.read_text().splitlines(), 1) if t.startswith("securityEnabled"))
    rel = "tenants/demo/groups/sales-team.yaml"

    res = exported("validate", "--format", "json", code=1)
    data = json.loads(res.stdout)  # stdout is only the document
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    assert errors == [{"file": rel, "line": line, "rule": "schema", "severity": "error",
                       "message": "securityEnabled: 'maybe' is not of type 'boolean', 'null'"}]
    assert data["counts"] == {"error": 1, "warning": len(data["findings"]) - 1}

    out = exported("validate", "--format", "github", code=1).stdout.splitlines()
    assert f"::error file={rel},line={line}::securityEnabled: 'maybe' is not of type 'boolean', 'null' [schema]" in out
    assert all(ln.startswith(("::error file=", "::warning file=")) for ln in out)
    assert len(out) == len(data["findings"])

    group.write_text(group.read_text().replace("securityEnabled: maybe", "securityEnabled: false"))
    assert exported("validate", "--format", "json").stdout.count('"severity": "error"') == 0
    assert exported("validate", "--format", "github").stdout.splitlines()[-1].startswith("ok")


def test_github_annotations_escape_what_would_end_a_property_or_a_line(tmp_path: Path) -> None:
    from entragit.validate import Finding, github

    text = github([Finding("tenants/a,b:c/x.yaml", None, "yaml", "bad\nvalue 100%", "warning")])
    assert text == "::warning file=tenants/a%2Cb%3Ac/x.yaml::bad%0Avalue 100%25 [yaml]"


def test_the_github_pr_template_annotates_validate_findings(tmp_path: Path, sim: Any) -> None:
    cli = make_repo(tmp_path / "config", sim)
    wf = yaml.safe_load((cli.repo / ".github" / "workflows" / "entragit-pr.yml").read_text())
    runs = [s["run"] for s in wf["jobs"]["plan"]["steps"] if "run" in s]
    assert any("entragit validate --format github" in r for r in runs)


# ---------------------------------------------------------------- colour

ENTRAGIT = Path(sys.executable).parent / "entragit"
SGR = re.compile(r"\x1b\[([0-9;]*)m")  # a style escape: colour, bold, reset...


def _coloured(text: str) -> bool:
    """Any foreground or background colour set (bold and the like are no colour, per no-color.org)."""
    codes = {int(c) for m in SGR.finditer(text) for c in m.group(1).split(";") if c}
    return any(30 <= c <= 49 or 90 <= c <= 107 for c in codes)


def _on_terminal(cwd: Path, *args: str, **env: str) -> str:
    """Runs the real entragit with a pseudo-terminal for stdin, stdout and stderr; what it printed."""
    master, slave = pty.openpty()
    base = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = subprocess.Popen([str(ENTRAGIT), *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave,
                            env={**base, "COLUMNS": "200", **env})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) in (0, 2), b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def test_no_color_and_the_no_color_option_turn_off_colour_everywhere(exported: Cli, sim: Any) -> None:
    ca = _file(exported, "conditionalAccessPolicies", "ca100-*.yaml")
    ca.write_text(ca.read_text().replace("state: enabled", "state: disabled"))
    Portal(sim).patch_policy(Portal(sim).policy("CA101"), state="disabled")
    commands = {"diff": ("diff",), "drift": ("drift",), "log": ("log", "-n", "1"),
                "plan": ("plan", "--ref", "WORKTREE")}
    for name, args in commands.items():
        coloured = _on_terminal(exported.repo, *args)
        assert _coloured(coloured), f"{name} has colour on a terminal"
        assert _coloured(_on_terminal(exported.repo, *args, NO_COLOR="")), f"{name}: empty NO_COLOR is unset"
        for plain in (_on_terminal(exported.repo, *args, NO_COLOR="1"),
                      _on_terminal(exported.repo, "--no-color", *args)):
            assert not SGR.search(plain), f"{name} has no colour with NO_COLOR or --no-color"
            assert SGR.sub("", coloured) == plain  # the same words
    # The export progress display on a terminal: rich, in colour unless told not to.
    assert _coloured(_on_terminal(exported.repo, "export", "--force"))
    assert not _coloured(_on_terminal(exported.repo, "--no-color", "export", "--force"))
    assert not _coloured(_on_terminal(exported.repo, "export", "--force", NO_COLOR="1"))


# ---------------------------------------------------------------- progress

PROGRESS = re.compile(r"^export demo: (\d+)/(\d+) kinds, ([\d,]+) objects, ([\d,]+) requests, ([\d,]+) throttled$", re.M)


def test_export_without_a_terminal_prints_plain_progress_lines(tmp_path: Path, sim_factory: Any) -> None:
    sim = sim_factory("demo", throttle="ru=40/1")  # Graph's identity throttle, scaled down: some 429s
    cli = make_repo(tmp_path / "config", sim)
    res = cli("export")
    lines = PROGRESS.findall(res.stderr)
    assert len(lines) == 1, res.stderr  # quick read: only the line saying it is done
    done, total, objects, requests, throttled = (int(x.replace(",", "")) for x in lines[0])
    assert done == total > 15 and objects == DEMO_OBJECTS and requests > 20 and throttled > 0
    assert f"[{objects} objects" in res.stdout  # the summary agrees

    verbose = PROGRESS.findall(cli("export", "-v").stderr.replace(" (", "\n(").replace("read)", ""))
    assert [int(d) for d, *_ in verbose] == list(range(1, total + 1))  # -v: a line per kind read


def test_plain_progress_repeats_while_a_slow_read_runs(tmp_path: Path, sim_factory: Any,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    from entragit import config
    from entragit import export as exp
    from entragit.progress import reporter

    sim = sim_factory("demo", latency_ms=40)
    cli = make_repo(tmp_path / "config", sim)
    capfd.readouterr()
    # Interval well under the read's length: it takes fewer requests than it did (first pages in $batch).
    with reporter(interval=0.1) as progress:
        exp.export(cli.repo, config.tenants(cli.repo), progress=progress, concurrency=1)
    lines = [tuple(int(x.replace(",", "")) for x in m) for m in PROGRESS.findall(capfd.readouterr().err)]
    assert len(lines) >= 3, lines
    assert lines[-1][0] == lines[-1][1]  # the last says it is done
    assert all(d < t for d, t, *_ in lines[:-1])  # the others say how far it got
    assert [r for *_, r, _ in lines] == sorted(r for *_, r, _ in lines)  # requests only grow


def test_progress_on_a_terminal_shows_kinds_objects_requests_rate_throttling_and_eta(
        tmp_path: Path, sim: Any) -> None:
    import io

    from rich.console import Console

    from entragit import config
    from entragit import export as exp
    from entragit.progress import reporter

    cli = make_repo(tmp_path / "config", sim)
    console = Console(record=True, file=io.StringIO(), force_terminal=True, width=160, no_color=True)
    with reporter(console=console) as progress:
        exp.export(cli.repo, config.tenants(cli.repo), progress=progress)
    seen = console.export_text()
    row = re.search(r"demo .*?(\d+)/(\d+) kinds, ([\d,]+) objects, ([\d,]+) requests \(([\d,]+)/s\), "
                    r"(\d+) throttled ETA [-\d:]+", seen)
    assert row, seen
    assert re.search(rf"export demo: (\d+)/\1 kinds, {DEMO_OBJECTS} objects, ", seen), seen  # a finished tenant leaves a line


# ---------------------------------------------------------------- tenant remove, completion


def test_tenant_remove_deletes_the_folder_and_commits_naming_it(exported: Cli, sim: Any) -> None:
    import git

    root = sim.graph_url.rsplit("/v1.0", 1)[0]
    exported("tenant", "add", "other", "--tenant-id", sim.tenant_id, "--graph-url", root, "--auth", "sim")
    exported("export", "--tenant", "other", "--commit")
    repo = git.Repo(exported.repo)
    before = repo.head.commit

    group = _file(exported, "groups", "sales-team.yaml")
    group.write_text(group.read_text() + "# a note\n")
    (exported.repo / "tenants" / "demo" / "scratch.txt").write_text("not committed\n")
    res = exported("tenant", "remove", "demo", code=1)
    assert "tenants/demo has uncommitted changes: tenants/demo/groups/sales-team.yaml, tenants/demo/scratch.txt" \
        in res.output and "--force" in res.output
    assert (exported.repo / "tenants" / "demo" / "scratch.txt").exists() and repo.head.commit == before

    res = exported("tenant", "remove", "demo", "--force")
    assert not (exported.repo / "tenants" / "demo").exists()
    assert repo.head.commit.parents == (before,) and repo.head.commit.message.startswith("demo: remove tenant")
    assert not repo.git.status("--porcelain", "--", "tenants/demo")
    assert f"removed tenants/demo -> commit {repo.head.commit.hexsha[:10]}" in res.output
    assert not any(p.startswith("tenants/demo/") for p in repo.git.ls_files().splitlines())
    assert [t.strip() for t in exported("tenant", "list").output.splitlines()][0].startswith("other ")

    assert "no tenant folder tenants/demo (known: other)" in exported("tenant", "remove", "demo", code=1).output
    assert "no tenant folder" in exported("tenant", "remove", "../tenants", code=1).output
    assert repo.head.commit.parents == (before,)


def test_tenant_remove_of_a_never_committed_tenant_makes_no_commit(tmp_path: Path, sim: Any) -> None:
    import git

    cli = make_repo(tmp_path / "config", sim)  # init and tenant add commit what they write
    other = cli.repo / "tenants" / "other"
    other.mkdir()
    (other / "tenant.yaml").write_text((cli.repo / "tenants" / "demo" / "tenant.yaml").read_text())  # by hand
    head = git.Repo(cli.repo).head.commit.hexsha
    assert "removed tenants/other (it was never committed)" in cli("tenant", "remove", "other", "--force").output
    assert not other.exists() and git.Repo(cli.repo).head.commit.hexsha == head


def test_shell_completion_is_documented_and_completes_tenant_names(
        exported: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from entragit.cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for shell in ("bash", "zsh", "fish"):
        assert f"_ENTRAGIT_COMPLETE={shell}_source entragit" in readme
    script = CliRunner().invoke(main, [], prog_name="entragit", env={"_ENTRAGIT_COMPLETE": "bash_source"})
    assert "_entragit_completion" in script.output and "complete -o nosort -F" in script.output

    monkeypatch.chdir(exported.repo)

    def complete(line: str) -> list[str]:
        env = {"_ENTRAGIT_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(line.split(" ")) - 1)}
        out = CliRunner().invoke(main, [], prog_name="entragit", env=env).stdout
        return [x.split(",", 1)[1] for x in out.splitlines() if x]  # bash_complete lines: type,value

    assert "remove" in complete("entragit tenant r")
    assert complete("entragit tenant remove ") == ["demo"]
    assert complete("entragit tenant remove x") == []
