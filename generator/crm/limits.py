"""Bounds on every CRM conversation, and the guard every paged listing goes through.

A CRM (or something pretending to be one) can make a client run forever: a
`nextRecordsUrl` that repeats, endless unique cursors, a server that drips one
byte every few seconds or never answers, an answer of gigabytes. `Limits`
bounds each of these; exceeding one is a `CrmError` (exit 2) saying which.

Configured by keyword (tests) or from the environment (the CLI):

    PLAYBOOK_CRM_TIMEOUT              seconds one connect/read may wait (30)
    PLAYBOOK_CRM_REQUEST_DEADLINE     seconds one request may take, retries included (120)
    PLAYBOOK_CRM_COMMAND_DEADLINE     seconds all requests of one command may take (3600)
    PLAYBOOK_CRM_MAX_PAGES            pages one object listing may have (20000)
    PLAYBOOK_CRM_MAX_RESPONSE_BYTES   bytes one answer may have, decoded (67108864)

`PageGuard` is the one place paging is bounded: the Salesforce and HubSpot
clients (so `drift` gets it) and the conformance pulls all use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

ENV_PREFIX = "PLAYBOOK_CRM_"
LIMIT_OPTIONS = ("request_deadline", "command_deadline", "max_pages", "max_response_bytes")
"""Client keywords that override a `Limits` field (`timeout` is a client keyword of its own)."""


@dataclass(frozen=True)
class Limits:
    """How long and how much one CRM client may wait for and read."""

    timeout: float = 30.0
    request_deadline: float = 120.0
    command_deadline: float = 3600.0
    max_pages: int = 20_000
    max_response_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str], fail: Callable[[str], Exception], **overrides: Any) -> Limits:
        """Limits from PLAYBOOK_CRM_* variables, then keyword overrides (None = keep)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = ENV_PREFIX + f.name.upper()
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            kind = int if f.type in (int, "int") else float
            try:
                value = kind(raw)
            except ValueError:
                raise fail(f"{name} must be a number, got {raw!r}") from None
            values[f.name] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        limits = replace(cls(), **values)
        for f in fields(cls):
            if getattr(limits, f.name) <= 0:
                raise fail(f"{ENV_PREFIX}{f.name.upper()} must be positive")
        return limits


class PageGuard:
    """Follows one paged listing: refuses a cursor seen before and more than `max_pages` pages."""

    def __init__(self, what: str, max_pages: int, fail: Callable[[str], Exception]) -> None:
        self.what = what
        self.max_pages = max_pages
        self.fail = fail
        self.pages = 0
        self._seen: set[str] = set()

    def page(self) -> None:
        """Count one page fetched; raise when the cap is passed."""
        self.pages += 1
        if self.pages > self.max_pages:
            raise self.fail(
                f"{self.what}: more than {self.max_pages} pages (PLAYBOOK_CRM_MAX_PAGES); stopped. "
                "The API kept returning new cursors; raise the cap if the object really is that large."
            )

    def follow(self, cursor: str | None) -> str | None:
        """The cursor to follow next (None when done); raise if it was followed before."""
        if cursor is None:
            return None
        if cursor in self._seen:
            raise self.fail(f"{self.what}: paging looped (the API returned a cursor it had already returned); stopped")
        self._seen.add(cursor)
        return cursor
