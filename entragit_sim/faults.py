"""Injected faults, deterministic for a given seed: 5xx, dropped connections, slow answers, read-after-write lag,
lost answers to writes.

Spec grammar (comma separated, any subset):
  500=P, 503=P, 504=P   probability of answering that status (Graph error body)
  reset=P               probability of closing the connection without an answer
  slow=P:MS             probability of delaying the answer by MS milliseconds
  lag=MS                a newly created object answers 404 on GET by id for MS milliseconds
  lost=P                a write (any non-GET request but a $batch of reads or getByIds) is carried out and committed,
                        then answered 504
  lostreset=P           a write is carried out and committed, then the connection closes without an answer
  seed=N                random seed (default 0); the same seed and request order give the same faults
                        (lost answers: the same seed gives the same fate to the n-th write to a path,
                        whatever concurrent requests do meanwhile)
Faults apply to Graph calls only (not the token endpoint, not /_sim).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


class FaultSpecError(ValueError):
    """A --faults spec that does not parse."""


@dataclass
class Faults:
    status: dict[int, float] = field(default_factory=dict)
    reset: float = 0.0
    slow: float = 0.0
    slow_ms: int = 0
    lag_ms: int = 0
    lost: float = 0.0
    lost_reset: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._writes: dict[tuple[str, str], int] = {}  # (method, path) -> writes seen, for lost answers
        self._lock = threading.Lock()

    def draw(self) -> tuple[str, int]:
        """Decides this request's fate: ("ok"|"reset"|"status"|"slow", status or delay ms)."""
        with self._lock:
            r = self._rng.random()
            s = self._rng.random()
        acc = self.reset
        if r < acc:
            return "reset", 0
        for status, p in sorted(self.status.items()):
            acc += p
            if r < acc:
                return "status", status
        if s < self.slow:
            return "slow", self.slow_ms
        return "ok", 0

    def draw_lost(self, method: str, path: str) -> str:
        """After a write ran: "ok", "lost" (answer 504 instead) or "lostreset" (close without an answer).

        Only writes lose their answer: that is the case where a client cannot tell whether it landed.
        The draw hangs on the request, not on its place in the stream, so concurrent writes elsewhere
        (membership runs) do not move which create loses its answer; a resend draws anew."""
        if not (self.lost or self.lost_reset):
            return "ok"
        with self._lock:
            n = self._writes.get((method, path), 0)
            self._writes[(method, path)] = n + 1
        r = random.Random(f"{self.seed}:{method}:{path}:{n}").random()
        if r < self.lost_reset:
            return "lostreset"
        return "lost" if r < self.lost_reset + self.lost else "ok"


def parse_faults(spec: str | None) -> Faults:
    f = Faults()
    if not spec:
        return f
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        try:
            if name in ("500", "503", "504"):
                f.status[int(name)] = float(value)
            elif name == "reset":
                f.reset = float(value)
            elif name == "slow":
                p, _, ms = value.partition(":")
                f.slow, f.slow_ms = float(p), int(ms or 1000)
            elif name == "lag":
                f.lag_ms = int(value)
            elif name == "lost":
                f.lost = float(value)
            elif name == "lostreset":
                f.lost_reset = float(value)
            elif name == "seed":
                f.seed = int(value)
            else:
                raise FaultSpecError(
                    f"unknown fault {name!r}: use 500, 503, 504, reset, slow, lag, lost, lostreset, seed"
                )
        except ValueError as e:
            raise FaultSpecError(f"bad fault item {part!r}") from e
    if f.reset + sum(f.status.values()) > 1:
        raise FaultSpecError("fault probabilities add up to more than 1")
    if f.lost + f.lost_reset > 1:
        raise FaultSpecError("lost and lostreset add up to more than 1")
    f.__post_init__()
    return f
