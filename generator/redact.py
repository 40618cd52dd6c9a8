"""The one redactor: every secret pattern playbook knows, in every form it can appear.

Everything that prints, logs, raises or writes a report passes text through
`redact()` (or a `Redactor` bound to the secrets of one connection), so whether
a secret is hidden never depends on the code path. It masks:

- the given secrets (a CRM token, a database password) in plain form and in any
  mix of percent-encoding (`%2F`, `+` for a space) and JSON `\\uXXXX` / `\\/`
  escapes, case-insensitively (a server may echo a token back in an error body);
- `Authorization`-style credentials: `Bearer <token>`, `OAuth <token>`;
- key/value secrets, in query strings, conninfo strings, headers and JSON, with
  plain, quoted, escaped or percent-encoded separators: access/refresh/id
  tokens, `client_secret`, OAuth assertions, `password`/`pwd`, `hapikey`, API
  keys, `token`, `secret`;
- URL passwords: the raw userinfo (`scheme://user:<everything up to the last
  @>@host`), so a password with an unencoded `#`, `/`, `?` or `@`
  (`postgresql://u:pa#ss@host/db`) is masked whole, and `url_secrets()` adds
  whatever `urllib` makes of such a URL (its password, and the pieces its
  parser splits the raw password into).

Over-masking is accepted; under-masking is a bug. The module is pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"
MIN_SECRET = 3
"""Shorter given secrets are not masked in free text: they would mangle ordinary words."""

SECRET_KEYS: tuple[str, ...] = (
    "access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "assertion",
    "code_verifier", "password", "passwd", "pwd", "sslpassword", "hapikey", "api_key", "apikey",
    "api-key", "x-api-key", "token", "secret", "session_id", "sessionid", "sid",
)
"""Names whose value is a credential wherever it appears as key=value or "key": "value"."""

PARAM_ONLY_KEYS: tuple[str, ...] = ("pass",)
"""Names treated as secret only as URL/conninfo parameters (`pass=`), not in prose or JSON."""

# Separators and quotes as they appear raw, JSON-escaped or percent-encoded.
_Q = r"(?:\\?[\"']|%2[27]|\\u002[27])"
_EQ = r"(?:\s*(?:=|%3D|\\u003D)\s*)"
_COLON = r"(?:\s*(?::|%3A|\\u003A)\s*)"
_QUOTED = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
"""A quoted value (conninfo `password='a b'`, JSON `"x"`): masked up to its closing quote."""
_VALUE = r"(?:\\u[0-9a-f]{4}|%[0-9a-f]{2}|\\/|[^\s\"'&,;<>\\%(){}\[\]])+"


def _key_pattern(keys: Iterable[str], seps: str) -> re.Pattern[str]:
    names = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(
        rf"(?P<pre>(?<![A-Za-z0-9_]){_Q}?(?:{names}){_Q}?{seps})(?P<val>{_QUOTED}|{_Q}?{_VALUE})",
        re.IGNORECASE,
    )


_KV = _key_pattern(SECRET_KEYS, f"(?:{_EQ}|{_COLON})")
_KV_PARAM = _key_pattern(PARAM_ONLY_KEYS, _EQ)
_SCHEME_TOKEN = re.compile(
    r"(?P<pre>\b(?:Bearer|OAuth)(?:\s+|%20|\+|\\u0020))(?P<val>[A-Za-z0-9._~+/=!:%\\-]+)", re.IGNORECASE
)
# userinfo with a password: everything up to the LAST @ of the non-space run, so `#`, `/`, `?`
# and `@` inside an unencoded password stay inside the mask.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s?#\"']*):(?P<pw>\S*)@")


def _char_forms(ch: str) -> str:
    """A regex matching one character raw, percent-encoded (UTF-8) or as a JSON escape."""
    forms = [re.escape(ch), "".join(f"%{b:02x}" for b in ch.encode("utf-8"))]
    code = ord(ch)
    if code > 0xFFFF:  # JSON writes astral characters as a surrogate pair
        code -= 0x10000
        forms.append(f"\\\\u{0xD800 + (code >> 10):04x}\\\\u{0xDC00 + (code & 0x3FF):04x}")
    else:
        forms.append(f"\\\\u{code:04x}")
    if ch == " ":
        forms.append(r"\+")
    if ch == "/":
        forms.append(r"\\/")
    return "(?:" + "|".join(forms) + ")"


@lru_cache(maxsize=256)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    return re.compile("".join(_char_forms(c) for c in secret), re.IGNORECASE)


def _usable(secrets: Iterable[str | None]) -> list[str]:
    out = {s for s in secrets if s and len(s) >= MIN_SECRET}
    # Longest first, so a secret that contains another is masked whole.
    return sorted(out, key=len, reverse=True)


def redact(text: object, *secrets: str | None) -> str:
    """`text` with the given secrets and every credential-shaped substring masked."""
    s = "" if text is None else str(text)
    for secret in _usable(secrets):
        s = _secret_pattern(secret).sub(MASK, s)
    s = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", s)
    s = _SCHEME_TOKEN.sub(lambda m: m["pre"] + MASK, s)
    s = _KV.sub(_mask_value, s)
    return _KV_PARAM.sub(_mask_value, s)


def _mask_value(m: re.Match[str]) -> str:
    val = m["val"]
    if len(val) >= 2 and val[0] in "'\"" and val[-1] == val[0]:
        return f"{m['pre']}{val[0]}{MASK}{val[0]}"
    return m["pre"] + MASK


class Redactor:
    """`redact` bound to the secrets of one connection (a token, a password)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = tuple(_usable(secrets))

    def __call__(self, text: object) -> str:
        return redact(text, *self._secrets)

    def with_secrets(self, *more: str | None) -> Redactor:
        """A redactor that also masks `more`."""
        return Redactor((*self._secrets, *more))


def _raw_userinfo(url: str) -> tuple[str, str, str] | None:
    """(scheme://, userinfo, rest after the last @) of a URL with credentials, else None."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return None
    userinfo, _, host_part = rest.rpartition("@")
    return scheme + sep, userinfo, host_part


def url_secrets(url: str) -> list[str]:
    """Every form of the password in `url`: raw, decoded, and what urllib's parser makes of it."""
    found: list[str] = []
    raw = _raw_userinfo(url or "")
    if raw is not None and ":" in raw[1]:
        pw = raw[1].split(":", 1)[1]
        found += [pw, unquote(pw), unquote_plus(pw)]
        # urllib ends the netloc at the first '/', '?' or '#': the pieces it then treats as
        # port, path, query or fragment are secrets too.
        found += [p for p in re.split(r"[/?#@:]", pw) if p]
    try:
        parts = urlsplit(url or "")
        found += [parts.password or "", unquote(parts.password or "")]
        found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if _is_secret_key(k)]
        netloc = parts.netloc
        if ":" in netloc and "@" not in netloc:  # `u:pa` from `u:pa#ss@host`: "pa" parsed as a port
            found.append(netloc.split(":", 1)[1])
    except ValueError:
        pass
    return [s for s in dict.fromkeys(found) if s]


def _is_secret_key(key: str) -> bool:
    k = key.lower()
    return k in SECRET_KEYS or k in PARAM_ONLY_KEYS


def redact_url(url: str) -> str:
    """A connection URL for display: the password and secret query parameters replaced by ***."""
    url = url or ""
    raw = _raw_userinfo(url)
    secrets = url_secrets(url)
    if raw is not None:
        scheme, userinfo, rest = raw
        user = userinfo.split(":", 1)[0]
        shown_user = f"{user}:{MASK}" if ":" in userinfo else user
        prefix, url = f"{scheme}{shown_user}@", scheme + rest
    else:
        prefix = ""
    try:
        parts = urlsplit(url)
        query = urlencode(
            [(k, MASK if _is_secret_key(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
            safe="*",
        )
        shown = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    except ValueError:
        shown = url
    if prefix:
        shown = prefix + shown.split("://", 1)[1] if "://" in shown else prefix + shown
    return redact(shown, *secrets)


__all__ = ["MASK", "Redactor", "redact", "redact_url", "url_secrets", "SECRET_KEYS"]
