"""Every shared/corpus payload loads as seed state and reads back unchanged (apart from OData annotations)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from entragit_sim import Simulator
from tests.sim.conftest import ADMIN, CORPUS, TENANT

if not CORPUS.is_dir():
    pytest.skip(
        f"shared corpus not found at {CORPUS} (a clone outside the workspace)",
        allow_module_level=True,
    )

FILES = sorted(p for p in CORPUS.glob("*/*.json") if p.parent.name != "misc")
# Folder -> (collection path, polymorphic?) as Graph serves it (README of the corpus).
PATHS = {
    "conditionalAccessPolicies": ("identity/conditionalAccess/policies", False),
    "namedLocations": ("identity/conditionalAccess/namedLocations", True),
    "authenticationStrengthPolicies": ("policies/authenticationStrengthPolicies", False),
    "groups": ("groups", False),
    "applications": ("applications", False),
    "servicePrincipals": ("servicePrincipals", False),
    "roleAssignments": ("roleManagement/directory/roleAssignments", False),
    "roleDefinitions": ("roleManagement/directory/roleDefinitions", False),
    "administrativeUnits": ("directory/administrativeUnits", False),
}


def expected(value: Any, top: bool, keep_type: bool) -> Any:
    """The payload minus OData control information (written independently of the loader)."""
    if isinstance(value, dict):
        return {
            k: expected(v, False, True)
            for k, v in value.items()
            if not (
                k.startswith("#")
                or k.startswith("@microsoft.graph.")
                or ("@odata." in k and k != "@odata.type")
                or (k == "@odata.type" and top and not keep_type)
            )
        }
    if isinstance(value, list):
        return [expected(v, False, True) for v in value]
    return value


def unannotated(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "@odata.context"}


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    s = Simulator(seed="empty", tenant_id=TENANT).start()
    yield s
    s.stop()


def find(client: httpx.Client, path: str, raw: dict[str, Any]) -> dict[str, Any]:
    if "id" in raw:
        r = client.get(f"{path}/{raw['id']}")
        assert r.status_code == 200, r.text
        return unannotated(r.json())
    matches = [
        o
        for o in client.get(path, params={"$top": 999}).json()["value"]
        if o.get("displayName") == raw.get("displayName")
    ]
    assert len(matches) == 1
    return {k: v for k, v in matches[0].items() if k != "id"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_payload_round_trips(shared_sim: Simulator, path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8-sig"))
    folder = path.parent.name
    shared_sim.load({folder: [raw]})
    with httpx.Client(base_url=shared_sim.graph_url + "/", headers=ADMIN, timeout=10) as c:
        if folder in PATHS:
            coll, poly = PATHS[folder]
            got, want = find(c, coll, raw), expected(raw, True, poly)
            if want.get("keyCredentials") and "id" in raw:
                # Graph returns keyCredentials[].key only on GET {id}?$select=keyCredentials.
                sel = c.get(f"{coll}/{raw['id']}", params={"$select": "keyCredentials"}).json()
                assert sel["keyCredentials"] == want["keyCredentials"]
                want["keyCredentials"] = [{**k, "key": None} for k in want["keyCredentials"]]
            strength = (want.get("grantControls") or {}).get("authenticationStrength")
            if isinstance(strength, dict) and set(strength) == {"id"}:
                # A POST-style reference comes back expanded, as Graph's GET does (graph-notes 4.1).
                assert got["grantControls"]["authenticationStrength"]["id"] == strength["id"]
                got["grantControls"]["authenticationStrength"] = strength
            assert got == want
        elif folder == "authorizationPolicy":
            assert unannotated(c.get("policies/authorizationPolicy").json()) == expected(
                raw, True, False
            )
        elif folder == "authenticationMethodsPolicy":
            got = unannotated(c.get("policies/authenticationMethodsPolicy").json())
            want = expected(raw, True, False)
            configs = {x["id"]: x for x in got.pop("authenticationMethodConfigurations")}
            for cfg in want.pop("authenticationMethodConfigurations"):
                assert configs[cfg["id"]] == cfg
                one = c.get(
                    f"policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{cfg['id']}"
                )
                assert unannotated(one.json()) == cfg
            assert got == want
        elif folder == "crossTenantAccessPolicy":
            check_cross_tenant(c, raw)
        else:
            pytest.fail(f"no read-back rule for corpus folder {folder}")


def check_cross_tenant(c: httpx.Client, raw: dict[str, Any]) -> None:
    want = expected(raw, True, False)
    context = raw.get("@odata.context", "")
    base = "policies/crossTenantAccessPolicy"
    if "isServiceDefault" in raw:
        assert unannotated(c.get(f"{base}/default").json()) == want
    elif "tenantId" in raw and (
        "identitySynchronization/$entity" in context
        or "userSyncInbound" in raw
        or "groupSyncInbound" in raw
    ):
        assert (
            unannotated(c.get(f"{base}/partners/{raw['tenantId']}/identitySynchronization").json())
            == want
        )
    elif "tenantId" in raw:
        sync = want.pop("identitySynchronization", None)
        assert unannotated(c.get(f"{base}/partners/{raw['tenantId']}").json()) == want
        if sync is not None:
            got = unannotated(
                c.get(f"{base}/partners/{raw['tenantId']}/identitySynchronization").json()
            )
            assert got == sync
    else:
        assert unannotated(c.get(base).json()) == want
