"""Microsoft's Graph metadata (permissions.json, v1.0 CSDL) as a test oracle, loaded once per session."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

METADATA = Path(__file__).parents[1].parent / "shared" / "graph-metadata"
PERMISSIONS_FILE = METADATA / "permissions.json"
CSDL_FILE = METADATA / "v1.0-Prod.csdl"
_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_CAST = re.compile(r"^microsoft\.graph\.[A-Za-z]+$")


def require() -> None:
    """Skip the calling test when the metadata copy is not next to the repo."""
    if not (PERMISSIONS_FILE.is_file() and CSDL_FILE.is_file()):
        pytest.skip(f"Graph metadata not found at {METADATA} (permissions.json, v1.0-Prod.csdl)")


# ---------------------------------------------------------------------------------------------
# permissions.json


@dataclass(frozen=True)
class Grant:
    """One permission's Application-scheme grant for one (method, path)."""

    permission: str
    least: bool  # `least=...Application...`: marked least-privileged for app-only calls
    also_requires: tuple[str, ...] = ()  # `AlsoRequires=...`: needed together with this one


def _parse_value(value: str) -> tuple[bool, tuple[str, ...]]:
    """`least=DelegatedWork,Application;AlsoRequires=Policy.Read.All` -> (least for Application, also)."""
    least, also = False, ()
    for part in filter(None, value.split(";")):
        key, _, rest = part.partition("=")
        names = tuple(x.strip() for x in rest.split(",") if x.strip())
        if key.strip().lower() == "least":
            least = "Application" in names
        elif key.strip().lower() == "alsorequires":
            also = names
    return least, also


@cache
def permissions() -> dict[str, Any]:
    """permissions.json's `permissions` object: name -> {schemes, pathSets}."""
    require()
    return json.loads(PERMISSIONS_FILE.read_text(encoding="utf-8"))["permissions"]


@cache
def _grant_index() -> dict[tuple[str, str], tuple[Grant, ...]]:
    index: dict[tuple[str, str], list[Grant]] = defaultdict(list)
    for name, perm in permissions().items():
        for ps in perm.get("pathSets", []):
            if "Application" not in ps.get("schemeKeys", []):
                continue
            for path, value in ps.get("paths", {}).items():
                least, also = _parse_value(value)
                for method in ps.get("methods", []):
                    index[(method.upper(), normalize(path))].append(Grant(name, least, also))
    return {k: tuple(v) for k, v in index.items()}


def application_permissions() -> frozenset[str]:
    """Every permission that has an Application scheme (app-only consentable)."""
    return frozenset(n for n, p in permissions().items() if "Application" in p.get("schemes", {}))


def normalize(path: str) -> str:
    """A Graph path template in the file's form: lower-case, `{id}` for every key, no `$ref`, no root.

    `/v1.0/groups/{parent}/members/$ref` -> `/groups/{id}/members`;
    `.../members/{memberId}/$ref` -> `.../members/{id}`.
    """
    p = path.split("?", 1)[0].strip()
    p = re.sub(r"^https?://[^/]+", "", p)
    p = re.sub(r"^/?(v1\.0|beta)(?=/)", "", p)
    p = "/" + p.strip("/")
    p = re.sub(r"/\$ref$", "", p)
    p = re.sub(r"\{[^}]*\}", "{id}", p)
    return p.lower()


def grants(method: str, path: str) -> tuple[Grant, ...]:
    """The Application-scheme grants permissions.json lists for (method, path); () if none."""
    return _grant_index().get((method.upper(), normalize(path)), ())


def granting(method: str, path: str) -> frozenset[str]:
    """Names of the permissions that grant (method, path) app-only."""
    return frozenset(g.permission for g in grants(method, path))


def least_privileged(method: str, path: str) -> frozenset[str]:
    """The permissions marked least-privileged (Application scheme) for (method, path)."""
    return frozenset(g.permission for g in grants(method, path) if g.least)


# ---------------------------------------------------------------------------------------------
# v1.0 CSDL


@dataclass(frozen=True)
class Prop:
    """A structural or navigation property: its name, element type (qualified) and collection flag."""

    name: str
    type: str  # e.g. microsoft.graph.ipRange, Edm.String
    collection: bool
    navigation: bool = False


@dataclass
class StructType:
    """An entity or complex type as declared (own properties only; see `Csdl.properties`)."""

    name: str  # qualified: microsoft.graph.ipNamedLocation
    kind: str  # EntityType | ComplexType
    base: str | None
    abstract: bool
    props: dict[str, Prop] = field(default_factory=dict)


@dataclass
class Csdl:
    """The parsed v1.0 CSDL: structured types, enum types (members, flags), entity sets, singletons."""

    types: dict[str, StructType]
    enums: dict[str, tuple[frozenset[str], bool]]  # qualified name -> (members, IsFlags)
    entity_sets: dict[str, str]  # name -> qualified entity type
    singletons: dict[str, str]

    def type(self, name: str) -> StructType:
        """The structured type called `name` (`ipNamedLocation`, `#microsoft.graph.x`, qualified)."""
        q = qualify(name)
        if q not in self.types:
            raise KeyError(f"{q} is not a v1.0 entity or complex type")
        return self.types[q]

    def has_type(self, name: str) -> bool:
        return qualify(name) in self.types

    def properties(self, name: str) -> dict[str, Prop]:
        """Structural and navigation properties of `name`, including every BaseType's."""
        out: dict[str, Prop] = {}
        t: StructType | None = self.type(name)
        while t is not None:
            for k, v in t.props.items():
                out.setdefault(k, v)
            t = self.types.get(t.base) if t.base else None
        return out

    def navigation(self, name: str) -> dict[str, Prop]:
        return {k: v for k, v in self.properties(name).items() if v.navigation}

    def is_a(self, name: str, base: str) -> bool:
        """`name` is `base` or derives from it."""
        t: StructType | None = self.type(name)
        want = qualify(base)
        while t is not None:
            if t.name == want:
                return True
            t = self.types.get(t.base) if t.base else None
        return False

    def derived(self, base: str) -> frozenset[str]:
        """Every type deriving (directly or not) from `base`, `base` included."""
        return frozenset(n for n in self.types if self.is_a(n, base))

    def enum(self, name: str) -> frozenset[str]:
        return self.enums[qualify(name)][0]

    def is_flags(self, name: str) -> bool:
        return self.enums[qualify(name)][1]

    def resolve(self, type_name: str, dotted: str) -> Prop:
        """The property at `dotted` (`conditions.users.includeGroups`) below `type_name`."""
        head, _, rest = dotted.partition(".")
        p = self.properties(type_name)[head]
        return self.resolve(p.type, rest) if rest else p


def qualify(name: str) -> str:
    """`#microsoft.graph.user`, `graph.user`, `user` -> `microsoft.graph.user` (Edm.* unchanged)."""
    n = name.lstrip("#")
    if n.startswith("Edm."):
        return n
    if n.startswith("graph."):
        return "microsoft." + n
    if n.startswith("microsoft.graph."):
        return n
    return "microsoft.graph." + n


def _element_type(raw: str, aliases: dict[str, str]) -> tuple[str, bool]:
    coll = raw.startswith("Collection(")
    t = raw[len("Collection("):-1] if coll else raw
    ns, _, short = t.rpartition(".")
    return (f"{aliases.get(ns, ns)}.{short}" if ns else t), coll


@cache
def csdl() -> Csdl:
    """The v1.0 CSDL, parsed once per test session."""
    require()
    root = ET.parse(CSDL_FILE).getroot()
    schemas = list(root.iter(f"{_EDM}Schema"))
    aliases = {s.get("Alias", ""): s.get("Namespace", "") for s in schemas if s.get("Alias")}
    aliases.update({s.get("Namespace", ""): s.get("Namespace", "") for s in schemas})
    types: dict[str, StructType] = {}
    enums: dict[str, tuple[frozenset[str], bool]] = {}
    sets: dict[str, str] = {}
    singles: dict[str, str] = {}
    for s in schemas:
        ns = s.get("Namespace", "")
        for el in s:
            tag = el.tag.removeprefix(_EDM)
            if tag in ("EntityType", "ComplexType"):
                base = el.get("BaseType")
                t = StructType(f"{ns}.{el.get('Name')}", tag, _element_type(base, aliases)[0] if base else None,
                               el.get("Abstract") == "true")
                for p in el:
                    ptag = p.tag.removeprefix(_EDM)
                    if ptag in ("Property", "NavigationProperty"):
                        et, coll = _element_type(p.get("Type", ""), aliases)
                        t.props[p.get("Name", "")] = Prop(p.get("Name", ""), et, coll, ptag == "NavigationProperty")
                types[t.name] = t
            elif tag == "EnumType":
                members = frozenset(m.get("Name", "") for m in el if m.tag == f"{_EDM}Member")
                enums[f"{ns}.{el.get('Name')}"] = (members, el.get("IsFlags") == "true")
            elif tag == "EntityContainer":
                for c in el:
                    ctag = c.tag.removeprefix(_EDM)
                    if ctag == "EntitySet":
                        sets[c.get("Name", "")] = _element_type(c.get("EntityType", ""), aliases)[0]
                    elif ctag == "Singleton":
                        singles[c.get("Name", "")] = _element_type(c.get("Type", ""), aliases)[0]
    return Csdl(types, enums, sets, singles)


# ---------------------------------------------------------------------------------------------
# Checking a JSON payload against a CSDL type


@dataclass(frozen=True)
class Problem:
    """A property or enum value that the CSDL does not know, at a dotted place in a payload."""

    where: str  # `conditions.users.includeGuestsOrExternalUsers` (the type it was looked up on follows)
    type: str
    what: str  # "unknown property" | "not a member of <enum>" | "unknown @odata.type"
    value: str = ""

    def __str__(self) -> str:
        v = f" {self.value!r}" if self.value else ""
        return f"{self.where} on {self.type}: {self.what}{v}"


def check(payload: Any, type_name: str, where: str = "") -> list[Problem]:
    """Every property name in `payload` (recursively) checked to exist on `type_name` in the v1.0 CSDL,
    with @odata.type picking derived types; enum values checked to be members (flags: comma-separated)."""
    model = csdl()
    out: list[Problem] = []
    if not isinstance(payload, dict):
        return out
    t = qualify(type_name)
    cast = payload.get("@odata.type")
    if isinstance(cast, str):
        if not model.has_type(cast):
            return [Problem(where or "(root)", t, "unknown @odata.type", cast)]
        if not model.is_a(cast, t):
            return [Problem(where or "(root)", t, "@odata.type is not a derived type", cast)]
        t = qualify(cast)
    props = model.properties(t)
    for key, value in payload.items():
        if key.startswith("@") or "@odata." in key:
            continue  # instance annotations (@odata.type, members@odata.bind, ...)
        place = f"{where}.{key}" if where else key
        p = props.get(key)
        if p is None:
            out.append(Problem(place, t, "unknown property"))
            continue
        out += _check_value(value, p, place)
    return out


def _check_value(value: Any, p: Prop, place: str) -> list[Problem]:
    model = csdl()
    if value is None:
        return []
    items = value if (p.collection and isinstance(value, list)) else [value]
    out: list[Problem] = []
    for i, item in enumerate(items):
        here = f"{place}[{i}]" if p.collection else place
        if p.type in model.enums:
            out += _check_enum(item, p.type, here)
        elif p.type in model.types and isinstance(item, dict):
            out += check(item, p.type, here)
    return out


def _check_enum(value: Any, enum: str, place: str) -> list[Problem]:
    model = csdl()
    if not isinstance(value, str):
        return [Problem(place, enum, "enum value is not a string", repr(value))]
    members = model.enum(enum)
    parts = [v.strip() for v in value.split(",")] if model.is_flags(enum) else [value]
    return [Problem(place, enum, f"not a member of {enum}", v) for v in parts if v not in members]
