"""Graph's two throttling families (graph-notes 6.5): an RU token bucket per app+tenant, and CA's 1 rps per tenant.

Spec grammar (comma separated, any subset; a family not named is off):
  ru=RU/SECONDS     resource-unit bucket per app and tenant for directory paths (Graph: 3500/10)
  w=N/SECONDS       write quota per app and tenant (Graph: 3000/150)
  ca=N/SECONDS      requests per tenant for CA policies + named locations (Graph: 1/1), 429 has NO Retry-After
  msa=N/SECONDS     writes per app to applications whose signInAudience includes personal Microsoft
                    accounts (Graph: 60/60)
  on | graph        shorthand for ru=3500/10,w=3000/150,ca=1/1,msa=60/60

Numbers: https://learn.microsoft.com/graph/throttling-limits (identity and access service limits;
directoryObjects/getByIds costs 3 resource units there).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

GRAPH_DEFAULTS = "ru=3500/10,w=3000/150,ca=1/1,msa=60/60"


@dataclass
class Bucket:
    """Continuous-refill token bucket: `capacity` tokens per `window` seconds."""

    capacity: float
    window: float
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, cost: float, now: float) -> float:
        """Takes `cost` tokens or returns the seconds to wait (0.0 = granted)."""
        rate = self.capacity / self.window
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / rate

    def used_fraction(self) -> float:
        return 1.0 - max(self.tokens, 0.0) / self.capacity


class ThrottleSpecError(ValueError):
    """A --throttle spec that does not parse."""


def parse_spec(spec: str) -> dict[str, tuple[float, float]]:
    spec = spec.strip()
    if spec in ("on", "graph"):
        spec = GRAPH_DEFAULTS
    out: dict[str, tuple[float, float]] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        try:
            n, _, secs = value.partition("/")
            out[name] = (float(n), float(secs or 1))
        except ValueError as e:
            raise ThrottleSpecError(f"bad throttle item {part!r}: expected NAME=N/SECONDS") from e
        if name not in ("ru", "w", "ca", "msa") or out[name][0] <= 0 or out[name][1] <= 0:
            raise ThrottleSpecError(
                f"bad throttle item {part!r}: names are ru, w, ca, msa with positive numbers"
            )
    return out


@dataclass(frozen=True)
class Verdict:
    """Outcome for one request: wait > 0 means 429."""

    wait: float = 0.0
    retry_after: bool = True
    headers: tuple[tuple[str, str], ...] = ()


class Throttle:
    """Keeps one bucket per (family, app, tenant); thread-safe."""

    def __init__(self, spec: str | None) -> None:
        self.limits = parse_spec(spec) if spec else {}
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.lock = threading.Lock()

    def _bucket(self, family: str, who: str) -> Bucket | None:
        if family not in self.limits:
            return None
        cap, window = self.limits[family]
        return self.buckets.setdefault((family, who), Bucket(cap, window))

    def check(self, family: str, app_id: str, tenant_id: str, cost: int, write: bool,
              consumer_app: bool = False) -> Verdict:
        """`consumer_app`: a write to an application whose audience includes personal accounts."""
        now = time.monotonic()
        with self.lock:
            msa = self._bucket("msa", app_id) if consumer_app else None
            if msa is not None and (wait := msa.take(1, now)) > 0:
                return Verdict(wait, True, (("x-ms-throttle-information", "WriteLimitExceeded"),))
            if family == "ca":
                b = self._bucket("ca", tenant_id)
                if b is not None and (wait := b.take(1, now)) > 0:
                    return Verdict(wait=wait, retry_after=False)
                return Verdict()
            if family != "ru":
                return Verdict()
            headers = [("x-ms-resource-unit", str(cost))]
            scope = f"Tenant_Application/{'Write' if write else 'Read'}/{app_id}/{tenant_id}"
            ru = self._bucket("ru", f"{app_id}/{tenant_id}")
            if ru is not None:
                wait = ru.take(cost, now)
                if wait > 0:
                    return Verdict(
                        wait,
                        True,
                        (
                            *headers,
                            ("x-ms-throttle-scope", scope),
                            ("x-ms-throttle-information", "ResourceUnitLimitExceeded"),
                        ),
                    )
                if ru.used_fraction() > 0.8:
                    headers.append(("x-ms-throttle-limit-percentage", f"{ru.used_fraction():.2f}"))
            wq = self._bucket("w", f"{app_id}/{tenant_id}") if write else None
            if wq is not None and (wait := wq.take(1, now)) > 0:
                return Verdict(
                    wait,
                    True,
                    (
                        *headers,
                        ("x-ms-throttle-scope", scope),
                        ("x-ms-throttle-information", "WriteLimitExceeded"),
                    ),
                )
            return Verdict(headers=tuple(headers))


def retry_after_seconds(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
