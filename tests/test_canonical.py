"""Canonical form: deterministic, faithful, quiet, readable, safe (DESIGN.md) on real payloads."""

from __future__ import annotations

import json

import pytest

from entragit import canonical, kinds, yamlio
from entragit.snapshot import Names, Snapshot

from .corpus import load, payloads, require_corpus

CASES = payloads()


def _no_annotations(node):
    if isinstance(node, dict):
        return {k: _no_annotations(v) for k, v in node.items() if "@odata." not in k and not k.startswith(("#", "@"))}
    if isinstance(node, list):
        return [_no_annotations(v) for v in node]
    return node


def _sorted(node):
    return json.loads(json.dumps(canonical.sort_lists(node), sort_keys=True))


@pytest.mark.parametrize("kind_name,path", CASES, ids=[p.name for _, p in CASES] or None)
def test_corpus_round_trip_is_faithful(kind_name, path):
    require_corpus()
    kind = kinds.get(kind_name)
    raw = load(path)
    body = canonical.clean(kind, raw)
    text = canonical.render(kind, canonical.to_document(kind, body, lambda r, v: None))
    back = canonical.from_document(kind, yamlio.load(text, path.name))
    assert back == body
    # Faithful: what comes back is the payload minus annotations and server-managed fields, nothing else.
    expected = _no_annotations(raw)
    for f in kind.strip:
        canonical._drop_path(expected, f.split("."))
    for p in kind.only_id:
        head, _, leaf = p.rpartition(".")
        parent = expected
        for part in head.split("."):
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and isinstance(parent.get(leaf), dict):
            parent[leaf] = {"id": parent[leaf].get("id")}
    back_plain = _no_annotations(back)
    assert _sorted(back_plain) == _sorted(expected)


@pytest.mark.parametrize("kind_name,path", CASES, ids=[p.name for _, p in CASES] or None)
def test_corpus_is_quiet_and_deterministic(kind_name, path):
    require_corpus()
    kind = kinds.get(kind_name)
    raw = load(path)
    doc = canonical.to_document(kind, canonical.clean(kind, raw), lambda r, v: None)
    text = canonical.render(kind, doc)
    for noisy in ("createdDateTime:", "modifiedDateTime:", "@odata.context", "@odata.id", "@odata.editLink",
                  "\n'#microsoft.graph.", " '#microsoft.graph.restore'"):
        assert noisy not in text
    # Key order in the raw payload must not matter.
    shuffled = dict(reversed(list(raw.items())))
    assert canonical.render(kind, canonical.to_document(kind, canonical.clean(kind, shuffled),
                                                        lambda r, v: None)) == text


def test_polymorphic_type_is_kept_where_writes_need_it():
    kind = kinds.get("namedLocations")
    raw = {"@odata.type": "#microsoft.graph.ipNamedLocation", "@odata.context": "x", "id": "a", "displayName": "HQ",
           "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.0.0.0/8"}],
           "createdDateTime": "2024-01-01T00:00:00Z"}
    body = canonical.clean(kind, raw)
    assert body["@odata.type"] == "#microsoft.graph.ipNamedLocation"
    assert body["ipRanges"][0]["@odata.type"] == "#microsoft.graph.iPv4CidrRange"
    assert "createdDateTime" not in body and "@odata.context" not in body


def test_refs_index_names_every_reference():
    # Graph ids are GUIDs: a short non-GUID string in an id field is a keyword, not a reference.
    g1, u1, r1, gone = (f"{n}0000000-0000-4000-8000-000000000000" for n in "1234")
    ca = kinds.get("conditionalAccessPolicies")
    snap = Snapshot()
    snap.kind("groups")[g1] = {"id": g1, "displayName": "Finance Admins", "mailNickname": "finance-admins"}
    snap.lookup["users"] = {u1: {"id": u1, "displayName": "Break Glass", "userPrincipalName": "bg@x.example"}}
    snap.lookup["roleDefinitions"] = {r1: {"id": r1, "templateId": r1, "displayName": "Global Administrator"}}
    body = {"id": "p", "displayName": "CA", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": [u1], "excludeGroups": [g1, gone],
                                     "includeRoles": [r1]}}}
    doc = canonical.to_document(ca, body, Names(snap).resolve)
    refs = doc["refs"]
    assert refs[g1] == {"kind": "groups", "name": "Finance Admins", "mailNickname": "finance-admins"}
    assert refs[u1]["userPrincipalName"] == "bg@x.example"
    assert refs[r1]["name"] == "Global Administrator"
    assert refs[gone] == {"kind": "groups", "missing": True}
    assert "All" not in refs
    text = canonical.render(ca, doc)
    assert f"{g1}: {{kind: groups, name: Finance Admins, mailNickname: finance-admins}}" in text
    assert list(doc)[:2] == ["id", "displayName"] and list(doc)[-1] == "refs"


def test_slugify():
    assert canonical.slugify("CA001 - Block legacy auth!") == "ca001-block-legacy-auth"
    assert canonical.slugify("Ärger über Öl") == "arger-uber-ol"
    assert canonical.slugify("***") == ""
