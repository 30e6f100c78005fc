"""Async Microsoft Graph client on raw JSON: msgraph-core middleware (auth, retry, redirects),
paging, $batch, bounded concurrency and pacing for the Conditional Access throttle family.

The only module that speaks HTTP. Typed msgraph models are lossy (explicit nulls dropped, unknown
enum values turned to None), so requests go through the SDK's request adapter and bodies stay bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from entragit.errors import AnswerLost, EntragitError, GraphError

log = logging.getLogger("entragit.graph")

# Export always asks for evolvable enum members so round trips keep them (graph-notes 6.8).
_DEFAULT_HEADERS = {"Prefer": "include-unknown-enum-members", "Accept": "application/json"}
_RESET_RETRIES = 4
# 429s are waited out longer than faults are retried: Graph refused before acting and says when to
# come back, and a throttled full read of a large tenant meets many (each wait at least 1 s).
_THROTTLE_RETRIES = 30
_RU_MARGIN = 0.97  # pace a little under the measured refill rate
_PACE_SLACK_S = 0.05  # the CA family's bucket holds one request: arrival jitter under 1 s apart is a 429
_5XX = (500, 502, 503, 504)
BATCH_MAX = 20


def _ssl_context(verify: Any) -> Any:
    """One TLS context per trust setting for the whole process: loading the CA store costs tens of
    milliseconds, and an export makes a client per tenant and another for the native snapshot id."""
    if verify is False or not isinstance(verify, (bool, str)):  # off, or a context the caller made
        return verify
    if isinstance(verify, str):  # a CA bundle path (the TLS simulator, a private cloud); a new file is a new key
        import os

        st = os.stat(verify)
        return _context_for(verify, st.st_mtime_ns, st.st_size)
    return _context_for(None, 0, 0)


@functools.lru_cache(maxsize=16)
def _context_for(cafile: str | None, _mtime: int, _size: int) -> Any:
    import ssl

    import httpx

    # httpx's own default (certifi, or SSL_CERT_FILE / SSL_CERT_DIR) when no bundle is named.
    return ssl.create_default_context(cafile=cafile) if cafile else httpx.create_ssl_context()


def _quota_refusal(headers: Mapping[str, str]) -> bool:
    """Whether a 429 is not the RU bucket's (Graph names that one in x-ms-throttle-information)."""
    info = next((str(v) for k, v in headers.items() if k.lower() == "x-ms-throttle-information"), "")
    return "ResourceUnitLimitExceeded" not in info


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    # 429s to writes not from the RU bucket (`ResourceUnitLimitExceeded`) nor the CA family: Graph's
    # write quota (3,000 writes per 150 s), which apply paces itself by
    write_throttled: int = 0
    writes: int = 0
    resource_units: int = 0  # Graph's x-ms-resource-unit cost of each answer (identity throttle family)
    paced: int = 0  # requests in the CA family (1 request/second/tenant)
    by_status: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None

    def error(self, method: str, url: str) -> GraphError:
        err = (self.body or {}).get("error", {}) if isinstance(self.body, dict) else {}
        inner = err.get("innerError") or err.get("innererror") or {}
        msg = err.get("message") or inner.get("message") or ""
        return GraphError(self.status, err.get("code", "") or str(self.status), msg, method=method, url=url)


class _StaticToken:
    """AccessTokenProvider for a fixed bearer token (the simulator's dev token)."""

    def __init__(self, token: str, host: str) -> None:
        from kiota_abstractions.authentication import AllowedHostsValidator

        self._token = token
        self._hosts = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri: str, additional_authentication_context: dict[str, Any] | None = None) -> str:
        return self._token if self._hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> Any:
        return self._hosts


def graph_root(url: str) -> str:
    """`https://graph.microsoft.com/v1.0/` -> `https://graph.microsoft.com` (versions are per kind)."""
    url = url.rstrip("/")
    for suffix in ("/v1.0", "/beta"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def github_oidc_token(request_url: str, request_token: str, audience: str) -> str:
    """A fresh GitHub Actions OIDC token from the runner's token service ($ACTIONS_ID_TOKEN_REQUEST_URL,
    present in jobs with `id-token: write`): called again for each new sign-in, since each lives minutes."""
    import httpx

    try:
        # The URL carries its own query (api-version): audience is added to it, not put in its place.
        url = httpx.URL(request_url).copy_merge_params({"audience": audience})
        r = httpx.get(url, timeout=30,
                      headers={"Authorization": f"bearer {request_token}", "Accept": "application/json"})
    except httpx.HTTPError as e:
        raise EntragitError(f"cannot reach GitHub's OIDC token service ($ACTIONS_ID_TOKEN_REQUEST_URL): {e}") from None
    try:
        value = r.json().get("value") if r.status_code == 200 else None
    except ValueError:
        value = None
    if not isinstance(value, str) or not value:
        raise EntragitError(f"GitHub's OIDC token service answered {r.status_code} without a token "
                            "(does the job have `permissions: id-token: write`?)")
    return value


class Graph:
    """One tenant's Graph endpoint. Use as `async with Graph(...) as g:`."""

    def __init__(
        self, url: str, *, credential: Any = None, token: str | None = None, verify: Any = True,
        concurrency: int = 8, paced_rps: float | None = None, max_retries: int = 5,
        paced_paths: tuple[str, ...] = (),
    ) -> None:
        self.root = graph_root(url)
        self.host = urlsplit(self.root).hostname or ""
        self._credential = credential
        self._token = token
        self._verify = verify
        self._sem = asyncio.Semaphore(concurrency)
        self._paced_rps = paced_rps  # None = adaptive: start pacing after the first 429
        self._paced_paths = paced_paths
        self._pace_lock = asyncio.Lock()
        self._pace_probe = asyncio.Lock()  # CA-family envelopes one at a time while the pace is unknown
        self._pace_next = 0.0
        # Until when the RU family is held after a 429 (monotonic clock): every sender waits for it,
        # so one throttled answer pauses the whole client instead of each task hammering on its own.
        self._hold_until = 0.0
        # $batch envelopes in flight: halved when one comes back throttled, grown by one per window
        # of clean ones (additive increase, multiplicative decrease), so a throttled read settles
        # near the rate Graph grants instead of resending most of every envelope.
        self._window_max = float(concurrency)
        self._window = float(concurrency)
        self._in_flight = 0
        self._window_free = asyncio.Condition()
        # Pacing of the RU family, learnt from Graph's answers: between two 429s the bucket went from
        # empty to empty, so the RU granted over that time is its refill rate; from then on requests
        # are spaced to spend a little less than that (Graph's limits differ by tenant size and are
        # not announced: https://learn.microsoft.com/graph/throttling-limits).
        self._ru_granted = 0.0  # RU of answered (not throttled) requests
        self._ru_item = 1.0  # running mean RU of one answered request
        self._last_429: tuple[float, float] | None = None  # (when, RU granted by then)
        self._ru_rate: float | None = None  # RU/s to pace at; None until measured
        self._ru_next = 0.0
        self._max_retries = max_retries
        self._adapter: Any = None
        self._scope = "https://graph.microsoft.com/.default"
        self._client: Any = None
        self.stats = Stats()

    async def __aenter__(self) -> Graph:
        import httpx
        from kiota_abstractions.authentication import BaseBearerTokenAuthenticationProvider
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph_core import BaseGraphRequestAdapter, GraphClientFactory

        scope = self._scope = f"https://{self.host}/.default" if self.host.endswith(("microsoft.com", ".us", ".cn")) \
            else "https://graph.microsoft.com/.default"
        if self._token is not None:
            auth: Any = BaseBearerTokenAuthenticationProvider(_StaticToken(self._token, self.host))  # type: ignore[arg-type]  # duck-typed AccessTokenProvider, kept lazy
        else:
            from msgraph_core import AzureIdentityAuthenticationProvider

            auth = AzureIdentityAuthenticationProvider(
                self._credential, scopes=[scope], allowed_hosts=[self.host]
            )
        raw = httpx.AsyncClient(base_url=self.root, verify=_ssl_context(self._verify), timeout=httpx.Timeout(60.0))
        retry = RetryHandlerOption(delay=1.0, max_retries=self._max_retries, should_retry=True)
        self._client = GraphClientFactory.create_with_default_middleware(
            client=raw, options={RetryHandlerOption.get_key(): retry}
        )
        self._adapter = BaseGraphRequestAdapter(auth, http_client=self._client)
        self._adapter.base_url = self.root + "/v1.0"
        return self

    async def access_token(self) -> str:
        """The bearer token this session sends (the credential's cached one: no new sign-in)."""
        if self._token is not None:
            return self._token
        # enable_cae as kiota's provider asks: azure-identity caches CAE and plain tokens apart
        return str((await self._credential.get_token(self._scope, enable_cae=True)).token)

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    def url(self, path: str, version: str = "v1.0", params: Mapping[str, Any] | None = None) -> str:
        if path.startswith(("http://", "https://")):
            return path
        q = ("?" + urlencode(params, safe="$,'()=:/ ")) if params else ""
        return f"{self.root}/{version}{path}{q}"

    def _is_paced(self, url: str) -> bool:
        path = urlsplit(url).path
        return any(f"/{v}{p}" in path for p in self._paced_paths for v in ("v1.0", "beta"))

    def paces(self, path: str) -> bool:
        """Whether a path below the version root (a $batch sub-request's) is in the CA family."""
        return any(path.startswith(p) for p in self._paced_paths)

    def _hold(self, seconds: float) -> None:
        """Graph answered 429 with Retry-After: send nothing more in that family until it has passed,
        and learn the refill rate from the RU granted since the previous 429."""
        now = time.monotonic()
        if self._last_429 is not None and now - self._last_429[0] >= 1.0:
            measured = (self._ru_granted - self._last_429[1]) / (now - self._last_429[0])
            if measured > 0:
                self._ru_rate = measured * _RU_MARGIN
        if self._last_429 is None or now - self._last_429[0] >= 1.0:
            self._last_429 = (now, self._ru_granted)
        self._hold_until = max(self._hold_until, now + seconds)

    def _spent(self, headers: Mapping[str, str], status: int) -> None:
        """Count an answer's resource units (x-ms-resource-unit, on 429s too)."""
        ru = int(headers.get("x-ms-resource-unit") or 0)
        self.stats.resource_units += ru
        if ru and status != 429:
            self._ru_granted += ru
            self._ru_item += (ru - self._ru_item) / 16

    async def _ru_pace(self, items: int) -> None:
        """Space requests (`items` of them, an envelope's) to the learnt RU rate, once there is one."""
        if self._ru_rate is None:
            return
        now = time.monotonic()
        wait = self._ru_next - now
        self._ru_next = max(now, self._ru_next) + items * self._ru_item / self._ru_rate
        if wait > 0:
            await asyncio.sleep(wait)

    async def _wait_hold(self, url: str, items: int = 1) -> None:
        if self._is_paced(url):
            return  # the CA family has its own pace
        while (wait := self._hold_until - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        await self._ru_pace(items)

    async def _pace(self, url: str) -> None:
        if self._paced_rps is None or not self._is_paced(url):
            return
        async with self._pace_lock:
            now = time.monotonic()
            wait = self._pace_next - now
            if wait > 0:
                await asyncio.sleep(wait)
            self._pace_next = max(now, self._pace_next) + 1.0 / self._paced_rps + _PACE_SLACK_S

    async def send(
        self, method: str, path: str, *, version: str = "v1.0", params: Mapping[str, Any] | None = None,
        body: Any = None, headers: Mapping[str, str] | None = None, idempotent: bool | None = None,
        items: int = 1,
    ) -> Response:
        """Send one request through the middleware; returns any status (callers decide).

        Idempotent requests (GETs, and $batch of GETs) are retried on dropped connections and 5xx.
        Writes are retried only where Graph did nothing: a 429, or a connection that never opened.
        A write whose connection drops after it was sent raises AnswerLost; a 5xx is returned.
        """
        import httpx
        from kiota_abstractions.method import Method
        from kiota_abstractions.request_information import RequestInformation
        from kiota_http.middleware.options import RetryHandlerOption

        url = self.url(path, version, params)
        retry_ok = method.upper() == "GET" if idempotent is None else idempotent
        # A $batch of reads is a POST that writes nothing: apply's summary counts write requests.
        writes = method.upper() != "GET" and not (idempotent and path.endswith("/$batch"))
        attempt = waits = 0  # faults retried, 429s waited out
        while True:
            ri = RequestInformation()
            ri.http_method = Method[method.upper()]
            ri.url = url
            if not retry_ok:
                # kiota's RetryHandler resends any method on 503/504: a create whose answer was lost
                # would be made twice. This loop retries the 429s, which Graph refused before acting.
                ri.add_request_options([RetryHandlerOption(should_retry=False)])
            for k, v in {**_DEFAULT_HEADERS, **(headers or {})}.items():
                ri.headers.add(k, v)
            if body is not None:
                ri.headers.add("Content-Type", "application/json")
                ri.content = json.dumps(body).encode()
            await self._wait_hold(url, items)  # outside the semaphore: held senders keep no slot
            async with self._sem:
                await self._pace(url)
                started = time.monotonic()
                span = self._adapter.start_tracing_span(ri, "entragit.send")
                try:
                    resp = await self._adapter.get_http_response_message(ri, span)
                except httpx.TransportError as e:
                    # A request that never left (no connection) is safe to resend, whatever it is;
                    # one dropped after sending may have landed, so only reads are resent.
                    unsent = isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                    if (retry_ok or unsent) and attempt < _RESET_RETRIES:
                        self.stats.retries += 1
                        await asyncio.sleep(0.2 * 2**attempt)
                        attempt += 1
                        continue
                    why = f"connection failed ({type(e).__name__}: {e})"
                    if not (retry_ok or unsent):
                        self.stats.requests += 1  # it was sent: the apply summary counts it
                        self.stats.writes += writes
                        raise AnswerLost(method, url, why) from None
                    raise EntragitError(f"{method} {url}: {why}") from None
                finally:
                    span.end()
            self.stats.requests += 1
            self.stats.writes += writes
            self.stats.by_status[resp.status_code] = self.stats.by_status.get(resp.status_code, 0) + 1
            self._spent(resp.headers, resp.status_code)
            self.stats.paced += self._is_paced(url)
            log.debug("%s %s -> %s (%.0f ms)", method, url, resp.status_code, (time.monotonic() - started) * 1000)
            if resp.status_code == 429:
                self.stats.throttled += 1
                self.stats.write_throttled += writes > 0 and _quota_refusal(resp.headers)
                if self._paced_rps is None and self._is_paced(url):
                    self._paced_rps = 1.0  # the CA family allows 1 rps per tenant; pace from now on
                if waits < _THROTTLE_RETRIES:
                    waits += 1
                    self.stats.retries += 1
                    wait = float(resp.headers.get("Retry-After") or 1.0)
                    if not self._is_paced(url):
                        self._hold(wait)
                    await asyncio.sleep(wait)
                    continue
            if resp.status_code in _5XX and retry_ok and attempt < _RESET_RETRIES:
                self.stats.retries += 1
                await asyncio.sleep(0.2 * 2**attempt)
                attempt += 1
                continue
            parsed = json.loads(resp.content) if resp.content else None
            return Response(resp.status_code, dict(resp.headers), parsed)

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        """Send and raise GraphError on a non-2xx answer; returns the parsed body."""
        resp = await self.send(method, path, **kw)
        if resp.status >= 400:
            raise resp.error(method, self.url(path, kw.get("version", "v1.0")))
        return resp.body

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.call("GET", path, **kw)

    def relative(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """`path` with its query as a $batch part's `url` (relative to the version root)."""
        return path + (("?" + urlencode(params, safe="$,'()=:/ ")) if params else "")

    async def list_all(self, path: str, *, version: str = "v1.0", params: Mapping[str, Any] | None = None,
                       headers: Mapping[str, str] | None = None, first: Any = None) -> list[dict[str, Any]]:
        """Every item of a collection, following @odata.nextLink verbatim (headers resent each page).
        `first`: its first page, already read (in a $batch)."""
        items: list[dict[str, Any]] = []
        page: Any = first if first is not None else await self.get(path, version=version, params=params,
                                                                   headers=headers)
        while True:
            items.extend(page.get("value", []))
            nxt = page.get("@odata.nextLink")
            if not nxt:
                return items
            page = await self.get(nxt, headers=headers)

    async def batch(self, requests: Sequence[Mapping[str, Any]], *, version: str = "v1.0") -> list[Response]:
        """JSON $batch in chunks of 20; answers in request order (Graph may answer out of order).

        Chunks of reads go out concurrently (the client's semaphore bounds them); chunks holding a
        write go one after another, in order, as callers of writes expect."""
        chunks = [list(requests[s:s + BATCH_MAX]) for s in range(0, len(requests), BATCH_MAX)]
        if all(r.get("method", "GET").upper() == "GET" for r in requests):
            answers = await asyncio.gather(*(self._batch_chunk(c, version) for c in chunks))
        else:
            answers = [await self._batch_chunk(c, version) for c in chunks]
        return [resp for chunk in answers for resp in chunk]

    async def _envelope(self, version: str, reqs: list[dict[str, Any]], reads: bool) -> Any:
        """POST one $batch envelope within the window; the window learns from its answers.

        An envelope carrying a CA-family sub-request keeps the family's pace (Graph counts each
        sub-request against it: https://learn.microsoft.com/graph/throttling#throttling-and-batching);
        until the pace is known, such envelopes go one at a time, so one 429 teaches it to the rest."""
        paced = {r["id"] for r in reqs if self.paces(str(r.get("url", "")))}
        if not paced:
            return await self._post_batch(version, reqs, reads, paced)
        async with self._pace_probe if self._paced_rps is None else contextlib.nullcontext():
            await self._pace(self.url(self._paced_paths[0], version))
            return await self._post_batch(version, reqs, reads, paced)

    async def _post_batch(self, version: str, reqs: list[dict[str, Any]], reads: bool, paced: set[str]) -> Any:
        async with self._window_free:
            await self._window_free.wait_for(lambda: self._in_flight < max(1, int(self._window)))
            self._in_flight += 1
        try:
            body = await self.call("POST", "/$batch", version=version, body={"requests": reqs}, idempotent=reads,
                                   items=len(reqs))
        finally:
            async with self._window_free:
                self._in_flight -= 1
                self._window_free.notify_all()
        refused = {i.get("id") for i in body.get("responses", []) if int(i.get("status", 0)) == 429}
        if refused & paced and self._paced_rps is None:
            # The CA family's 1 request/second: pace it from now on, as a lone request's 429 does.
            self._paced_rps = 1.0
            self._pace_next = time.monotonic() + 1.0 + _PACE_SLACK_S
        async with self._window_free:
            if refused - paced:  # the RU bucket, not the CA family's own pace
                self._window = max(1.0, self._window / 2)
            else:
                self._window = min(self._window_max, self._window + 1 / self._window)
            self._window_free.notify_all()
        return body

    async def _batch_chunk(self, chunk: list[Mapping[str, Any]], version: str) -> list[Response]:
        """One $batch envelope; throttled (429) sub-requests, and 5xx reads, are resent alone."""
        pending = {str(i): r for i, r in enumerate(chunk)}
        answers: dict[str, Response] = {}
        faults = waits = 0
        while faults <= _RESET_RETRIES and waits <= _THROTTLE_RETRIES:
            reqs = [{"id": i, **r} for i, r in pending.items()]
            for r in reqs:
                if "body" in r:
                    r["headers"] = {"Content-Type": "application/json", **r.get("headers", {})}
            reads = all(r.get("method", "GET").upper() == "GET" for r in reqs)
            body = await self._envelope(version, reqs, reads)
            retry_after = 0.0
            throttled = paced = quota = False
            for item in body.get("responses", []):
                resp = Response(int(item["status"]), item.get("headers") or {}, item.get("body"))
                self._spent(resp.headers, resp.status)
                if resp.status == 429:  # each sub-request is throttled on its own
                    retry_after = max(retry_after, float(resp.headers.get("Retry-After") or 1))
                    sub = pending.get(item["id"], {})
                    if self.paces(str(sub.get("url", ""))):
                        paced = True  # the CA family's own pace (`_envelope` learnt it): hold nothing else
                    else:
                        throttled = True
                        quota |= str(sub.get("method", "GET")).upper() != "GET" and _quota_refusal(resp.headers)
                    continue
                if resp.status in _5XX and reads:
                    retry_after = max(retry_after, 0.5)
                    continue
                answers[item["id"]] = resp
                pending.pop(item["id"], None)
            if not pending:
                break
            self.stats.retries += 1
            self.stats.throttled += throttled  # one wait, however many sub-requests it holds back
            self.stats.write_throttled += quota
            if throttled or paced:
                waits += 1
                if throttled:
                    self._hold(retry_after)
            else:
                faults += 1
            await asyncio.sleep(retry_after)
        return [answers.get(str(i)) or Response(429, {}, {"error": {"code": "TooManyRequests"}})
                for i in range(len(chunk))]
