"""Salesforce REST API client: SOQL queries with paging, describes, tooling reads.

Configuration comes from the environment:

- `SALESFORCE_INSTANCE_URL` - e.g. `https://example.my.salesforce.com` (tests point it at a local server)
- `SALESFORCE_ACCESS_TOKEN` - an OAuth access token (never printed; redacted from every error)
- `SALESFORCE_API_VERSION` - optional, default `DEFAULT_API_VERSION`

Public API (used by drift and by conformance):

- `SalesforceClient.from_env(**options)`
- `query(soql) -> Iterator[dict]` - every record, following `nextRecordsUrl`; `attributes` removed
- `query_all(soql)` - the same over `queryAll` (includes deleted/archived rows)
- `tooling_query(soql) -> Iterator[dict]` - Tooling API query, same paging
- `describe(sobject) -> dict` - the sObject describe (fields, picklistValues, ...)
- `picklist_values(sobject, field, active_only=True) -> list[dict]`
- `lead_statuses() -> list[dict]` - LeadStatus rows (ApiName, MasterLabel, IsConverted, SortOrder)
- `queues(sobject="Lead") -> list[dict]` - queues (Group Type='Queue') that accept the sObject
- `limits() -> dict`

A 403 whose body carries `REQUEST_LIMIT_EXCEEDED` raises `SalesforceLimitError`
at once, never retried: the org's daily allowance is spent and retrying would
only spend other integrations' share. 429 and 5xx are retried with backoff.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from .http import CrmError, HttpTransport
from .limits import LIMIT_OPTIONS, Limits, PageGuard

DEFAULT_API_VERSION = "62.0"
ENV_URL = "SALESFORCE_INSTANCE_URL"
ENV_TOKEN = "SALESFORCE_ACCESS_TOKEN"
ENV_VERSION = "SALESFORCE_API_VERSION"


class SalesforceError(CrmError):
    """A Salesforce API call failed (message redacted)."""

    service = "Salesforce"


class SalesforceLimitError(SalesforceError):
    """The org's API request limit is exhausted (REQUEST_LIMIT_EXCEEDED); not retried."""


def _error_codes(response: httpx.Response) -> list[str]:
    """`errorCode`s of a Salesforce error body (a JSON list of {message, errorCode})."""
    try:
        body = response.json()
    except ValueError:
        return []
    items = body if isinstance(body, list) else [body]
    return [str(i.get("errorCode")) for i in items if isinstance(i, dict) and i.get("errorCode")]


def _strip_attributes(value: Any) -> Any:
    # `attributes` (type + url) is REST bookkeeping, not data: drop it at every level.
    if isinstance(value, dict):
        return {k: _strip_attributes(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [_strip_attributes(v) for v in value]
    return value


class SalesforceClient:
    """A Salesforce REST client bound to one org and API version."""

    def __init__(
        self,
        instance_url: str,
        access_token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        sleep: Callable[[float], None] | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
        limits: Limits | None = None,
    ):
        if not instance_url or not access_token:
            raise SalesforceError(
                f"Salesforce is not configured: set {ENV_URL} and {ENV_TOKEN} in the environment"
            )
        self.api_version = api_version.lstrip("v")
        options: dict[str, Any] = {"max_attempts": max_attempts, "backoff": backoff, "timeout": timeout,
                                   "limits": limits}
        if sleep is not None:
            options["sleep"] = sleep
        self.http = HttpTransport(
            instance_url,
            access_token,
            error_cls=SalesforceError,
            transport=transport,
            on_response=self._check_limit,
            **options,
        )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **options: Any) -> SalesforceClient:
        """A client configured from SALESFORCE_* (and PLAYBOOK_CRM_* limit) environment variables.

        Limit keywords (`request_deadline`, `command_deadline`, `max_pages`,
        `max_response_bytes`) override the environment.
        """
        env = os.environ if env is None else env
        overrides = {k: options.pop(k) for k in LIMIT_OPTIONS if k in options}
        limits = Limits.from_env(env, SalesforceError, **overrides)
        return cls(
            env.get(ENV_URL, ""),
            env.get(ENV_TOKEN, ""),
            api_version=env.get(ENV_VERSION) or DEFAULT_API_VERSION,
            limits=limits,
            **options,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport hooks
    def _check_limit(self, response: httpx.Response) -> None:
        if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in _error_codes(response):
            raise SalesforceLimitError(
                self.http.redact(
                    "Salesforce API request limit exceeded (REQUEST_LIMIT_EXCEEDED): the org's API allowance "
                    "is used up; stopped without retrying. Try again when the 24-hour window frees calls."
                ),
                status=403,
                code="REQUEST_LIMIT_EXCEEDED",
            )

    @property
    def _base(self) -> str:
        return f"/services/data/v{self.api_version}"

    # -- queries
    def query_url(self, soql: str, *, api: str = "query") -> str:
        """The first-page URL of a SOQL query (`api`: query, queryAll or tooling/query)."""
        return f"{self._base}/{api}?q={quote(soql, safe='')}"

    def query_page(self, url: str, guard: PageGuard | None = None) -> tuple[list[dict], str | None, int | None]:
        """One page of a query: (records, nextRecordsUrl as a local path or None, totalSize).

        `url` is a first-page URL or a saved `nextRecordsUrl`. A next link off
        the configured instance, a cursor seen before by `guard`, or more pages
        than the cap raise SalesforceError (exit 2) before anything is followed.
        """
        if guard is not None:
            guard.page()
        page = self.http.get_json(url)
        if not isinstance(page, dict) or not isinstance(page.get("records"), list):
            raise self.http.fail("Salesforce query answer has no 'records' list")
        done = page.get("done", True)
        nxt = None if done else page.get("nextRecordsUrl")
        if not done and not nxt:
            raise self.http.fail("Salesforce query answer is not done but has no nextRecordsUrl")
        if nxt is not None:
            nxt = self.http.local_link(nxt, "query nextRecordsUrl")
            if guard is not None:
                guard.follow(nxt)
        total = page.get("totalSize")
        return [_strip_attributes(r) for r in page["records"]], nxt, total if isinstance(total, int) else None

    def pager(self, what: str) -> PageGuard:
        """A loop/page-cap guard for one query's pages (see `query_page`)."""
        return self.http.pager(what)

    def _paged(self, first_url: str) -> Iterator[dict]:
        guard = self.pager(f"query {_path_of(first_url)}")
        url: str | None = first_url
        guard.follow(first_url)
        while url:
            records, url, _ = self.query_page(url, guard)
            yield from records

    def query(self, soql: str) -> Iterator[dict]:
        """Every record of a SOQL query, following `nextRecordsUrl` pages."""
        return self._paged(self.query_url(soql))

    def query_all(self, soql: str) -> Iterator[dict]:
        """Like `query`, including deleted and archived records (`queryAll`)."""
        return self._paged(self.query_url(soql, api="queryAll"))

    def tooling_query(self, soql: str) -> Iterator[dict]:
        """Every record of a Tooling API query (validation rules, flows, ...)."""
        return self._paged(self.query_url(soql, api="tooling/query"))

    # -- describes and configuration reads
    def describe(self, sobject: str) -> dict:
        """The sObject describe: fields with type, length, picklistValues, ..."""
        return self.http.get_json(f"{self._base}/sobjects/{quote(sobject, safe='')}/describe")

    def picklist_values(self, sobject: str, field: str, active_only: bool = True) -> list[dict]:
        """Picklist entries ({value, label, active, defaultValue}) of one field."""
        for f in self.describe(sobject).get("fields", []):
            if f.get("name") == field:
                values = f.get("picklistValues") or []
                return [v for v in values if v.get("active", True) or not active_only]
        raise self.http.fail(f"Salesforce {sobject} has no field {field}", code="NO_SUCH_FIELD")

    def lead_statuses(self) -> list[dict]:
        """LeadStatus rows in picklist order (ApiName, MasterLabel, IsConverted, IsDefault, SortOrder)."""
        rows = self.query(
            "SELECT ApiName, MasterLabel, IsConverted, IsDefault, SortOrder FROM LeadStatus ORDER BY SortOrder"
        )
        return list(rows)

    def queues(self, sobject: str = "Lead") -> list[dict]:
        """Queues (Group Type='Queue') that accept records of `sobject`: {Id, Name, DeveloperName}."""
        accepted = {
            r.get("QueueId")
            for r in self.query(f"SELECT QueueId, SobjectType FROM QueueSobject WHERE SobjectType = '{_soql_str(sobject)}'")
        }
        groups = self.query("SELECT Id, Name, DeveloperName FROM Group WHERE Type = 'Queue' ORDER BY DeveloperName")
        return [g for g in groups if g.get("Id") in accepted]

    def limits(self) -> dict:
        """The org's API limits (DailyApiRequests etc.)."""
        return self.http.get_json(f"{self._base}/limits")


def _path_of(url: str) -> str:
    return url.split("?", 1)[0]


def _soql_str(value: str) -> str:
    """Escape a value for a single-quoted SOQL string literal."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


__all__ = ["SalesforceClient", "SalesforceError", "SalesforceLimitError", "DEFAULT_API_VERSION"]
