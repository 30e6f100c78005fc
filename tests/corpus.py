"""Where the shared corpus of real Graph payloads lives (outside this project), and how to read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# corpus folder -> our kind (None: not tenant state)
KIND_OF = {
    "conditionalAccessPolicies": "conditionalAccessPolicies",
    "namedLocations": "namedLocations",
    "authenticationStrengthPolicies": "authenticationStrengthPolicies",
    "groups": "groups",
    "applications": "applications",
    "servicePrincipals": "servicePrincipals",
    "authenticationMethodsPolicy": "authenticationMethodsPolicy",
    "authorizationPolicy": "authorizationPolicy",
    "roleAssignments": "roleAssignments",
    "roleDefinitions": "roleDefinitions",
    "administrativeUnits": "administrativeUnits",
}


def require_corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (only present in the project workspace)")
    return CORPUS


def payloads() -> list[tuple[str, Path]]:
    """(kind, file) for every corpus payload that is tenant state of a kind we export."""
    if not CORPUS.is_dir():
        return []
    out = []
    for folder, kind in KIND_OF.items():
        for p in sorted((CORPUS / folder).glob("*.json")):
            out.append((kind, p))
    return out


# Our own copies of the example responses in Microsoft Graph's API reference, for kinds the shared
# corpus has no payload of: tests/docs_examples/<kind>/<name>.json, each listed with its page in
# tests/docs_examples/SOURCES.md.
DOCS_EXAMPLES = Path(__file__).resolve().parent / "docs_examples"


def docs_payloads() -> list[tuple[str, Path]]:
    """(kind, file) for every docs example, its folder named for the kind."""
    return [(folder.name, p) for folder in sorted(DOCS_EXAMPLES.iterdir()) if folder.is_dir()
            for p in sorted(folder.glob("*.json"))] if DOCS_EXAMPLES.is_dir() else []


def load(p: Path) -> dict:
    return json.loads(p.read_text(encoding="utf-8"))
