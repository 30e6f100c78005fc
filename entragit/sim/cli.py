"""`entragit sim ...` commands. Keep imports lazy: this module loads on every CLI start."""

from __future__ import annotations

import click


@click.group()
def sim() -> None:
    """Run the built-in Microsoft Graph simulator (for rehearsals, tests and the demo)."""
