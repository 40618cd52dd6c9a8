"""Shared HTTP transport for the CRM clients: retries, backoff, redaction.

Retries 429 and 5xx responses (and dropped connections) a bounded number of
times, waiting what `Retry-After` asks for or an exponential backoff. The
sleep function is injectable so tests run instantly. Every message that can
leave this module passes through `generator.redact`, so a token never reaches output,
logs or error text.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from ..errors import ExternalToolError
from ..redact import Redactor

DEFAULT_TIMEOUT = 30.0
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


class HttpTransport:
    """One authenticated httpx client with bounded, polite retries.

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
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
        headers: dict[str, str] | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self._redact = Redactor([token])
        self._token_digest = hashlib.sha256(token.encode()).hexdigest()
        self.error_cls = error_cls
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep if sleep is not None else (lambda s: _default_sleep(s))
        self.on_response = on_response
        self.requests_made = 0
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})},
            timeout=timeout,
            transport=transport,
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

    def _wait_for(self, attempt: int, response: httpx.Response | None) -> float:
        asked = parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
        if asked is not None:
            return asked
        return min(self.max_wait, self.backoff * (2 ** (attempt - 1)))

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying 429/5xx and dropped connections; raise on failure.

        Returns the successful (2xx) response. `url` is a path relative to the
        base URL or an absolute path such as a `nextRecordsUrl`.
        """
        service = self.error_cls.service
        last: str = ""
        for attempt in range(1, self.max_attempts + 1):
            response: httpx.Response | None = None
            try:
                self.requests_made += 1
                response = self._client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
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
            self.sleep(wait)
        raise self.fail(
            f"{service} API {method} {_path(url)} still failing after {self.max_attempts} attempts; last answer: {last}",
            status=response.status_code if response is not None else None,
        )

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
