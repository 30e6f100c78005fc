"""The fast canonical writer writes exactly PyYAML's bytes: golden files, the real-payload corpus,
awkward strings in every position, and random documents of the canonical shape."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from entragit import canonical, kinds, yamlio

from .corpus import load, payloads

GOLDEN = Path(__file__).resolve().parents[1] / "tenants" / "demo"

AWKWARD = [
    "", " ", "  lead", "trail ", "tab\tin", "trail\t", "it's", "say \"hi\"", "'single'", '"double"',
    "yes", "no", "No", "NO", "on", "Off", "y", "n", "true", "False", "null", "Null", "~", "-", "--", "---",
    "1e3", "1E3", "1.5", ".5", "5.", "017", "0o17", "0x1F", "0b101", "1_000", "+1", "-1", "1:20", "12:30:45",
    ".inf", "-.inf", ".nan", "2024-01-01", "2024-01-01T10:00:00Z", "<<", "=", "a: b", "a:b", "a #b", "#a",
    "a#b", "key:", ":", "?", "? x", "- x", "-x", "[x]", "{x}", "a, b", "a,b", "x]", "&anchor", "*alias",
    "!tag", "%percent", "@at", "`tick", "|", ">", "a|b", "naïve", "日本語", "emoji 🙂", "é", "\u00a0nbsp",
    "zero\u200bwidth", "bell\x07", "nul\x00", "del\x7f", "\x85next", "line\u2028sep", "para\u2029sep",
    "multi\nline", "multi\nline\n", "trailing space\nline ", "\nlead newline", "cr\rreturn", "back\\slash",
    "a" * 200, "word " * 300, "x" * 1500, "/", "/path/to", "https://example.com/a?b=c&d=e#f",
    "12345678-1234-1234-1234-123456789012", "1234abcd-0000-4000-8000-00000000000e",
    "0000000e-0000-0000-0000-000000000000", "ABCDEF01-2345-6789-ABCD-EF0123456789",
    "SG - Sales 001", "a  b", "a -b", "a - b", "x.", "Yes please", "https://a.example/x",
    "displayName", "@odata.type", "#microsoft.graph.group", "x.y", "a/b", "a_b", "A-B", "e1", "E10",
]
SCALARS: list[Any] = [*AWKWARD, 0, 1, -7, 10**20, 1.5, 0.1, 1e20, float("inf"), float("nan"), 0.0, -0.0, 1.0,
                      True, False, None]


def _canonical_doc(text: str) -> dict[str, Any]:
    """A golden file as export builds it: refs entries are Flow mappings."""
    doc = yamlio.load(text)
    if isinstance(doc.get(canonical.REFS), dict):
        doc[canonical.REFS] = {k: yamlio.Flow(v) for k, v in doc[canonical.REFS].items()}
    return doc


def _same(doc: dict[str, Any]) -> None:
    assert yamlio.dump(doc, header="# h") == "# h\n" + yamlio.dump_pyyaml(doc)


def test_golden_files_take_the_fast_path_and_come_out_byte_identical():
    files = sorted(p for p in GOLDEN.glob("*/*.yaml"))
    assert len(files) > 100
    for p in files:
        text = p.read_text(encoding="utf-8")
        doc = _canonical_doc(text)
        header, _, _ = text.partition("\n")
        assert yamlio._fast(doc) == yamlio.dump_pyyaml(doc), p  # no fallback: the fast path itself
        assert yamlio.dump(doc, header=header) == text, p


@pytest.mark.parametrize("kind,path", payloads(), ids=lambda v: getattr(v, "name", v))
def test_corpus_payloads_write_the_same_bytes_as_pyyaml(kind, path):
    k = kinds.get(kind)
    doc = canonical.to_document(k, canonical.clean(k, load(path)), lambda r, v: {"kind": r.targets[0], "name": v})
    _same(doc)


@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_an_awkward_scalar_writes_the_same_bytes_in_every_position(value):
    doc: dict[str, Any] = {
        "value": value, "list": [value, "x"], "nested": {"deeper": {"value": value}},
        "items": [{"a": value, "b": [value]}, [value, [value]]], "refs": {"k": yamlio.Flow({"kind": "group", "name": value})},
    }
    _same(doc)
    if isinstance(value, str):
        _same({value: value, "m": {value: [value]}, "f": yamlio.Flow({value: value}), "l": [{value: value}]})


def test_strings_written_as_they_are_are_what_pyyaml_writes_in_every_context():
    """The writer's shortcut (no probe for plain-looking strings) against PyYAML itself."""
    rng = random.Random(7)
    alphabet = "aZ09_.@/- "
    samples = ["SG - Finance 001", "a -b", "a @b", "a /b", "a .b", "x.", "x-", "x/", "x@", "x_", "a - - b", "e 1",
               "On1", "nullx", "Yes please", "NO.", "TRUE-ish", "y", "N", "1234abcd-0000-4000-8000-00000000000e"]
    samples += ["x" + "".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(300)]
    shortcut = 0
    for text in samples:
        if yamlio._PLAIN.match(text) and text not in yamlio._WORDS:
            shortcut += 1
            for context in range(5):
                assert yamlio._probe(text, context) == text, (text, context)
    assert shortcut > 150


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.55:
        return rng.choice(SCALARS)
    if roll < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if roll < 0.8:
        return yamlio.Flow({rng.choice(AWKWARD): rng.choice(SCALARS) for _ in range(rng.randrange(4))})
    return {rng.choice(AWKWARD): _random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_random_documents_of_the_canonical_shape_write_the_same_bytes():
    rng = random.Random(13)
    fast = 0
    for _ in range(400):
        doc = {rng.choice(AWKWARD): _random_value(rng, 0) for _ in range(1 + rng.randrange(6))}
        _same(doc)
        try:
            assert yamlio._fast(doc) == yamlio.dump_pyyaml(doc)
            fast += 1
        except yamlio._Unsure:  # a multi-line or very long scalar somewhere: PyYAML writes that one
            pass
    assert fast > 100  # the fast path itself was held to PyYAML's bytes, not only the fallback


def test_a_shape_outside_the_canonical_one_falls_back_to_pyyaml():
    for doc in ({}, {"k": (1, 2)}, {1: "int key"}, {"k": yamlio.Flow({"a": [1]})}, {"k": {"a": {1, 2}} and "x"}):
        assert yamlio.dump(doc) == yamlio.dump_pyyaml(doc)
    with pytest.raises(yamlio._Unsure):
        yamlio._fast({"k": "multi\nline"})


def test_equal_scalars_of_another_type_or_sign_keep_their_own_text():
    """1, 1.0 and True are equal in Python, 0.0 and -0.0 too: each is remembered as written."""
    for values in ([1, 1.0, True, "1"], [0.0, -0.0, 0, False], [-0.0, 0.0]):
        doc = {"v": values, "w": {"x": values[0]}, "y": values[-1]}
        _same(doc)
        assert yamlio._fast(doc) == yamlio.dump_pyyaml(doc)
