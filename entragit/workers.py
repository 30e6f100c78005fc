"""`export --all` over worker processes, so an MSP's nightly export uses every core.

Graph throttles each tenant on its own, so a fleet's export is bound by the client's CPU (parsing
answers, rendering files, committing) long before Graph's limits: one interpreter runs one core at a
time. The parent hands tenants out one by one from a queue, so a large tenant does not hold back a
worker's share; each worker exports `parallel_tenants` at once as a single process does; one lock held
across processes keeps the work tree and index to one writer. The parent holds the repo lock for the
whole run and shows every worker's progress.

Workers are spawned rather than forked: the parent may already run threads (the progress display), and
spawn behaves alike on every platform. Each one signs in on its own (credentials are per process).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from entragit.config import Tenant
from entragit.export import ExportResult, Options, Outcome, export_each, recover
from entragit.snapshot import Tick

TENANTS_PER_WORKER = 4  # below this a worker's start (about 0.4 s of imports) outweighs what it saves
INTERACTIVE = ("device-code",)  # sign-ins that prompt: one process prompts once, each worker would again
_LOGGERS = ("", "httpx", "azure", "azure.identity", "msal", "urllib3")


class WorkerCrash(RuntimeError):
    """A tenant's export raised something other than an entragit error in a worker: a bug, shown whole."""


def count(requested: int | None, tenants: list[Tenant]) -> int:
    """Worker processes for these tenants: `requested`, or one per core and at most one per
    TENANTS_PER_WORKER tenants; 1 (this process) when a tenant signs in interactively and none was asked."""
    if requested is not None:
        return max(1, min(requested, len(tenants)))
    if any(t.auth.get("method") in INTERACTIVE for t in tenants):
        return 1
    return max(1, min(os.cpu_count() or 1, len(tenants) // TENANTS_PER_WORKER))


def export(root: Path, tenants: list[Tenant], opts: Options, workers: int,
           progress: Callable[[str, Tick], None] | None) -> list[Outcome]:
    """Each tenant's outcome (its result, or the error that stopped it), in `tenants` order."""
    ctx = multiprocessing.get_context("spawn")
    jobs: Any = ctx.Queue()
    out: Any = ctx.Queue()
    git_lock = ctx.Lock()
    for i in range(len(tenants)):
        jobs.put(i)
    for _ in range(workers):
        jobs.put(None)  # one end mark per worker
    procs = [ctx.Process(target=_work, args=(root, tenants, opts, jobs, out, git_lock, _log_levels(), bool(progress)),
                         name=f"entragit-export-{n}", daemon=True) for n in range(workers)]
    for p in procs:
        p.start()
    try:
        outcomes = _collect(tenants, procs, out, progress)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
    for note in recover(root):  # a worker killed between the renames of a swap: its tenant's files put back whole
        logging.getLogger(__name__).warning(note)
    return outcomes


def _collect(tenants: list[Tenant], procs: list[Any], out: Any,
             progress: Callable[[str, Tick], None] | None) -> list[Outcome]:
    """Messages from the workers until every tenant has an outcome or every worker has ended."""
    outcomes: dict[int, Outcome] = {}
    started: dict[int, int] = {}  # tenant -> the worker exporting it
    while len(outcomes) < len(tenants):
        try:
            msg = out.get(timeout=0.5)
        except queue.Empty:
            if all(p.exitcode is not None for p in procs):
                _drain(out, outcomes, started, tenants, progress)
                break
            continue
        _handle(msg, outcomes, started, tenants, progress)
    for i in range(len(tenants)):
        if i not in outcomes:
            w = started.get(i)
            code = procs[w].exitcode if w is not None else None
            outcomes[i] = _lost(tenants[i], code)
    return [outcomes[i] for i in range(len(tenants))]


def _drain(out: Any, outcomes: dict[int, Outcome], started: dict[int, int], tenants: list[Tenant],
           progress: Callable[[str, Tick], None] | None) -> None:
    while True:
        try:
            _handle(out.get(timeout=0.1), outcomes, started, tenants, progress)
        except queue.Empty:
            return


def _handle(msg: tuple[Any, ...], outcomes: dict[int, Outcome], started: dict[int, int], tenants: list[Tenant],
            progress: Callable[[str, Tick], None] | None) -> None:
    what, i, value = msg
    if what == "start":
        started[i] = value
    elif what == "tick":
        if progress:
            progress(tenants[i].name, value)
    elif what == "crash":
        outcomes[i] = WorkerCrash(f"exporting {tenants[i].name}:\n{value}")
    else:  # "done": an ExportResult, or an entragit error's message
        outcomes[i] = value if isinstance(value, ExportResult) else _failure(value)


def _failure(message: str) -> Exception:
    from entragit.errors import EntragitError

    return EntragitError(message)


def _lost(t: Tenant, code: int | None) -> Exception:
    from entragit.errors import EntragitError

    how = f"exit code {code}" if code is not None else "no answer"
    return EntragitError(f"its worker process ended before the export finished ({how}); what it wrote, if "
                         "anything, is whole (the next export reads the tenant again)")


def _log_levels() -> dict[str, int]:
    return {name: logging.getLogger(name).level for name in _LOGGERS}


def _work(root: Path, tenants: list[Tenant], opts: Options, jobs: Any, out: Any, git_lock: Any,
          levels: dict[str, int], report: bool) -> None:
    """A worker process: export the tenants it takes from `jobs` until its end mark."""
    logging.basicConfig(level=levels.get("", logging.WARNING), format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for name, level in levels.items():
        if name:
            logging.getLogger(name).setLevel(level)
    me = int(multiprocessing.current_process().name.rsplit("-", 1)[1])
    ended = threading.Event()
    taking = threading.Lock()
    index = {t.name: i for i, t in enumerate(tenants)}

    def take_blocking() -> int | None:
        with taking:  # one end mark per worker: once it is taken, every reader of this worker stops
            if ended.is_set():
                return None
            i = jobs.get()
            if i is None:
                ended.set()
            else:
                out.put(("start", i, me))
            return i

    async def take() -> int | None:
        return await asyncio.to_thread(take_blocking)

    def done(i: int, o: Outcome) -> None:
        from entragit.errors import EntragitError

        if isinstance(o, ExportResult):
            out.put(("done", i, o))
        elif isinstance(o, EntragitError):
            out.put(("done", i, o.message))
        else:
            out.put(("crash", i, "".join(traceback.format_exception(o))))

    def tick(name: str, t: Tick) -> None:
        out.put(("tick", index[name], t))

    asyncio.run(export_each(root, tenants, opts, take, done, tick if report else None, git_lock))
    out.close()
    out.join_thread()  # every message is in the pipe before the process ends
