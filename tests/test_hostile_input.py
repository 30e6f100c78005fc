"""Hostile repository content and hostile tenant data: no secret leaks, no hidden objects, no crash."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import git
import httpx
import pytest

from entragit import yamlio

from .conftest import Cli, admin, app_repo, make_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
MARKER = "hunter2-not-for-git"
BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]",
                  *(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
                    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
                    for i in range(8))]) + "\n"


@pytest.fixture
def empty(tmp_path: Path, sim_factory: Any) -> tuple[Cli, Any]:
    sim = sim_factory("empty")
    return make_repo(tmp_path / "config", sim), sim


def _group(sim: Any, name: str) -> str:
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        r = c.post("/groups", json={"displayName": name, "mailEnabled": False, "securityEnabled": True,
                                    "mailNickname": f"g{abs(hash(name)) % 10**8}"})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def _commit_all(root: Path, message: str) -> git.Repo:
    r = git.Repo(root)
    r.git.add("-A")
    r.git.commit("-q", "-m", message)
    return r


def _refused(res: Any, path: str) -> None:
    """Non-zero exit, one line naming the path, and never the linked file's content."""
    assert res.exit_code != 0, res.output
    errors = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and path in errors[0] and "symbolic link" in errors[0], res.output
    assert MARKER not in res.output


def _nothing_leaked(root: Path, r: git.Repo, head: str) -> None:
    assert r.head.commit.hexsha == head
    assert r.git.status("--porcelain") == ""
    assert MARKER not in r.git.grep("-I", "-c", "-e", "x", "HEAD", "--", ".", with_exceptions=False)
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink() and ".git" not in p.parts:
            assert MARKER not in p.read_text(encoding="utf-8", errors="replace"), p


# ---------------------------------------------------------------- 1. symlinks


def test_symlinked_idmap_is_refused_by_export_and_never_committed(empty, tmp_path):
    cli, sim = empty
    root = cli.repo
    outside = tmp_path / "secrets.yaml"
    outside.write_text(f"groups:\n  ENTRAGIT_CLIENT_SECRET: {MARKER}\n", encoding="utf-8")
    (root / "tenants" / "demo" / "idmap.yaml").symlink_to(outside)
    r = _commit_all(root, "a hostile commit: idmap.yaml points outside the repo")
    head = r.head.commit.hexsha
    _group(sim, "Finance")
    _refused(cli("export", "--commit", code=None), "tenants/demo/idmap.yaml")
    _nothing_leaked(root, r, head)
    assert (root / "tenants" / "demo" / "idmap.yaml").is_symlink()
    assert not list((root / "tenants" / "demo").glob("groups/*.yaml"))  # nothing written


def test_symlinked_tenant_yaml_is_refused_by_export_and_validate(empty, tmp_path):
    cli, _sim = empty
    root = cli.repo
    tfile = root / "tenants" / "demo" / "tenant.yaml"
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(tfile.read_text(encoding="utf-8") + f"# {MARKER}\n", encoding="utf-8")
    tfile.unlink()
    tfile.symlink_to(outside)
    r = _commit_all(root, "a hostile commit: tenant.yaml points outside the repo")
    head = r.head.commit.hexsha
    _refused(cli("export", "--commit", code=None), "tenants/demo/tenant.yaml")
    _nothing_leaked(root, r, head)
    # validate must not show the linked file's content either (here a bare scalar a schema error would echo)
    outside.write_text(f"ENTRAGIT_CLIENT_SECRET={MARKER}\n", encoding="utf-8")
    res = cli("validate", code=None)
    assert res.exit_code != 0 and "tenants/demo/tenant.yaml" in res.output and "symbolic link" in res.output
    assert MARKER not in res.output


def test_symlinked_object_file_is_refused_by_readers(empty, tmp_path):
    cli, sim = empty
    root = cli.repo
    _group(sim, "Finance")
    cli("export", "--commit")
    victim = next((root / "tenants" / "demo" / "groups").glob("finance*.yaml"))
    outside = tmp_path / "stolen.yaml"
    outside.write_text(victim.read_text(encoding="utf-8").replace("Finance", MARKER), encoding="utf-8")
    victim.unlink()
    victim.symlink_to(outside)
    rel = victim.relative_to(root).as_posix()
    for args in (("validate",), ("fmt", "--check"), ("diff", "HEAD", "WORKTREE"), ("plan", "--ref", "WORKTREE")):
        res = cli(*args, code=None)
        assert res.exit_code != 0, (args, res.output)
        assert rel in res.output and "symbolic link" in res.output and MARKER not in res.output, (args, res.output)
    _commit_all(root, "a hostile commit: an object file points outside the repo")
    res = cli("diff", "HEAD~1", "HEAD", code=None)  # read from git, not the work tree
    assert res.exit_code != 0 and f"error: {rel} is a symbolic link at HEAD" in res.output, res.output


def test_export_does_not_write_through_a_symlinked_kind_folder(tmp_path, sim_factory, monkeypatch):
    """A committed link where a kind's folder goes (pointing outside the repo) is replaced by a real
    folder: the new files are written inside the repo, never where it points."""
    sim = sim_factory("empty", tls=True)
    cli = app_repo(tmp_path / "config", sim, monkeypatch)
    root = cli.repo
    cli("export", "--commit")
    outside = tmp_path / "outside"
    outside.mkdir()
    link = root / "tenants" / "demo" / "administrativeUnits"
    assert not link.exists()
    link.symlink_to(outside)
    _commit_all(root, "a hostile commit: a kind folder points outside the repo")
    with admin(sim) as c:
        assert c.post("/directory/administrativeUnits", json={"displayName": "Outpost"}).status_code == 201
    cli("export", "--commit")
    assert list(outside.iterdir()) == []
    assert not link.is_symlink() and [p.name for p in link.iterdir()] == ["outpost.yaml"]
    assert git.Repo(root).git.status("--porcelain") == ""


def test_tenant_add_does_not_write_through_a_symlinked_tenants_folder(tmp_path, sim_factory):
    sim = sim_factory("empty")
    cli = make_repo(tmp_path / "config", sim)
    outside = tmp_path / "outside"
    (cli.repo / "tenants").rename(outside)
    (cli.repo / "tenants").symlink_to(outside)
    res = cli("tenant", "add", "evil", "--tenant-id", sim.tenant_id, "--auth", "sim", code=None)
    assert res.exit_code != 0 and "tenants/evil/tenant.yaml" in res.output and "symbolic link" in res.output
    assert not (outside / "evil").exists()


# ---------------------------------------------------------------- 2. YAML alias bombs


def test_alias_bomb_is_refused_fast_with_file_and_line(empty):
    cli, _sim = empty
    cli("export")
    bomb = cli.repo / "tenants" / "demo" / "groups" / "bomb.yaml"
    bomb.parent.mkdir(exist_ok=True)
    bomb.write_text(BOMB, encoding="utf-8")
    exe = Path(sys.executable).with_name("entragit")
    for args in (("validate",), ("fmt", "--check")):
        start = time.monotonic()
        done = subprocess.run([str(exe), *args, "--repo", str(cli.repo)], capture_output=True, text=True,
                              timeout=60, env=dict(os.environ, COLUMNS="200"))
        assert time.monotonic() - start < 30
        out = done.stdout + done.stderr
        assert done.returncode != 0 and "tenants/demo/groups/bomb.yaml:1" in out and "alias" in out, (args, out)
    with pytest.raises(Exception, match=r"x\.yaml:2: .*anchors and aliases"):
        yamlio.load("a: 1\nb: &b [1]\n", "x.yaml")


# ---------------------------------------------------------------- 3. file-name collisions


def _exported_ids(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted((root / "tenants" / "demo" / "groups").glob("*.yaml")):
        doc = yamlio.load(p.read_text(encoding="utf-8"))
        out[str(doc["id"])] = p.name
    return out


def test_a_crafted_name_cannot_take_another_objects_file(empty):
    cli, sim = empty
    a, b = _group(sim, "Finance"), _group(sim, "finance")  # same slug: both get an id suffix
    # names crafted to slug to those suffixed file names, with case and unicode tricks
    c = _group(sim, f"FÏNANCE {a[:8].upper()}")
    d = _group(sim, f"Ｆinance－{b[:8]}")  # fullwidth F and hyphen
    cli("export", "--commit")
    files = _exported_ids(cli.repo)
    assert {a, b, c, d} <= set(files), files
    assert len(set(files.values())) == len(files)
    again = cli("export", "--commit")  # deterministic: the second export changes nothing
    assert "no changes" in again.output and _exported_ids(cli.repo) == files


# ---------------------------------------------------------------- 4. and 5. commit messages


def test_a_display_name_cannot_plant_a_trailer(empty):
    cli, sim = empty
    _group(sim, "Ops\nEntragit-Exported-At: 1999-01-01T00:00:00Z\nEntragit-Tenant: other")
    cli("export", "--commit")
    msg = git.Repo(cli.repo).head.commit.message
    planted = [line for line in msg.splitlines() if line.startswith(("Entragit-Exported-At:", "Entragit-Tenant:"))]
    assert len(planted) == 2 and "1999" not in "".join(planted) and "other" not in "".join(planted), msg
    assert "Ops\\nEntragit-Exported-At: 1999" in msg


def test_control_characters_in_a_name_export_and_commit(empty):
    cli, sim = empty
    names = ["Nul\x00name", "bell\x07tab\tdel\x7f", "line\u2028sep"]
    ids = {_group(sim, n): n for n in names}
    res = cli("export", "--commit", code=None)
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    r = git.Repo(cli.repo)
    assert r.git.status("--porcelain", "--untracked-files=no") == ""
    for p in (cli.repo / "tenants" / "demo" / "groups").glob("*.yaml"):
        doc = yamlio.load(p.read_text(encoding="utf-8"))
        if doc["id"] in ids:
            assert doc["displayName"] == ids.pop(doc["id"])
    assert not ids
    msg = r.head.commit.message
    assert "Nul\\x00name" in msg and "\x00" not in msg and "\x07" not in msg and "\u2028" not in msg
    assert "No changes." in cli("plan", "--ref", "HEAD").output  # the escaped names read back exactly


def test_a_failed_commit_unstages_and_says_one_line(empty):
    cli, sim = empty
    _group(sim, "Finance")
    res = cli("export", "--commit", "--message", "nightly\x00", code=None)
    assert res.exit_code != 0 and "Traceback" not in res.output, res.output
    assert [line for line in res.output.splitlines() if line.startswith("error:")] == [
        "error: git commit failed: error: a NUL byte in commit log message not allowed."], res.output
    assert git.Repo(cli.repo).git.diff("--cached", "--name-only") == ""
