"""Graph JSON <-> canonical document: strip what the server owns, sort, index references by name."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from entragit import refs as refmod
from entragit import yamlio
from entragit.kinds import Kind, Ref

ODATA_TYPE = "@odata.type"
REFS = "refs"

# Resolves a referenced value to {kind, name, natural keys...}, or None when it names nothing live.
Resolver = Callable[[Ref, str], "dict[str, Any] | None"]


def _is_annotation(key: str) -> bool:
    return key.startswith("#") or "@odata." in key or key.startswith("@")


def _drop_annotations(node: Any, keep: set[str], here: str) -> Any:
    if isinstance(node, list):
        return [_drop_annotations(v, keep, here + "[]") for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == ODATA_TYPE and here in keep:
            out[k] = v
        elif not _is_annotation(k):
            out[k] = _drop_annotations(v, keep, f"{here}.{k}" if here else k)
    return out


def _drop_path(node: Any, parts: list[str]) -> None:
    if not isinstance(node, dict):
        return
    head = parts[0]
    if head.endswith("[]"):  # "items[].id": the field inside every item of a list
        for item in node.get(head[:-2]) or []:
            if len(parts) > 1:
                _drop_path(item, parts[1:])
        return
    if len(parts) == 1:
        node.pop(head, None)
    elif head in node:
        _drop_path(node[head], parts[1:])


def sort_lists(node: Any, ordered: frozenset[str] = frozenset(), here: str = "") -> Any:
    """Set-like lists sorted so ordering churn never shows up as a diff.

    Lists at `ordered` paths (dotted, relative to the body) keep their order: Graph documents it as
    meaning (an identity provider precedence), so sorting them would rewrite the tenant's choice."""
    if isinstance(node, dict):
        return {k: sort_lists(v, ordered, f"{here}.{k}" if here else k) for k, v in node.items()}
    if isinstance(node, list):
        items = [sort_lists(v, ordered, here + "[]") for v in node]
        if here in ordered:
            return items
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return node


def norm(value: Any, ordered: frozenset[str] = frozenset(), here: str = "") -> str:
    """A comparable form of a value at `here`: sets compare order-free, ordered lists by order."""
    return json.dumps(sort_lists(value, ordered, here), sort_keys=True)


def clean(kind: Kind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Graph JSON as read -> the body we keep: no annotations, no server-managed fields, sorted sets."""
    keep = {""} if kind.polymorphic else set()
    keep.update(kind.typed_paths)
    body = _drop_annotations(dict(raw), keep, "")
    for f in kind.strip:
        _drop_path(body, f.split("."))
    for p in kind.only_id:
        parts = p.split(".")
        parent = body
        for part in parts[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and isinstance(parent.get(parts[-1]), dict):
            parent[parts[-1]] = {"id": parent[parts[-1]].get("id")}
    return sort_lists(body, kind.ordered)


def _ordered(node: Any) -> Any:
    if isinstance(node, list):
        return [_ordered(v) for v in node]
    if not isinstance(node, dict):
        return node
    keys = sorted(node, key=lambda k: (k != ODATA_TYPE, k))
    return {k: _ordered(node[k]) for k in keys}


def to_document(kind: Kind, body: Mapping[str, Any], resolve: Resolver,
                known: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Canonical key order plus the `refs` index that names every referenced object.

    A reference that resolves to nothing is marked `missing`, keeping the kind and name `known`
    (the previous refs index) gave it: a hard-deleted group stays readable where it was used."""
    rel_names = [r.name for r in kind.relations]
    head = [k for k in (ODATA_TYPE, kind.id_field, kind.name_field) if k and k in body]
    rest = sorted(k for k in body if k not in head and k not in rel_names and k != REFS)
    doc: dict[str, Any] = {k: _ordered(body[k]) for k in head + rest}
    for r in rel_names:
        if r in body:
            doc[r] = sorted(body[r])
    index = refs_index(kind, body, resolve, known)
    if index:
        doc[REFS] = {k: yamlio.Flow(index[k]) for k in sorted(index)}
    return doc


def refs_index(kind: Kind, body: Mapping[str, Any], resolve: Resolver,
               known: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Referenced value -> what to_document's `refs` entry says of it (in the body's order)."""
    index: dict[str, dict[str, Any]] = {}
    for ref, value in refmod.iter_refs(kind, dict(body)):
        if value in index:
            continue
        info = resolve(ref, value)
        if info is None:
            info = _missing(ref, (known or {}).get(value))
        elif ref.key != "id":
            info = {**info, ref.key: value}
        index[value] = info
    return index


def _missing(ref: Ref, last: Mapping[str, Any] | None) -> dict[str, Any]:
    if not last or last.get("kind") not in ref.targets:
        return {"kind": ref.targets[0], "missing": True}
    return {"kind": last["kind"], **({"name": last["name"]} if last.get("name") else {}), "missing": True}


def from_document(kind: Kind, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The body a file describes (refs index dropped; it is derived data)."""
    return clean(kind, {k: v for k, v in doc.items() if k != REFS})


def schema_header(kind: Kind) -> str:
    return f"# yaml-language-server: $schema=../../../schemas/{kind.name}.schema.json"


def render(kind: Kind, doc: Mapping[str, Any]) -> str:
    return yamlio.dump(doc, header=schema_header(kind))


def slugify(text: str, limit: int = 80) -> str:
    """A file-name-safe, lowercase slug ("CA001 - Block legacy" -> "ca001-block-legacy")."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return slug[:limit].rstrip("-")
