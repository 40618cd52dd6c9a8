"""Shared HTTP transport for the CRM clients: retries, backoff, bounds, origin, redaction.

Retries 429 and 5xx responses (and dropped connections) a bounded number of
times, waiting what `Retry-After` asks for or an exponential backoff. The
sleep function is injectable so tests run instantly. Every message that can
leave this module passes through `generator.redact`, so a token never reaches
output, logs or error text.

The token is sent only to the configured origin: any URL on another scheme,
host or port (an absolute paging link, a protocol-relative `//host/...`) is
refused before a byte is sent. Each request has a wall-clock deadline and the
whole client (one command) another (`limits.Limits`); answers are read as a
stream and refused past `max_response_bytes`. A request that ran out of time
marks the server as unresponsive: later requests of the same command fail at
once instead of each waiting out its own deadline.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import httpx

from ..errors import ExternalToolError
from ..redact import Redactor
from .deadline import DeadlineTransport
from .limits import Limits, PageGuard

DEFAULT_TIMEOUT = Limits.timeout
DEFAULT_ATTEMPTS = 5
MAX_WAIT_SECONDS = 120.0
"""Longest single wait we accept; a longer Retry-After fails fast instead of hanging."""

def _default_sleep(seconds: float) -> None:
    # Looked up at call time so a test can swap the module's clock for every client at once.
    time.sleep(seconds)


class CrmError(ExternalToolError):
    """A CRM API call failed; the message is already redacted.

    `retryable` tells a caller whether trying later might help; `status` is
    the HTTP status when there was a response.
    """

    service = "CRM"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = (now or (lambda: datetime.now(timezone.utc)))()
    return max(0.0, (when - current).total_seconds())


class _TooLarge(Exception):
    pass


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    u = httpx.URL(str(url))
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return u.scheme.lower(), (u.host or "").lower(), port


class HttpTransport:
    """One authenticated httpx client with bounded, polite retries, on one origin.

    `on_response` lets an API module inspect a response before the retry
    decision (Salesforce raises on REQUEST_LIMIT_EXCEEDED there so it is never
    retried). `error_cls` is the API's own CrmError subclass.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        error_cls: type[CrmError] = CrmError,
        max_attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = 0.5,
        max_wait: float = MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] | None = None,
        timeout: float | None = None,
        limits: Limits | None = None,
        transport: httpx.BaseTransport | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
        headers: dict[str, str] | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self._redact = Redactor([token])
        self.error_cls = error_cls
        if not token.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in token):
            # httpx would refuse the header on every attempt; say what is wrong once, before any request.
            raise self.fail(f"{error_cls.service} access token is empty or holds control characters")
        self._token_digest = hashlib.sha256(token.encode()).hexdigest()
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep if sleep is not None else (lambda s: _default_sleep(s))
        self.on_response = on_response
        self.requests_made = 0
        self.limits = limits or Limits()
        if timeout is not None:
            self.limits = replace(self.limits, timeout=timeout)
        try:
            self._origin = origin(self.base_url)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise self.fail(f"{error_cls.service} base URL {self.base_url!r} is not a valid URL") from None
        if self._origin[0] not in ("http", "https") or not self._origin[1]:
            raise self.fail(f"{error_cls.service} base URL {self.base_url!r} must be http(s)://host")
        self._command_end = time.monotonic() + self.limits.command_deadline
        self._unresponsive: str | None = None
        self._deadline_transport = DeadlineTransport() if transport is None else None
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})},
            timeout=self.limits.timeout,
            transport=transport or self._deadline_transport,
            follow_redirects=False,
        )

    # -- lifecycle
    def close(self) -> None:
        """Close the underlying connection pool."""
        self._client.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers
    def redact(self, text: object) -> str:
        """Redact this client's token (and any credential-looking text) from `text`."""
        return self._redact(text)

    def token_digest(self) -> str:
        """A SHA-256 of the token: tells accounts apart (cache names) without holding the token."""
        return self._token_digest

    def fail(self, message: str, *, status: int | None = None, code: str | None = None) -> CrmError:
        """Build this API's error with a redacted message."""
        return self.error_cls(self.redact(message), status=status, code=code)

    def pager(self, what: str) -> PageGuard:
        """The loop and page-cap guard for one paged listing of this API."""
        return PageGuard(f"{self.error_cls.service} {what}", self.limits.max_pages, self.fail)

    def local_link(self, link: object, what: str) -> str:
        """A paging link as a path on the configured origin; an error if it points anywhere else.

        Relative paths stay as they are; an absolute link on the same scheme,
        host and port becomes its path and query, so a cursor saved from it can
        never name another host.
        """
        service = self.error_cls.service
        if not isinstance(link, str) or not link.strip():
            raise self.fail(f"{service} {what} is not a link")
        text = link.strip()
        if "\\" in text or any(ord(c) < 0x21 for c in text):
            raise self.fail(f"{service} {what} holds characters no link may hold; refused")
        if text.startswith("/") and not text.startswith("//"):
            return text
        try:
            there = origin(text)
            u = httpx.URL(text)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise self.fail(f"{service} {what} is not a valid link; refused") from None
        if there != self._origin:
            # A scheme-relative link (//host/path) has no scheme or port of its own to show.
            shown = f"{there[0]}://{there[1]}:{there[2]}" if there[0] else f"//{there[1]} (a link without a scheme)"
            raise self.fail(
                f"{service} {what} points to {shown}, not the configured "
                f"{self._origin[0]}://{self._origin[1]}:{self._origin[2]}; refused to follow it (the access token "
                "is sent only to the configured instance)"
            )
        return u.raw_path.decode("ascii")

    def _wait_for(self, attempt: int, response: httpx.Response | None) -> float:
        asked = parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
        if asked is not None:
            return asked
        return min(self.max_wait, self.backoff * (2 ** (attempt - 1)))

    def _out_of_time(self, method: str, url: str, end: float, *, waiting: float | None = None) -> CrmError:
        service = self.error_cls.service
        if end >= self._command_end and time.monotonic() >= self._command_end:
            message = (f"{service} API {method} {_path(url)}: the command's deadline of "
                       f"{self.limits.command_deadline:g}s (PLAYBOOK_CRM_COMMAND_DEADLINE) passed; stopped")
        elif waiting is not None:
            # Name the deadline that cuts the wait: a request's own is capped by the command's.
            if end >= self._command_end:
                limit = f"the command's deadline of {self.limits.command_deadline:g}s (PLAYBOOK_CRM_COMMAND_DEADLINE)"
            else:
                limit = f"this request's deadline of {self.limits.request_deadline:g}s (PLAYBOOK_CRM_REQUEST_DEADLINE)"
            return self.fail(f"{service} API {method} {_path(url)} asked us to wait {waiting:.0f}s (Retry-After), "
                             f"past {limit}; try again later")
        else:
            message = (f"{service} API {method} {_path(url)} took more than {self.limits.request_deadline:g}s "
                       f"(PLAYBOOK_CRM_REQUEST_DEADLINE) without a complete answer; stopped. The server is slow "
                       "or not answering")
        self._unresponsive = message
        return self.fail(message)

    def _send(self, method: str, url: str, end: float, **kwargs: Any) -> httpx.Response:
        """One exchange, read as a bounded stream; the body is buffered for the caller."""
        if self._deadline_transport is not None:
            self._deadline_transport.set_deadline(end)
        request = self._client.build_request(method, url, **kwargs)
        if origin(request.url) != self._origin:
            raise self.fail(f"{self.error_cls.service} API: refused to send a request off the configured origin")
        response = self._client.send(request, stream=True)
        cap = self.limits.max_response_bytes
        try:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise _TooLarge()
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise _TooLarge()
                chunks.append(chunk)
                if time.monotonic() > end:
                    raise httpx.ReadTimeout("deadline exceeded", request=request)
        finally:
            response.close()
        kept = [(k, v) for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=kept, content=b"".join(chunks), request=request)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying 429/5xx and dropped connections; raise on failure.

        Returns the successful (2xx) response. `url` is a path relative to the
        base URL or an absolute link on the same origin (see `local_link`).
        """
        service = self.error_cls.service
        if self._unresponsive is not None:
            raise self.fail(f"{self._unresponsive} (an earlier request of this command); not trying again")
        url = self.local_link(url, "request URL") if "://" in url or url.startswith("//") else url
        end = min(time.monotonic() + self.limits.request_deadline, self._command_end)
        last: str = ""
        timed_out = False
        response: httpx.Response | None = None
        for attempt in range(1, self.max_attempts + 1):
            if time.monotonic() >= end:
                raise self._out_of_time(method, url, end)
            response = None
            try:
                self.requests_made += 1
                response = self._send(method, url, end, **kwargs)
            except _TooLarge:
                raise self.fail(
                    f"{service} API {method} {_path(url)} answered with more than "
                    f"{self.limits.max_response_bytes} bytes (PLAYBOOK_CRM_MAX_RESPONSE_BYTES); refused"
                ) from None
            except (httpx.LocalProtocolError, httpx.UnsupportedProtocol) as exc:
                # Our own request is malformed: sending it again cannot help.
                raise self.fail(f"{service} API {method} {_path(url)}: request refused before sending "
                                f"({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                if time.monotonic() >= end:
                    raise self._out_of_time(method, url, end) from None
                last = f"{type(exc).__name__}: {exc}"
                timed_out = isinstance(exc, httpx.TimeoutException)
            else:
                timed_out = False
                if self.on_response is not None:
                    self.on_response(response)
                status = response.status_code
                if 200 <= status < 300:
                    return response
                if status != 429 and status < 500:
                    raise self.fail(
                        f"{service} API {method} {_path(url)} failed with HTTP {status}: {_body(response)}",
                        status=status,
                    )
                last = f"HTTP {status}: {_body(response)}"
            if attempt == self.max_attempts:
                break
            wait = self._wait_for(attempt, response)
            if wait > self.max_wait:
                raise self.fail(
                    f"{service} API {method} {_path(url)} asked us to wait {wait:.0f}s "
                    f"(Retry-After), more than the {self.max_wait:.0f}s we allow; try again later. Last answer: {last}",
                    status=response.status_code if response is not None else None,
                )
            if time.monotonic() + wait >= end:
                raise self._out_of_time(method, url, end, waiting=wait)
            self.sleep(wait)
        message = f"{service} API {method} {_path(url)} still failing after {self.max_attempts} attempts; last answer: {last}"
        if timed_out:  # a server that does not answer will not answer the next request either
            self._unresponsive = message
        raise self.fail(message, status=response.status_code if response is not None else None)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET and decode JSON."""
        return _json(self, self.request("GET", url, **kwargs), url)

    def post_json(self, url: str, body: Any, **kwargs: Any) -> Any:
        """POST a JSON body and decode the JSON answer."""
        return _json(self, self.request("POST", url, json=body, **kwargs), url)


def _json(t: HttpTransport, response: httpx.Response, url: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise t.fail(f"{t.error_cls.service} API {_path(url)} returned a non-JSON answer") from None


def _path(url: str) -> str:
    # Query strings may carry SOQL or tokens; the path is enough to say which call failed.
    return url.split("?", 1)[0]


def _body(response: httpx.Response, limit: int = 500) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("..." if len(text) > limit else "")
