"""Progress display: a live table on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from entragit.snapshot import Tick

INTERVAL = 10.0  # seconds between plain lines about a tenant still being read
Report = Callable[[str, Tick], None]  # (tenant, how far its read has got)


def line(tenant: str, tick: Tick) -> str:
    """`export demo: 12/31 kinds, 840 objects, 1,204 requests, 3 throttled`"""
    return (f"export {tenant}: {tick.done}/{tick.total} kinds, {tick.objects:,} objects, "
            f"{tick.stats.requests:,} requests, {tick.stats.throttled:,} throttled")


@contextmanager
def reporter(verbose: int = 0, colour: bool = True, console: Console | None = None,
             interval: float = INTERVAL) -> Iterator[Report]:
    """Yields report(tenant, tick). On a terminal (or the rich `console` given) a live row per tenant
    being read; otherwise a plain line per tenant every `interval` seconds and when its read is done
    (with -v: after every kind)."""
    if console is None and sys.stderr.isatty():
        console = Console(stderr=True, no_color=not colour)
    if console is not None:
        with _live(console, verbose) as report:
            yield report
        return
    with _plain(verbose, interval) as report:
        yield report


@contextmanager
def _plain(verbose: int, interval: float) -> Iterator[Report]:
    latest: dict[str, tuple[Tick, float]] = {}  # tenant -> (last tick, when its last line was printed)
    lock = threading.Lock()
    stop = threading.Event()

    def echo(tenant: str, tick: Tick, which: bool = False) -> None:
        click.echo(line(tenant, tick) + (f" ({tick.kind} read)" if which and tick.kind else ""), err=True)
        latest[tenant] = (tick, time.monotonic())

    def report(tenant: str, tick: Tick) -> None:
        with lock:
            if tick.done == tick.total or (verbose and tick.kind):
                echo(tenant, tick, which=bool(verbose))
            else:
                latest[tenant] = (tick, latest.get(tenant, (tick, time.monotonic()))[1])

    def periodic() -> None:
        # A large kind (users) can take minutes: say how far each unfinished read is while it runs.
        while not stop.wait(interval / 4):
            with lock:
                for tenant, (tick, printed) in list(latest.items()):
                    if tick.done < tick.total and time.monotonic() - printed >= interval:
                        echo(tenant, tick)

    ticker = threading.Thread(target=periodic, name="entragit-progress", daemon=True)
    ticker.start()
    try:
        yield report
    finally:
        stop.set()
        ticker.join()


@contextmanager
def _live(console: Console, verbose: int) -> Iterator[Report]:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
               TextColumn("kinds,"), _Counters(), TextColumn("ETA"), TimeRemainingColumn())
    tasks: dict[str, Any] = {}
    with Progress(*columns, console=console, transient=True) as board:
        def report(tenant: str, tick: Tick) -> None:
            if tenant not in tasks:
                tasks[tenant] = board.add_task(tenant, total=tick.total, stats=tick.stats, objects=0)
            board.update(tasks[tenant], completed=tick.done, total=tick.total, objects=tick.objects)
            if verbose and tick.kind:
                board.console.log(f"{tenant}: {tick.kind}: {tick.objects:,} objects so far")
            if tick.done == tick.total:  # the rows stay those of the tenants still being read
                board.remove_task(tasks.pop(tenant))
                board.console.print(line(tenant, tick), highlight=False)
        yield report


class _Counters(ProgressColumn):
    """Objects, requests, request rate and throttle waits; requests read live from the Graph client."""

    def render(self, task: Task) -> Text:
        stats = task.fields["stats"]
        rate = stats.requests / task.elapsed if task.elapsed else 0.0
        return Text(f"{task.fields['objects']:,} objects, {stats.requests:,} requests ({rate:,.0f}/s), "
                    f"{stats.throttled:,} throttled")
