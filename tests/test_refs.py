"""refs: ids inside strings, by prefix and by pattern (the text around the id kept on rewrite)."""

from __future__ import annotations

from entragit import refs
from entragit.kinds import BY_NAME, Ref

G = "02f3bafb-448c-487c-88c2-5fd65ce49a41"
U = "398164b1-5196-49dd-ada2-364b49f99b27"
GROUPS = Ref("scope.query", ("groups",), pattern=r"^(?:/v1\.0|/beta)?/groups/([^/?]+)")


def test_pattern_finds_the_id_inside_a_query() -> None:
    assert list(refs.values({"scope": {"query": f"/groups/{G}/transitiveMembers"}}, GROUPS)) == [G]
    assert list(refs.values({"scope": {"query": f"/v1.0/groups/{G}"}}, GROUPS)) == [G]


def test_pattern_leaves_queries_that_name_no_object() -> None:
    for q in ("/users", "./members", "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))", "", f"/users/{U}"):
        assert list(refs.values({"scope": {"query": q}}, GROUPS)) == [], q
    assert list(refs.undocumented_keywords({"scope": {"query": "./owners"}}, GROUPS)) == []


def test_rewrite_keeps_the_text_around_the_id() -> None:
    kind = BY_NAME["accessReviewDefinitions"]
    body = {"scope": {"query": f"/groups/{G}/transitiveMembers?$filter=(userType eq 'Guest')"},
            "reviewers": [{"query": f"/users/{U}"}, {"query": "./owners"}], "fallbackReviewers": [{"query": f"/groups/{G}/owners"}]}
    out = refs.rewrite(kind, body, lambda ref, v: "NEW-" + ref.targets[0])
    assert out["scope"]["query"] == "/groups/NEW-groups/transitiveMembers?$filter=(userType eq 'Guest')"
    assert [r["query"] for r in out["reviewers"]] == ["/users/NEW-users", "./owners"]
    assert out["fallbackReviewers"][0]["query"] == "/groups/NEW-groups/owners"
    assert body["scope"]["query"].startswith(f"/groups/{G}")  # the input is not changed


def test_prefix_refs_still_rewrite_as_before() -> None:
    ref = Ref("x", ("administrativeUnits",), prefix="/administrativeUnits/")
    assert list(refs.values({"x": f"/administrativeUnits/{G}"}, ref)) == [G]
    assert list(refs.values({"x": "/"}, ref)) == []
