"""Walk and rewrite the references a body holds, as the Kind table's Ref paths describe them."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from entragit.kinds import GUID, Kind, Ref

JsonPath = tuple["str | int", ...]


def _walk(node: Any, parts: tuple[str, ...] | list[str], here: JsonPath = ()) -> Iterator[tuple[Any, Any, JsonPath]]:
    """Yield (container, key, json path) for every leaf the path names; containers are dicts or lists."""
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    is_list = head.endswith("[]")
    key = head[:-2] if is_list else head
    if not isinstance(node, dict) or node.get(key) is None:
        return
    child, here = node[key], (*here, key)
    if is_list:
        if not isinstance(child, list):
            return
        for i, item in enumerate(child):
            if rest:
                yield from _walk(item, rest, (*here, i))
            else:
                yield child, i, (*here, i)
    elif rest:
        yield from _walk(child, rest, here)
    else:
        yield node, key, here




def is_keyword(ref: Ref, value: str) -> bool:
    """A value that names no object: a keyword Graph documents, or any non-GUID in a GUID-valued field
    (a keyword newer than our table; `undocumented_keywords` reports those)."""
    # `{new:<old id>}` is plan's placeholder for an id apply will learn, `new:<kind>/<slug>` names a
    # hand-written object not yet in the tenant: references all the same.
    return value in ref.sentinels or (ref.guid and not ref.prefix and not ref.pattern and not GUID.match(value)
                                      and not value.startswith(("{new:", "new:")))


def _split(ref: Ref, v: Any) -> tuple[str, str, str] | None:
    """(text before, referenced key, text after) of a value at `ref`, or None (keyword, empty, not
    this ref's shape)."""
    if not isinstance(v, str) or not v or is_keyword(ref, v):
        return None
    return _shape(ref, v)


def _shape(ref: Ref, v: str) -> tuple[str, str, str] | None:
    """_split of a value known not to be a keyword."""
    head = tail = ""
    if ref.pattern:
        m = re.match(ref.pattern, v)
        if m is None or not m.group(1):
            return None
        head, v, tail = v[:m.start(1)], m.group(1), v[m.end(1):]
    elif ref.prefix:
        if not v.startswith(ref.prefix):
            return None
        head, v = ref.prefix, v[len(ref.prefix):]
    if ref.only_guids and not (GUID.match(v) or v.startswith(("{new:", "new:"))):
        return None  # a name such as api://finance.contoso.com, not a reference
    return head, v, tail


def keywords_and_sites(body: Any, ref: Ref) -> tuple[list[tuple[JsonPath, str]], list[tuple[JsonPath, str]]]:
    """(undocumented keywords, sites) of `ref` in `body`, in one walk: see the two functions below."""
    keywords: list[tuple[JsonPath, str]] = []
    found: list[tuple[JsonPath, str]] = []
    for container, key, path in _walk(body, _parts(ref.path)):
        v = container[key]
        if not isinstance(v, str) or not v:
            continue
        if is_keyword(ref, v):
            if not ref.only_guids and v not in ref.sentinels:
                keywords.append((path, v))
        elif (parts := _shape(ref, v)) is not None:
            found.append((path, parts[1]))
    return keywords, found


def undocumented_keywords(body: Any, ref: Ref) -> Iterator[tuple[JsonPath, str]]:
    """(json path, value) of non-GUID values at a GUID-valued `ref` that are not documented keywords.

    None where only GUID-shaped values are references: the others are plain values (a directory
    setting's 'true'), not keywords."""
    return iter(keywords_and_sites(body, ref)[0])


def sites(body: Any, ref: Ref) -> Iterator[tuple[JsonPath, str]]:
    """(json path, referenced key) at `ref` in `body` (keywords and prefix handled, empties skipped)."""
    return iter(keywords_and_sites(body, ref)[1])


def values(body: dict[str, Any], ref: Ref) -> Iterator[str]:
    """The referenced keys at `ref` in `body`."""
    for _, v in sites(body, ref):
        yield v


@functools.cache
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def all_refs(kind: Kind) -> list[Ref]:
    """The kind's reference paths, relationships (member and owner ids) included."""
    return [*kind.refs, *(relation_ref(r.name, r.targets) for r in kind.relations)]


def iter_refs(kind: Kind, body: dict[str, Any]) -> Iterator[tuple[Ref, str]]:
    """Every (Ref, value) in a body, relationships included (they hold object ids)."""
    for ref in kind.refs:
        for v in values(body, ref):
            yield ref, v
    for rel in kind.relations:
        for v in body.get(rel.name) or ():
            yield relation_ref(rel.name, rel.targets), v


@functools.cache  # one Ref per relationship: iter_refs asks for it once per member of every group
def relation_ref(name: str, targets: tuple[str, ...] = ("users", "groups", "servicePrincipals")) -> Ref:
    """Members and owners may be users, groups or service principals (Relation.targets)."""
    return Ref(name + "[]", targets)


def rewrite(kind: Kind, body: dict[str, Any], fn: Callable[[Ref, str], str]) -> dict[str, Any]:
    """A copy of body with every reference value passed through fn(ref, value)."""
    out = copy_json(body)
    for ref in all_refs(kind):
        for container, key, _ in _walk(out, _parts(ref.path)):
            parts = _split(ref, container[key])
            if parts is not None:
                head, v, tail = parts
                container[key] = head + fn(ref, v) + tail
    return out


def copy_json(node: Any) -> Any:
    """A deep copy of parsed JSON or YAML (dicts, lists, scalars): copy.deepcopy's memo and dispatch
    made it most of plan's rewrite of every desired body."""
    if type(node) is dict:
        return {k: copy_json(v) for k, v in node.items()}
    if type(node) is list:
        return [copy_json(v) for v in node]
    if isinstance(node, (dict, list)):  # a subclass (a YAML flow mapping) keeps its type
        return type(node)(copy_json(dict(node) if isinstance(node, dict) else list(node)))
    return node
