"""Hand-edited files as people write them: YAML 1.2 scalars (Norway is `NO`), comments kept."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

LOCATION = "namedLocations/allowed-countries.yaml"
POLICY = "conditionalAccessPolicies/ca000-global-identityprotection-anyapp-anyplatform-mfa.yaml"


@pytest.fixture
def repo(signed_in: Any) -> Any:
    """Signed in as users sign in: the app holding exactly what `entragit permissions` lists."""
    return signed_in


@pytest.fixture
def sim(tls_sim: Any) -> Any:
    return tls_sim


def _file(repo: Any, rel: str) -> Path:
    return Path(repo.repo) / "tenants" / "demo" / rel


def test_a_hand_typed_country_code_no_stays_norway(repo: Any, sim: Any) -> None:
    repo("export", "--commit")
    path = _file(repo, LOCATION)
    text = path.read_text()
    assert "- NL\n" in text
    path.write_text(text.replace("- NL\n", "- NL\n- NO\n- 'on'\n"))  # typed by a person: NO unquoted
    repo("fmt")
    countries = yaml.safe_load(path.read_text())["countriesAndRegions"]  # read by a YAML 1.1 reader, too
    assert "NO" in countries and "on" in countries and False not in countries and True not in countries
    assert "- 'NO'\n" in path.read_text()  # written as the canonical dumper writes it
    out = repo("plan", "--ref", "WORKTREE").output
    assert "NO" in out and "false" not in out.split("countriesAndRegions", 1)[1].split("\n", 1)[0]


def test_validate_reads_yaml_as_plan_does(repo: Any, sim: Any) -> None:
    """Unformatted, a hand-typed NO is Norway for validate too (it was a boolean: a false schema error)."""
    repo("export", "--commit")
    path = _file(repo, LOCATION)
    path.write_text(path.read_text().replace("- NL\n", "- NL\n- NO\n"))
    res = repo("validate")
    assert "countriesAndRegions" not in res.output, res.output
    assert "NO" in repo("plan", "--ref", "WORKTREE").output


def test_fmt_and_export_keep_a_persons_comments(repo: Any, sim: Any) -> None:
    repo("export", "--commit")
    path = _file(repo, POLICY)
    canonical = path.read_text()
    header, first, rest = canonical.split("\n", 2)
    # A note above everything, an end-of-line note, and the key order disturbed by hand.
    edited = f"{header}\n# why: required by the 2025 audit (ticket SEC-114)\n{rest}{first}  # the id Graph gave it\n"
    path.write_text(edited)
    repo("fmt")
    text = path.read_text()
    assert "# why: required by the 2025 audit (ticket SEC-114)" in text and "# the id Graph gave it" in text
    without = "\n".join(line.split("  # the id")[0] for line in text.split("\n") if not line.startswith("# why"))
    assert without == canonical  # everything else is the canonical text, byte for byte, in canonical order
    repo("fmt", "--check")  # a fixed point
    subprocess.run(["git", "-C", str(repo.repo), "commit", "-qam", "annotate CA000"], check=True)
    repo("export", "--commit")
    assert path.read_text() == text  # a re-export keeps the notes
    golden = Path(__file__).parents[1] / "tenants" / "demo" / LOCATION
    assert _file(repo, LOCATION).read_text() == golden.read_text()  # files nobody annotated: canonical
