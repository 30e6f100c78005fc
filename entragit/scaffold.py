"""`entragit init`: a new config repo with everything a team needs on day one."""

from __future__ import annotations

from pathlib import Path

from entragit import gitstore
from entragit.config import repo_file
from entragit.validate import schema_files

HOOKS_REPO = "https://github.com/entragit/entragit"

# pre-commit installs entragit into its own environment from the tag (language: python), so the
# hooks need nothing on PATH; `pre-commit autoupdate` moves the tag.
PRE_COMMIT = """\
# entragit's own hooks keep every file canonical and valid before it reaches review.
repos:
  - repo: {repo}
    rev: v{version}
    hooks:
      - id: entragit-fmt
      - id: entragit-validate

# Local variant, for a machine where entragit is already installed (e.g. from
# requirements-entragit.txt into the active virtualenv): replace the block above with
#
#  - repo: local
#    hooks:
#      - id: entragit-fmt
#        name: entragit fmt
#        entry: entragit fmt
#        language: system
#        files: ^tenants/.*\\.yaml$
#        require_serial: true
#      - id: entragit-validate
#        name: entragit validate
#        entry: entragit validate
#        language: system
#        files: ^tenants/.*\\.yaml$
#        pass_filenames: false
"""

README = """\
# Entra configuration as code

Managed with [entragit](https://github.com/entragit/entragit).

- `tenants/<name>/tenant.yaml`: where the tenant is and how to sign in (no secrets here).
- `tenants/<name>/<kind>/<object>.yaml`: one object per file, exported by `entragit export`.
- `schemas/`: JSON Schemas editors use to validate the files.

Daily use: `entragit export --all --commit` (nightly), `entragit plan`, `entragit apply`.
"""


REQUIREMENTS = "requirements-entragit.txt"
REQUIREMENTS_HEAD = """\
# The entragit every CI job installs: `python -m pip install -r requirements-entragit.txt`.
# Pinned here, in the config repo, so CI never runs whatever a package index serves under the name.
#
# Make it verifiable, one of:
# - hashes: put the release's sha256 after the pin, e.g.
#     entragit=={version} --hash=sha256:<sha256 of the wheel you reviewed>
#   (`pip hash entragit-{version}-py3-none-any.whl`). One hash turns on pip's hash-checking mode
#   (as `pip install --require-hashes`): every dependency then needs a pinned, hashed line too, so
#   generate the whole file with `pip-compile --generate-hashes`. pip refuses anything that differs.
# - a git commit: replace the pin with
#     entragit @ git+{repo}@<full 40-character commit sha>
# Upgrade by editing this line in a reviewed pull request.
"""


def requirements_text() -> str:
    """requirements-entragit.txt: this entragit, by commit when it was installed from git, else by version."""
    import json
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("entragit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        version, direct = "0.0.0", None
    else:
        version, direct = dist.version, dist.read_text("direct_url.json")
    head = REQUIREMENTS_HEAD.format(version=version, repo=HOOKS_REPO)
    vcs = json.loads(direct) if direct else {}
    commit_id = (vcs.get("vcs_info") or {}).get("commit_id")
    if vcs.get("vcs_info", {}).get("vcs") == "git" and commit_id:
        return f"{head}entragit @ git+{vcs['url']}@{commit_id}\n"
    return f"{head}entragit=={version}\n"


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
    write(".pre-commit-config.yaml", PRE_COMMIT.format(repo=HOOKS_REPO, version=_version()))
    write(REQUIREMENTS, requirements_text())
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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("entragit")
    except PackageNotFoundError:
        return "0.0.0"


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
