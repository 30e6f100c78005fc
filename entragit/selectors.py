"""What a user names on the command line (`--only`, `log OBJECT`), resolved against the objects there are.

One reading for every command: a kind (`groups`), `kind/slug` (`groups/finance-admins`), `kind/display
name` (`groups/Finance Admins`, any case), an object id, or a file path (absolute, or relative to the
cwd or the repo). A selector that names nothing is an error with the closest names, never a plan that
quietly does nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from entragit import canonical
from entragit import kinds as kindmod
from entragit.errors import EntragitError
from entragit.export import display_name
from entragit.snapshot import Names, Snapshot

FORMS = "a kind (groups), kind/slug (groups/finance-admins), kind/display name, an object id or a file path"
_KINDS = {k.casefold(): k for k in kindmod.BY_NAME}


@dataclass(frozen=True)
class Candidate:
    """One object a selector may name."""

    tenant: str
    kind: str
    key: str  # its id in the files (or live, for an object only live)
    slug: str  # its file name without .yaml (for one only live: what export would call it)
    name: str  # display name
    path: str = ""  # repo-relative file, when it has one
    live_id: str = ""  # the id it has live, when apply recreated it under another

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.slug}"


def candidates(tenant: str, files: Snapshot, live: Snapshot | None = None,
               live_ids: Mapping[str, str] | None = None) -> list[Candidate]:
    """The objects of `files`, then those only `live` has (what --prune would delete).

    `live_ids` maps a file's id to its live one (the id map's chain), so either id names it."""
    ids, names = live_ids or {}, Names(files)
    out = []
    for (kname, key), path in sorted(files.paths.items()):
        name = display_name(kindmod.get(kname), files.objects[kname][key], names)
        out.append(Candidate(tenant, kname, key, Path(path).stem, name, path, ids.get(key, "")))
    if live is not None:
        known = {(c.kind, i) for c in out for i in (c.key, c.live_id) if i}
        live_names = Names(live)
        for kname in files.objects:
            for key, body in sorted(live.objects.get(kname, {}).items()):
                if (kname, key) not in known:
                    name = display_name(kindmod.get(kname), body, live_names)
                    out.append(Candidate(tenant, kname, key, canonical.slugify(name) or key, name))
    return out


def _repo_paths(root: Path, spec: str) -> list[tuple[str, ...]]:
    """The repo-relative readings of `spec` as a path (from the cwd, then the repo), none if it is not one."""
    p = Path(spec)
    if not (p.is_absolute() or p.suffix == ".yaml" or spec.count("/") >= 2):
        return []
    base, out = root.resolve(), []
    for cand in [p] if p.is_absolute() else [Path.cwd() / p, root / p]:
        try:
            out.append(cand.resolve().relative_to(base).parts)
        except ValueError:
            continue
    return out


def file_parts(root: Path, spec: str) -> tuple[str, str, str] | None:
    """(tenant, kind, slug) when `spec` is the path of an object file, existing or not."""
    for parts in _repo_paths(root, spec):
        if len(parts) == 4 and parts[0] == "tenants" and parts[2] in kindmod.BY_NAME and parts[3].endswith(".yaml"):
            return parts[1], parts[2], parts[3].removesuffix(".yaml")
    return None


def match(spec: str, cands: Sequence[Candidate], root: Path, where: str) -> str | list[Candidate]:
    """The kind `spec` names, or the objects it names; an error when it names nothing.

    `where` says what was searched, for the error ("tenant demo: files at 1a2b3c4d5e or live")."""
    kind = _KINDS.get(spec.casefold())
    if kind is not None:
        if any(c.kind == kind for c in cands):
            return kind
        raise EntragitError(f"{spec!r} names no object: no {kind} in {where}")
    wanted, parts = spec, file_parts(root, spec)
    if parts is not None:
        tenant, kind, slug = parts
        tenants = {c.tenant for c in cands}
        if tenants and tenant not in tenants:
            raise EntragitError(f"{spec!r} is a file of tenant {tenant}, not of {', '.join(sorted(tenants))}",
                                hint=f"pass --tenant {tenant}")
        wanted = f"{kind}/{slug}"
    hits = _by_name(wanted, cands) or _by_id(wanted, cands)
    if not hits:
        near = next(("/".join(p) for p in _repo_paths(root, spec)), spec)  # a mistyped path, as files are named
        raise EntragitError(f"{spec!r} names no object in {where}", hint=_closest(near, cands))
    return hits


def _by_name(spec: str, cands: Sequence[Candidate]) -> list[Candidate]:
    """`kind/slug` or `kind/display name`: objects in files first, so a file names its object even
    when a live object of another id happens to slug the same."""
    head, _, rest = spec.partition("/")
    kind = _KINDS.get(head.casefold())
    if kind is None or not rest:
        return []
    rest = rest.casefold()
    mine = [c for c in cands if c.kind == kind]
    for same in (lambda c: c.slug == rest.removesuffix(".yaml"), lambda c: c.name.casefold() == rest):
        hits = [c for c in mine if same(c)]
        in_files = [c for c in hits if c.path]
        if hits:
            return _one(spec, in_files or hits)
    return []


def _by_id(spec: str, cands: Sequence[Candidate]) -> list[Candidate]:
    want = spec.casefold()
    return [c for c in cands if want in (c.key.casefold(), c.live_id.casefold())]


def _one(spec: str, hits: list[Candidate]) -> list[Candidate]:
    if len(hits) > 1:
        raise EntragitError(f"{spec!r} names {len(hits)} objects: {', '.join(sorted(c.label for c in hits))}",
                            hint="name one by kind/slug or object id")
    return hits


def _closest(spec: str, cands: Iterable[Candidate]) -> str:
    """The objects (or kinds) nearest `spec` by difflib over `kind/slug` and display names, each once."""
    pool: dict[str, str] = {}
    for c in cands:
        label = f"{c.label} ({c.name!r})" if c.name and c.name.casefold() != c.slug else c.label
        for spelled in filter(None, (c.label, f"{c.kind}/{c.name}", c.name, c.path)):
            pool.setdefault(spelled.casefold(), label)
        pool.setdefault(c.kind.casefold(), c.kind)
    near = difflib.get_close_matches(spec.casefold(), list(pool), n=6, cutoff=0.6)
    shown = list(dict.fromkeys(pool[n] for n in near))[:3]
    return f"closest: {', '.join(shown)}" if shown else f"a selector is {FORMS}"


def resolve(specs: Sequence[str], cands: Sequence[Candidate], root: Path, where: str) -> tuple[str, ...]:
    """Each selector as the kinds and ids the planner selects by, in order, once each."""
    out: list[str] = []
    for spec in specs:
        hit = match(spec, cands, root, where)
        out += [hit] if isinstance(hit, str) else [c.key for c in hit]
    return tuple(dict.fromkeys(out))
