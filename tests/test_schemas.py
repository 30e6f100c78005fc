"""schemas/: one JSON Schema per kind, generated from Graph's models, accepting every corpus payload."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from entragit.kinds import BY_NAME, KINDS, Kind

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "entragit" / "schemas"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _gen() -> Any:
    spec = importlib.util.spec_from_file_location("gen_schemas", ROOT / "tools" / "gen_schemas.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_kind_has_a_valid_schema(kind: Kind) -> None:
    schema = _schema(kind.name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    props = schema["properties"]
    assert props["id"] == {"description": props["id"]["description"], "type": "string"}
    assert "refs" in props
    for rel in kind.relations:
        assert props[rel.name]["type"] == "array"
    for field in kind.strip:
        if "." not in field and field != "id":
            assert props[field]["not"] == {}, f"{kind.name}.{field} is stripped, so never in a file"


def test_tenant_schema_is_valid() -> None:
    schema = _schema("tenant")
    Draft202012Validator.check_schema(schema)
    v = Draft202012Validator(schema)
    assert not list(v.iter_errors({"tenantId": "11111111-2222-3333-4444-555555555555",
                                   "breakGlass": ["bg1@contoso.example"]}))
    assert list(v.iter_errors({"breakGlass": "bg1@contoso.example"}))


def test_no_stray_schema_files() -> None:
    names = {p.name for p in SCHEMAS.glob("*.schema.json")}
    assert names == {f"{k.name}.schema.json" for k in KINDS} | {"tenant.schema.json"}


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    gen = _gen()
    assert gen.main(["--out", str(tmp_path)]) == 0
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        assert (tmp_path / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{path.name} is stale: run `python tools/gen_schemas.py`")


def test_graph_types_follow_the_models() -> None:
    s = _schema("conditionalAccessPolicies")
    assert s["required"] == ["displayName", "state", "conditions"]
    assert s["properties"]["state"]["enum"] == [
        "enabled", "disabled", "enabledForReportingButNotEnforced", None]
    grant = s["$defs"]["conditionalAccessGrantControls"]["properties"]
    assert grant["builtInControls"]["items"]["x-evolvable"] is True
    assert grant["authenticationStrength"]["properties"] == {"id": {"type": "string"}}  # only_id
    flows = s["$defs"]["conditionalAccessAuthenticationFlows"]["properties"]["transferMethods"]
    assert flows["x-flags"] is True and flows["type"] == ["string", "null"]  # Graph sends "a,b"
    groups = _schema("groups")
    assert set(groups["required"]) == {"displayName", "mailEnabled", "mailNickname", "securityEnabled"}
    assert "transitiveMembers" not in groups["properties"]  # navigation properties are not body


def test_polymorphic_kinds_branch_on_odata_type() -> None:
    s = _schema("namedLocations")
    thens = {b["if"]["properties"]["@odata.type"]["const"]: b["then"]["$ref"] for b in s["allOf"]}
    assert thens["#microsoft.graph.ipNamedLocation"] == "#/$defs/ipNamedLocation"
    assert thens["#microsoft.graph.countryNamedLocation"] == "#/$defs/countryNamedLocation"
    v = Draft202012Validator(s)
    bad = {"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x", "isTrusted": "yes"}
    assert [e.json_path for e in v.iter_errors(bad)] == ["$.isTrusted"]
    s = _schema("authenticationMethodConfigurations")
    assert any(b["if"]["properties"]["@odata.type"]["const"].endswith("fido2AuthenticationMethodConfiguration")
               for b in s["allOf"])


# --- corpus ---------------------------------------------------------------------------------

_ENVELOPES = {  # misc/ list envelopes whose items are GET shapes of a kind (delta pages are not)
    "graphdocs-v1-list-envelope-authentication-strength-policies.json": "authenticationStrengthPolicies",
    "graphdocs-v1-list-envelope-conditional-access-policies.json": "conditionalAccessPolicies",
    "graphdocs-v1-list-envelope-named-locations.json": "namedLocations",
    "tfprovider-m365-groups-all.json": "groups",
    "tfprovider-m365-service-principals-all.json": "servicePrincipals",
}
_MISC = {
    "graphdocs-v1-app-role-assignment.json": "appRoleAssignments",
    "tfprovider-m365-service-principal-app-role-assigned-to-app-role-assignment-success.json":
        "appRoleAssignments",
    "graphdocs-v1-oauth2-permission-grant.json": "oauth2PermissionGrants",
}


def _annotation(key: str) -> bool:
    return key.startswith(("@", "#")) and key != "@odata.type" or "@odata." in key and key != "@odata.type"


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _clean(v) for k, v in node.items() if not _annotation(k)}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _as_file(kind: Kind, payload: dict[str, Any]) -> dict[str, Any]:
    """What the file format carries: no annotations, no stripped fields, no expanded navigations."""
    body = _clean(payload)
    return {k: v for k, v in body.items() if k == "id" or k not in kind.strip}


def _cross_tenant_kind(name: str, doc: dict[str, Any]) -> str | None:
    if "userSyncInbound" in doc:
        return None  # a partner's identitySynchronization: its own endpoint, stripped from partners
    if "tenantId" in doc:
        return "crossTenantAccessPartners"
    if "isServiceDefault" in doc or "default" in name:
        return "crossTenantAccessDefault"
    return "crossTenantAccessPolicy"


def _corpus() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in sorted(CORPUS.glob("*/*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        rel = f"{path.parent.name}/{path.name}"
        folder = path.parent.name
        if folder == "misc":
            if path.name in _ENVELOPES:
                for i, item in enumerate(doc["value"]):
                    yield f"{rel}#{i}", _ENVELOPES[path.name], item
            elif path.name in _MISC:
                yield rel, _MISC[path.name], doc
            continue
        kind = _cross_tenant_kind(path.name, doc) if folder == "crossTenantAccessPolicy" else folder
        if kind:
            yield rel, kind, doc
        if folder == "authenticationMethodsPolicy":
            for item in doc.get("authenticationMethodConfigurations") or ():
                yield f"{rel}#{item.get('id')}", "authenticationMethodConfigurations", item


@pytest.fixture(scope="module")
def validators() -> dict[str, Draft202012Validator]:
    return {k.name: Draft202012Validator(_schema(k.name)) for k in KINDS}


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus folder {CORPUS} is absent")
def test_every_corpus_payload_validates(validators: dict[str, Draft202012Validator]) -> None:
    seen: set[str] = set()
    failures = []
    for rel, kind, payload in _corpus():
        seen.add(kind)
        doc = _as_file(BY_NAME[kind], payload)
        for e in validators[kind].iter_errors(doc):
            failures.append(f"{rel} ({kind}) {e.json_path}: {e.message[:160]}")
    assert not failures, "\n".join(failures)
    assert {"conditionalAccessPolicies", "namedLocations", "groups", "applications",
            "authenticationMethodConfigurations", "crossTenantAccessPartners"} <= seen
