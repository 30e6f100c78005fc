"""Generate entragit/schemas/<kind>.schema.json (JSON Schema 2020-12) from msgraph-sdk's Graph models.

Run `python tools/gen_schemas.py` after changing kinds.py or upgrading msgraph-sdk;
tests/test_schemas.py fails while the committed files differ from what this writes.
msgraph-sdk is needed here only, never at run time: `pip install -e '.[schemas]'` (the `test`
extra includes it too). The files are package data (read with importlib.resources); the repo's
top-level schemas/ is a link to them, so config files' `$schema` headers resolve in this repo.

Graph facts come from the models, not from us: every property name (the keys of
`get_field_deserializers()`), its type (the parse-node method and the model or enum
class each deserializer closes over), derived types (`create_from_discriminator_value`)
and the property docs (the comment above each dataclass field). What entragit adds:
the file's own keys (`id`, relationships, `refs`), the kind's stripped fields marked
as never-in-a-file, and the properties Graph requires on create. A beta-only type, which msgraph-sdk has no model of, is typed
by hand from its beta reference page (BETA_ONLY).
"""

from __future__ import annotations

import argparse
import enum
import functools
import importlib
import inspect
import json
import re
import sys
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from entragit.kinds import KINDS, Kind  # noqa: E402 - after the sys.path fix for `python tools/...`

OUT = ROOT / "entragit" / "schemas"  # package data (the top-level schemas/ links here)
DIALECT = "https://json-schema.org/draft/2020-12/schema"
GUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


# Required on create where graph-notes section 4 (and Graph's create pages) are certain.
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "conditionalAccessPolicies": ("displayName", "state", "conditions"),
    "namedLocations": ("@odata.type", "displayName"),
    "authenticationStrengthPolicies": ("displayName", "allowedCombinations"),
    "groups": ("displayName", "mailEnabled", "mailNickname", "securityEnabled"),
    "administrativeUnits": ("displayName",),
    "applications": ("displayName",),
    "servicePrincipals": ("appId",),
    "appRoleAssignments": ("principalId", "resourceId"),
    "oauth2PermissionGrants": ("clientId", "consentType", "resourceId"),
    "roleDefinitions": ("displayName", "rolePermissions", "isEnabled"),
    "roleAssignments": ("principalId", "roleDefinitionId"),
    "authenticationMethodConfigurations": ("@odata.type",),
    "crossTenantAccessPartners": ("tenantId",),
    "users": ("accountEnabled", "displayName", "mailNickname", "userPrincipalName"),
}

# Graph types msgraph-sdk (v1.0) has no model of: beta-only kinds, typed by hand from the beta reference
# page (url, property -> (the parse-node method a model would use, the page's description)). Policy base
# properties (id, displayName, description, deletedDateTime) are left to the kind's strip list.
BETA_ONLY: Mapping[str, tuple[str, Mapping[str, tuple[str, str]]]] = {
    "externalIdentitiesPolicy": (
        "https://learn.microsoft.com/graph/api/resources/externalidentitiespolicy?view=graph-rest-beta",
        {
            "allowExternalIdentitiesToLeave": (
                "get_bool_value",
                "Defines whether external users can leave the guest tenant. If set to false, self-service "
                "controls are disabled, and the admin of the guest tenant must manually remove the external "
                "user from the guest tenant."),
            "allowDeletedIdentitiesDataRemoval": ("get_bool_value", "Reserved for future use."),
        },
    ),
}

STRIPPED = "Set by the server (read-only or volatile): entragit strips it, so it never appears in a file."

# Ref `kind` values besides our kinds: directory objects we never export as files.
EXTRA_REF_KINDS = ("devices", "orgContacts", "directoryObjects", "tenants")

_PRIMITIVE = {
    "get_str_value": {"type": "string"},
    "get_bool_value": {"type": "boolean"},
    "get_int_value": {"type": "integer"},
    "get_float_value": {"type": "number"},
    "get_uuid_value": {"type": "string", "format": "uuid"},
    "get_datetime_value": {"type": "string", "format": "date-time"},
    "get_date_value": {"type": "string", "format": "date"},
    "get_time_value": {"type": "string", "format": "time"},
    "get_timedelta_value": {"type": "string", "format": "duration"},
    "get_bytes_value": {"type": "string", "contentEncoding": "base64"},
}
_PRIMITIVE_ARG = {
    "str": {"type": "string"}, "bool": {"type": "boolean"}, "int": {"type": "integer"},
    "float": {"type": "number"}, "UUID": {"type": "string", "format": "uuid"},
    "datetime": {"type": "string", "format": "date-time"}, "date": {"type": "string", "format": "date"},
    "bytes": {"type": "string", "contentEncoding": "base64"},
}
_DERIVED = re.compile(
    r'"#microsoft\.graph\.(\w+)"\.casefold\(\):\s*from \.(\w+) import (\w+)', re.S)
_FIELD = re.compile(r"^    (\w+): ")


def _models() -> Any:
    return importlib.import_module("msgraph.generated.models")


def _snake(name: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s).lower()


def model_class(graph_type: str) -> type:
    """The msgraph-sdk class for a Graph type name (`conditionalAccessPolicy`)."""
    cls_name = graph_type[0].upper() + graph_type[1:]
    for mod in (_snake(graph_type), _snake(cls_name)):
        try:
            return getattr(importlib.import_module(f"msgraph.generated.models.{mod}"), cls_name)
        except (ImportError, AttributeError):
            continue
    raise LookupError(f"no msgraph-sdk model for Graph type {graph_type!r}")


def graph_name(cls: type) -> str:
    """`ConditionalAccessPolicy` -> `conditionalAccessPolicy` (Graph's own spelling)."""
    odata = getattr(cls, "odata_type", None)
    if isinstance(odata, str) and odata.startswith("#microsoft.graph."):
        return odata.removeprefix("#microsoft.graph.")
    return cls.__name__[0].lower() + cls.__name__[1:]


def derived_types(cls: type) -> list[tuple[str, type]]:
    """(graph name, class) of every type the model's discriminator maps to, sorted."""
    try:
        src = inspect.getsource(cls.create_from_discriminator_value)  # type: ignore[attr-defined]
    except (OSError, TypeError):
        return []
    out = []
    for name, mod, cls_name in _DERIVED.findall(src):
        module = importlib.import_module(f"msgraph.generated.models.{mod}")
        out.append((name, getattr(module, cls_name)))
    return sorted(out)


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """python attribute -> the comment written above it in the model (and its bases)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("msgraph."):
            continue
        comment: list[str] = []
        for line in inspect.getsource(klass).splitlines():
            stripped = line.strip()
            if line.startswith("    # "):
                comment.append(stripped[2:])
            elif (m := _FIELD.match(line)) and comment:
                docs[m.group(1)] = " ".join(comment).strip()
                comment = []
            elif stripped:
                comment = []
    return docs


def annotation(cls: type, attr: str) -> str:
    """The dataclass annotation of a model field, as written (`Optional[list[X]]`)."""
    for klass in cls.__mro__:
        ann = vars(klass).get("__annotations__", {})
        if attr in ann:
            return str(ann[attr])
    return ""


def _is_entity(cls: type) -> bool:
    entity = importlib.import_module("msgraph.generated.models.entity").Entity
    return isinstance(cls, type) and issubclass(cls, entity)


def fields(cls: type) -> dict[str, tuple[str, str, Any]]:
    """Graph name -> (python attribute, parse method, model/enum/primitive argument)."""
    out = {}
    for key, fn in cls().get_field_deserializers().items():
        code = fn.__code__
        method = next(n for n in code.co_names if n.startswith("get_"))
        attr = next(c for c in code.co_consts if isinstance(c, str))
        arg: Any = None
        for cell in fn.__closure__ or ():
            if isinstance(cell.cell_contents, type):
                arg = cell.cell_contents
        if arg is None:
            arg = next((n for n in code.co_names if n in _PRIMITIVE_ARG), None)
        out[key] = (attr, method, arg)
    return out


class Builder:
    """Builds one schema document; nested Graph types land in its $defs."""

    def __init__(self, only_id: frozenset[str] = frozenset(), ref_paths: tuple[str, ...] = ()) -> None:
        self.defs: dict[str, Any] = {}
        self.only_id = only_id
        # Navigation properties GET returns inline that hold references (includeTargets):
        # the Kind table's Ref paths say they are part of the body.
        self.inline = {p.replace("[]", "") for p in ref_paths}

    def enum_schema(self, cls: type[enum.Enum], *, flags: bool = False) -> dict[str, Any]:
        values = [str(m._value_) for m in cls]
        if "unknownFutureValue" in values:
            # Evolvable enum: Graph adds members (beta first, and after unknownFutureValue
            # only with Prefer: include-unknown-enum-members). Known values are offered to
            # editors; validate warns on others instead of failing a real beta export.
            s: dict[str, Any] = {"type": ["string", "null"], "examples": values, "x-evolvable": True}
            if flags:
                s["x-flags"] = True
            return s
        if flags:
            one = "|".join(re.escape(v) for v in values)
            return {"type": ["string", "null"], "pattern": f"^({one})(,({one}))*$", "x-flags": True}
        return {"enum": [*values, None]}

    def value_schema(self, method: str, arg: Any, path: str, annotation: str) -> dict[str, Any]:
        if method in _PRIMITIVE:
            return {**_PRIMITIVE[method], "type": [_PRIMITIVE[method]["type"], "null"]}
        if method == "get_enum_value":
            return self.enum_schema(arg)
        if method == "get_object_value":
            return self.ref(arg, path)
        if method == "get_collection_of_enum_values" and "list[" not in annotation:
            # A flag enum: Kiota reads it as a collection, Graph sends one "a,b,c" string.
            return self.enum_schema(arg, flags=True)
        if method == "get_collection_of_enum_values":
            return {"type": ["array", "null"], "items": self.enum_schema(arg)}
        if method == "get_collection_of_object_values":
            return {"type": ["array", "null"], "items": self.ref(arg, path + "[]")}
        if method == "get_collection_of_primitive_values":
            return {"type": ["array", "null"], "items": dict(_PRIMITIVE_ARG.get(arg, {}))}
        raise ValueError(f"unhandled deserializer {method}({arg}) at {path}")

    def ref(self, cls: type, path: str) -> dict[str, Any]:
        if path in self.only_id:
            # Expanded navigation property written back as {id} only (kind.only_id).
            return {"type": ["object", "null"], "properties": {"id": {"type": "string"}}}
        name = graph_name(cls)
        if name not in self.defs:
            self.defs[name] = {}  # placeholder: recursive types refer to themselves
            self.defs[name] = self.object_schema(cls, path, polymorphic=True)
        return {"$ref": f"#/$defs/{name}"}

    def properties(self, cls: type, path: str, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        docs = field_docs(cls)
        props: dict[str, Any] = {}
        for key, (attr, method, arg) in sorted(fields(cls).items()):
            if key == "@odata.type" or key in skip:
                continue
            if arg is None and "object" in method:
                arg = cls  # a self-referencing property (accessPackage.incompatibleAccessPackages)
            if method in ("get_object_value", "get_collection_of_object_values") and _is_entity(arg):
                sub = path + key + ("[]" if "collection" in method else "")
                plain = (path + key).replace("[]", "")
                if sub not in self.only_id and not any(
                        p == plain or p.startswith(plain + ".") for p in self.inline):
                    continue  # navigation property: not part of the body a GET returns
            s = self.value_schema(method, arg, (path + key).lstrip("."), annotation(cls, attr))
            if attr in docs:
                s = {"description": docs[attr], **s}
            props[key] = s
        return props

    def object_schema(self, cls: type, path: str, *, polymorphic: bool,
                      skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        prefix = path + "." if path else ""
        s: dict[str, Any] = {
            # [] for an empty complex value: community CA templates (PowerShell
            # ConvertTo-Json) send `"locations": []`; treat it as "not set".
            "type": ["object", "null", "array"], "maxItems": 0,
            "properties": {"@odata.type": {"type": "string"}, **self.properties(cls, prefix, skip)},
        }
        derived = derived_types(cls) if polymorphic else []
        if derived:
            s["properties"]["@odata.type"] = {
                "type": "string", "examples": [f"#microsoft.graph.{graph_name(cls)}"]
                + [f"#microsoft.graph.{n}" for n, _ in derived]}
            branches = []
            for name, sub in derived:
                if name not in self.defs:
                    self.defs[name] = {}
                    self.defs[name] = self.object_schema(sub, path, polymorphic=False, skip=skip)
                branches.append({
                    "if": {"required": ["@odata.type"],
                           "properties": {"@odata.type": {"const": f"#microsoft.graph.{name}"}}},
                    "then": {"$ref": f"#/$defs/{name}"},
                })
            s["allOf"] = branches
        return s


def top_level_strip(kind: Kind) -> list[str]:
    return sorted(s for s in kind.strip if "." not in s and s != "id")


def refs_schema() -> dict[str, Any]:
    kinds = sorted({k.name for k in KINDS} | {"users", "roleDefinitions", *EXTRA_REF_KINDS})
    return {
        "description": "Readable index of every id this file references, maintained by entragit "
                       "(export and fmt rebuild it).",
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "required": ["kind"],
            "properties": {
                "kind": {"enum": kinds},
                "name": {"type": ["string", "null"]},
                "missing": {"type": "boolean",
                            "description": "The referenced object was not found (dangling)."},
            },
            "additionalProperties": {
                "description": "Natural key of the referenced object (userPrincipalName, appId, ...).",
                "type": ["string", "array", "null"], "items": {"type": "string"},
            },
        },
    }


def kind_schema(kind: Kind) -> dict[str, Any]:
    """The JSON Schema for one kind's files."""
    b = Builder(only_id=frozenset(kind.only_id), ref_paths=tuple(r.path for r in kind.refs))
    strip = frozenset(top_level_strip(kind))
    if kind.graph_type in BETA_ONLY:
        page, fields_ = BETA_ONLY[kind.graph_type]
        source = f"Graph's beta reference ({page})"
        body = {"properties": {"@odata.type": {"type": "string"}, **{
            key: {"description": doc, **b.value_schema(method, None, key, "")}
            for key, (method, doc) in sorted(fields_.items())}}}
    else:
        source = f"msgraph-sdk {version('msgraph-sdk')}"
        body = b.object_schema(model_class(kind.graph_type), "", polymorphic=kind.polymorphic, skip=strip)
    props = body["properties"]
    props["id"] = {"description": "Graph id of the object (the fixed id for singletons).",
                   "type": "string"}
    for name in strip:
        # Server-managed: never in a file. `not {}` rather than `false` so editors show why
        # (and jsonschema keeps the error's path, which it drops for a bare `false`).
        props[name] = {"description": STRIPPED, "not": {}}
    for name in sorted(getattr(kind, "readonly", ())):
        if name in props:  # kept for refs to match on, never written back
            props[name] = {**props[name], "readOnly": True}
    for rel in kind.relations:
        props[rel.name] = {
            "description": f"Object ids of the {rel.name} (sorted), read and written as a relationship.",
            "type": "array", "items": {"type": "string", "pattern": GUID}, "uniqueItems": True,
        }
    props["refs"] = refs_schema()
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "title": f"entragit {kind.title} ({kind.name})",
        "description": f"One Microsoft Graph {kind.graph_type} as canonical YAML "
                       f"(Graph {kind.version} {kind.path}). Generated by tools/gen_schemas.py "
                       f"from {source}; do not edit.",
        "type": "object",
        "properties": dict(sorted(props.items())),
        # Graph adds properties (beta first): unknown keys are allowed, known ones are typed.
        "additionalProperties": True,
    }
    if "allOf" in body:
        schema["allOf"] = body["allOf"]
        props["@odata.type"] = {"type": "string",
                                "examples": body["properties"]["@odata.type"]["examples"]}
    required = REQUIRED.get(kind.name, ())
    if required:
        schema["required"] = list(required)
    if b.defs:
        schema["$defs"] = dict(sorted(b.defs.items()))
    return schema


def tenant_schema() -> dict[str, Any]:
    """tenants/<name>/tenant.yaml, as entragit.config reads it."""
    from entragit.config import AUTH_METHODS, CLOUDS, WRITER_KEYS

    kinds = [k.name for k in KINDS]
    return {
        "$schema": DIALECT,
        "title": "entragit tenant.yaml",
        "description": "Connection and export settings of one tenant (entragit.config). "
                       "Generated by tools/gen_schemas.py; do not edit.",
        "type": "object",
        "required": ["tenantId"],
        "properties": {
            "tenantId": {"type": "string", "pattern": GUID, "description": "Entra tenant id (GUID)."},
            "cloud": {"type": "string", "examples": sorted(CLOUDS),
                      "description": "National cloud by name; or set graphUrl."},
            "graphUrl": {"type": "string", "description": "Explicit Graph endpoint (e.g. the simulator). Only "
                         "Microsoft Graph hosts and loopback, unless $ENTRAGIT_TRUSTED_HOSTS names the host."},
            "caBundle": {"type": ["string", "null"],
                         "description": "PEM file of extra CAs to trust (the simulator's TLS)."},
            "auth": {
                "description": "How to get a token. Secrets are never stored here (a client secret "
                               "is read from an environment variable).",
                "type": "object",
                "properties": {
                    "method": {"enum": list(AUTH_METHODS)},
                    "clientId": {"type": "string", "description": "The app entragit signs in as; with writer "
                                 "set, the read-only one (export, plan, drift, pull requests)."},
                    "writer": {
                        "description": "The write app only `entragit apply` signs in as (same method; its "
                                       "secret in $ENTRAGIT_WRITER_CLIENT_SECRET unless secretEnv says).",
                        "type": "object",
                        "required": ["clientId"],
                        "properties": {k: {"type": "string"} for k in WRITER_KEYS},
                        "additionalProperties": False,
                    },
                },
            },
            "users": {"type": "boolean", "description": "Export users too (opt-in, privacy)."},
            "kinds": {
                "description": "Kinds to export (default: every kind that is on by default).",
                "type": ["array", "null"], "items": {"enum": kinds}, "uniqueItems": True,
            },
            "breakGlass": {
                "description": "Emergency-access accounts (user ids or UPNs) that every enabled "
                               "Conditional Access policy must exclude; validate checks it.",
                "type": ["array", "null"], "items": {"type": "string"}, "uniqueItems": True,
            },
        },
        "additionalProperties": True,
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every kind plus tenant.yaml."""
    out = {f"{k.name}.schema.json": kind_schema(k) for k in KINDS}
    out["tenant.schema.json"] = tenant_schema()
    return out


def render(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a committed schema is stale")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    stale = []
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = all_schemas()
    for name, schema in wanted.items():
        path = args.out / name
        text = render(schema)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for extra in sorted(set(p.name for p in args.out.glob("*.schema.json")) - set(wanted)):
        stale.append(extra)
        if not args.check:
            (args.out / extra).unlink()
    if stale:
        print(("stale: " if args.check else "wrote: ") + ", ".join(stale))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
