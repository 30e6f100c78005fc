"""Every property the client writes exists on the v1.0 CSDL type of its kind, with enum values from the CSDL:
the committed demo files (what apply writes) and every change path of a real plan against the simulator."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from entragit import canonical
from entragit import kinds as kindmod
from tests import metadata

REPO = Path(__file__).parents[1]
BETA = "https://learn.microsoft.com/graph/api/resources/{}?view=graph-rest-beta"
ADMIN = {"Authorization": "Bearer sim-admin"}

# (kind, place with [] for list items, problem) -> why: beta-only properties the client writes to kinds it
# reads and writes on beta (kinds.py version="beta"), documented on the beta pages.
BETA_WRITES: dict[tuple[str, str, str], str] = {
    ("conditionalAccessPolicies", "conditions.times", "unknown property"):
        BETA.format("conditionalaccessconditionset"),
    ("conditionalAccessPolicies", "conditions.deviceStates", "unknown property"):
        BETA.format("conditionalaccessconditionset"),
    ("conditionalAccessPolicies", "conditions.devices.includeDevices", "unknown property"):
        BETA.format("conditionalaccessdevices"),
    ("conditionalAccessPolicies", "conditions.devices.excludeDevices", "unknown property"):
        BETA.format("conditionalaccessdevices"),
    ("conditionalAccessPolicies", "conditions.devices.includeDeviceStates", "unknown property"):
        BETA.format("conditionalaccessdevices"),
    ("conditionalAccessPolicies", "conditions.devices.excludeDeviceStates", "unknown property"):
        BETA.format("conditionalaccessdevices"),
    ("conditionalAccessPolicies", "sessionControls.continuousAccessEvaluation", "unknown property"):
        BETA.format("conditionalaccesssessioncontrols"),
}

# Written on v1.0 although the v1.0 CSDL lacks them: each a finding (the demo files were exported from the
# simulator's seed, which serves beta-only properties on v1.0: see tests/sim/test_metadata_csdl.py).
_SEED = "# finding: fix in seed/router (exported from the simulator's beta-only v1.0 data): "
V1_FINDINGS: dict[tuple[str, str, str], str] = {
    ("authenticationMethodsPolicy", "reportSuspiciousActivitySettings", "unknown property"):
        _SEED + BETA.format("authenticationmethodspolicy"),
    ("authenticationMethodsPolicy", "systemCredentialPreferences", "unknown property"):
        _SEED + BETA.format("authenticationmethodspolicy"),
    ("authenticationMethodsPolicy",
     "registrationEnforcement.authenticationMethodsRegistrationCampaign.enforceRegistrationAfterAllowedSnoozes",
     "unknown property"): _SEED + BETA.format("authenticationmethodsregistrationcampaign"),
    ("authenticationMethodConfigurations", "(root)", "unknown @odata.type"):
        _SEED + BETA.format("hardwareoathauthenticationmethodconfiguration"),
}
ALLOWED = {**BETA_WRITES, **V1_FINDINGS}

# Kinds whose Graph type exists on beta only: the v1.0 CSDL has no type to check them against (and no beta
# CSDL is kept here); the beta page is the reference, typed by hand in tools/gen_schemas.py (BETA_ONLY).
BETA_TYPES: dict[str, str] = {"externalIdentitiesPolicy": BETA.format("externalidentitiespolicy")}


def _key(kind: str, p: metadata.Problem) -> tuple[str, str, str]:
    return kind, re.sub(r"\[\d+\]", "[]", p.where), p.what.split(" of ")[0] if p.value else p.what


def _relations(kind: kindmod.Kind) -> set[str]:
    return {r.name for r in kind.relations}


def _file_problems(root: Path) -> dict[tuple[str, str, str], list[str]]:
    found: dict[tuple[str, str, str], list[str]] = {}
    for kind in kindmod.KINDS:
        if kind.name in BETA_TYPES:
            continue
        for f in sorted((root / kind.name).glob("*.yaml")):
            doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
            # relations (members, owners) are navigation properties, written through $ref
            # `refs` is the file's own record of resolved names (entragit/canonical.py REFS), never written
            # a child kind's parent id that Graph names in the path only (Kind.parent_in_path) is entragit's
            body = {k: v for k, v in doc.items() if k not in _relations(kind) | {canonical.REFS} | _path_parent(kind)}
            nav = metadata.csdl().navigation(kind.graph_type)
            assert _relations(kind) <= set(nav), f"{kind.name}: relations {_relations(kind) - set(nav)} not in CSDL"
            for p in metadata.check(body, kind.graph_type):
                found.setdefault(_key(kind.name, p), []).append(f"{f.relative_to(root)}: {p}")
    return found


def _path_parent(kind: kindmod.Kind) -> set[str]:
    """The field entragit fills in from the path for a child kind whose body never names its parent."""
    return {kind.parent_field} if kind.parent_in_path else set()


def test_every_kind_names_a_csdl_entity_type() -> None:
    metadata.require()
    for kind in kindmod.KINDS:
        if kind.name in BETA_TYPES:  # listed only while the v1.0 CSDL lacks the type
            assert kind.version == "beta" and not metadata.csdl().has_type(kind.graph_type), kind.name
            continue
        t = metadata.csdl().type(kind.graph_type)
        assert t.kind == "EntityType", f"{kind.name}: {kind.graph_type} is a {t.kind}"
        for f in () if kind.singleton else kind.natural_key + (kind.id_field,):
            if f in _path_parent(kind):
                continue
            assert f in metadata.csdl().properties(kind.graph_type), f"{kind.name}: natural key {f} not on the type"


def test_committed_demo_files_use_only_csdl_properties_and_enum_values() -> None:
    metadata.require()
    found = _file_problems(REPO / "tenants" / "demo")
    unknown = {k: v[:2] for k, v in found.items() if k not in ALLOWED}
    assert not unknown, "\n".join(f"{k}: {ex}" for k, ex in sorted(unknown.items()))
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"no longer written: drop from the allowlist: {stale}"
    for k, why in ALLOWED.items():
        assert "view=graph-rest-beta" in why, k
        if k in V1_FINDINGS:
            assert kindmod.get(k[0]).version == "v1.0"
        else:
            assert kindmod.get(k[0]).version == "beta", f"{k}: beta-only property written on v1.0"


def _paths(value: Any, prefix: str) -> list[str]:
    if isinstance(value, dict) and "@odata.type" not in value:
        out = []
        for k, v in value.items():
            out += _paths(v, f"{prefix}.{k}")
        return out or [prefix]
    return [prefix]


@pytest.fixture
def planned(repo: Any, sim: Any) -> dict[str, Any]:
    """The demo story: export, then hard-delete a group, soft-delete an app, weaken and rename policies."""
    repo("export", "--commit")
    c = httpx.Client(base_url=sim.graph_url, headers=ADMIN)
    beta = sim.graph_url.replace("/v1.0", "/beta")
    grp = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]
    assert c.delete(f"/groups/{grp['id']}").status_code == 204
    assert c.delete(f"/directory/deletedItems/{grp['id']}").status_code == 204
    app = c.get("/applications", params={"$filter": "displayName eq 'HR Portal'"}).json()["value"][0]
    assert c.delete(f"/applications/{app['id']}").status_code == 204
    pols = c.get(f"{beta}/identity/conditionalAccess/policies").json()["value"]
    for p in pols[:3]:
        r = c.patch(f"{beta}/identity/conditionalAccess/policies/{p['id']}",
                    json={"state": "disabled", "displayName": p["displayName"] + " (edited)",
                          "grantControls": {"operator": "OR", "builtInControls": ["block"]}})
        assert r.status_code == 204, r.text
    auth = c.get("/policies/authorizationPolicy").json()
    r = c.patch("/policies/authorizationPolicy", json={"allowInvitesFrom": "everyone",
                                                       "guestUserRoleId": auth["guestUserRoleId"]})
    assert r.status_code == 204, r.text
    out = repo("plan", "--format", "json", code=None).output
    return json.loads(out[out.index("{"):])


def test_every_planned_write_names_csdl_properties(planned: dict[str, Any]) -> None:
    metadata.require()
    model = metadata.csdl()
    ops = [o for o in planned["operations"] if o["changes"]]
    assert {o["kind"] for o in ops} >= {"conditionalAccessPolicies", "authorizationPolicy"}, ops
    bad = []
    for op in ops:
        kind = kindmod.get(op["kind"])
        for ch in op["changes"]:
            for path in _paths(ch["new"], ch["path"]) if ch["old"] is None else [ch["path"]]:
                dotted = re.sub(r"\[[^\]]*\]", "", path)
                head = dotted.split(".")[0]
                if head in _relations(kind) or head.startswith("@odata"):
                    continue
                # polymorphic kinds: the property lives on one of the derived types
                types = model.derived(kind.graph_type) if kind.polymorphic else {kind.graph_type}
                if not any(_resolves(t, dotted) for t in types):
                    key = (kind.name, dotted, "unknown property")
                    if key not in ALLOWED:
                        bad.append(f"{op['action']} {kind.name} {op['name']}: {path}")
            if ch["new"] is not None and ch["old"] is not None:
                bad += [f"{kind.name} {ch['path']}: {p}" for p in _value_problems(kind, ch["path"], ch["new"])]
    assert not bad, "\n".join(bad)


def _value_problems(kind: kindmod.Kind, path: str, new: Any) -> list[metadata.Problem]:
    """Enum values in an update: the new value checked against the property's CSDL enum."""
    dotted = re.sub(r"\[[^\]]*\]", "", path)
    try:
        prop = metadata.csdl().resolve(kind.graph_type, dotted)
    except KeyError:
        return []
    return metadata._check_value(new, prop, path)


def _resolves(type_name: str, dotted: str) -> bool:
    try:
        metadata.csdl().resolve(type_name, dotted)
    except KeyError:
        return False
    return True
