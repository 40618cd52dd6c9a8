"""HubSpot CRM API v3 client: objects with `after` paging, properties, pipelines.

Configuration comes from the environment:

- `HUBSPOT_ACCESS_TOKEN` - a private-app access token (never printed; redacted from every error)
- `HUBSPOT_BASE_URL` - optional, default `https://api.hubapi.com` (tests point it at a local server)

Public API (used by drift and by conformance):

- `HubSpotClient.from_env(**options)`
- `list_objects(object_type, properties, properties_with_history=(), associations=(), archived=False)`
  -> Iterator[dict] - every object (`{id, properties, createdAt, updatedAt, ...}`), following `paging.next.after`
- `search_objects(object_type, filter_groups, properties, sorts=())` -> Iterator[dict] - CRM search, same paging
  (HubSpot caps a search at 10,000 results; use `list_objects` for full pulls)
- `get_properties(object_type)` -> list[dict] - property definitions with `options`
- `get_property_groups(object_type)` -> list[dict]
- `get_pipelines(object_type)` -> list[dict] - pipelines with their `stages`

429 and 5xx are retried with backoff honouring `Retry-After`, except a 429
for the DAILY policy, which raises `HubSpotLimitError` at once: the day's
allowance is spent and waiting seconds will not bring it back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from .http import CrmError, HttpTransport
from .limits import LIMIT_OPTIONS, Limits, PageGuard

DEFAULT_BASE_URL = "https://api.hubapi.com"
ENV_TOKEN = "HUBSPOT_ACCESS_TOKEN"
ENV_URL = "HUBSPOT_BASE_URL"
PAGE_SIZE = 100
"""HubSpot's maximum `limit` for object list and search calls."""
HISTORY_PAGE_SIZE = 50
"""HubSpot's maximum `limit` when `propertiesWithHistory` is requested."""
BATCH_READ_SIZE = 100
"""HubSpot's maximum number of `inputs` in one batch read."""


class HubSpotError(CrmError):
    """A HubSpot API call failed (message redacted)."""

    service = "HubSpot"


class HubSpotLimitError(HubSpotError):
    """The portal's daily API limit is exhausted; not retried."""


class HubSpotClient:
    """A HubSpot CRM v3 client bound to one portal token."""

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        sleep: Callable[[float], None] | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
        limits: Limits | None = None,
    ):
        if not access_token:
            raise HubSpotError(f"HubSpot is not configured: set {ENV_TOKEN} in the environment")
        options: dict[str, Any] = {"max_attempts": max_attempts, "backoff": backoff, "timeout": timeout,
                                   "limits": limits}
        if sleep is not None:
            options["sleep"] = sleep
        self.http = HttpTransport(
            base_url or DEFAULT_BASE_URL,
            access_token,
            error_cls=HubSpotError,
            transport=transport,
            on_response=self._check_daily_limit,
            **options,
        )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **options: Any) -> HubSpotClient:
        """A client configured from HUBSPOT_* (and PLAYBOOK_CRM_* limit) environment variables.

        Limit keywords (`request_deadline`, `command_deadline`, `max_pages`,
        `max_response_bytes`) override the environment.
        """
        env = os.environ if env is None else env
        overrides = {k: options.pop(k) for k in LIMIT_OPTIONS if k in options}
        limits = Limits.from_env(env, HubSpotError, **overrides)
        return cls(env.get(ENV_TOKEN, ""), base_url=env.get(ENV_URL) or DEFAULT_BASE_URL, limits=limits, **options)

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_daily_limit(self, response: httpx.Response) -> None:
        if response.status_code != 429:
            return
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and str(body.get("policyName", "")).upper() == "DAILY":
            raise HubSpotLimitError(
                "HubSpot daily API limit reached (429, policy DAILY); stopped without retrying. "
                "Try again after the portal's daily limit resets.",
                status=429,
                code="DAILY",
            )

    # -- paging
    def pager(self, what: str) -> PageGuard:
        """A loop/page-cap guard for one listing's pages (see `page_of`)."""
        return self.http.pager(what)

    def page_of(self, page: Any, guard: PageGuard | None = None) -> tuple[list[dict], str | None, int | None]:
        """(results, the `after` cursor of the next page or None, total) of one answer.

        A `paging.next.link` off the configured origin, an `after` seen before
        by `guard` raise HubSpotError (exit 2). Callers count the page on the
        guard before fetching it, so the cap is never passed by a request.
        """
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise self.http.fail("HubSpot answer has no 'results' list")
        nxt_page = (page.get("paging") or {}).get("next") if isinstance(page.get("paging"), dict) else None
        nxt_page = nxt_page if isinstance(nxt_page, dict) else {}
        if nxt_page.get("link") is not None:
            self.http.local_link(nxt_page["link"], "paging.next.link")
        nxt = nxt_page.get("after")
        if nxt is not None and not isinstance(nxt, (str, int)):
            raise self.http.fail("HubSpot paging.next.after is not a cursor")
        nxt = str(nxt) if nxt not in (None, "") else None
        if guard is not None:
            guard.follow(nxt)
        total = page.get("total")
        return page["results"], nxt, total if isinstance(total, int) else None

    def list_page(
        self,
        object_type: str,
        properties: Iterable[str] = (),
        *,
        after: str | None = None,
        properties_with_history: Iterable[str] = (),
        associations: Iterable[str] = (),
        archived: bool = False,
        guard: PageGuard | None = None,
    ) -> tuple[list[dict], str | None, int | None]:
        """One page of `list_objects`: (objects, next `after` or None, total)."""
        params: list[tuple[str, str]] = [("limit", str(PAGE_SIZE)), ("archived", str(archived).lower())]
        props = sorted(set(properties))
        if props:
            params.append(("properties", ",".join(props)))
        hist = sorted(set(properties_with_history))
        if hist:
            # HubSpot allows fewer objects per page when history is requested.
            params[0] = ("limit", str(HISTORY_PAGE_SIZE))
            params.append(("propertiesWithHistory", ",".join(hist)))
        assoc = sorted(set(associations))
        if assoc:
            params.append(("associations", ",".join(assoc)))
        if after:
            params.append(("after", after))
        url = f"/crm/v3/objects/{quote(object_type, safe='')}"
        if guard is not None:
            guard.page()
        return self.page_of(self.http.get_json(url, params=params), guard)

    def _pages(self, fetch: Callable[[str | None], Any], what: str) -> Iterator[dict]:
        guard = self.pager(what)
        after: str | None = None
        while True:
            guard.page()
            results, after, _ = self.page_of(fetch(after), guard)
            yield from results
            if after is None:
                return

    # -- objects
    def list_objects(
        self,
        object_type: str,
        properties: Iterable[str] = (),
        *,
        properties_with_history: Iterable[str] = (),
        associations: Iterable[str] = (),
        archived: bool = False,
    ) -> Iterator[dict]:
        """Every object of a type with the named properties, following `paging.next.after`."""
        guard = self.pager(f"list of {object_type}")
        after: str | None = None
        while True:
            results, after, _ = self.list_page(
                object_type, properties, after=after, properties_with_history=properties_with_history,
                associations=associations, archived=archived, guard=guard)
            yield from results
            if after is None:
                return

    def search_objects(
        self,
        object_type: str,
        filter_groups: list[dict],
        properties: Iterable[str] = (),
        sorts: Iterable[dict | str] = (),
    ) -> Iterator[dict]:
        """Objects matching CRM search filter groups, following `paging.next.after`."""
        url = f"/crm/v3/objects/{quote(object_type, safe='')}/search"
        body: dict[str, Any] = {
            "filterGroups": filter_groups,
            "properties": sorted(set(properties)),
            "sorts": list(sorts),
            "limit": PAGE_SIZE,
        }

        def fetch(after: str | None) -> Any:
            return self.http.post_json(url, {**body, **({"after": after} if after else {})})

        return self._pages(fetch, f"search of {object_type}")

    def batch_read(self, object_type: str, ids: Iterable[str], properties: Iterable[str]) -> dict[str, dict]:
        """Properties of the given records by id, `BATCH_READ_SIZE` ids a request (`POST .../batch/read`).

        Ids HubSpot does not find (a 207 answer lists them under `errors`) are left out of the result.
        """
        url = f"/crm/v3/objects/{quote(object_type, safe='')}/batch/read"
        wanted, props = sorted(set(ids)), sorted(set(properties))
        out: dict[str, dict] = {}
        for start in range(0, len(wanted), BATCH_READ_SIZE):
            chunk = wanted[start:start + BATCH_READ_SIZE]
            answer = self.http.post_json(url, {"properties": props, "inputs": [{"id": i} for i in chunk]})
            results = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
                raise self.http.fail(f"HubSpot batch read of {object_type} has no list of results")
            for r in results:
                if r.get("id") is not None:
                    out[str(r["id"])] = r.get("properties") if isinstance(r.get("properties"), dict) else {}
        return out

    # -- configuration
    def get_properties(self, object_type: str, archived: bool = False) -> list[dict]:
        """Property definitions of an object type (name, label, type, fieldType, options, groupName)."""
        url = f"/crm/v3/properties/{quote(object_type, safe='')}"
        return list(self._pages(lambda after: self.http.get_json(
            url, params=[("archived", str(archived).lower())] + ([("after", after)] if after else [])),
            f"properties of {object_type}"))

    def get_property_groups(self, object_type: str) -> list[dict]:
        """Property groups of an object type (name, label, displayOrder)."""
        url = f"/crm/v3/properties/{quote(object_type, safe='')}/groups"
        return list(self._pages(lambda after: self.http.get_json(url, params=[("after", after)] if after else None),
                                f"property groups of {object_type}"))

    def get_pipelines(self, object_type: str) -> list[dict]:
        """Pipelines of an object type, each with its ordered `stages`."""
        url = f"/crm/v3/pipelines/{quote(object_type, safe='')}"
        return list(self._pages(lambda after: self.http.get_json(url, params=[("after", after)] if after else None),
                                f"pipelines of {object_type}"))

    # -- writes (playbook deploy hubspot)
    def send(self, method: str, path: str, body: Any = None) -> Any:
        """One configuration write (POST, PATCH or DELETE of a property, group, pipeline or stage)."""
        response = self.http.request(method, path, **({"json": body} if body is not None else {}))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise self.http.fail(f"HubSpot API {method} {path} returned a non-JSON answer") from None


__all__ = ["HubSpotClient", "HubSpotError", "HubSpotLimitError", "DEFAULT_BASE_URL"]
