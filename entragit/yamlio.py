"""Canonical YAML: the one place that fixes key order, style and parsing (PyYAML's C codec)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from entragit.errors import InputError

_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line (refs entries read better that way)."""


class _CanonicalDumper(_Dumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice: load refuses anchors and aliases


def _flow(dumper: Any, data: Flow) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _str(dumper: Any, data: str) -> Any:
    # Multi-line strings (rules, JSON definitions) as literal blocks so diffs are per line.
    style = "|" if "\n" in data and not data.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_CanonicalDumper.add_representer(Flow, _flow)
_CanonicalDumper.add_representer(str, _str)


def dump(doc: Mapping[str, Any], header: str = "") -> str:
    """YAML text in canonical form; key order is the caller's (canonical.py decides it)."""
    body = yaml.dump(
        doc, Dumper=_CanonicalDumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=4096, indent=2,
    )
    return (header + "\n" if header else "") + body


NO_ALIASES = "YAML anchors and aliases are not allowed (canonical files never use them)"


def anchor_line(text: str) -> int | None:
    """Line of the first anchor or alias: a few lines of them expand to billions of nodes
    ("billion laughs"), so they are refused before anything walks the parsed document."""
    if "&" not in text and "*" not in text:  # neither can appear without one of these
        return None
    for event in yaml.parse(text, Loader=_Loader):
        if getattr(event, "anchor", None) is not None:
            return event.start_mark.line + 1 if event.start_mark else 1
    return None


def load(text: str, path: str = "<string>") -> Any:
    """Parse one YAML document; syntax errors name the file and line; anchors and aliases are refused."""
    try:
        line = anchor_line(text)
        if line is not None:
            raise InputError(path, line, NO_ALIASES)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - CSafeLoader is the safe loader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(path, line, f"invalid YAML: {e.problem or e}") from None
    except yaml.YAMLError as e:
        raise InputError(path, None, f"invalid YAML: {e}") from None
    except ValueError as e:  # an integer of thousands of digits (Python refuses to parse it)
        raise InputError(path, None, f"invalid YAML: {e}") from None
