"""Output formats for daily use: versioned JSON checked against schemas/output, validate as JSON and
GitHub annotations, NO_COLOR and --no-color, progress lines, tenant remove, shell completion."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from .conftest import Cli, make_repo
from .portal import Portal

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_SCHEMAS = ROOT / "schemas" / "output"
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
    assert names == ["changes.schema.json", "log.schema.json", "plan.schema.json", "validate.schema.json"]
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
    for schema, text in zip(["plan", "changes", "validate", "log"], examples, strict=True):
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
