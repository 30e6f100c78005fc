"""Snapshot x Snapshot -> Changes (added, removed, renamed, changed; field level; risk notes); renderers."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from entragit import canonical, gitstore, risk
from entragit import kinds as kindmod
from entragit.config import read_file
from entragit.errors import EntragitError
from entragit.export import display_name
from entragit.snapshot import Names, Snapshot, id_names, read_files

Status = Literal["added", "removed", "renamed", "changed", "recreated"]
SYMBOL: Mapping[str, str] = {"added": "+", "removed": "-", "renamed": ">", "changed": "~", "recreated": "*"}
COLOUR: Mapping[str, str] = {"added": "32", "removed": "31", "renamed": "36", "changed": "33", "recreated": "35",
                             "risk": "1;31"}
KIND_ORDER = {k.name: i for i, k in enumerate(kindmod.KINDS)}
ARROW = "\u2192"  # markdown: an arrow needs no escaping, unlike `->`
FORMAT_VERSION = 1  # of `diff`/`drift --format json` (docs/JSON-FORMATS.md); bumped on incompatible change
TENANT_FILES = ("tenant.yaml", "idmap.yaml")  # tenant folder files that are not objects


@dataclass(frozen=True)
class FieldChange:
    path: str  # dotted; a list is one field (Graph lists here are sets)
    old: Any
    new: Any


@dataclass(frozen=True)
class ObjectChange:
    status: Status
    kind: str
    key: str
    name: str  # the new name (the old one for removals)
    old_name: str = ""
    old_path: str = ""
    new_path: str = ""
    fields: tuple[FieldChange, ...] = ()

    @property
    def title(self) -> str:
        k = kindmod.BY_NAME.get(self.kind)
        return f"{k.title if k else self.kind} {self.name!r}"


@dataclass(frozen=True)
class TenantChanges:
    tenant: str
    objects: tuple[ObjectChange, ...] = ()
    risks: tuple[risk.Note, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # id / appId / templateId -> display name

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.objects:
            out[o.status] = out.get(o.status, 0) + 1
        return out


@dataclass(frozen=True)
class Changes:
    old: str  # labels: a revision, "work tree", "live"
    new: str
    tenants: tuple[TenantChanges, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(t.objects for t in self.tenants)

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "tenants": [
            {"tenant": t.tenant, "counts": t.counts(),
             "objects": [{"status": o.status, "kind": o.kind, "key": o.key, "name": o.name,
                          "oldName": o.old_name or None, "oldPath": o.old_path or None,
                          "newPath": o.new_path or None,
                          "fields": [{"path": f.path, "old": f.old, "new": f.new,
                                      "oldNames": _named_ids(f.old, t.names), "newNames": _named_ids(f.new, t.names)}
                                     for f in o.fields]}
                         for o in t.objects],
             "risks": [n.to_json() for n in t.risks]}
            for t in self.tenants]}


# ---------------------------------------------------------------- computing


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any], path: str = "",
                  ordered: frozenset[str] = frozenset()) -> list[FieldChange]:
    """Leaf-level differences; lists compare order-free (except `ordered` paths) and are reported whole."""
    out: list[FieldChange] = []
    for k in sorted(set(old) | set(new)):
        here = f"{path}.{k}" if path else k
        a, b = old.get(k), new.get(k)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += field_changes(a, b, here, ordered)
        elif canonical.norm(a, ordered, here) != canonical.norm(b, ordered, here):
            out.append(FieldChange(here, a, b))
    return out


def _added_fields(kind: kindmod.Kind, body: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(k, None, v) for k, v in sorted(body.items())
                 if k != kind.id_field and v not in (None, [], {}, ""))


def _recreations(a: Mapping[str, Any], b: Mapping[str, Any], idmap: Mapping[str, str]) -> dict[str, str]:
    """old key -> new key for objects apply recreated between the two snapshots (per the id map)."""
    from entragit.plan import chain

    gone, came = set(a) - set(b), set(b) - set(a)
    return {k: chain(idmap, k) for k in sorted(gone) if chain(idmap, k) in came}


def tenant_changes(tenant: str, old: Snapshot, new: Snapshot, break_glass: Sequence[str] = (),
                   idmap: Mapping[str, str] | None = None) -> TenantChanges:
    """What changed between two snapshots of one tenant, with risk notes.

    With the new side's id map, a removed object that apply recreated under a new id shows as one
    `recreated` change instead of a removal and an addition."""
    old_names, new_names = Names(old), Names(new)
    names = id_names(new, old)
    ctx = risk.context(break_glass, names, new, old)
    objects: list[ObjectChange] = []
    notes = risk.lockout_notes(new, old, break_glass) + risk.dangling_notes(new, old)
    for kname in sorted(set(old.objects) | set(new.objects), key=lambda k: KIND_ORDER.get(k, 99)):
        kind = kindmod.get(kname)
        a, b = old.objects.get(kname, {}), new.objects.get(kname, {})
        again = _recreations(a, b, idmap or {})
        for was, now in again.items():
            fields = tuple(f for f in field_changes(a[was], b[now], ordered=kind.ordered) if f.path != kind.id_field)
            objects.append(ObjectChange("recreated", kname, now, display_name(kind, b[now], new_names), old_name=was,
                                        old_path=old.paths.get((kname, was), ""),
                                        new_path=new.paths.get((kname, now), ""), fields=fields))
        for key in sorted((set(a) | set(b)) - set(again) - set(again.values())):
            ob, nb = a.get(key), b.get(key)
            change = _object_change(kind, key, ob, nb, old, new, old_names, new_names)
            if change is None:
                continue
            objects.append(change)
            notes += risk.assess(kname, change.name, ob, nb, ctx)
    objects.sort(key=lambda o: (KIND_ORDER.get(o.kind, 99), o.name.lower(), o.key))
    return TenantChanges(tenant, tuple(objects), tuple(notes), names)


def _object_change(kind: kindmod.Kind, key: str, ob: dict[str, Any] | None, nb: dict[str, Any] | None,
                   old: Snapshot, new: Snapshot, old_names: Names, new_names: Names) -> ObjectChange | None:
    op, np_ = old.paths.get((kind.name, key), ""), new.paths.get((kind.name, key), "")
    if ob is None and nb is not None:
        return ObjectChange("added", kind.name, key, display_name(kind, nb, new_names), new_path=np_,
                            fields=_added_fields(kind, nb))
    if nb is None and ob is not None:
        return ObjectChange("removed", kind.name, key, display_name(kind, ob, old_names), old_path=op)
    assert ob is not None and nb is not None
    fields = tuple(field_changes(ob, nb, ordered=kind.ordered))
    was, now = display_name(kind, ob, old_names), display_name(kind, nb, new_names)
    moved = bool(op and np_ and Path(op).name != Path(np_).name)
    if was != now or moved:
        return ObjectChange("renamed", kind.name, key, now, old_name=was, old_path=op, new_path=np_, fields=fields)
    if fields:
        return ObjectChange("changed", kind.name, key, now, old_path=op, new_path=np_, fields=fields)
    return None


def object_change(kind_name: str, key: str, old: Snapshot, new: Snapshot) -> ObjectChange | None:
    """One object's change between two snapshots (history uses it commit by commit)."""
    kind = kindmod.get(kind_name)
    return _object_change(kind, key, old.objects.get(kind_name, {}).get(key),
                          new.objects.get(kind_name, {}).get(key), old, new, Names(old), Names(new))


# ---------------------------------------------------------------- reading revisions


def tenant_files(root: Path, rev: str) -> dict[str, dict[str, str]]:
    """{tenant: {path: text}} of object files at `rev` (gitstore.WORKTREE: the work tree)."""
    if rev == gitstore.WORKTREE:
        found = {str(p.relative_to(root)): read_file(root, p) for p in sorted((root / "tenants").glob("*/*/*.yaml"))}
    else:
        found = gitstore.files_at(root, rev, "tenants")
    out: dict[str, dict[str, str]] = {}
    for path, text in found.items():
        parts = path.split("/")
        if len(parts) == 4 and parts[3] not in TENANT_FILES:
            out.setdefault(parts[1], {})[path] = text
    return out


def snapshots_at(root: Path, rev: str) -> dict[str, Snapshot]:
    return {t: read_files(root / "tenants" / t, root, files) for t, files in tenant_files(root, rev).items()}


def diff_revs(root: Path, old_rev: str, new_rev: str, tenants: Iterable[str] | None = None,
              break_glass: Mapping[str, Sequence[str]] | None = None) -> Changes:
    """Changes between two revisions (either may be gitstore.WORKTREE), per tenant."""
    for rev in (old_rev, new_rev):
        if rev != gitstore.WORKTREE:
            gitstore.resolve(root, rev)
    a, b = snapshots_at(root, old_rev), snapshots_at(root, new_rev)
    known = set(a) | set(b) | {p.parent.name for p in (root / "tenants").glob("*/tenant.yaml")}
    unknown = sorted(set(tenants or ()) - known)
    if unknown:  # else "no changes" for a mistyped name
        raise EntragitError(f"unknown tenant {unknown[0]!r} (known: {', '.join(sorted(known)) or 'none'})")
    wanted = sorted(set(tenants) if tenants is not None else known)
    bg = break_glass or {}
    out = [tenant_changes(t, a.get(t, Snapshot()), b.get(t, Snapshot()), bg.get(t, ()), idmap_at(root, new_rev, t))
           for t in wanted]
    return Changes(_rev_label(old_rev), _rev_label(new_rev), tuple(out))


def idmap_at(root: Path, rev: str, tenant: str) -> dict[str, str]:
    """The tenant's id map (old -> new, flat) as it was at `rev`."""
    from entragit import yamlio

    rel = f"tenants/{tenant}/idmap.yaml"
    if rev == gitstore.WORKTREE:
        text = read_file(root, root / rel) if (root / rel).exists() else ""
    else:
        text = gitstore.files_at(root, rev, f"tenants/{tenant}").get(rel, "")
    data = yamlio.load(text, rel) if text else {}
    return {str(k): str(v) for section in (data or {}).values() for k, v in (section or {}).items()}


def _rev_label(rev: str) -> str:
    if rev == gitstore.WORKTREE:
        return "work tree"
    return rev[:10] if re.fullmatch(r"[0-9a-f]{40}", rev) else rev


# ---------------------------------------------------------------- rendering


def _named_ids(v: Any, names: Mapping[str, str]) -> dict[str, str] | None:
    found = {s: names[s.lower()] for s in _strings(v) if s.lower() in names}
    return found or None


def _strings(v: Any) -> Iterable[str]:
    if isinstance(v, str):
        yield v
    elif isinstance(v, Mapping):
        for x in v.values():
            yield from _strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from _strings(x)


def _label(s: str, names: Mapping[str, str]) -> str:
    n = names.get(s.lower())
    return f"{n} ({s[:8]})" if n and n != s else s


def _with_names(v: Any, names: Mapping[str, str]) -> Any:
    if isinstance(v, str):
        return _label(v, names)
    if isinstance(v, Mapping):
        return {k: _with_names(x, names) for k, x in v.items()}
    if isinstance(v, list):
        return [_with_names(x, names) for x in v]
    return v


def show(v: Any, names: Mapping[str, str], limit: int = 160) -> str:
    """A value for humans: ids carry their names, absent is (none), long values are cut."""
    if v is None:
        return "(none)"
    v = _with_names(v, names)
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def describe_change(f: FieldChange, names: Mapping[str, str], arrow: str = "->") -> str:
    """`old -> new`, or for lists (sets in Graph) only what was added and removed."""
    if f.old is None:
        return show(f.new, names)
    if isinstance(f.old, list) and isinstance(f.new, list) and (f.old or f.new):
        a, b = {json.dumps(x, sort_keys=True) for x in f.old}, {json.dumps(x, sort_keys=True) for x in f.new}
        parts = [f"+ {show(json.loads(x), names)}" for x in sorted(b - a)]
        parts += [f"- {show(json.loads(x), names)}" for x in sorted(a - b)]
        return ", ".join(parts)
    return f"{show(f.old, names)} {arrow} {show(f.new, names)}"


def counts_line(t: TenantChanges) -> str:
    c = t.counts()
    if not c:
        return "no changes"
    return ", ".join(f"{c[s]} {s}" for s in ("added", "changed", "renamed", "recreated", "removed") if s in c)


def paint(text: str, what: str, colour: bool) -> str:
    return f"\033[{COLOUR[what]}m{text}\033[0m" if colour else text


def heading(o: ObjectChange) -> str:
    if o.status == "recreated":
        return f"{o.title} (recreated by apply: {o.old_name} -> {o.key})"
    if o.status == "renamed":
        moved = f" ({o.old_path} -> {o.new_path})" if o.old_path and o.new_path and o.old_path != o.new_path else ""
        return f"{o.title} (was {o.old_name!r}){moved}"
    return o.title


def text(changes: Changes, colour: bool = False) -> str:
    out: list[str] = []
    for t in changes.tenants:
        out.append(f"Tenant {t.tenant} ({changes.old} -> {changes.new}): {counts_line(t)}")
        for o in t.objects:
            out.append(paint(f"  {SYMBOL[o.status]} {heading(o)}", o.status, colour))
            out += [f"      {f.path}: {describe_change(f, t.names)}" for f in o.fields]
        out += risk_lines(t.risks, colour)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def risk_lines(notes: Sequence[risk.Note], colour: bool = False) -> list[str]:
    if not notes:
        return []
    out = [paint(f"  Risk notes ({len(notes)}):", "risk", colour)]
    for n in notes:
        k = kindmod.BY_NAME.get(n.kind)
        out.append(paint(f"  ! [{n.rule}] {k.title if k else n.kind} {n.name!r}: {n.detail}", "risk", colour))
        out.append(f"      why: {n.why}")
    return out


def md_escape(s: str) -> str:
    """Safe in a GFM table cell and in HTML: no pipes, tags or emphasis surprises."""
    return html.escape(s, quote=False).replace("|", "\\|").replace("*", "\\*").replace("\n", " ")


def risk_markdown(notes: Sequence[risk.Note]) -> list[str]:
    if not notes:
        return []
    out = [f"**:warning: Risk notes ({len(notes)})**", ""]
    for n in notes:
        k = kindmod.BY_NAME.get(n.kind)
        out.append(f"- **{md_escape(k.title if k else n.kind)} {md_escape(n.name)}**: {md_escape(n.detail)} "
                   f"(`{n.rule}`). _Why it matters:_ {md_escape(n.why)}")
    return out + [""]


def markdown(changes: Changes) -> str:
    out: list[str] = []
    for t in changes.tenants:
        out += [f"### entragit diff: `{t.tenant}` (`{changes.old}` {ARROW} `{changes.new}`)", "",
                f"**{counts_line(t)}**", ""]
        out += risk_markdown(t.risks)
        if t.objects:
            out += ["| | change | kind | object |", "|---|---|---|---|"]
            for o in t.objects:
                k = kindmod.BY_NAME.get(o.kind)
                name = md_escape(o.name) + (f" (was {md_escape(o.old_name)})" if o.old_name else "")
                out.append(f"| {SYMBOL[o.status]} | {o.status} | {k.title if k else o.kind} | {name} |")
            out.append("")
        for o in t.objects:
            if not o.fields:
                continue
            out += [f"<details><summary>{SYMBOL[o.status]} {md_escape(o.title)}: {len(o.fields)} field(s)</summary>",
                    "", "| field | change |", "|---|---|"]
            out += [f"| `{f.path}` | {md_escape(describe_change(f, t.names, ARROW))} |" for f in o.fields]
            out += ["", "</details>", ""]
    return "\n".join(out) + "\n"


def render(changes: Changes, fmt: str, colour: bool = False) -> str:
    if fmt == "json":
        return json.dumps({"format_version": FORMAT_VERSION, **changes.to_json()}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return markdown(changes)
    return text(changes, colour)


# ---------------------------------------------------------------- drift


def drift(root: Path, tenants: Sequence[Any], ref: str = "HEAD") -> Changes:
    """Live tenants vs their files at `ref`, read-only: at HEAD, what the next export would commit."""
    import asyncio

    from entragit.errors import RepoError
    from entragit.export import read_tenant

    # init and tenant add commit too: a tenant never exported would show every live object as drift.
    head = snapshots_at(root, gitstore.resolve(root, ref)) if gitstore.head(root) else {}
    unexported = [t.name for t in tenants if t.name not in head]
    if unexported:
        raise RepoError(f"no commit yet holds an export of {', '.join(unexported)} to compare the live tenant with",
                        hint="run `entragit export --commit` first")

    async def read_all() -> list[Any]:
        return await asyncio.gather(*(read_tenant(t, allow_partial=False) for t in tenants))

    lives = asyncio.run(read_all())
    out = [tenant_changes(t.name, head.get(t.name, Snapshot()), live, t.break_glass)
           for t, (live, _stats) in zip(tenants, lives, strict=True)]
    return Changes(ref, "live", tuple(out))
