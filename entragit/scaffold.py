"""`entragit init`: a new config repo with everything a team needs on day one."""

from __future__ import annotations

from pathlib import Path

from entragit import gitstore
from entragit.config import repo_file
from entragit.validate import schema_files

PRE_COMMIT = """\
# entragit's own hooks keep every file canonical and valid before it reaches review.
repos:
  - repo: local
    hooks:
      - id: entragit-fmt
        name: entragit fmt
        entry: entragit fmt
        language: system
        files: ^tenants/.*\\.yaml$
      - id: entragit-validate
        name: entragit validate
        entry: entragit validate
        language: system
        files: ^tenants/.*\\.yaml$
"""

README = """\
# Entra configuration as code

Managed with [entragit](https://github.com/entragit/entragit).

- `tenants/<name>/tenant.yaml`: where the tenant is and how to sign in (no secrets here).
- `tenants/<name>/<kind>/<object>.yaml`: one object per file, exported by `entragit export`.
- `schemas/`: JSON Schemas editors use to validate the files.

Daily use: `entragit export --all --commit` (nightly), `entragit plan`, `entragit apply`.
"""


COMMIT_MESSAGE = """\
entragit init: config repo scaffold (CI templates, schemas, pre-commit hooks)

The files a team needs before the first export, so a clone has them all:
"""


def init(root: Path) -> list[str]:
    """Write the scaffold's missing files and commit them in one commit; returns what was created."""
    created = _write_scaffold(root)
    if created:
        body = "".join(f"  {rel}\n" for rel in created)
        gitstore.commit(root, [rel.rstrip("/") for rel in created], f"{COMMIT_MESSAGE}{body}")
    return created


def _write_scaffold(root: Path) -> list[str]:
    schemas = schema_files()  # first: an install without its schemas fails before anything is written
    root.mkdir(parents=True, exist_ok=True)
    created: list[str] = []
    gitstore.init(root)

    def write(rel: str, text: str) -> None:
        p = repo_file(root, root / rel)
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
            created.append(rel)

    write("tenants/.gitkeep", "")
    write(".pre-commit-config.yaml", PRE_COMMIT)
    write("README.md", README)
    write(".gitignore", "__pycache__/\n.venv/\n")
    copied = {n: b for n, b in schemas.items() if not (root / "schemas" / n).exists()}
    for name, data in copied.items():
        (root / "schemas").mkdir(exist_ok=True)
        (root / "schemas" / name).write_bytes(data)
    if copied:
        created.append("schemas/")
    for rel, text in ci_templates().items():
        write(rel, text)
    return created


# Template file (under entragit/templates) -> where it goes in a config repo.
CI_TEMPLATES = {
    "github/workflows/entragit-nightly.yml": ".github/workflows/entragit-nightly.yml",
    "github/workflows/entragit-pr.yml": ".github/workflows/entragit-pr.yml",
    "github/workflows/entragit-apply.yml": ".github/workflows/entragit-apply.yml",
    "azure-pipelines.yml": "azure-pipelines.yml",
}


def ci_templates() -> dict[str, str]:
    """{repo path: text} of the CI templates shipped as package data."""
    from importlib.resources import files

    base = files("entragit") / "templates"
    return {dest: (base / src).read_text(encoding="utf-8") for src, dest in CI_TEMPLATES.items()}
