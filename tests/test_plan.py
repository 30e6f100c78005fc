"""Pure plan logic on snapshots: field diffs, managed properties, id map chains."""

from __future__ import annotations

from entragit import kinds
from entragit.plan import body_diff, chain, managed_fields


def test_absent_known_property_is_reset_but_an_unknown_new_one_is_left_alone():
    groups = kinds.get("groups")
    managed = managed_fields(groups)
    assert managed and "description" in managed
    desired = {"id": "g", "displayName": "G"}
    live = {"id": "g", "displayName": "G", "description": "set in the portal", "brandNewGraphProperty": True}
    patch, changes = body_diff(groups, desired, live, managed)
    assert patch == {"description": None}
    assert [c.path for c in changes] == ["description"]


def test_polymorphic_patch_carries_its_type_and_lists_compare_as_sets():
    loc = kinds.get("namedLocations")
    desired = {"@odata.type": "#microsoft.graph.countryNamedLocation", "countriesAndRegions": ["NL", "BE"]}
    live = {"@odata.type": "#microsoft.graph.countryNamedLocation", "countriesAndRegions": ["BE", "NL"]}
    assert body_diff(loc, desired, live) == ({}, [])
    patch, _ = body_diff(loc, {**desired, "countriesAndRegions": ["NL"]}, live)
    assert patch == {"@odata.type": "#microsoft.graph.countryNamedLocation", "countriesAndRegions": ["NL"]}


def test_id_map_chains_through_generations_and_survives_cycles():
    assert chain({"a": "b", "b": "c"}, "a") == "c"
    assert chain({"a": "b", "b": "a"}, "a") in ("a", "b")
    assert chain({}, "x") == "x"
