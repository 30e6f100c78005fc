"""Reading back what the last export wrote takes each file's parsed form from the git directory
(entragit/doccache.py): the same data as parsing the YAML, and a file that changed is parsed again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from entragit import doccache, gitstore, yamlio
from entragit.snapshot import read_files

from .conftest import Cli, make_repo


@pytest.fixture(params=["enterprise", "synthetic:300"])
def exported(request: Any, tmp_path: Path, sim_factory: Any) -> Cli:
    sim = sim_factory(request.param)  # every kind, refs indexes, nested settings; the bench's shape
    repo = make_repo(tmp_path / "config", sim)
    repo("export", "--commit")
    return repo


def _texts(repo: Cli) -> dict[str, str]:
    d = repo.repo / "tenants" / "demo"
    return {p.relative_to(repo.repo).as_posix(): p.read_text(encoding="utf-8") for p in sorted(d.glob("*/*.yaml"))}


def test_every_exported_file_is_cached_as_exactly_what_its_yaml_parses_to(exported: Cli) -> None:
    texts = _texts(exported)
    cache = doccache.load(exported.repo, "demo")
    assert len(cache.docs) == len(texts) > 50
    for rel, text in texts.items():
        doc = cache.take_text(text)
        assert doc is not None, rel
        # Same values, same key order: what is built from it (and rendered again) cannot differ.
        assert json.dumps(doc) == json.dumps(yamlio.load(text)), rel


def test_a_cached_read_is_the_same_snapshot_as_parsing(exported: Cli) -> None:
    tdir = exported.repo / "tenants" / "demo"
    cached = read_files(tdir, exported.repo)
    doccache.forget(exported.repo, "demo")
    parsed = read_files(tdir, exported.repo)
    # Key order included: the cached documents skip canonicalisation, which must have changed nothing.
    assert json.dumps([cached.objects, cached.lookup, sorted(cached.paths.items()), cached.missing]) == \
           json.dumps([parsed.objects, parsed.lookup, sorted(parsed.paths.items()), parsed.missing])


def test_a_hand_edited_file_is_parsed_not_taken_from_the_cache(exported: Cli) -> None:
    tdir = exported.repo / "tenants" / "demo"
    path = sorted(tdir.glob("groups/*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("displayName: ", "displayName: Edited ", 1), encoding="utf-8")
    snap = read_files(tdir, exported.repo)
    rel = path.relative_to(exported.repo).as_posix()
    key = next(k for (kname, k), r in snap.paths.items() if r == rel)
    assert snap.objects["groups"][key]["displayName"].startswith("Edited ")


def test_the_next_unchanged_export_and_a_plan_agree_with_the_files(exported: Cli) -> None:
    head = gitstore.head(exported.repo)
    again = exported("export", "--commit").output
    assert "(incremental read)" in again and "no changes" in again
    assert gitstore.head(exported.repo) == head
    assert "No changes" in exported("plan").output


def test_a_cache_of_another_writer_version_is_ignored(exported: Cli) -> None:
    path = doccache.path_for(exported.repo, "demo")
    assert path is not None and path.is_file()
    first, rest = path.read_text(encoding="utf-8").split("\n", 1)
    path.write_text("entragit-docs another\n" + rest, encoding="utf-8")
    assert doccache.load(exported.repo, "demo").docs == {}


def test_an_incremental_export_without_the_cache_parses_the_files_and_writes_the_same(exported: Cli) -> None:
    head = gitstore.head(exported.repo)
    before = _texts(exported)
    doccache.forget(exported.repo, "demo")
    again = exported("export", "--commit").output
    assert "(incremental read)" in again and "no changes" in again
    assert gitstore.head(exported.repo) == head and _texts(exported) == before
    assert len(doccache.load(exported.repo, "demo").docs) == len(before)  # written again for the next read
