"""A stateful Microsoft Graph v1.0/beta simulator, served over real HTTP (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from entragit_sim import backup
from entragit_sim.auth import TOKEN_LIFETIME, TokenPolicy
from entragit_sim.devicecode import DeviceFlows, UnknownUser, check_user
from entragit_sim.faults import parse_faults
from entragit_sim.router import RequestRecord, Router
from entragit_sim.seeds import DEFAULT_TENANT_ID, Seed, load_into, resolve_seed
from entragit_sim.store import Store
from entragit_sim.throttle import Throttle

__all__ = ["DEFAULT_TENANT_ID", "RequestRecord", "Simulator", "UnknownUser"]


class Simulator:
    """The simulator: state + router + an HTTP server on a background thread."""

    def __init__(
        self,
        seed: str | Seed | None = "demo",
        tenant_id: str | None = None,
        tls: bool = False,
        latency_ms: int = 0,
        throttle: str | None = None,
        faults: str | None = None,
        state_file: str | Path | None = None,
        user: str | None = None,
        security_group_delete: str = "soft",
        assertion_max_age: float | None = None,
        token_lifetime: int = TOKEN_LIFETIME,
        now: str | dt.datetime | None = None,
        unlicensed: bool = False,
    ) -> None:
        """`user`: approve every device code sign-in for this UPN (ValueError if unknown).
        `security_group_delete`: "soft" (recycle bin, as group-delete documents) or "hard" (as
        directory-deleteditems-restore documents: "security groups cannot be restored").
        `assertion_max_age`: the token endpoint refuses client assertions issued more than this many
        seconds ago (AADSTS700024), as a CI runner's OIDC token expires minutes after it is minted.
        `token_lifetime`: seconds the app-only access tokens it issues live.
        `unlicensed`: a tenant without Entra ID P2 / Governance licences: access reviews, entitlement
        management and PIM schedules answer as reported for such tenants (403 NoLicense, 403
        AadPremiumLicenseRequired for PIM; table.Licence).
        `now`: the simulated clock's start (ISO 8601 or an aware datetime; default: where the state
        file's clock stopped, else the real time); it moves only by `advance`, which takes the daily
        native backup snapshots it passes."""
        if security_group_delete not in ("soft", "hard"):
            raise ValueError(f"security_group_delete must be soft or hard, not {security_group_delete!r}")
        self.security_groups_restorable = security_group_delete == "soft"
        self.tenant_id = (tenant_id or DEFAULT_TENANT_ID).lower()
        self.tls = tls
        self.token_policy = TokenPolicy(token_lifetime, assertion_max_age)
        self.latency_ms = latency_ms
        self.state_file = Path(state_file) if state_file else None
        self.store = Store(self.tenant_id)
        if self.state_file and self.state_file.exists():
            self.store.load(self.state_file)
            self.tenant_id = self.store.tenant_id
        else:
            load_into(self.store, resolve_seed(seed, self.tenant_id))
        self.store.security_groups_restorable = self.security_groups_restorable
        self.router = Router(
            self.store,
            throttle=Throttle(throttle),
            faults=parse_faults(faults),
            latency_ms=latency_ms,
            clock=backup.Clock(backup.parse_now(now) if isinstance(now, str) else now or self._saved_clock()),
        )
        self.router.unlicensed = unlicensed
        self.router.on_batch_item = self._record_batch_item  # type: ignore[method-assign]
        if user:
            check_user(self.store, user)
        self.device_flows = DeviceFlows(user=user)
        self.requests: list[RequestRecord] = []
        self._records_lock = threading.Lock()
        self.ca_bundle: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.host_port = ""

    def load(self, seed: str | Seed | None) -> None:
        """Replace the whole tenant with `seed` (on top of the built-ins), e.g. between test cases."""
        store = Store(self.tenant_id)
        load_into(store, resolve_seed(seed, self.tenant_id))
        store.security_groups_restorable = self.security_groups_restorable
        with self.store.lock:
            self.store = store
            self.router.store = store

    def _saved_clock(self) -> dt.datetime | None:
        return backup.parse_now(self.store.clock_now) if self.store.clock_now else None

    @property
    def now(self) -> dt.datetime:
        return self.router.clock.now

    def advance(self, days: float = 1) -> list[str]:
        """Move the simulated clock `days` forward; returns the ids of the snapshots taken on the way."""
        return backup.advance(self.store, self.router.clock, days)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        from entragit_sim.server import SimHTTPServer, serve_in_thread

        context = None
        if self.tls:
            from entragit_sim.tls import make_context

            context, self.ca_bundle = make_context()
        self._server = SimHTTPServer((host, port), self, context)
        bound_host, bound_port = self._server.server_address[:2]
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
        self.host_port = f"{shown}:{bound_port}"
        self._thread = serve_in_thread(self._server)
        return self

    @property
    def _origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host_port}"

    @property
    def graph_url(self) -> str:
        return f"{self._origin}/v1.0"

    @property
    def beta_url(self) -> str:
        return f"{self._origin}/beta"

    @property
    def token_url(self) -> str:
        return f"{self._origin}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def device_code_url(self) -> str:
        return f"{self._origin}/{self.tenant_id}/oauth2/v2.0/devicecode"

    @property
    def authority(self) -> str:
        return self._origin

    def record(self, method: str, path: str, query: str, status: int, app_id: str) -> None:
        with self._records_lock:
            self.requests.append(RequestRecord(method, path, query, status, app_id))

    def _record_batch_item(self, req: Any, resp: Any) -> None:
        from urllib.parse import urlencode

        self.record(
            req.method,
            f"/{req.version}/{req.path}",
            urlencode(req.query),
            resp.status,
            req.caller.app_id,
        )

    def save(self) -> None:
        if self.state_file:
            self.store.save(self.state_file)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.save()

    def __enter__(self) -> Simulator:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
