"""Export: live tenant -> Snapshot -> canonical files, written atomically, optionally committed."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import re
import shutil
import threading
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entragit import auth, canonical, doccache, gitstore, lock, native, rendercache, yamlio
from entragit import kinds as kindmod
from entragit import refs as refmod
from entragit.config import Tenant, check_plain_path, object_files, repo_file
from entragit.errors import EntragitError, GraphError
from entragit.graph import Graph, Stats
from entragit.kinds import Kind
from entragit.snapshot import Names, Progress, Snapshot, Tick, read_live

KEEP = ("tenant.yaml", "idmap.yaml")  # tenant files that export never rewrites
BODY_LIMIT = 500  # objects listed per section of a commit message
EXPORTED_AT = "Entragit-Exported-At"  # commit trailer: when the export read the tenant


@dataclass(frozen=True)
class Attribution:
    """Who changed one exported object since the previous export, per the directory audit log."""

    kind: str
    name: str
    actors: tuple[str, ...]
    operations: tuple[str, ...]


@dataclass
class ExportResult:
    tenant: str
    added: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    changed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, old name, new name): same id
    warnings: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    commit: str | None = None
    objects: int = 0
    stats: Stats | None = None
    failed: str = ""  # with several tenants, one failure is reported here and the others go on
    who: list[Attribution] = field(default_factory=list)  # from the directory audit log (--commit)
    audit_note: str = ""  # why there is no attribution, when the audit log could not be read
    audit_since: str = ""
    native_snapshot: str | None = None  # the tenant's newest native backup snapshot id (--commit)
    read: str = ""  # "incremental", or "full: why": how the tenant was read

    @property
    def summary(self) -> str:
        parts = [f"{len(v)} {w}" for v, w in ((self.changed, "changed"), (self.renamed, "renamed"),
                                              (self.added, "added"), (self.removed, "removed")) if v]
        return f"{self.tenant}: " + (", ".join(parts) if parts else "no changes")


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def display_name(kind: Kind, body: dict[str, Any], names: Names) -> str:
    """What a reviewer calls the object: its name, or its references' names for nameless kinds."""
    if kind.singleton:
        return kind.title
    if kind.name_field and body.get(kind.name_field):
        return str(body[kind.name_field])
    namer = _namer(kind, body, names)
    if namer:
        return display_name(kindmod.get(namer[0]), namer[1], names)
    parts = [_label(kind, f, v, names) for f in kind.label if isinstance(v := body.get(f), str) and v]
    return " -- ".join(parts) or str(body.get(kind.id_field, "?"))


def _namer(kind: Kind, body: dict[str, Any], names: Names) -> tuple[str, dict[str, Any]] | None:
    """The object that names `body` (Kind.named_by: a PIM policy's assignment names its role), if read."""
    if not kind.named_by:
        return None
    nkind, nfield = kind.named_by
    oid = body.get(kind.id_field)
    for source in (names.snap.objects, names.snap.lookup):
        hit = next((o for o in source.get(nkind, {}).values() if oid and o.get(nfield) == oid), None)
        if hit is not None:
            return nkind, hit
    return None


def _label(kind: Kind, field_: str, value: str, names: Names) -> str:
    """One part of a nameless object's name: the name of what `value` references, else the value."""
    for ref in kind.refs:
        for target in refmod.values({field_: value}, ref) if ref.path == field_ else ():
            hit = names.find(ref, target)
            if hit:
                return str(hit[1].get("displayName") or hit[1].get("userPrincipalName") or value)
    if value == "/":
        return "directory"
    # The object's own key (a partner's tenant id) is all there is to call it by: in full.
    return value if field_ == kind.id_field else value[:8]


def own_id_named(kind: Kind) -> bool:
    """Objects named by nothing but their own key (cross-tenant partners by tenant id)."""
    return kind.label == (kind.id_field,)


def _unique_width(keys: list[str], start: int = 8) -> int:
    """Shortest id prefix (at least 8) that tells colliding objects apart."""
    width = start
    while len({k[:width] for k in keys}) < len(keys) and width < max(map(len, keys)):
        width += 4
    return width


def _file_names(kind: Kind, objs: dict[str, dict[str, Any]], names: Names,
                warnings: list[str]) -> dict[str, str]:
    """key -> file name (no .yaml) of every object of a kind, each name used once."""
    slugs: dict[str, list[str]] = defaultdict(list)
    for key, body in objs.items():
        # A partner's file keeps its short tenant id prefix (the name is the full id; files stay put).
        name = key[:8] if own_id_named(kind) else display_name(kind, body, names)
        base = _kebab(kind.name) if kind.singleton else canonical.slugify(name)
        slugs[base or canonical.slugify(key)].append(key)  # a nameless object goes by its id
    out: dict[str, str] = {}
    for slug, keys in sorted(slugs.items()):
        if len(keys) > 1 and kind.name_field:
            warnings.append(f"{len(keys)} {kind.title}s share the name {display_name(kind, objs[keys[0]], names)!r}; "
                            f"files get an id suffix ({', '.join(sorted(keys))})")
        width = _unique_width([canonical.slugify(k) for k in keys])
        for key in keys:
            out[key] = slug if len(keys) == 1 else f"{slug}-{canonical.slugify(key)[:width]}"
    return _no_clashes(kind, out, slugs, warnings)


def _no_clashes(kind: Kind, out: dict[str, str], slugs: dict[str, list[str]], warnings: list[str]) -> dict[str, str]:
    """A crafted name can slug to another object's suffixed file name ("Finance 381ae4cf" and the second
    "Finance"), which would hide one of them. Every object in such a clash is named `slug--id`
    instead: slugs never hold "--", so these names cannot meet any other, and the choice is the same
    on every export."""
    taken: dict[str, list[str]] = defaultdict(list)
    for key, name in out.items():
        taken[name].append(key)
    base = {key: slug for slug, keys in slugs.items() for key in keys}
    for name, keys in sorted(taken.items()):
        if len(keys) > 1:
            warnings.append(f"{len(keys)} {kind.title}s would share the file {name}.yaml; "
                            f"each gets its full id ({', '.join(sorted(keys))})")
            out.update({key: f"{base[key]}--{canonical.slugify(key)}" for key in keys})
    return out


def _unread_kinds_resolver(snap: Snapshot, names: Names, known: Mapping[str, dict[str, Any]]) -> canonical.Resolver:
    """names.resolve, except that a reference to a delegated-only kind this export could not read
    (an app-only identity) is unknown, not gone: it keeps its last name and is never marked missing."""
    def resolve(ref: kindmod.Ref, value: str) -> dict[str, Any] | None:
        found = names.resolve(ref, value)
        unread = all(kindmod.get(t).delegated_only and t not in snap.objects for t in ref.targets)
        if found is not None or not unread:
            return found
        last = known.get(value) or {}
        return {"kind": ref.targets[0], **({"name": last["name"]} if last.get("name") else {})}

    return resolve


def layout(snap: Snapshot, names_out: dict[str, str] | None = None,
           known: Mapping[str, dict[str, Any]] | None = None,
           cache: rendercache.RenderCache | None = None,
           docs_out: doccache.Recorder | None = None) -> tuple[dict[str, str], list[str]]:
    """{kind/slug.yaml: text} for a tenant, and warnings about names that collide within a kind.

    `names_out`, when given, receives each file's display name (commit messages use them); `known`
    names references that no longer resolve (the previous files' refs index); `cache`, what the last
    export wrote: an unchanged object's file is taken as it is instead of rendered again; `docs_out`
    (with `cache`), each file's document as JSON."""
    names = Names(snap)
    files: dict[str, str] = {}
    warnings: list[str] = []
    known = {} if known is None else known  # not `known or {}`: that would parse a LazyKnown's files
    resolve = _unread_kinds_resolver(snap, names, known)
    for kname in sorted(snap.objects):
        kind = kindmod.get(kname)
        objs = snap.objects[kname]
        for key, name in _file_names(kind, objs, names, warnings).items():
            rel = f"{kname}/{name}.yaml"
            w = snap.written.get((kname, key))
            # An object kept unchanged from the document the last export wrote, whose refs still say
            # the same, has that document: its JSON is taken as it is, not built and dumped again.
            same = (w is not None and w.body is objs[key]
                    and canonical.refs_index(kind, objs[key], resolve, known) == w.refs)
            build = functools.partial(canonical.to_document, kind, objs[key], resolve, known)
            files[rel] = _render(kind, rel, build, cache, docs_out, w.json if w is not None and same else None)
            if names_out is not None:
                names_out[f"{kname}/{name}.yaml"] = display_name(kind, objs[key], names)
    return files, warnings


def _render(kind: Kind, rel: str, build: Callable[[], dict[str, Any]], cache: rendercache.RenderCache | None,
            docs_out: doccache.Recorder | None = None, written: str | None = None) -> str:
    """The file's text from the document `build` makes; `docs_out` receives the document's JSON
    (doccache keeps it for the next read). `written`: that document's JSON, known already (the
    last export's, unchanged): the document is built only if the file no longer holds its text."""
    if cache is None:
        return canonical.render(kind, build())
    doc = None if written is not None else build()
    js = written if written is not None else rendercache.doc_json(doc)
    digest = rendercache.doc_digest(canonical.schema_header(kind), doc, js)
    text = cache.text(rel, digest) or canonical.render(kind, build() if doc is None else doc)
    cache.remember(rel, digest, text)
    if docs_out is not None:
        docs_out.add(rel, js)
    return text


def file_names(files: dict[str, str]) -> dict[str, str]:
    """kind/slug.yaml -> display name, nameless kinds named after what their refs index names (as
    export names them); {} when the files do not parse (a hand-broken file is named by _doc_name)."""
    from entragit.snapshot import read_files

    try:
        snap = read_files(Path(), Path(), files)
    except EntragitError:
        return {}
    names = Names(snap)
    return {rel: display_name(kindmod.get(kname), snap.objects[kname][key], names)
            for (kname, key), rel in snap.paths.items()}


class LazyKnown(Mapping[str, dict[str, Any]]):
    """`known_refs(files)`, parsed on first use: only a reference that no longer resolves reads it, and
    most exports have none, so the files are not parsed again on every export."""

    def __init__(self, files: dict[str, str]) -> None:
        self._files: dict[str, str] | None = files
        self._known: dict[str, dict[str, Any]] = {}

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._files is not None:
            self._known, self._files = known_refs(self._files), None
        return self._known

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def known_refs(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every reference the files' refs indexes name: what a reference still names once its target is gone."""
    out: dict[str, dict[str, Any]] = {}
    for text in files.values():
        try:
            doc = yamlio.load(text)
        except EntragitError:
            continue
        refs = doc.get(canonical.REFS) if isinstance(doc, dict) else None
        for value, info in (refs or {}).items() if isinstance(refs, dict) else ():
            if isinstance(info, dict) and info.get("name"):
                out.setdefault(str(value), dict(info))
    return out


def _doc_name(text: str, kname: str) -> str:
    doc = yamlio.load(text)
    kind = kindmod.BY_NAME.get(kname)
    if kind and kind.singleton:
        return kind.title
    return str(doc.get("displayName") or doc.get("id") or doc.get("tenantId") or "?")


def _current_files(tdir: Path) -> dict[str, str]:
    return object_files(tdir.parents[1], tdir)


def recover(root: Path) -> list[str]:
    """Finish or undo the writes of `write_tenant` that a killed export left half done; one line per
    tenant put right. Call it holding the repo lock: a live export's writes are not taken over."""
    stash = _stash_dir(root)
    if not stash.is_dir():
        return []
    notes = []
    for name in sorted({p.name[4:] for p in stash.iterdir() if p.name[:4] in ("old-", "new-")}):
        tdir, old, new = root / "tenants" / name, stash / f"old-{name}", stash / f"new-{name}"
        if not tdir.exists():
            # Killed between the two renames. Both copies are whole (new-* is written before the first
            # rename); the old files are the ones git last saw, so the repo goes back to them.
            source = old if old.is_dir() else new
            os.rename(source, tdir)
            how = "restored the files from before it" if source == old else "put its finished files in place"
            notes.append(f"recovered tenants/{name}: an export was killed while replacing its files; {how}")
    for ready in sorted(stash.glob("patch-*.json")):
        name = ready.stem[len("patch-"):]
        # Past the manifest every new text is staged whole, so the writes are finished, not undone.
        _finish_patch(root, root / "tenants" / name, stash / f"patch-{name}", ready)
        notes.append(f"recovered tenants/{name}: an export was killed while writing its files; "
                     "finished writing them")
    shutil.rmtree(stash, ignore_errors=True)  # what is left: a backup already replaced, a half-written copy
    return notes


def recover_if_idle(root: Path) -> list[str]:
    """`recover` for commands that only read: done only when no writer holds the lock (a live export's
    writes last a moment and are its own to finish)."""
    stash = _stash_dir(root)
    if not any(any(stash.glob(pattern)) for pattern in ("old-*", "new-*", "patch-*.json")):
        return []
    try:
        with lock.hold(root, "recover", timeout=0):
            return recover(root)
    except lock.LockBusy:
        return []


def _stash_dir(root: Path) -> Path:
    return lock.state_dir(root) / "entragit-export"


def write_tenant(root: Path, t: Tenant, files: dict[str, str], old: dict[str, str] | None = None) -> dict[str, str]:
    """Replace the tenant's object files with `files` atomically; returns the old files (`old`: the
    caller's read of them, under the same lock).

    When most files change (a first export) the folder is written anew and swapped in with two
    renames; otherwise only the files that differ are written and removed, through a journal
    (`_patch`), so a nightly export that changed a hundred objects of ten thousand neither rewrites
    nor deletes the other files, and git hashes only what changed."""
    tdir = t.dir
    old = _current_files(tdir) if old is None else old
    kept = [repo_file(root, tdir / keep) for keep in KEEP]  # checked before anything is written
    if old == files:
        return old
    changed = {rel: text for rel, text in files.items() if old.get(rel) != text}
    gone = _strays(tdir, files)
    if len(changed) + len(gone) > len(files) // 2:
        _swap(root, t, files, kept)
    else:
        _patch(root, t, changed, gone)
    return old


def _write_files(base: Path, files: Mapping[str, str]) -> None:
    for folder in sorted({rel.rpartition("/")[0] for rel in files}):
        (base / folder).mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        with open(base / rel, "w", encoding="utf-8") as f:
            f.write(text)


def _swap(root: Path, t: Tenant, files: dict[str, str], kept: list[Path]) -> None:
    """The tenant folder written whole beside it, then swapped in (two renames; `recover` finishes or
    undoes a swap a kill interrupted)."""
    tdir, stash = t.dir, _stash_dir(root)
    stash.mkdir(parents=True, exist_ok=True)
    new_dir = stash / f"new-{t.name}"
    shutil.rmtree(new_dir, ignore_errors=True)
    new_dir.mkdir()
    for keep in kept:
        if keep.exists():
            shutil.copy2(keep, new_dir / keep.name)
    _write_files(new_dir, files)
    backup = stash / f"old-{t.name}"
    shutil.rmtree(backup, ignore_errors=True)
    os.rename(tdir, backup)
    os.rename(new_dir, tdir)
    shutil.rmtree(backup)


def _strays(tdir: Path, files: Mapping[str, str]) -> list[str]:
    """Entries below the tenant folder that the new files do not hold (deleted objects, and anything
    else a swap would drop: stray files, links). A linked folder is one entry, never entered."""
    out = []
    for dirpath, dirnames, filenames in os.walk(tdir):
        here = Path(dirpath)
        prefix = "" if here == tdir else here.relative_to(tdir).as_posix() + "/"
        for name in [*filenames, *(d for d in dirnames if (here / d).is_symlink())]:
            rel = prefix + name
            if rel not in files and rel not in KEEP:
                out.append(rel)
    return out


def _patch(root: Path, t: Tenant, changed: dict[str, str], gone: list[str]) -> None:
    """The files that differ staged whole, then a manifest (the point past which `recover` finishes
    the writes instead of dropping them), then moved into place and the gone ones removed."""
    stash = _stash_dir(root)
    stash.mkdir(parents=True, exist_ok=True)
    stage, ready = stash / f"patch-{t.name}", stash / f"patch-{t.name}.json"
    ready.unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    _write_files(stage, changed)
    tmp = ready.with_suffix(".tmp")
    tmp.write_text(json.dumps({"write": sorted(changed), "delete": sorted(gone)}), encoding="utf-8")
    os.replace(tmp, ready)
    _finish_patch(root, t.dir, stage, ready)


def _finish_patch(root: Path, tdir: Path, stage: Path, ready: Path) -> None:
    """Moves each staged file into place (those a killed run moved already are gone from the stage)
    and removes the gone entries first, a linked folder among them; every folder written into is
    checked to be a real one inside the repo, so no write follows a link out of it."""
    todo = json.loads(ready.read_text(encoding="utf-8"))
    for rel in todo["delete"]:
        p = tdir / rel
        if p.is_symlink() or p.is_file():
            p.unlink()
        elif p.is_dir():
            shutil.rmtree(p)
    checked: set[Path] = set()
    for rel in todo["write"]:
        src, dst = stage / rel, tdir / rel
        if dst.parent not in checked:
            check_plain_path(root, dst.parent)
            dst.parent.mkdir(parents=True, exist_ok=True)
            checked.add(dst.parent)
        if src.exists():
            os.replace(src, dst)
    emptied = {p for rel in todo["delete"] for p in (tdir / rel).parents if p != tdir and tdir in p.parents}
    for folder in sorted(emptied, key=lambda p: len(p.parts), reverse=True):  # a kind whose last object went
        if folder.is_symlink() or not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            empty = next(entries, None) is None
        if empty:
            folder.rmdir()
    ready.unlink()
    shutil.rmtree(stage, ignore_errors=True)


def hand_edits_lost(root: Path, t: Tenant, files: dict[str, str], dirty: list[str]) -> list[str]:
    """Uncommitted changes under the tenant folder (`dirty`: gitstore.uncommitted of it) that writing
    `files` would undo, relative to the folder.

    A file already holding what the export writes loses nothing (a second export before a commit)."""
    folder = t.dir.relative_to(root).as_posix()
    lost = []
    for path in dirty:
        rel = path[len(folder) + 1:]
        if rel in KEEP:  # never rewritten by export
            continue
        p = root / path
        have = p.read_bytes() if p.is_file() and not p.is_symlink() else None
        want = files[rel].encode("utf-8") if rel in files else None
        if p.is_symlink() or have != want:
            lost.append(rel)
    return lost


def _as_committed(root: Path, t: Tenant, current: dict[str, str], dirty: list[str]) -> dict[str, str]:
    """The tenant's files as HEAD holds them, from the work tree's and its uncommitted paths: a commit
    says what changed since the last commit even when an earlier run (killed, or stopped by a held
    index.lock) left files written but not committed."""
    folder = t.dir.relative_to(root).as_posix()
    pending = [path for path in dirty
               if path.endswith(".yaml") and path[len(folder) + 1:].count("/") == 1]  # _current_files' own
    out = dict(current)
    for path, text in gitstore.texts_at(root, "HEAD", pending).items():
        rel = path[len(folder) + 1:]
        if text is None:
            out.pop(rel, None)
        else:
            out[rel] = text
    return out


def _file_id(text: str) -> str | None:
    doc = yamlio.load(text)
    oid = (doc.get("id") or doc.get("tenantId")) if isinstance(doc, dict) else None
    return str(oid).lower() if oid else None


def _renames(old: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """old path -> new path of objects whose file moved but whose id stayed (renamed in the portal)."""
    gone = {(rel.split("/", 1)[0], i): rel for rel in old if rel not in new and (i := _file_id(old[rel]))}
    out: dict[str, str] = {}
    if not gone:  # nothing left its path, so nothing moved: the new files need no parsing
        return out
    for rel in new:
        if rel not in old and (i := _file_id(new[rel])) and (rel.split("/", 1)[0], i) in gone:
            out[gone[(rel.split("/", 1)[0], i)]] = rel
    return out


def _diff(result: ExportResult, old: dict[str, str], new: dict[str, str], names: dict[str, str]) -> None:
    moved = _renames(old, new)
    # The old files are parsed for their names only when an object left or moved (rarely).
    old_names = file_names(old) if moved or any(rel not in new for rel in old) else {}
    for was, now in sorted(moved.items()):
        kname = now.split("/", 1)[0]
        result.renamed.append((kname, old_names.get(was) or _doc_name(old[was], kname),
                               names.get(now) or _doc_name(new[now], kname)))
    arrived = set(moved.values())
    for rel in sorted(set(old) | set(new)):
        kname = rel.split("/", 1)[0]
        if rel in moved or rel in arrived:
            continue
        if rel not in old:
            result.added.append((kname, names.get(rel) or _doc_name(new[rel], kname)))
        elif rel not in new:
            result.removed.append((kname, old_names.get(rel) or _doc_name(old[rel], kname)))
        elif old[rel] != new[rel]:
            result.changed.append((kname, names.get(rel) or _doc_name(new[rel], kname)))


# Control characters (newline, NUL, ...) and Unicode line breaks, as they can appear in tenant data.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Tenant data made safe for one commit message line: a display name carrying a newline could
    otherwise plant a trailer (Entragit-Exported-At: ...), and git refuses a message with a NUL."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _titled(kname: str, name: str) -> str:
    """An object named by its own key reads with its kind: `cross-tenant partner <tenant id>`."""
    kind = kindmod.BY_NAME.get(kname)
    return f"{kind.title} {name}" if kind and own_id_named(kind) else name


def commit_message(t: Tenant, r: ExportResult, when: dt.datetime, extra: str | None = None) -> str:
    lines = [extra or r.summary, ""]
    for label, items in (("Changed", r.changed), ("Added", r.added), ("Removed", r.removed)):
        if items:
            lines.append(f"{label}:")
            lines += [f"  {k}: {one_line(_titled(k, n))}" for k, n in items[:BODY_LIMIT]]
            if len(items) > BODY_LIMIT:  # `git show --stat` has them all; a first export lists thousands
                lines.append(f"  ... and {len(items) - BODY_LIMIT} more")
        if label == "Changed" and r.renamed:
            lines.append("Renamed:")
            lines += [f"  {k}: {one_line(was)} -> {one_line(now)}" for k, was, now in r.renamed[:BODY_LIMIT]]
    lines += _who_lines(r)
    lines += ["", f"Entragit-Tenant: {t.name} ({t.tenant_id})", f"{EXPORTED_AT}: {when.strftime('%Y-%m-%dT%H:%M:%SZ')}"]
    actors = sorted({one_line(a) for w in r.who for a in w.actors})
    if actors:
        lines.append(f"Entragit-Actors: {', '.join(actors)}")
    if r.native_snapshot:
        lines.append(f"{native.TRAILER}: {one_line(r.native_snapshot)}")
    return "\n".join(lines) + "\n"


def _who_lines(r: ExportResult) -> list[str]:
    if r.audit_note:
        return ["", f"Who changed it: {r.audit_note}"]
    if not r.who:
        return []
    lines = ["", f"Who changed it (directory audit log since {r.audit_since}):"]
    for w in r.who:
        lines.append(one_line(f"  {w.kind}: {w.name}: {', '.join(w.actors)} ({'; '.join(w.operations)})"))
    return lines


# ---------------------------------------------------------------- who changed it (directory audit log)


def _object_ids(r_files: dict[str, str], rels: list[str],
                names: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """id -> (kind, name) of the objects in `rels` (singletons have no id to match and are left out);
    `names`, the files' display names when the caller has them (else the files are parsed for them)."""
    out: dict[str, tuple[str, str]] = {}
    if not rels:
        return out
    if names is None or any(rel not in names for rel in rels):  # a kept file (its kind unread) is not in layout's
        names = file_names(r_files)
    for rel in rels:
        doc = yamlio.load(r_files[rel])
        kname = rel.split("/", 1)[0]
        oid = doc.get("id") or doc.get("tenantId") if isinstance(doc, dict) else None
        if oid:
            out[str(oid).lower()] = (kname, names.get(rel) or _doc_name(r_files[rel], kname))
    return out


def changed_ids(old: dict[str, str], new: dict[str, str],
                new_names: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Every object the export added, changed or removed, by id (`new_names`: layout's names of `new`)."""
    gone = [rel for rel in old if rel not in new]
    here = [rel for rel in new if old.get(rel) != new[rel]]
    return {**_object_ids(old, gone), **_object_ids(new, here, new_names)}


def _actor(entry: dict[str, Any]) -> str:
    by = entry.get("initiatedBy") or {}
    return str((by.get("user") or {}).get("userPrincipalName") or (by.get("app") or {}).get("displayName") or "unknown")


def attribute(entries: list[dict[str, Any]], ids: dict[str, tuple[str, str]]) -> list[Attribution]:
    """Match audit entries' target ids to the changed objects: actors and operations per object."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for e in sorted(entries, key=lambda e: str(e.get("activityDateTime", ""))):
        for target in e.get("targetResources") or ():
            oid = str(target.get("id") or "").lower()
            if oid in ids:
                actors, ops = found.setdefault(oid, ([], []))
                for lst, v in ((actors, _actor(e)), (ops, str(e.get("activityDisplayName") or "?"))):
                    if v not in lst:
                        lst.append(v)
    return sorted((Attribution(*ids[oid], tuple(a), tuple(o)) for oid, (a, o) in found.items()),
                  key=lambda w: (w.kind, w.name))


async def read_audit(t: Tenant, since: str) -> tuple[list[dict[str, Any]], str]:
    """Directory audit entries since `since`, or ([], why not) when they cannot be read."""
    cred, token = auth.credential(t)  # the export's own sign-in: no new token request
    try:
        async with Graph(t.graph_url, credential=cred, token=token, verify=t.ca_bundle or True) as g:
            # https://learn.microsoft.com/graph/api/directoryaudit-list (needs AuditLog.Read.All)
            return await g.list_all("/auditLogs/directoryAudits",
                                    params={"$filter": f"activityDateTime ge {since}"}), ""
    except GraphError as e:
        if e.status == 403:
            return [], "skipped (the token lacks AuditLog.Read.All)"
        return [], f"skipped (the audit log could not be read: {e.status} {e.code})"


def _attribute_changes(root: Path, t: Tenant, r: ExportResult, old: dict[str, str], new: dict[str, str],
                       names: dict[str, str]) -> None:
    if old == new:
        return
    since = gitstore.last_trailer(root, str(t.dir.relative_to(root)), EXPORTED_AT)
    ids = changed_ids(old, new, names) if since else {}  # a first export has no window to attribute
    if not ids or not since:
        return
    entries, r.audit_note = asyncio.run(read_audit(t, since))
    r.audit_since = since
    r.who = attribute(entries, ids)


async def read_tenant(t: Tenant, *, allow_partial: bool, progress: Progress | None = None,
                      concurrency: int = 8) -> tuple[Snapshot, Stats]:
    from entragit.apply import check_tenant  # here: apply's plan imports this module

    cred, token = auth.credential(t)
    verify: Any = t.ca_bundle or True
    graph = Graph(t.graph_url, credential=cred, token=token, verify=verify, concurrency=concurrency,
                  paced_paths=kindmod.PACED_PATHS)
    async with graph as g:
        # A wrong tenantId (or a token reaching another tenant) would file its objects under this name.
        await check_tenant(g, t.tenant_id, "export")
        snap = await read_live(g, t.export_kinds, allow_partial=allow_partial, progress=progress)
        return snap, g.stats


@dataclass
class Read:
    """How export read a tenant, and the delta links for the next export."""

    how: str
    links: dict[str, str]
    full_at: str
    native: tuple[str | None, str] = (None, "")  # the newest native snapshot id, or a warning (--commit)


async def read_for_export(root: Path, t: Tenant, *, full: bool, allow_partial: bool, progress: Progress | None = None,
                          concurrency: int = 8, native_id: bool = False) -> tuple[Snapshot, Stats, Read]:
    """read_tenant, incremental when the tenant's delta state allows it (entragit/delta.py); with
    `native_id`, also the newest native backup snapshot's id for the commit's trailer."""
    from entragit import delta
    from entragit.apply import check_tenant

    now = dt.datetime.now(dt.timezone.utc)
    why = "--full" if full else delta.why_full(root, t.name, t.dir, t.export_kinds, now, t.graph_url)
    state = None if why else delta.load(root, t.name)
    cred, token = auth.credential(t)
    graph = Graph(t.graph_url, credential=cred, token=token, verify=t.ca_bundle or True, concurrency=concurrency,
                  paced_paths=kindmod.PACED_PATHS)
    async with graph as g:
        await check_tenant(g, t.tenant_id, "export")
        found = await native.latest_in(g) if native_id else (None, "")
        if state is not None:
            try:
                snap, links = await delta.read_incremental(g, root, t.dir, state, t.export_kinds, keep_written=True,
                                                           allow_partial=allow_partial, progress=progress)
                return snap, g.stats, Read("incremental", links, state.full_at, found)
            except delta.Expired as e:
                why = f"a delta link expired: {e}"
        links = await delta.start_links(g, t.export_kinds)  # before the read: no change falls between
        snap = await read_live(g, t.export_kinds, allow_partial=allow_partial, progress=progress)
        return snap, g.stats, Read(f"full: {why}", links, now.isoformat(), found)


def _keep_delta_state(root: Path, t: Tenant, read: Read, r: ExportResult) -> None:
    """Delta links for the next export, valid only against the files now committed."""
    from entragit import delta

    blobs = delta.folder_blobs(root, t.dir) if read.links and not r.errors else None
    if blobs is None:
        delta.forget(root, t.name)
        return
    delta.save(root, t.name, delta.State(read.links, blobs, sorted(k.name for k in t.export_kinds), read.full_at,
                                         gitstore.head(root) or ""))


def _fill_gaps(snap: Snapshot, t: Tenant) -> None:
    """A relationship the token could not read keeps the value the files had, instead of looking emptied."""
    if not snap.gaps:
        return
    from entragit.snapshot import read_files

    before = read_files(t.dir, t.dir.parent.parent) if t.dir.exists() else Snapshot()
    for (kname, oid, rel) in snap.gaps:
        old = before.objects.get(kname, {}).get(oid, {})
        if rel in old:
            snap.objects[kname][oid][rel] = old[rel]
            snap.written.pop((kname, oid), None)  # not the body its document was written from


def _write_one(root: Path, t: Tenant, snap: Snapshot, stats: Stats, do_commit: bool, message: str | None,
               now: dt.datetime, force: bool, native_found: tuple[str | None, str] = (None, "")) -> ExportResult:
    names: dict[str, str] = {}
    _fill_gaps(snap, t)
    current = _current_files(t.dir)
    cache = rendercache.for_tenant(root, t.name, current)
    docs = doccache.Recorder()
    files, warnings = layout(snap, names, LazyKnown(current), cache, docs)
    warnings = [*warnings, *snap.gaps.values()]
    r = ExportResult(t.name, warnings=warnings, errors=dict(snap.errors), objects=snap.count(), stats=stats)
    if snap.errors:
        # A kind we could not read keeps its previous files instead of looking deleted.
        for kname in snap.errors:
            files.update({rel: text for rel, text in current.items() if rel.startswith(kname + "/")})
    files = {rel: yamlio.keep_comments(text, current.get(rel)) for rel, text in files.items()}  # a person's notes
    dirty = gitstore.uncommitted(root, t.dir.relative_to(root).as_posix())  # once: nothing below changes it
    lost = [] if force else hand_edits_lost(root, t, files, dirty)
    if lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        docs.close()
        raise EntragitError(f"tenants/{t.name} has uncommitted changes the export would overwrite: {shown}; "
                            "nothing written",
                            hint=f"commit them, discard them (git checkout -- tenants/{t.name}), "
                                 "or pass --force to overwrite them")
    committed = _as_committed(root, t, current, dirty) if do_commit else current
    old = write_tenant(root, t, files, current)
    cache.save()
    docs.save(root, t.name, files, {rel for rel in files if rel.split("/", 1)[0] in snap.errors})  # kept: old text
    _diff(r, committed if do_commit else old, files, names)
    if do_commit:
        _attribute_changes(root, t, r, committed, files, names)
        r.native_snapshot, note = native_found
        r.warnings += [note] if note else []
        rel = str(t.dir.relative_to(root))
        # Nothing uncommitted under the folder and nothing written (write_tenant leaves the folder as it
        # is when the files are the same): no `git add` and diff to find nothing to commit.
        unchanged = not dirty and files == current
        r.commit = None if unchanged else gitstore.commit(root, [rel], commit_message(t, r, now, message))
    return r


@dataclass(frozen=True)
class Options:
    """How each tenant of one export run is read and written (handed to worker processes as it is)."""

    now: dt.datetime  # when the run began: every tenant's audit window starts there
    do_commit: bool = False
    message: str | None = None
    allow_partial: bool = False
    concurrency: int = 8
    parallel_tenants: int = 4
    force: bool = False
    full: bool = False


Outcome = ExportResult | BaseException


def export(root: Path, tenants: list[Tenant], *, do_commit: bool = False, message: str | None = None,
           allow_partial: bool = False, progress: Callable[[str, Tick], None] | None = None,
           concurrency: int = 8, parallel_tenants: int = 4, force: bool = False,
           full: bool = False, workers: int = 1) -> list[ExportResult]:
    """Export tenants, `parallel_tenants` at a time in each of `workers` processes (entragit/workers.py;
    1: in this process). Each tenant is read completely before its files are touched (a failed read
    writes nothing), then written atomically and committed on its own, so one broken tenant among
    hundreds does not hold back the others; its failure is in its result. Uncommitted changes the new
    files would overwrite stop that tenant unless `force`. A tenant whose delta state is valid is read
    incrementally unless `full` (entragit/delta.py). The caller holds the repo lock and has run `recover`."""
    # Taken before reading, so the next export's audit window overlaps this read instead of missing part of it.
    opts = Options(dt.datetime.now(dt.timezone.utc), do_commit, message, allow_partial, concurrency,
                   parallel_tenants, force, full)
    outcomes: list[Outcome] = [ValueError("not exported")] * len(tenants)
    if workers > 1 and len(tenants) > 1:
        from entragit import workers as pool

        outcomes = pool.export(root, tenants, opts, workers, progress)
    else:
        queue = iter(range(len(tenants)))

        async def take() -> int | None:
            return next(queue, None)

        def done(i: int, o: Outcome) -> None:
            outcomes[i] = o

        asyncio.run(export_each(root, tenants, opts, take, done, progress, threading.Lock()))
    if len(tenants) == 1 and isinstance(outcomes[0], BaseException):
        raise outcomes[0]  # one tenant: its error is the command's error
    results = []
    for t, o in zip(tenants, outcomes, strict=True):
        if isinstance(o, EntragitError):
            results.append(ExportResult(t.name, failed=o.message))
        elif isinstance(o, BaseException):
            raise o
        else:
            results.append(o)
    return results


async def export_each(root: Path, tenants: list[Tenant], opts: Options, take: Callable[[], Awaitable[int | None]],
                      done: Callable[[int, Outcome], None], progress: Callable[[str, Tick], None] | None,
                      git_lock: Any) -> None:
    """Export `tenants[await take()]` until take() says None, reading `opts.parallel_tenants` at a time
    and handing each outcome to `done`. A tenant read waits for its write in the background while the
    next one is read. `git_lock` keeps the work tree and index to one writer: a lock of every process
    of the run."""

    def write(t: Tenant, snap: Snapshot, stats: Stats, read: Read) -> ExportResult:
        with git_lock:
            r = _write_one(root, t, snap, stats, opts.do_commit, opts.message, opts.now, opts.force, read.native)
            r.read = read.how
            _keep_delta_state(root, t, read, r)
            return r

    async def written(i: int, snap: Snapshot, stats: Stats, read: Read) -> None:
        try:
            done(i, await asyncio.to_thread(write, tenants[i], snap, stats, read))
        except Exception as e:  # noqa: BLE001 - one tenant's failure is its outcome; the others go on
            done(i, e)

    writes: list[asyncio.Task[None]] = []

    async def reader() -> None:
        while (i := await take()) is not None:
            t = tenants[i]
            cb = (lambda tick, name=t.name: progress(name, tick)) if progress else None
            try:
                snap, stats, read = await read_for_export(root, t, full=opts.full, allow_partial=opts.allow_partial,
                                                          progress=cb, concurrency=opts.concurrency,
                                                          native_id=opts.do_commit)
            except Exception as e:  # noqa: BLE001
                done(i, e)
                continue
            writes.append(asyncio.create_task(written(i, snap, stats, read)))

    await asyncio.gather(*(reader() for _ in range(max(1, min(opts.parallel_tenants, len(tenants))))))
    await asyncio.gather(*writes)


def shard(tenants: list[Tenant], spec: str) -> list[Tenant]:
    """Tenants for job K of N (`K/N`, 1-based): a stable hash of the name, so every job agrees."""
    import hashlib

    from entragit.errors import EntragitError

    k, _, n = spec.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise EntragitError(f"--shard must be K/N with 1 <= K <= N, got {spec!r}")
    return [t for t in tenants
            if int(hashlib.sha256(t.name.encode()).hexdigest(), 16) % int(n) == int(k) - 1]
