"""The one way conformance writes and reads instants: epoch seconds UTC <-> ISO 8601 text."""

from __future__ import annotations

from datetime import datetime, timezone


def iso(ts: int) -> str:
    """Epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> int:
    """`--as-of` text (ISO date or date-time; naive means UTC) as epoch seconds."""
    t = text.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())
