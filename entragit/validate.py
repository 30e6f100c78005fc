"""`entragit validate`: YAML syntax, JSON Schema, reference integrity and lint rules over a config repo."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from entragit import kinds as kindmod
from entragit import refs as refmod
from entragit.kinds import GUID, Kind, Ref

if TYPE_CHECKING:
    from importlib.abc import Traversable

Severity = Literal["error", "warning"]
JsonPath = tuple["str | int", ...]

TENANT_FILE = "tenant.yaml"
IDMAP = "idmap.yaml"
NOT_KINDS = frozenset({TENANT_FILE, IDMAP})  # files beside the kind folders
SECRET_KEYS = frozenset({"secretText", "password", "clientSecret"})
# Entra client secrets carry "Q~" at position 4 (https://learn.microsoft.com/entra/identity-platform/
# howto-create-service-principal-portal); JWTs are three base64url parts, the first two JSON.
SECRET_VALUE = re.compile(r"[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{30,}")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
FORMAT_VERSION = 1  # of `validate --format json` (docs/JSON-FORMATS.md); bumped on incompatible change


@dataclass(frozen=True)
class Finding:
    """One problem in one file; `line` is 1-based, None when the whole file is meant."""

    path: str  # relative to the repo root, with forward slashes
    line: int | None
    rule: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Unique:
    """Values of `field` must not repeat within a kind (where `when` holds: field, contained value)."""

    kind: str
    field: str  # `identifierUris[]` for each item of a list
    severity: Severity
    why: str
    when: tuple[str, str] | None = None


# Uniqueness Entra itself enforces; plus, from the Kind table, a warning for every kind
# matched by display name alone (plan could not tell two such objects apart).
UNIQUE: tuple[Unique, ...] = (
    Unique("groups", "mailNickname", "error", "Microsoft 365 groups need a unique mailNickname",
           when=("groupTypes", "Unified")),
    Unique("applications", "identifierUris[]", "error", "identifier URIs are unique across Entra"),
)


@dataclass
class Document:
    """A parsed file: its data, and its text for the YAML node tree that gives each key its line.

    The node tree is several times the size of the data, so it is not kept: a 20,000-file tenant
    held every tree at once. The checks that need every node (_key_findings) run while the file is
    parsed; a finding that names a line re-parses its own file (the same text gives the same nodes)."""

    path: str
    tenant: str
    kind: Kind | None
    data: Any = None
    parsed: bool = False  # False when the file did not parse, or holds no document
    exported: bool = False  # data taken from the export's parsed cache (doccache), not parsed here
    text: str | None = None
    _node: Any = None

    @functools.cached_property
    def flat(self) -> str | None:
        """The data as one JSON line, for a quick look before a check walks every value (each string in
        one piece: a YAML text may fold a long one over lines); None where JSON cannot hold it. An
        exported file's is the export's own compact JSON (_load): the checks look for keys and values,
        never for separators."""
        import json

        try:
            return json.dumps(self.data, default=str, ensure_ascii=False)
        except (TypeError, ValueError):  # a key JSON has no form for: the checks walk it
            return None

    @property
    def node(self) -> Any:
        """yaml.Node of the file; None when it did not parse. Parsed again on demand, then kept."""
        if self._node is None and self.parsed and self.text is not None:
            self._node = _parse(self.text)[1]
        return self._node

    @node.setter
    def node(self, node: Any) -> None:
        self._node, self.parsed = node, node is not None

    def line(self, path: JsonPath = ()) -> int | None:
        return line_of(self.node, path)


@dataclass
class Tenant:
    """Everything validate reads from one tenants/<name>/ folder."""

    name: str
    docs: list[Document] = field(default_factory=list)
    config: Document | None = None
    idmap: Document | None = None

    def of_kind(self, name: str) -> list[Document]:
        return [d for d in self.docs if d.kind and d.kind.name == name and isinstance(d.data, dict)]


# --- loading --------------------------------------------------------------------------------


def _parse(text: str) -> tuple[Any, Any]:
    """(data, node) of one YAML document, read as plan reads it (YAML 1.2's core schema: `NO` is a
    string); raises yaml.YAMLError with marks."""
    from entragit import yamlio

    loader = yamlio.Loader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _load(root: Path, path: Path, tenant: str, kind: Kind | None, out: list[Finding],
          text: str | None = None, cache: Any = None, plain: bool = False) -> Document:
    """One file (read from disk, or `text` when given), parsed with its node tree for the key checks.

    A file whose text the last export wrote is taken from `cache` (doccache.DocCache) unparsed: export
    rendered it from a JSON document, which has no repeated or non-string key, so only a finding that
    names a line parses it."""
    import yaml

    from entragit import yamlio
    from entragit.config import read_file
    from entragit.errors import InputError

    rel = path.relative_to(root).as_posix()
    doc = Document(rel, tenant, kind)
    try:
        if text is None:  # `plain`: a regular file reached through no symlink (_tree_files checked it)
            text = path.read_text(encoding="utf-8") if plain else read_file(root, path)
        cached = cache.take_with_json(text) if cache is not None and kind is not None else None
        if cached is not None:
            doc.data, doc.parsed, doc.text, doc.exported = cached[0], True, text, True
            doc.__dict__["flat"] = cached[1]  # the same data as one JSON line: no second dumps
            return doc
        line = yamlio.anchor_line(text)
        if line is not None:
            out.append(Finding(rel, line, "yaml", yamlio.NO_ALIASES))
            return doc
        doc.data, doc.node = _parse(text)
        if doc.node is None and path.name != IDMAP:  # only apply writes idmap.yaml, and may leave it empty
            out.append(Finding(rel, None, "yaml", "the file is empty; expected one object (a mapping)"))
        out.extend(_key_findings(doc))  # the one check that walks every node, done while they exist
        doc.text, doc._node = text, None
    except InputError as e:  # a symlink: named, never read
        out.append(Finding(rel, None, "file", e.message.removeprefix(f"{rel}: ")))
    except UnicodeDecodeError as e:
        out.append(Finding(rel, None, "yaml", f"not UTF-8 text: {e.reason}"))
    except ValueError as e:  # an integer of thousands of digits (Python refuses to parse it)
        out.append(Finding(rel, None, "yaml", f"invalid YAML: {e}"))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or str(e).splitlines()[0]
        if e.context and e.context_mark and e.context_mark != mark:
            problem += f" ({e.context} at line {e.context_mark.line + 1})"
        out.append(Finding(rel, mark.line + 1 if mark else None, "yaml", f"invalid YAML: {problem}"))
    except yaml.YAMLError as e:
        out.append(Finding(rel, None, "yaml", f"invalid YAML: {e}"))
    return doc


def _tenant_dirs(root: Path) -> list[Path]:
    base = root / "tenants"
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def _load_tenant(root: Path, tdir: Path, out: list[Finding], texts: Mapping[str, str] | None = None) -> Tenant:
    """The tenant's files from its folder, or from `texts` (repo-relative path -> text: a git tree)."""
    from entragit import doccache

    t = Tenant(tdir.name)
    cache = doccache.load(root, t.name)
    files, plain = _tree_files(root, tdir) if texts is None else (_text_files(root, texts), set())
    for special, attr in ((TENANT_FILE, "config"), (IDMAP, "idmap")):
        if (tdir / special) in files:
            setattr(t, attr, _load(root, tdir / special, t.name, None, out, files.pop(tdir / special)))
    for path, text in files.items():
        if path.parent.parent != tdir or path.suffix not in (".yaml", ".yml"):
            continue
        kind = kindmod.BY_NAME.get(path.parent.name)
        if kind is None:
            out.append(Finding(path.relative_to(root).as_posix(), None, "unknown-kind",
                               f"folder {path.parent.name!r} is not a kind; known: {', '.join(kindmod.BY_NAME)}"))
            continue
        t.docs.append(_load(root, path, t.name, kind, out, text, cache, path in plain))
    return t


def _tree_files(root: Path, tdir: Path) -> tuple[dict[Path, str | None], set[Path]]:
    """The tenant folder's files, in validate's order (None: read when loaded), and those known to be
    plain (config.folder_files): read without checking each part of each path again. The rest are
    checked as they are read, and a link or a non-file is a finding."""
    from entragit.config import folder_files

    out: dict[Path, str | None] = {p: None for p in (tdir / TENANT_FILE, tdir / IDMAP) if p.is_file()}
    listed = folder_files(root, tdir, (".yaml", ".yml"), hidden=False)
    out.update(dict.fromkeys(p for p, _ in listed))
    return out, {p for p, plain in listed if plain}


def _text_files(root: Path, texts: Mapping[str, str]) -> dict[Path, str | None]:
    """`texts` in the order _tree_files gives a folder: by kind folder, .yaml before .yml."""
    def order(rel: str) -> tuple[str, bool, str]:
        folder, _, name = rel.rpartition("/")
        return folder, name.endswith(".yml"), name

    return {root / rel: texts[rel] for rel in sorted(texts, key=order)}


def key_of(kind: Kind, data: Mapping[str, Any], path: str) -> str:
    """The object's key within its kind: the kind name for singletons, else its id (file name if none)."""
    if kind.singleton:
        return kind.name
    return str(data.get(kind.id_field) or data.get("id") or Path(path).stem)


def load_documents(root: Path) -> dict[str, dict[str, dict[str, tuple[str, Any]]]]:
    """{tenant: {kind: {key: (path, data)}}} for every file that parses; errors are skipped."""
    out: dict[str, dict[str, dict[str, tuple[str, Any]]]] = {}
    for tdir in _tenant_dirs(root):
        t = _load_tenant(root, tdir, [])
        kinds: dict[str, dict[str, tuple[str, Any]]] = out.setdefault(t.name, {})
        for d in t.docs:
            if d.kind and isinstance(d.data, dict):
                kinds.setdefault(d.kind.name, {})[key_of(d.kind, d.data, d.path)] = (d.path, d.data)
    return out


# --- YAML node tree -> line numbers -----------------------------------------------------------


def line_of(node: Any, path: JsonPath) -> int | None:
    """1-based line of the key (or list item) `path` names; the nearest existing parent if absent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in path:
        child = None
        if isinstance(step, str) and node.tag.endswith(":map"):
            for k, v in node.value:
                if getattr(k, "value", None) == step:
                    line, child = k.start_mark.line + 1, v
                    break
        elif isinstance(step, int) and node.tag.endswith(":seq") and step < len(node.value):
            child = node.value[step]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _key_findings(doc: Document) -> Iterator[Finding]:
    """Keys that repeat, and keys that are not strings (`1:`, `~:`): Graph's JSON has neither."""
    stack = [doc.node] if doc.node is not None else []
    while stack:
        node = stack.pop()
        if node.tag.endswith(":map"):
            seen: set[Any] = set()
            for k, v in node.value:
                if not k.tag.endswith(":str"):
                    yield Finding(doc.path, k.start_mark.line + 1, "yaml",
                                  f"key {k.value!r} is not a string (quote it, or remove it)")
                elif k.value in seen:
                    yield Finding(doc.path, k.start_mark.line + 1, "yaml",
                                  f"duplicate key {k.value!r} (the last one would silently win)")
                seen.add(k.value)
                stack.append(v)
        elif node.tag.endswith(":seq"):
            stack.extend(node.value)


# --- JSON Schema ----------------------------------------------------------------------------


SCHEMA_SUFFIX = ".schema.json"


def _schema_root() -> Traversable:
    """entragit/schemas, read as package data through importlib.resources.

    Found wherever the package itself is (a venv, `pip install --user`, `--prefix`, `--target`, a
    zip), never guessed from sys.prefix: a wheel's data files land elsewhere in those installs."""
    from importlib.resources import files

    base = files("entragit") / "schemas"
    if not (base / f"tenant{SCHEMA_SUFFIX}").is_file():
        from entragit.errors import EntragitError

        raise EntragitError(f"entragit's JSON Schemas are missing from its install (looked in {base})",
                            hint="reinstall entragit, or run `python tools/gen_schemas.py` in a source checkout")
    return base


def schema_text(name: str) -> str | None:
    """The text of schemas/<name>.schema.json shipped with entragit; None if there is none."""
    f = _schema_root() / f"{name}{SCHEMA_SUFFIX}"
    return f.read_text(encoding="utf-8") if f.is_file() else None


def schema_files() -> dict[str, bytes]:
    """{file name: bytes} of every JSON Schema shipped with entragit (what `init` copies)."""
    found = (f for f in _schema_root().iterdir() if f.name.endswith(SCHEMA_SUFFIX))
    return {f.name: f.read_bytes() for f in sorted(found, key=lambda f: f.name)}


def _evolvable(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    """Warn (not fail) on a value an evolvable Graph enum does not list: beta and Graph add them."""
    from jsonschema import ValidationError

    if not value or not isinstance(instance, str):
        return
    known = schema.get("examples") or ()
    lowered = {k.lower() for k in known}  # Graph parses enum members case-insensitively
    unknown = [p for p in instance.split(",") if p.strip().lower() not in lowered]
    if unknown:
        yield ValidationError(
            f"{', '.join(map(repr, unknown))} is not a value Graph's model knows "
            f"(known: {', '.join(known)}); fine if Graph added it")


@functools.cache
def validator_for(name: str) -> Any:
    """The (cached) Draft 2020-12 validator of schemas/<name>.schema.json; None if there is none."""
    import json

    from jsonschema import Draft202012Validator, validators

    text = schema_text(name)
    if text is None:
        return None
    cls = validators.extend(Draft202012Validator, {"x-evolvable": _evolvable})
    return cls(json.loads(text))


class _Evolvable:
    """x-evolvable for the fast validator: any value _evolvable would warn on fails, so the file goes on to
    the full validator, which words the warning."""

    def __init__(self, parent: Mapping[str, Any], value: Any, _path: Any) -> None:
        self.known = {str(k).lower() for k in parent.get("examples") or ()} if value else None

    def validate(self, instance: Any) -> None:
        if self.known is not None and isinstance(instance, str) and any(
                p.strip().lower() not in self.known for p in instance.split(",")):
            raise ValueError("not a value Graph's model knows")


@functools.cache
def _fast_validator(name: str) -> Any:
    """jsonschema-rs's compiled validator of the same schema, or None without it. It only answers whether a
    file is valid, about 50 times faster than jsonschema; jsonschema words the findings of the rare file that
    is not, so messages are the same either way."""
    import json

    try:
        import jsonschema_rs
    except ImportError:
        return None
    text = schema_text(name)
    try:
        return jsonschema_rs.validator_for(json.loads(text), keywords={"x-evolvable": _Evolvable}) if text else None
    except Exception:  # a schema it cannot compile: jsonschema alone, as before
        return None


def _fast_valid(name: str, data: Any) -> bool:
    v = _fast_validator(name)
    try:
        return bool(v is not None and v.is_valid(data))
    except Exception:  # a value Rust cannot take (a non-string key, an integer of hundreds of digits)
        return False


def _leaf_errors(errors: Iterable[Any]) -> Iterator[Any]:
    """Report the deepest reasons of if/then branches and anyOfs, not the umbrella error."""
    for e in errors:
        if e.context and e.validator in ("anyOf", "oneOf"):
            yield from _leaf_errors(e.context)
        else:
            yield e


def _schema_findings(doc: Document, schema_name: str) -> Iterator[Finding]:
    v = validator_for(schema_name)
    if v is None or _fast_valid(schema_name, doc.data):
        return
    for e in sorted(_leaf_errors(v.iter_errors(doc.data)), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(e.absolute_path)
        where = _dotted(path)
        if e.validator == "x-evolvable":
            yield Finding(doc.path, doc.line(path), "unknown-enum", f"{where}: {e.message}", "warning")
        elif e.validator == "not" and e.validator_value == {}:
            yield Finding(doc.path, doc.line(path), "schema",
                          f"{where} is set by the server and never written to a file (remove it)")
        elif e.validator == "required":
            yield Finding(doc.path, doc.line(path), "schema",
                          f"{where + ': ' if where else ''}{e.message} (Graph requires it on create)")
        else:
            yield Finding(doc.path, doc.line(path), "schema", f"{where or '(document)'}: {e.message}")


def _identity_findings(doc: Document) -> Iterator[Finding]:
    """An id that is not a GUID where Graph's are, and an @odata.type the kind does not have: plan would
    match such a file by name alone, or send Graph a body of another type."""
    kind = doc.kind
    if kind is None or not isinstance(doc.data, dict):
        return
    from entragit.snapshot import NEW_ID

    oid = doc.data.get(kind.id_field)
    if kind.guid_id and not kind.singleton and oid not in (None, NEW_ID) and not GUID.match(str(oid)):
        yield Finding(doc.path, doc.line((kind.id_field,)), "schema",
                      f"{kind.id_field}: {oid!r} is not a GUID, and every {kind.title} id is one")
    odata = doc.data.get("@odata.type")
    # Derived types end in their base's name (ipNamedLocation, fido2AuthenticationMethodConfiguration),
    # less a "Base" suffix (identityProviderBase: socialIdentityProvider).
    base = kind.graph_type.lower().removesuffix("base")
    if kind.graph_type and odata is not None and not str(odata).lower().endswith(base):
        yield Finding(doc.path, doc.line(("@odata.type",)), "schema",
                      f"@odata.type: {odata!r} is not a {kind.title} type (#microsoft.graph.*{kind.graph_type})")


def _typed_nodes(node: Any, here: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """(path, derived type) of every nested mapping that names its @odata.type."""
    if isinstance(node, dict):
        t = node.get("@odata.type")
        if here and isinstance(t, str):
            yield here, t.removeprefix("#microsoft.graph.")
        for k, v in node.items():
            yield from _typed_nodes(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _typed_nodes(v, (*here, i))


def _type_findings(doc: Document, exported: Callable[[], frozenset[str]] = frozenset) -> Iterator[Finding]:
    """A body that disagrees with the type it names: a top-level key of a sibling derived type (an
    ipNamedLocation's ipRanges under `#microsoft.graph.countryNamedLocation`), or a nested value naming a
    type Graph's model does not have (`iPv5CidrRange`). Plan would match the file as another type, or
    send Graph a body it refuses. The schemas carry v1.0's derived types: a type the file held when last
    committed came from the tenant (a beta-only type), not from a typo."""
    kind = doc.kind
    v = validator_for(kind.name) if kind else None
    if v is None or kind is None or not isinstance(doc.data, dict):
        return
    defs: dict[str, Any] = v.schema.get("$defs", {})
    derived = str(doc.data.get("@odata.type", "")).removeprefix("#microsoft.graph.")
    if kind.polymorphic and derived in defs:
        own = set(v.schema["properties"]) | set(defs[derived].get("properties", ()))
        for key in doc.data:
            sibling = next((t for t, d in defs.items() if t != derived and key in d.get("properties", ())), None)
            if key not in own and sibling:
                yield Finding(doc.path, doc.line((key,)), "schema",
                              f"{key!r} is a {sibling} property, not a {derived} one: the body and its "
                              f"@odata.type name different types")
    subcollections = {c.field for c in kind.subcollections}  # read inline, modelled as relationships
    flat = doc.flat
    if flat is not None and flat.count('"@odata.type"') <= ("@odata.type" in doc.data):  # none nested
        return
    for path, t in _typed_nodes(doc.data, ()):
        if defs and path[0] not in subcollections and t not in defs and t not in exported():
            yield Finding(doc.path, doc.line((*path, "@odata.type")), "schema",
                          f"{'.'.join(map(str, path))}: '#microsoft.graph.{t}' is not a type Graph's model "
                          f"has here (known: {', '.join(sorted(defs))})")


def _unknown_properties(doc: Document, exported: Callable[[], frozenset[str]] = frozenset) -> Iterator[Finding]:
    """Top-level keys Graph's model does not have (typos): a warning; beta kinds have more keys.

    Keys the file had when last committed came from the tenant, not a typo: Graph returns
    properties its published v1.0 model does not list yet (authenticationMethodsPolicy's
    reportSuspiciousActivitySettings). A derived type the model does not know (hardwareOath's
    configuration) cannot be judged beyond the base type's keys."""
    kind = doc.kind
    v = validator_for(kind.name) if kind else None
    if v is None or not isinstance(doc.data, dict) or kind is None or kind.version != "v1.0":
        return
    derived = str(doc.data.get("@odata.type", "")).removeprefix("#microsoft.graph.")
    defs = v.schema.get("$defs", {})
    if kind.polymorphic and derived and derived not in defs:
        return
    # Lists entragit reads inline though Graph models them as relationships (combinationConfigurations).
    known = set(v.schema["properties"]) | {c.field for c in kind.subcollections}
    known |= set(defs.get(derived, {}).get("properties", ()))
    unknown = [key for key in doc.data if key not in known]
    if unknown:  # the committed file is read only for a key the model lacks (rare): most files need none
        known |= exported()
    for key in unknown:
        if key not in known:
            yield Finding(doc.path, doc.line((key,)), "unknown-property",
                          f"{key!r} is not a {kind.title} property in Graph {kind.version}", "warning")


class _CommittedKeys:
    """path -> top-level keys of each object file at HEAD (what the last committed export wrote).

    Read from git on the first question and parsed per file asked about: only a file with a key
    Graph's model lacks asks, so validating a large repo reads and parses no committed file."""

    def __init__(self, root: Path, tdir: Path) -> None:
        self.root, self.tdir = root, tdir
        self._texts: dict[str, str] | None = None
        self._keys: dict[str, frozenset[str]] = {}
        self._types: dict[str, frozenset[str]] = {}

    def _committed(self) -> dict[str, str]:
        from entragit import gitstore
        from entragit.errors import EntragitError

        if self._texts is None:
            self._texts = {}
            if gitstore.git_dir(self.root) is not None and gitstore.head(self.root) is not None:
                # A blob that is not text: the work-tree file's own findings say what is wrong.
                with contextlib.suppress(EntragitError):
                    self._texts = gitstore.files_at(self.root, "HEAD", self.tdir.relative_to(self.root).as_posix())
        return self._texts

    def _doc(self, path: str) -> Any:
        from entragit import yamlio
        from entragit.errors import EntragitError

        text = self._committed().get(path)
        try:
            return yamlio.load(text) if text is not None else None
        except EntragitError:
            return None

    def keys(self, path: str) -> frozenset[str]:
        if path not in self._keys:
            doc = self._doc(path)
            self._keys[path] = frozenset(map(str, doc)) if isinstance(doc, dict) else frozenset()
        return self._keys[path]

    def types(self, path: str) -> frozenset[str]:
        """Derived types the file's nested values named at HEAD (asked only for a type the model lacks)."""
        if path not in self._types:
            self._types[path] = frozenset(t for _, t in _typed_nodes(self._doc(path), ()))
        return self._types[path]


def _dotted(path: JsonPath) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


# --- references -----------------------------------------------------------------------------


class Index:
    """What a tenant's files name: (kind, key field, value) -> object, plus each file's refs index."""

    KEYS = ("id", "appId", "templateId")

    def __init__(self, t: Tenant) -> None:
        from entragit.snapshot import NEW_ID, new_key

        self.objects: dict[tuple[str, str, str], Document] = {}
        self.refs: dict[str, dict[str, Any]] = {}  # lowercased value -> a refs entry naming it
        self.kinds = {d.kind.name for d in t.docs if d.kind}
        for d in t.docs:
            if not (d.kind and isinstance(d.data, dict)):
                continue
            for key in self.KEYS:
                v = d.data.get(key)
                if isinstance(v, str) and v:
                    self.objects[(d.kind.name, key, v.lower())] = d
            if d.kind.id_field != "id" and isinstance(d.data.get(d.kind.id_field), str):
                self.objects[(d.kind.name, "id", d.data[d.kind.id_field].lower())] = d
            if not d.kind.singleton and d.data.get(d.kind.id_field) in (None, "", NEW_ID):
                self.objects[(d.kind.name, "id", new_key(d.kind.name, d.path).lower())] = d
            for v, entry in (d.data.get("refs") or {}).items() if isinstance(d.data.get("refs"), dict) else ():
                if isinstance(entry, dict) and not entry.get("missing"):
                    self.refs.setdefault(str(v).lower(), entry)

    def find(self, ref: Ref, value: str) -> Document | None:
        # Built-in roles: id == templateId; custom roles may be named by either.
        keys = (ref.key, "id") if ref.key == "templateId" else (ref.key,)
        targets = ref.targets
        if ref.key == "appId":
            # Application files carry no appId (server-assigned, stripped); the app's service
            # principal does, and names the same application.
            targets = (*targets, "servicePrincipals")
        low = value.lower()
        for target in targets:
            for key in keys:
                hit = self.objects.get((target, key, low))
                if hit:
                    return hit
        return None


def _owned_everywhere(name: str, key: str) -> bool:
    """Kinds exported whole whose files carry `key`: an object without a file is gone, not unexported."""
    kind = kindmod.BY_NAME.get(name)
    return kind is not None and not kind.skip_when and key not in kind.strip


def _reference_findings(doc: Document, index: Index) -> Iterator[Finding]:
    assert doc.kind is not None
    refs = doc.data.get("refs") if isinstance(doc.data.get("refs"), dict) else {}
    local: dict[str, Any] | None = None  # the refs index by lowercased value: built at the first miss
    for ref in refmod.all_refs(doc.kind):
        keywords, sites = refmod.keywords_and_sites(doc.data, ref)
        for path, value in keywords:
            # Graph adds keywords over time (keywords.py lists the documented ones): warn, never fail.
            yield Finding(doc.path, doc.line(path), "unknown-keyword",
                          f"{_dotted(path)}: not an id and not a keyword Graph documents: {value!r} "
                          "(left as it is)", "warning")
        for path, value in sites:
            if index.find(ref, value):
                continue
            if local is None:
                local = {str(k).lower(): v for k, v in refs.items()}
            entry = local.get(value.lower())
            where, targets = _dotted(path), "/".join(ref.targets)
            # An appId may name a multi-tenant or first-party app with no object in this tenant.
            severity: Severity = "warning" if ref.key == "appId" else "error"
            if entry is None:
                msg = f"{where}: {value} is not a {targets} in this tenant's files nor in `refs`"
            elif not isinstance(entry, dict) or "kind" not in entry:
                msg = f"{where}: refs entry for {value} has no kind"
            elif entry.get("missing"):
                # Written by export: the tenant itself holds this dangling id (Entra keeps a deleted
                # group's id in CA policies), so the files say what is there; a person should look.
                label = f" ({entry['name']})" if entry.get("name") else ""
                msg = f"{where}: dangling reference to {entry['kind']} {value}{label}: it no longer exists"
                severity = "warning"
            elif entry["kind"] in index.kinds and _owned_everywhere(entry["kind"], ref.key):
                label = f" ({entry['name']})" if entry.get("name") else ""
                msg = (f"{where}: {entry['kind']} {value}{label} has no file in this tenant "
                       f"(deleted?); the reference would dangle")
            else:
                continue
            yield Finding(doc.path, doc.line(path), "dangling-ref", msg, severity)


# --- lint rules -----------------------------------------------------------------------------


def _secret_findings(doc: Document) -> Iterator[Finding]:
    def walk(node: Any, here: JsonPath) -> Iterator[Finding]:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in SECRET_KEYS and v not in (None, "", [], {}):
                    yield Finding(doc.path, doc.line((*here, k)), "secret",
                                  f"{_dotted((*here, k))}: secrets never belong in a file")
                else:
                    yield from walk(v, (*here, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, (*here, i))
        elif isinstance(node, str) and (SECRET_VALUE.search(node) or JWT.search(node)):
            what = "a token (JWT)" if JWT.search(node) else "a client secret"
            yield Finding(doc.path, doc.line(here), "secret",
                          f"{_dotted(here) or '(document)'}: value looks like {what}; remove it")

    flat = doc.flat  # each pattern's fixed part looked for first: a plain find is far cheaper than the regex
    if (flat is None or any(f'"{k}"' in flat for k in SECRET_KEYS) or ("8Q~" in flat and SECRET_VALUE.search(flat))
            or ("eyJ" in flat and JWT.search(flat))):
        yield from walk(doc.data, ())


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _unique_findings(t: Tenant, selected: set[str]) -> Iterator[Finding]:
    rules = list(UNIQUE) + [
        Unique(k.name, k.name_field, "warning",
               f"{k.title}s are matched by display name, so plan cannot tell these apart")
        for k in kindmod.KINDS if k.natural_key == ("displayName",) and not k.singleton and k.name_field
    ]
    for rule in rules:
        seen: dict[str, list[tuple[Document, JsonPath]]] = defaultdict(list)
        for d in t.of_kind(rule.kind):
            if rule.when and rule.when[1] not in (d.data.get(rule.when[0]) or ()):
                continue
            name = rule.field.removesuffix("[]")
            v = d.data.get(name)
            items = enumerate(v) if rule.field.endswith("[]") and isinstance(v, list) else [(None, v)]
            for i, item in items:
                if isinstance(item, str) and item:
                    seen[item.lower()].append((d, (name,) if i is None else (name, i)))
        for _, hits in sorted(seen.items()):
            if len({d.path for d, _ in hits}) < 2:
                continue
            for d, path in hits:
                if d.path in selected:
                    others = ", ".join(sorted({o.path for o, _ in hits if o.path != d.path}))
                    value = d.data[path[0]] if len(path) == 1 else d.data[path[0]][path[1]]
                    yield Finding(d.path, d.line(path), "duplicate-name",
                                  f"{_dotted(path)} {value!r} is also used by {others}: {rule.why}",
                                  rule.severity)


def _duplicate_ids(t: Tenant, selected: set[str]) -> Iterator[Finding]:
    seen: dict[tuple[str, str], list[Document]] = defaultdict(list)
    for d in t.docs:
        if d.kind and isinstance(d.data, dict) and (d.kind.singleton or d.data.get(d.kind.id_field)):
            seen[(d.kind.name, key_of(d.kind, d.data, d.path).lower())].append(d)
    for (kname, key), docs in sorted(seen.items()):
        if len(docs) > 1:
            id_field = kindmod.get(kname).id_field
            for d in docs:
                if d.path in selected:
                    others = ", ".join(o.path for o in docs if o is not d)
                    yield Finding(d.path, d.line((id_field,)), "duplicate-id",
                                  f"{kname} {key} is also described by {others}")


def _lockout_findings(t: Tenant, selected: set[str]) -> list[Finding]:
    """lockout.py over the whole tenant; a finding shows when its file, or a file it depends on, is checked."""
    from entragit import lockout
    from entragit.snapshot import Snapshot

    cfg = t.config.data if t.config and isinstance(t.config.data, dict) else {}
    accounts = [str(a) for a in cfg.get("breakGlass") or () if a]
    snap, docs = Snapshot(), {}
    # Only the refs entries lockout reads: copying every one (each group file names all its members)
    # was half this check.
    looked_up = lockout.lookup_kinds(accounts)
    for d in t.docs:
        if d.kind and isinstance(d.data, dict):
            key = key_of(d.kind, d.data, d.path)
            snap.kind(d.kind.name)[key], snap.paths[(d.kind.name, key)], docs[d.path] = d.data, d.path, d
            refs = d.data.get("refs")
            for v, entry in refs.items() if isinstance(refs, dict) else ():
                if isinstance(entry, dict) and entry.get("kind") in looked_up and not entry.get("missing"):
                    snap.lookup.setdefault(str(entry["kind"]), {}).setdefault(str(v), {**entry, "id": str(v)})
    out: list[Finding] = []
    config_selected = t.config is not None and t.config.path in selected
    resolved = lockout.resolve(accounts, snap)
    for i, a in enumerate(accounts):
        if not resolved[a] and config_selected and t.config:
            out.append(Finding(t.config.path, t.config.line(("breakGlass", i)), "ca-lockout",
                               f"break-glass account {a} is not named by any file (no users file or refs "
                               f"entry with that userPrincipalName): lock-out checks skip it", "warning"))
    for f in lockout.check(snap, None, accounts):
        paths = {f.path, *(snap.paths.get(k) for k in f.related)}
        if f.path and (config_selected or paths & selected):
            out.append(Finding(f.path, docs[f.path].line(f.field), "ca-lockout", f.reason))
    return out


def _idmap_findings(doc: Document | None, selected: set[str]) -> Iterator[Finding]:
    """idmap.yaml is written by apply, but a hand edit or a bad merge must not reach the plan."""
    from entragit.apply import idmap_problem

    if doc is None or not doc.parsed or doc.path not in selected:
        return
    problem = idmap_problem(doc.data)
    if problem:
        yield Finding(doc.path, None, "idmap", problem)


# --- entry point ----------------------------------------------------------------------------


def _selected(root: Path, paths: Sequence[Path] | None, out: list[Finding]) -> set[str] | None:
    if paths is None:
        return None
    picked: set[str] = set()
    for p in paths:
        full = p if p.is_absolute() else (root / p if (root / p).exists() else Path.cwd() / p)
        full = full.resolve()
        if not full.exists():
            out.append(Finding(str(p), None, "missing", "no such file or directory"))
            continue
        files = [full] if full.is_file() else [*full.rglob("*.yaml"), *full.rglob("*.yml")]
        for f in files:
            try:
                picked.add(f.relative_to(root.resolve()).as_posix())
            except ValueError:
                out.append(Finding(str(p), None, "missing", f"{f} is outside the repo {root}"))
    return picked


@contextlib.contextmanager
def _loading() -> Iterator[None]:
    """No cyclic garbage collection while a tenant's documents load, and those documents moved out
    of the collector's sight afterwards: they are millions of live objects, kept to the end, that
    each collection would walk again (half the time of loading a large repo). Garbage made while
    checking is still collected."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        gc.freeze()


def validate_paths(root: Path, paths: Sequence[Path] | None = None) -> list[Finding]:
    """Every finding for the repo at `root` (or only for `paths`, files or folders, checked in context).

    Tenants are independent, so several are checked at once, one process per core; a tenant none of
    `paths` is in is not even read (a pre-commit hook passes only the changed files)."""
    root = root.resolve()
    out: list[Finding] = []
    selected = _selected(root, paths, out)
    tdirs = [tdir for tdir in _tenant_dirs(root) if selected is None or _holds_any(root, tdir, selected)]
    workers = min(len(tdirs), os.cpu_count() or 1, MAX_WORKERS)
    if workers > 1 and sum(_file_count(tdir) for tdir in tdirs) >= PARALLEL_FROM:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a fresh interpreter per worker, whatever threads this process holds.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for found in pool.map(_validate_tenant, [root] * len(tdirs), tdirs, [selected] * len(tdirs)):
                out += found
    else:
        for tdir in tdirs:
            out += _validate_tenant(root, tdir, selected)
    return sorted(set(out), key=lambda f: (f.path, f.line or 0, f.rule, f.message))


MAX_WORKERS = 8
PARALLEL_FROM = 2000  # files: below this, starting worker processes costs more than it saves


def _holds_any(root: Path, tdir: Path, selected: set[str]) -> bool:
    prefix = tdir.relative_to(root).as_posix() + "/"
    return any(p.startswith(prefix) for p in selected)


def _file_count(tdir: Path) -> int:
    return sum(1 for _ in tdir.glob("*/*.y*ml"))


def validate_texts(root: Path, tdir: Path, texts: Mapping[str, str],
                   exported: dict[str, Any] | None = None) -> list[Finding]:
    """Every finding for one tenant's files given as {repo-relative path: text} (a git revision's),
    checked as if they were its folder. `exported` receives {path: document} of the files the last
    export wrote (from its parsed cache), for the caller's desired state: each is parsed once."""
    try:
        found = _check_tenant(root, tdir, set(texts), texts, exported)
    finally:
        gc.unfreeze()
    return sorted(set(found), key=lambda f: (f.path, f.line or 0, f.rule, f.message))


def exported_documents(root: Path, tdir: Path, texts: Mapping[str, str]) -> dict[str, Any]:
    """{path: document} of the files in `texts` that the last export wrote, from its parsed cache:
    what validate_texts hands its caller, for files whose checks passed before (checkcache)."""
    try:
        with _loading():
            return _exported(_load_tenant(root, tdir, [], texts))
    finally:
        gc.unfreeze()


def _exported(t: Tenant) -> dict[str, Any]:
    return {d.path: d.data for d in t.docs if d.exported}


def _validate_tenant(root: Path, tdir: Path, selected: set[str] | None) -> list[Finding]:
    try:
        return _check_tenant(root, tdir, selected)
    finally:
        gc.unfreeze()


def _check_tenant(root: Path, tdir: Path, selected: set[str] | None,
                  texts: Mapping[str, str] | None = None, exported: dict[str, Any] | None = None) -> list[Finding]:
    out: list[Finding] = []
    load_errors: list[Finding] = []
    with _loading():
        t = _load_tenant(root, tdir, load_errors, texts)
    if exported is not None:
        exported.update(_exported(t))
    files = {d.path for d in t.docs} | {d.path for d in (t.config, t.idmap) if d}
    files |= {f.path for f in load_errors}
    sel = files if selected is None else files & selected
    if not sel:
        return out
    out += [f for f in load_errors if f.path in sel]
    if t.config is None and selected is None:
        out.append(Finding(tdir.relative_to(root).as_posix() + "/" + TENANT_FILE, None, "tenant",
                           "tenant.yaml is missing"))
    index = Index(t)
    committed = _CommittedKeys(root, tdir)
    for d in ([t.config] if t.config else []) + t.docs:
        if d.path not in sel or not d.parsed:
            continue
        out += _schema_findings(d, d.kind.name if d.kind else "tenant")
        out += _secret_findings(d)
        if d.kind and isinstance(d.data, dict):
            out += _identity_findings(d)
            out += _type_findings(d, functools.partial(committed.types, d.path))
            out += _unknown_properties(d, functools.partial(committed.keys, d.path))
            out += _reference_findings(d, index)
        d.__dict__.pop("flat", None)  # a copy of the file's data: the tenant's would be held to the end
    out += _overlap_findings(t.config, sel)
    out += _idmap_findings(t.idmap, sel)
    out += _unique_findings(t, sel)
    out += _duplicate_ids(t, sel)
    out += _lockout_findings(t, sel)
    return out


def _overlap_findings(doc: Any, sel: set[str]) -> list[Finding]:
    """tenant.yaml enabling two kinds that hold the same objects (Kind.same_objects_as)."""
    if doc is None or doc.path not in sel or not isinstance(doc.data, dict):
        return []
    names = [n for n in doc.data.get("kinds") or () if isinstance(n, str)]
    return [Finding(doc.path, doc.line(("kinds",)), "overlapping-kinds", w, "warning")
            for w in kindmod.overlaps(names)]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


# ---------------------------------------------------------------- rendering


def to_json(findings: Sequence[Finding]) -> dict[str, Any]:
    errors = sum(f.severity == "error" for f in findings)
    return {"format_version": FORMAT_VERSION, "ok": not errors,
            "counts": {"error": errors, "warning": len(findings) - errors},
            "findings": [{"file": f.path, "line": f.line, "rule": f.rule, "severity": f.severity,
                          "message": f.message} for f in findings]}


def _escape(text: str, prop: bool = False) -> str:
    # As GitHub's actions/toolkit escapes workflow command data and properties (core/src/command.ts).
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands: each finding an annotation on its file and line in the PR."""
    out = []
    for f in findings:
        where = f"file={_escape(f.path, True)}" + (f",line={f.line}" if f.line else "")
        out.append(f"::{f.severity} {where}::{_escape(f.message)} [{f.rule}]")
    return "\n".join(out)
