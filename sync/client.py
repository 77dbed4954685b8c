"""The terminal's HTTP client for ``/api/v1``: httpx with explicit timeouts, errors translated.

Every httpx or decoding error is turned into the project's own errors at this
boundary (``sync.errors``); callers never see a raw library error:

    httpx.TimeoutException, httpx.TransportError  → SyncUnavailable (``maybe_delivered`` False
                                                    when it surely never reached the server)
    HTTP 5xx, 429 (Retry-After honoured)          → SyncUnavailable
    HTTP 401 → Unauthorized   403 → Forbidden   409 → Conflict   other 4xx → ApiError
    a 2xx body that is not the expected schema    → ApiError

``verify`` is the TLS trust: ``sync.tls.verify_for(data_dir)`` gives the certificate pinned at
enrollment, or the system's CAs.  The ``transport`` argument is the testing seam (``httpx.MockTransport``, or a
real transport pointed through a fault-injecting proxy).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from sync.errors import ApiError, Conflict, Forbidden, SyncUnavailable, Unauthorized
from sync.schemas import (
    EPOCH_HEADER,
    MAX_EPOCH_LEN,
    AuthorizeRequest,
    AuthorizeResponse,
    DeskWalletRequest,
    DeskWalletResponse,
    EnrollRequest,
    EnrollResponse,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    SecurityEvent,
    SecurityReport,
    SecurityReportResponse,
    SignedRecord,
    SoldOutRequest,
    SoldOutResponse,
)

__all__ = ["DEFAULT_TIMEOUT", "SyncClient"]

DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=3.0)
M = TypeVar("M", bound=BaseModel)


class SyncClient:
    """Talks to one server as one terminal; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        api_token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        user_agent: str = "ennichi-terminal",
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        headers = {"User-Agent": user_agent}
        if api_token:
            headers["Authorization"] = f"Bearer {api_token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url + "/api/v1", headers=headers, timeout=timeout,
                                  transport=transport, follow_redirects=False, verify=verify)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ the API

    def enroll(self, request: EnrollRequest) -> EnrollResponse:
        """Enroll with a one-time code; raises Conflict (used code), Unauthorized, SyncUnavailable, ApiError."""
        return self._call("POST", "/enroll", EnrollResponse, json=request.model_dump(mode="json"))

    def push(self, records: Sequence[SignedRecord]) -> PushResponse:
        """Send a batch of signed records; raises Unauthorized, SyncUnavailable, ApiError."""
        request = PushRequest(records=list(records))
        response = self._send("POST", "/push", json=request.model_dump(mode="json"))
        return self._parse(response, PushResponse).model_copy(update={"epoch": _restore_epoch(response)})

    def report_security(self, events: Sequence[SecurityEvent]) -> SecurityReportResponse:
        """Report forged-token sightings (idempotent per log number); raises Unauthorized, SyncUnavailable, ..."""
        request = SecurityReport(events=list(events))
        return self._call("POST", "/security-events", SecurityReportResponse, json=request.model_dump(mode="json"))

    def pull(self, request: PullRequest) -> PullResponse:
        """Fetch one page of changes; raises Unauthorized, SyncUnavailable, ApiError."""
        response = self._send("POST", "/pull", json=request.model_dump(mode="json"))
        return self._parse(response, PullResponse).model_copy(update={"epoch": _restore_epoch(response)})

    def authorize(self, record: SignedRecord, *, timeout_s: float,
                  carried: Sequence[SignedRecord] = ()) -> AuthorizeResponse:
        """Ask the server to authorize and book a record within ``timeout_s``; raises SyncUnavailable, ...

        ``carried``: this terminal's unsynced records of the same wallet, booked first by the server.
        """
        request = AuthorizeRequest(record=record, carried=list(carried))
        timeout = httpx.Timeout(timeout_s)
        return self._call("POST", "/authorize", AuthorizeResponse, json=request.model_dump(mode="json"),
                          timeout=timeout)

    def issue_wallet(self, request: DeskWalletRequest, *, timeout_s: float) -> DeskWalletResponse:
        """Ask for a new empty wallet at a top-up desk within ``timeout_s`` (idempotent on the request id).

        Raises Forbidden (not this desk or person, or the desk's cap), Conflict, SyncUnavailable, ApiError.
        """
        return self._call("POST", "/desk/wallets", DeskWalletResponse, json=request.model_dump(mode="json"),
                          timeout=httpx.Timeout(timeout_s))

    def set_sold_out(self, product_id: int, request: SoldOutRequest, *, timeout_s: float) -> SoldOutResponse:
        """Mark a product of this till's stall sold out or back on sale within ``timeout_s`` (sets a value).

        Raises Forbidden (not this till's stall or person), ApiError (404 unknown product, 409 no stock
        left), SyncUnavailable.
        """
        if not 1 <= product_id < 1 << 31:
            raise ValueError(f"not a product id: {product_id}")
        return self._call("POST", f"/products/{product_id}/sold-out", SoldOutResponse,
                          json=request.model_dump(mode="json"), timeout=httpx.Timeout(timeout_s))

    def health(self, *, timeout_s: float = 2.0) -> dict[str, Any]:
        """Return the server's health document; raises SyncUnavailable, ApiError."""
        response = self._send("GET", "/health", timeout=httpx.Timeout(timeout_s))
        try:
            data = response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, "health is not JSON") from exc
        if not isinstance(data, dict):
            raise ApiError(response.status_code, "health is not an object")
        return data

    # ------------------------------------------------------------ plumbing

    def _call(self, method: str, path: str, model: type[M], *, json: Any = None,
              timeout: httpx.Timeout | None = None) -> M:
        return self._parse(self._send(method, path, json=json, timeout=timeout), model)

    @staticmethod
    def _parse(response: httpx.Response, model: type[M]) -> M:
        try:
            return model.model_validate_json(response.content)
        except (ValidationError, ValueError) as exc:
            raise ApiError(response.status_code, f"unexpected {model.__name__} from server") from exc

    def _send(self, method: str, path: str, *, json: Any = None,
              timeout: httpx.Timeout | None = None) -> httpx.Response:
        try:
            if timeout is None:
                response = self._http.request(method, path, json=json)
            else:
                response = self._http.request(method, path, json=json, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:  # never sent
            raise SyncUnavailable(f"cannot reach the server ({type(exc).__name__})", maybe_delivered=False) from exc
        except httpx.TimeoutException as exc:
            raise SyncUnavailable(f"the server did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:  # reset, protocol errors, ...: it may have been applied
            raise SyncUnavailable(f"the connection failed ({type(exc).__name__})") from exc
        status = response.status_code
        if status < 300:
            return response
        message = _error_message(response)
        if status == 401:
            raise Unauthorized(status, message)
        if status == 403:
            raise Forbidden(status, message)
        if status == 409:
            raise Conflict(status, message)
        if status >= 500 or status in (408, 429):
            raise SyncUnavailable(f"server busy or failing: HTTP {status} {message}",
                                  retry_after=_retry_after(response), maybe_delivered=status not in (429, 503))
        raise ApiError(status, message)


def _error_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        detail = data.get("detail", data.get("message", ""))
        return str(detail)[:200]
    return str(data)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, min(float(value), 300.0))
    except ValueError:
        return None


def _restore_epoch(response: httpx.Response) -> str | None:
    """The server's restore epoch from its answer's header; None from a server before epochs (or garbled)."""
    value = response.headers.get(EPOCH_HEADER)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_EPOCH_LEN:
        return None
    if not (value.isascii() and value.isprintable()):
        return None
    return value
