"""Packaging: the runtime install declares exactly what entragit and entragit_sim import, ships its
schemas as package data, and a built wheel works from a prefix that is not the interpreter's own."""

from __future__ import annotations

import ast
import importlib.metadata as md
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from entragit.kinds import KINDS
from entragit.validate import schema_files

ROOT = Path(__file__).resolve().parents[1]
OWN = {"entragit", "entragit_sim", "__future__"}
GIT_ID = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
          "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def _env(home: Path, pythonpath: str) -> dict[str, str]:
    """Only what is named here: no PYTHONPATH or site of this checkout leaks into the child."""
    return {"PYTHONPATH": pythonpath, "PATH": "/usr/bin:/bin", "HOME": str(home), **GIT_ID}


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the metadata is the same on 3.10
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _requirement_name(req: str) -> str:
    m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req)
    assert m, req
    return _norm(m.group(0))


def _imports() -> Iterator[tuple[str, str]]:
    """(dotted module, "file:line") of every absolute import in entragit/ and entragit_sim/."""
    for pkg in ("entragit", "entragit_sim"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Import):
                    yield from ((a.name, where) for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    yield node.module, where


def _distribution(module: str, top_level: dict[str, list[str]]) -> str:
    """The distribution that provides `module`; a namespace (azure) is split by the files it ships."""
    top = module.split(".")[0]
    cands = sorted(set(top_level.get(top, ())))
    assert cands, f"{module} is imported but no installed distribution provides it"
    if len(cands) > 1:
        prefix = "/".join(module.split(".")[:2]) + "/"
        cands = [d for d in cands if any(str(f).startswith(prefix) for f in md.files(d) or ())]
        assert len(cands) == 1, f"{module}: provided by {cands}"
    return _norm(cands[0])


def test_every_imported_distribution_is_declared_and_every_declared_one_imported() -> None:
    declared = {_requirement_name(r) for r in _pyproject()["project"]["dependencies"]}
    top_level = md.packages_distributions()
    used: dict[str, str] = {}
    for module, where in _imports():
        top = module.split(".")[0]
        if top in OWN or top in sys.stdlib_module_names:
            continue
        used.setdefault(_distribution(module, top_level), f"{module} ({where})")
    undeclared = {d: w for d, w in used.items() if d not in declared}
    assert not undeclared, f"imported but not in pyproject's dependencies: {undeclared}"
    assert not declared - set(used), f"declared but never imported: {sorted(declared - set(used))}"
    assert "msgraph-sdk" not in declared  # tools/gen_schemas.py's, in the `schemas` extra


def test_msgraph_sdk_is_only_in_the_extras_that_need_it() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    assert [_requirement_name(r) for r in extras["schemas"]] == ["msgraph-sdk"]
    assert "msgraph-sdk" in {_requirement_name(r) for r in extras["test"]}  # test_schemas regenerates
    assert "schemas" in (ROOT / "tools" / "gen_schemas.py").read_text(encoding="utf-8").split('"""')[1]


def test_schemas_are_package_data_read_with_importlib_resources() -> None:
    base = files("entragit") / "schemas"
    shipped = {f.name for f in base.iterdir() if f.name.endswith(".schema.json")}
    assert shipped == {f"{k.name}.schema.json" for k in KINDS} | {"tenant.schema.json"}
    got = schema_files()
    assert set(got) == shipped
    assert json.loads(got["groups.schema.json"])["$schema"].endswith("2020-12/schema")
    setuptools = _pyproject()["tool"]["setuptools"]
    assert "schemas/*.json" in setuptools["package-data"]["entragit"]
    assert "data-files" not in setuptools  # found under sys.prefix only, which --user/--prefix is not
    if (ROOT / ".git").exists():  # this repo's tenants/demo reference ../../../schemas/, a link here
        assert (ROOT / "schemas").resolve() == (ROOT / "entragit" / "schemas").resolve()


def test_init_without_its_schemas_writes_nothing(tmp_path: Path) -> None:
    """A broken install stops `init` before its first file, not half-way through the scaffold."""
    pkg = tmp_path / "site"
    for name in ("entragit", "entragit_sim"):
        shutil.copytree(ROOT / name, pkg / name, ignore=shutil.ignore_patterns("schemas", "__pycache__"))
    target = tmp_path / "cfg"
    r = subprocess.run([sys.executable, "-c", "from entragit.cli import main; main()", "init", str(target)],
                       cwd=tmp_path, env=_env(tmp_path, str(pkg)), capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "JSON Schemas are missing" in r.stdout + r.stderr, r.stderr
    assert not target.exists()


# --- a real wheel, installed elsewhere ------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """sdist and wheel from `python -m build` on the tracked files (what a fresh clone holds)."""
    pytest.importorskip("build")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist): the build starts from the tracked files")
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, tracked.decode().split("\0")):
        dest, orig = src / rel, ROOT / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if orig.is_symlink():
            dest.symlink_to(orig.readlink())
        elif orig.is_file():  # a file deleted but not yet committed is not in the build either
            shutil.copy2(orig, dest)
    r = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp / "dist"), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("*.whl")
    (sdist,) = (tmp / "dist").glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist, "tmp": tmp}


def test_wheel_and_sdist_carry_schemas_license_and_tests(built: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    assert {f"entragit/schemas/{k.name}.schema.json" for k in KINDS} <= names
    assert "entragit/templates/github/workflows/entragit-pr.yml" in names
    assert not any(n.startswith(("tests/", "schemas/")) or ".data/" in n for n in names), sorted(names)
    meta = zipfile.ZipFile(built["wheel"]).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert "License-Expression: MIT" in meta and "Classifier: Typing :: Typed" in meta
    assert not re.search(r"(?m)^Requires-Dist: msgraph-sdk[^;]*$", meta)  # only behind an extra
    with tarfile.open(built["sdist"]) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    assert {"LICENSE", "entragit/schemas/tenant.schema.json", "tests/conftest.py",
            "tools/gen_schemas.py"} <= members
    assert not any(m.startswith("schemas/") for m in members)  # the link's target is there once


def test_wheel_installed_under_another_prefix_runs_init_and_validate(built: dict[str, Path]) -> None:
    """`pip install --prefix` (what --user does too): the schemas come with the package, not sys.prefix.

    The installed script runs on the base interpreter with -S, so nothing of this checkout (the
    editable install, the venv's sys.prefix) is on the path: only the prefix and the dependencies."""
    prefix = built["tmp"] / "prefix"
    # --ignore-installed: without it pip first uninstalls the entragit this venv already has
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
                        "--prefix", str(prefix), str(built["wheel"])], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert md.version("entragit") and (Path(sys.executable).parent / "entragit").exists()  # untouched
    site = sysconfig.get_path("purelib", "posix_prefix", {"base": str(prefix), "platbase": str(prefix)})
    deps = sysconfig.get_path("purelib")  # the current venv's site-packages
    env = _env(built["tmp"], f"{site}:{deps}")
    python = [getattr(sys, "_base_executable", sys.executable), "-S"]

    def run(*args: str, cwd: Path = built["tmp"]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*python, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    where = run("-c", "import entragit, sys; print(entragit.__file__); print(sys.prefix)")
    assert where.stdout.startswith(str(prefix)) and str(prefix) not in where.stdout.splitlines()[1], where
    entragit = str(prefix / "bin" / "entragit")
    cfg = built["tmp"] / "cfg"
    init = run(entragit, "init", str(cfg))
    assert init.returncode == 0, init.stdout + init.stderr
    assert (cfg / "schemas" / "tenant.schema.json").read_bytes() == schema_files()["tenant.schema.json"]
    shutil.copytree(ROOT / "tenants" / "demo", cfg / "tenants" / "demo")
    ok = run(entragit, "validate", cwd=cfg)
    assert ok.returncode == 0 and "ok" in ok.stdout, ok.stdout + ok.stderr
    group = cfg / "tenants" / "demo" / "groups" / "all-employees.yaml"
    group.write_text(re.sub(r"(?m)^securityEnabled: .*$", "securityEnabled: maybe", group.read_text()))
    bad = run(entragit, "validate", cwd=cfg)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "all-employees.yaml:17: error: securityEnabled: 'maybe'" in bad.stderr, bad.stdout + bad.stderr
