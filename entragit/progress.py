"""Progress display: a live table on a terminal, plain log lines in CI."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


@contextmanager
def reporter(verbose: int = 0) -> Iterator[Callable[[str, str, int], None]]:
    """Yields progress(tenant, kind, count). Terminal: a rich status line; otherwise lines with -v."""
    if sys.stderr.isatty():
        from rich.console import Console

        console = Console(stderr=True)
        with console.status("reading Graph...") as status:
            def tty(tenant: str, kind: str, n: int) -> None:
                status.update(f"{tenant}: {kind} ({n} objects)")
                if verbose:
                    console.log(f"{tenant}: {kind}: {n}")
            yield tty
        return

    def plain(tenant: str, kind: str, n: int) -> None:
        if verbose:
            click.echo(f"{tenant}: {kind}: {n} objects", err=True)
    yield plain
