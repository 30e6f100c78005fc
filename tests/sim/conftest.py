"""Fixtures: an in-process simulator on port 0 and a raw httpx client speaking to it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from entragit_sim import Simulator
from entragit_sim.builtins import ROLE_TEMPLATES

ADMIN = {"Authorization": "Bearer sim-admin"}
CORPUS = Path(__file__).parents[2].parent / "shared" / "corpus"
TENANT = "7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
NS = uuid.UUID("6a7c2a7e-1111-4222-8333-944455556666")


def oid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def small_seed() -> dict[str, list[dict[str, Any]]]:
    """A tiny tenant: two users, three groups, a named location, a CA policy naming them, an app + SP."""
    users = [
        {
            "id": oid(f"user{i}"),
            "displayName": f"User {i}",
            "userPrincipalName": f"user{i}@contoso.example",
            "accountEnabled": True,
            "mailNickname": f"user{i}",
        }
        for i in range(2)
    ]
    groups = [
        {
            "id": oid(f"group{i}"),
            "displayName": f"Group {i}",
            "mailEnabled": False,
            "mailNickname": f"group{i}",
            "securityEnabled": True,
            "groupTypes": [],
            "members": [users[0]["id"]],
            "owners": [users[1]["id"]],
        }
        for i in range(3)
    ]
    location = {
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "id": oid("loc"),
        "displayName": "HQ",
        "isTrusted": False,
        "ipRanges": [
            {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.0.0.0/8"}
        ],
    }
    policies = [
        {
            "id": oid(f"ca{i}"),
            "displayName": f"CA{i:03d}",
            "state": "enabled",
            "conditions": {
                "users": {"includeUsers": ["All"], "excludeGroups": [g["id"] for g in groups]},
                "applications": {"includeApplications": ["All"]},
                "clientAppTypes": ["all"],
                "locations": {"includeLocations": ["All"], "excludeLocations": [location["id"]]},
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
        }
        for i in range(5)
    ]
    app = {
        "id": oid("app"),
        "appId": oid("appId"),
        "displayName": "Export tool",
        "owners": [users[0]["id"]],
        "passwordCredentials": [
            {
                "displayName": "seed",
                "secretText": "seed-secret-1",
                "keyId": oid("key"),
                "endDateTime": "2099-01-01T00:00:00Z",
            }
        ],
    }
    sp = {"id": oid("sp"), "appId": app["appId"], "displayName": "Export tool"}
    return {
        "users": users,
        "groups": groups,
        "namedLocations": [location],
        "conditionalAccessPolicies": policies,
        "applications": [app],
        "servicePrincipals": [sp],
    }


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def make(**kwargs: Any) -> Simulator:
        kwargs.setdefault("seed", small_seed())
        kwargs.setdefault("tenant_id", TENANT)
        s = Simulator(**kwargs).start()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def sim(make_sim: Callable[..., Simulator]) -> Simulator:
    return make_sim()


@pytest.fixture
def graph(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN, timeout=10) as c:
        yield c


@pytest.fixture
def beta(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.beta_url + "/", headers=ADMIN, timeout=10) as c:
        yield c


def role_id(name: str) -> str:
    return ROLE_TEMPLATES[name]
