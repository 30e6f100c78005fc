"""Shared by the fault and crash suites: the damage apply repairs, and the views of a tenant and a
config repo that a faulty or killed run must end up equal to (the fault-free run's)."""

from __future__ import annotations

import os
import random
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import yaml

from .portal import ADMIN, CA


def slow_count(default: int) -> int:
    """How many seeds (faults) or kill points (crashes) a slow form runs: $ENTRAGIT_SLOW_SEEDS, else
    `default` (.ci/run sets fewer, to stay inside CI's time limit)."""
    return int(os.environ.get("ENTRAGIT_SLOW_SEEDS") or default)


def damage(sim: Any) -> None:
    """A portal admin's bad afternoon: a group twelve CA policies use hard-deleted, a policy turned
    off, an application (and its service principal) soft-deleted, a member removed and a group edited.
    Made without faults: only the repair runs under them."""
    beta = sim.graph_url.replace("/v1.0", "/beta")
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        def one(path: str, name: str) -> dict[str, Any]:
            return dict(c.get(path, params={"$filter": f"displayName eq '{name}'"}).json()["value"][0])

        def ok(r: httpx.Response) -> None:
            assert r.status_code == 204, r.text

        gid = one("/groups", "Finance Admins")["id"]
        ok(c.delete(f"/groups/{gid}"))
        ok(c.delete(f"/directory/deletedItems/{gid}"))
        pol = next(p for p in c.get(beta + CA).json()["value"] if p["displayName"].startswith("CA100"))
        ok(c.patch(f"{beta}{CA}/{pol['id']}", json={"state": "disabled"}))
        ok(c.delete(f"/applications/{one('/applications', 'HR Portal')['id']}"))
        aurora = one("/groups", "Project Aurora")["id"]
        member = c.get(f"/groups/{aurora}/members").json()["value"][0]["id"]
        ok(c.delete(f"/groups/{aurora}/members/{member}/$ref"))
        ok(c.patch(f"/groups/{aurora}", json={"description": "changed in the portal"}))


def _names(state: dict[str, Any]) -> dict[str, str]:
    """id (and appId) -> a name that survives a recreate, for every object the simulator holds."""
    out: dict[str, str] = {}
    for coll, objs in state["objects"].items():
        for oid, obj in objs.items():
            name = obj.get("displayName") or obj.get("name")
            if name:
                out[oid] = f"{coll}:{name}"
                if obj.get("appId"):
                    out[str(obj["appId"])] = f"{coll}:{name}:appId"
    return out


def _refs(value: Any, names: dict[str, str]) -> list[str]:
    """Names of the objects a value points at (by id anywhere inside it)."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _refs(v, names)]
    if isinstance(value, list):
        return [n for v in value for n in _refs(v, names)]
    return [names[value]] if isinstance(value, str) and value in names else []


def _label(oid: str, obj: dict[str, Any], names: dict[str, str]) -> str:
    if oid in names:
        return names[oid]
    # An assignment, a grant: known by what it joins; a method configuration by its fixed id.
    refs = sorted(_refs({k: v for k, v in obj.items() if k != "id"}, names))
    return f"{'->'.join(refs)} {obj.get('appRoleId') or obj.get('scope') or ''}" if refs else oid


def tenant_view(sim: Any) -> dict[str, Any]:
    """The tenant with ids replaced by names: object counts per collection (a duplicate counts 2),
    every relationship's members, the recycle bin. Two runs that did the same end up equal here,
    whatever new ids their creates got."""
    state = sim.store.snapshot()
    names = _names(state)
    objects = {coll: Counter(_label(oid, o, names) for oid, o in objs.items())
               for coll, objs in state["objects"].items() if objs}
    links = {}
    for key, ids in state["links"].items():
        kind, oid, rel = key.split("/", 2)
        if ids and oid in state["objects"].get(kind, {}):
            links[f"{names.get(oid, oid)}/{rel}"] = sorted(names.get(i, "?") for i in ids)
    deleted = {bin_: sorted(_label(oid, o, names) for oid, o in objs.items())
               for bin_, objs in state["deleted"].items() if isinstance(objs, dict) and objs}
    return {"objects": objects, "links": links, "deleted": deleted}


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """What two tenant views disagree on, one line each (for assertion messages)."""
    out = []
    for part in ("objects", "links", "deleted"):
        for key in sorted(set(got[part]) | set(want[part])):
            g, w = got[part].get(key), want[part].get(key)
            if g == w:
                continue
            if isinstance(g, Counter) or isinstance(w, Counter):
                g, w = g or Counter(), w or Counter()
                g, w = dict(g - w), dict(w - g)
            out.append(f"{part} {key}: got {g}, fault-free run has {w}")
    return out


def files(repo: Path) -> dict[str, bytes]:
    """Every file under tenants/ byte for byte, but tenant.yaml (`tenant add` wrote it, naming the
    simulator's port)."""
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted((repo / "tenants").rglob("*"))
            if p.is_file() and p.name != "tenant.yaml"}


def idmap(repo: Path, tenant: str = "demo") -> dict[str, dict[str, str]]:
    p = repo / "tenants" / tenant / "idmap.yaml"
    return (yaml.safe_load(p.read_text(encoding="utf-8")) or {}) if p.exists() else {}


def assert_idmap_intact(repo: Path, sim: Any, want_keys: dict[str, set[str]]) -> None:
    """The id map parses, names the same old ids as the fault-free run, and each new id is live."""
    live = set(_names(sim.store.snapshot())) | {oid for objs in sim.store.snapshot()["objects"].values()
                                                for oid in objs}
    got = idmap(repo)
    assert {k: set(v) for k, v in got.items()} == want_keys, got
    dead = {old: new for m in got.values() for old, new in m.items() if new not in live}
    assert not dead, f"id map points at objects that do not exist: {dead}"
    assert not list((repo / "tenants").rglob("*.tmp")), "a half-written id map was left behind"


def new_repo(root: Path, sim: Any) -> Any:
    """A config repo for the simulator's tenant; init and tenant add commit what they write, so a
    clean work tree means nothing is half-written."""
    from .conftest import make_repo

    cli = make_repo(root, sim)
    assert not git(root, "status", "--porcelain"), "init / tenant add left files uncommitted"
    return cli


def git(repo: Path, *args: str) -> str:
    r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    assert r.returncode == 0, f"git {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def points(rng: random.Random, count: int, total: int) -> list[int]:
    """`count` distinct kill points among 1..total (all of them when there are fewer)."""
    return sorted(rng.sample(range(1, total + 1), min(count, total)))
