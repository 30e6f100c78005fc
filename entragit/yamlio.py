"""Canonical YAML: the one place that fixes key order, style and parsing (PyYAML's C codec)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from entragit.errors import InputError

_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """YAML 1.2's core schema instead of PyYAML's 1.1 one: a hand-typed `NO` (Norway), `on`, `yes`,
    `2024-01-01` or `1:20` stays a string, `017` is seventeen; only true/false are booleans.
    Canonical files read the same either way (the dumper quotes anything 1.1 would misread)."""


Loader = _Loader  # validate composes nodes with the same resolution


def _int(loader: Any, node: Any) -> int:
    text = str(loader.construct_scalar(node))
    return int(text, 0) if text[:2] in ("0o", "0x") else int(text, 10)


# https://yaml.org/spec/1.2.2/#1032-tag-resolution: the core schema's plain-scalar types.
_CORE = tuple((f"tag:yaml.org,2002:{tag}", re.compile(pattern), list(first)) for tag, pattern, first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
              r"|\.(?:nan|NaN|NAN))$", "-+.0123456789"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
))


def _core_schema(loader: type) -> None:
    loader.yaml_implicit_resolvers = {}  # type: ignore[attr-defined]
    for tag, regex, first in _CORE:
        loader.add_implicit_resolver(tag, regex, first)  # type: ignore[attr-defined]
    loader.add_constructor("tag:yaml.org,2002:int", _int)  # type: ignore[attr-defined]


def reads_as_other_type(text: str) -> bool:
    """Whether a plain `text` is no string under YAML 1.2 (`1e3`, `0o17`): the dumper quotes those too,
    on top of what YAML 1.1 would misread (which PyYAML's dumper quotes by itself)."""
    return any(regex.match(text) for _, regex, _ in _CORE)


_core_schema(_Loader)


class Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line (refs entries read better that way)."""


class _CanonicalDumper(_Dumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice: load refuses anchors and aliases


def _flow(dumper: Any, data: Flow) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _str(dumper: Any, data: str) -> Any:
    # Multi-line strings (rules, JSON definitions) as literal blocks so diffs are per line.
    style = "|" if "\n" in data and not data.endswith((" ", "\t")) else None
    if style is None and reads_as_other_type(data):
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_CanonicalDumper.add_representer(Flow, _flow)
_CanonicalDumper.add_representer(str, _str)


def dump_pyyaml(doc: Any) -> str:
    """The reference writer: PyYAML with our representers. `dump` produces exactly its bytes."""
    return yaml.dump(
        doc, Dumper=_CanonicalDumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=4096, indent=2,
    )


def dump(doc: Mapping[str, Any], header: str = "") -> str:
    """YAML text in canonical form; key order is the caller's (canonical.py decides it)."""
    try:
        body = _fast(doc)
    except _Unsure:
        body = dump_pyyaml(doc)
    return (header + "\n" if header else "") + body


# -- the fast writer ------------------------------------------------------------------------------
# PyYAML's representer is pure Python and was most of an export's CPU. Canonical documents have one
# shape (block mappings and sequences of JSON scalars, `Flow` mappings of scalars), so `_fast` lays
# the structure out itself and asks PyYAML how to write each distinct scalar, once per context
# (block value, block key, sequence item, flow key, flow value), by dumping a one-entry document and
# cutting the scalar out of it. Whatever it cannot vouch for (a multi-line scalar, a long line that
# the emitter might fold, a type or shape outside the canonical one) raises _Unsure, and `dump`
# writes the whole document with PyYAML. tests/test_yamlio_fast.py holds the two to the same bytes.


class _Unsure(Exception):
    """The fast writer cannot promise PyYAML's bytes for this document."""


_VALUE, _KEY, _ITEM, _FKEY, _FVALUE = range(5)
_PROBES: tuple[tuple[Any, str, str], ...] = (
    (lambda v: {"k": v}, "k: ", "\n"),
    (lambda v: {v: 0}, "", ": 0\n"),
    (lambda v: {"k": [v]}, "k:\n- ", "\n"),
    (lambda v: {"k": Flow({v: 0})}, "k: {", ": 0}\n"),
    (lambda v: {"k": Flow({"a": v})}, "k: {a: ", "}\n"),
)
_SCALARS = (str, int, float, bool, type(None))
_MAX_SCALAR = 1000  # longer scalars go to PyYAML: its emitter folds lines past width=4096
_MAX_LINE = 3000
_cache: dict[tuple[type, Any, int], str | None] = {}


# Strings PyYAML writes plain, as they are, in every context: a letter then words of letters,
# digits and `_.@/-` with single spaces between (no indicator, `:`, `#`, `,` or edge space; no YAML
# 1.1 or 1.2 number, date or null can start with a letter), or a lowercase GUID (no number or date
# pattern allows its dashes). The words among them that YAML 1.1 or 1.2 reads as a boolean or null
# are quoted, so they take the probe. tests/test_yamlio_fast.py checks this against the probe.
_PLAIN = re.compile(r"(?:[A-Za-z][A-Za-z0-9_.@/-]*(?: [A-Za-z0-9_.@/-]+)*"
                    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\Z")
_WORDS = frozenset(["yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL"])
_SIMPLE_KEY = 128  # a longer key is written `? key` (the emitter's simple-key limit), so it takes the probe
_CACHE_MAX = 100_000  # distinct scalars remembered; an export of many tenants starts over now and then


def _scalar(value: Any, context: int) -> str:
    # By type and, for floats, by text: 1 == 1.0 == True and 0.0 == -0.0, each written its own way.
    key = (type(value), repr(value) if type(value) is float else value, context)
    text = _cache.get(key, _cache)
    if text is _cache:
        if type(value) is str and len(value) <= _SIMPLE_KEY and _PLAIN.match(value) and value not in _WORDS:
            return value  # not cached: GUIDs are many and each is cheap to check again
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        text = _cache[key] = _probe(value, context)
    if text is None:
        raise _Unsure
    return text  # type: ignore[return-value]


def _probe(value: Any, context: int) -> str | None:
    """How PyYAML writes `value` in `context`, if that is one line we can place anywhere."""
    if type(value) not in _SCALARS or (type(value) is str and len(value) > _MAX_SCALAR):
        return None
    make, before, after = _PROBES[context]
    try:
        text = dump_pyyaml(make(value))
    except Exception:  # noqa: BLE001 - PyYAML raises it again when it writes the whole document
        return None
    if not (text.startswith(before) and text.endswith(after)):
        return None
    mid = text[len(before):len(text) - len(after)]
    # A line break inside the scalar would be followed by an indent that depends on where it stands.
    return mid if mid and not any(c in mid for c in "\n\r\x85\u2028\u2029") else None


def _fast(doc: Any) -> str:
    if type(doc) is not dict or not doc:
        raise _Unsure
    out: list[str] = []
    _mapping(doc, "", out)
    return "".join(out)


def _value(value: Any, indent: str, out: list[str]) -> None:
    """What follows `key:` (or `- `) on its line, and the lines nested under it."""
    t = type(value)
    if t is dict:
        if not value:
            out.append(" {}\n")
            return
        out.append("\n")
        _mapping(value, indent + "  ", out)
    elif t is list:
        if not value:
            out.append(" []\n")
            return
        out.append("\n")
        _sequence(value, indent, out)
    elif t is Flow:
        out.append(" " + _flow_text(value) + "\n")
    else:
        out.append(" " + _scalar(value, _VALUE) + "\n")


def _mapping(node: dict[Any, Any], indent: str, out: list[str], first: str | None = None) -> None:
    """A block mapping, keys at `indent`; `first` replaces the first key's indent (after `- `)."""
    for key, value in node.items():
        if type(key) is not str:
            raise _Unsure
        k = _scalar(key, _KEY)
        out.append((indent if first is None else first) + k + ":")
        first = None
        start = len(out)
        _value(value, indent, out)
        if len(out) - start == 1 and len(indent) + len(k) + len(out[-1]) > _MAX_LINE:
            raise _Unsure


def _sequence(items: list[Any], indent: str, out: list[str], first: str | None = None) -> None:
    """A block sequence, dashes at `indent` (PyYAML does not indent a sequence under a key)."""
    for item in items:
        dash = (indent if first is None else first) + "- "
        first = None
        t = type(item)
        if t is dict and item:
            _mapping(item, indent + "  ", out, first=dash)
        elif t is list and item:
            _sequence(item, indent + "  ", out, first=dash)
        elif t is dict:
            out.append(dash + "{}\n")
        elif t is list:
            out.append(dash + "[]\n")
        elif t is Flow:
            out.append(dash + _flow_text(item) + "\n")
        else:
            out.append(dash + _scalar(item, _ITEM) + "\n")
        if len(out[-1]) > _MAX_LINE:
            raise _Unsure


def _flow_text(node: Flow) -> str:
    if not node:
        return "{}"
    parts = []
    for key, value in node.items():
        if type(key) is not str or type(value) not in _SCALARS:
            raise _Unsure
        parts.append(_scalar(key, _FKEY) + ": " + _scalar(value, _FVALUE))
    text = "{" + ", ".join(parts) + "}"
    if len(text) > _MAX_LINE:
        raise _Unsure
    return text


NO_ALIASES = "YAML anchors and aliases are not allowed (canonical files never use them)"


def anchor_line(text: str) -> int | None:
    """Line of the first anchor or alias: a few lines of them expand to billions of nodes
    ("billion laughs"), so they are refused before anything walks the parsed document."""
    if "&" not in text and "*" not in text:  # neither can appear without one of these
        return None
    for event in yaml.parse(text, Loader=_Loader):
        if getattr(event, "anchor", None) is not None:
            return event.start_mark.line + 1 if event.start_mark else 1
    return None


def load(text: str, path: str = "<string>") -> Any:
    """Parse one YAML document; syntax errors name the file and line; anchors and aliases are refused."""
    try:
        line = anchor_line(text)
        if line is not None:
            raise InputError(path, line, NO_ALIASES)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - CSafeLoader is the safe loader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(path, line, f"invalid YAML: {e.problem or e}") from None
    except yaml.YAMLError as e:
        raise InputError(path, None, f"invalid YAML: {e}") from None
    except ValueError as e:  # an integer of thousands of digits (Python refuses to parse it)
        raise InputError(path, None, f"invalid YAML: {e}") from None


# -- comments ------------------------------------------------------------------------------------
# Canonical files are written by PyYAML, which drops comments. A file a person annotated keeps its
# comments through fmt and export: ruamel.yaml's round-trip mode reads the canonical text and the
# file as it was, moves each comment to the same key (or equal list item) of the new text, and
# writes it back with the new text's own styles. Files without comments never take this path, so
# exports stay byte-identical.
_COMMENT = re.compile(r"(?:^|\s)#")


def _roundtrip() -> Any:
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.width = 4096
    rt.indent(mapping=2, sequence=2, offset=0)
    rt.allow_unicode = True
    rt.preserve_quotes = True
    rt.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return rt


def _commented(node: Any) -> bool:
    ca = getattr(node, "ca", None)
    if ca is not None and (ca.comment or ca.end or any(any(t) for t in ca.items.values())):
        return True
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    return any(_commented(c) for c in children)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return str(node) if isinstance(node, str) else node


def _transfer(new: Any, old: Any) -> None:
    """Copy the comments of `old` onto `new` at the same keys; list items match by equal value."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(new, CommentedMap) and isinstance(old, CommentedMap):
        new.ca.comment, new.ca.end = old.ca.comment, old.ca.end
        for k in new:
            if k in old.ca.items:
                new.ca.items[k] = old.ca.items[k]
            if k in old:
                _transfer(new[k], old[k])
    elif isinstance(new, CommentedSeq) and isinstance(old, CommentedSeq):
        olds = [_plain(o) for o in old]
        for i, item in enumerate(new):
            j = next((j for j, o in enumerate(olds) if o == _plain(item)), None)
            if j is None:
                continue
            if j in old.ca.items:
                new.ca.items[i] = old.ca.items[j]
            _transfer(item, old[j])


def keep_comments(text: str, previous: str | None) -> str:
    """Canonical `text` carrying the comments of `previous`, the file as it was; `text` itself when
    `previous` has none. A comment stays with the key it followed; the schema header line is the
    new text's."""
    header = text.split("\n", 1)[0] + "\n" if text.startswith("#") else ""
    body = (previous or "").removeprefix(header)
    if "#" not in body or not _COMMENT.search(body):  # `in` first: most files have no comment at all
        return text
    import io

    rt = _roundtrip()
    try:
        old = rt.load(body)
    except Exception:  # noqa: BLE001 - a file ruamel cannot read keeps nothing; load() reports the error
        return text
    if not _commented(old):
        return text
    new = rt.load(text.removeprefix(header))
    _transfer(new, old)
    out = io.StringIO()
    rt.dump(new, out)
    return header + out.getvalue()
