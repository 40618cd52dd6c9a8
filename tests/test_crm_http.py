"""The shared CRM transport's edges, against a real local HTTP server (issue 18).

Mutation testing of generator/crm/http.py found these untested: error messages
that drop the query string, the redaction guard for short or missing secrets,
retries after a dropped connection, the final error's status, redirects never
followed, the status boundaries (2xx ends, 300 and 499 fail at once, 429 and
500 retry), the cap on one wait, and the 500-character cut of an error body.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fakecrm import FaultyServer

from generator.crm.http import CrmError, HttpTransport, origin, parse_retry_after
from generator.crm.limits import Limits

TOKEN = "tok-abcdef-0123456789-secret"


class Scripted:
    """A loopback HTTP server answering from a script: one entry per request, the last repeats.

    An entry is (status, headers, body), "drop" to close the connection
    without answering, or ("stream", body) for an answer without a length.
    """

    def __init__(self, script):
        self.script = list(script)
        self.seen: list[tuple[str, str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _answer(self):
                outer.seen.append((self.command, self.path, self.headers.get("Authorization")))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                step = outer.script[min(len(outer.seen), len(outer.script)) - 1]
                if step == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if step[0] == "stream":  # a 200 with no Content-Length: the body ends when the connection does
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(step[1].encode())
                    self.close_connection = True
                    return
                status, headers, body = step
                data = body.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval: shutdown() waits up to one interval, and the default 0.5 s
        # per test made this file (run once per mutant by scripts/mutate.py) mostly waiting.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(*script):
        s = Scripted(script)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


def client(server, waits=None, **kw) -> HttpTransport:
    waits = [] if waits is None else waits
    kw.setdefault("limits", Limits(timeout=5, request_deadline=600, command_deadline=600))
    return HttpTransport(server.url, TOKEN, sleep=waits.append, **kw)


OK = (200, {"Content-Type": "application/json"}, '{"ok": true}')


def test_error_messages_drop_the_query_string(serve):
    s = serve((400, {}, '[{"errorCode": "MALFORMED_QUERY"}]'))
    soql = "/services/data/v60.0/query?q=SELECT+Id+FROM+Lead+WHERE+Email='pat@example.org'&access_token=" + TOKEN
    with client(s) as t, pytest.raises(CrmError) as exc:
        t.get_json(soql)
    message = str(exc.value)
    assert "GET /services/data/v60.0/query failed with HTTP 400" in message
    assert "SELECT" not in message and "pat@example.org" not in message and TOKEN not in message
    assert exc.value.status == 400


def test_the_token_is_redacted_from_error_bodies(serve):
    s = serve((401, {}, f'{{"message": "token {TOKEN} expired"}}'))
    with client(s) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert TOKEN not in str(exc.value) and "HTTP 401" in str(exc.value)


def test_a_short_token_does_not_redact_ordinary_text(serve):
    # A two-letter secret must not blank every "ab" in a message.
    s = serve((404, {}, "abandoned tab: no such object"))
    with HttpTransport(s.url, "ab", sleep=lambda _: None) as t, pytest.raises(CrmError) as exc:
        t.get_json("/objects/abc")
    assert "abandoned tab: no such object" in str(exc.value)
    assert "/objects/abc" in str(exc.value)


@pytest.mark.parametrize("token", ["", "   ", "tok-abcdef\n", "\x00tok-abcdef", "tok-abc\x7fdef"])
def test_an_empty_or_malformed_token_fails_before_any_request(serve, token):
    s = serve(OK)
    with pytest.raises(CrmError, match="access token is empty or holds control characters"):
        HttpTransport(s.url, token, sleep=lambda _: None)
    assert s.seen == []


def test_a_request_httpx_refuses_to_send_is_not_retried(serve):
    s = serve(OK)
    waits: list[float] = []
    with client(s, waits) as t, pytest.raises(CrmError, match="request refused before sending") as exc:
        t.request("GET", "/x", headers={"X-Bad": "line\nbreak"})
    assert waits == [] and s.seen == [] and t.requests_made == 1
    assert "line" not in str(exc.value)


def test_dropped_connections_are_retried_with_backoff(serve):
    s = serve("drop", "drop", OK)
    waits: list[float] = []
    with client(s, waits, backoff=0.5) as t:
        assert t.get_json("/x") == {"ok": True}
        assert t.requests_made == 3
    assert waits == [0.5, 1.0]
    assert len(s.seen) == 3


def test_dropped_connections_to_the_end_fail_with_the_transport_error(serve):
    s = serve("drop")
    with client(s, max_attempts=3) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert "still failing after 3 attempts" in str(exc.value)
    assert "RemoteProtocolError" in str(exc.value) or "ReadError" in str(exc.value)
    assert exc.value.status is None


def test_the_final_error_carries_the_last_status(serve):
    s = serve((503, {}, "busy"), (502, {}, "bad gateway"))
    waits: list[float] = []
    with client(s, waits, max_attempts=3) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert exc.value.status == 502
    assert str(exc.value).endswith("still failing after 3 attempts; last answer: HTTP 502: bad gateway")
    assert len(s.seen) == 3 and len(waits) == 2


def test_redirects_are_never_followed(serve):
    elsewhere = serve(OK)
    s = serve((302, {"Location": elsewhere.url + "/steal"}, ""))
    with client(s) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert "failed with HTTP 302" in str(exc.value) and exc.value.status == 302
    assert elsewhere.seen == []  # the token never went there


@pytest.mark.parametrize("status, retried", [(200, None), (204, None), (299, None), (300, False), (399, False),
                                              (400, False), (499, False), (429, True), (500, True), (599, True)])
def test_status_boundaries(serve, status, retried):
    s = serve((status, {}, ""), OK)
    waits: list[float] = []
    with client(s, waits) as t:
        if retried is None:
            assert t.request("GET", "/x").status_code == status
            assert len(s.seen) == 1
        elif retried:
            assert t.get_json("/x") == {"ok": True}
            assert len(s.seen) == 2 and len(waits) == 1
        else:
            with pytest.raises(CrmError) as exc:
                t.get_json("/x")
            assert exc.value.status == status and len(s.seen) == 1 and waits == []


def test_retry_after_is_honoured_up_to_the_cap(serve):
    s = serve((429, {"Retry-After": "120"}, ""), OK)
    waits: list[float] = []
    with client(s, waits, max_wait=120) as t:
        assert t.get_json("/x") == {"ok": True}
    assert waits == [120.0]


def test_a_wait_past_the_cap_fails_at_once(serve):
    s = serve((429, {"Retry-After": "121"}, "slow down"))
    waits: list[float] = []
    with client(s, waits, max_wait=120) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert "asked us to wait 121s (Retry-After), more than the 120s we allow" in str(exc.value)
    assert exc.value.status == 429 and waits == [] and len(s.seen) == 1


def test_backoff_doubles_and_stops_at_the_cap(serve):
    s = serve((500, {}, ""), (500, {}, ""), (500, {}, ""), (500, {}, ""), OK)
    waits: list[float] = []
    with client(s, waits, backoff=50, max_wait=120) as t:
        assert t.get_json("/x") == {"ok": True}
    assert waits == [50, 100, 120, 120]


def test_error_bodies_are_cut_at_500_characters(serve):
    s = serve((400, {}, "x" * 600))
    with client(s) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert str(exc.value).endswith(": " + "x" * 500 + "...")
    exact = serve((400, {}, "y" * 500))
    with client(exact) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert str(exc.value).endswith(": " + "y" * 500)


def test_the_token_goes_only_to_the_configured_server(serve):
    s = serve(OK)
    with client(s) as t:
        t.get_json("/x")
    assert s.seen == [("GET", "/x", f"Bearer {TOKEN}")]


# -- second pass: the survivors of `scripts/mutate.py --module crm/http`


def test_five_attempts_by_default(serve):
    s = serve((503, {}, "busy"))
    with HttpTransport(s.url, TOKEN, sleep=lambda _: None) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert "still failing after 5 attempts" in str(exc.value) and len(s.seen) == 5


def test_one_attempt_is_allowed_and_zero_is_not(serve):
    s = serve((503, {}, "busy"))
    with client(s, max_attempts=1) as t, pytest.raises(CrmError, match="still failing after 1 attempts"):
        t.get_json("/x")
    assert len(s.seen) == 1
    with pytest.raises(ValueError, match="at least 1"):
        HttpTransport(s.url, TOKEN, max_attempts=0)


@pytest.mark.parametrize("url", ["ftp://crm.example.org", "http://", "crm.example.org/api"])
def test_a_base_url_that_is_not_http_with_a_host_is_refused(url):
    with pytest.raises(CrmError, match=r"must be http\(s\)://host"):
        HttpTransport(url, TOKEN)


@pytest.mark.parametrize("link", [None, 42, "", "   "])
def test_a_paging_link_that_is_no_text_is_refused(serve, link):
    with client(serve(OK)) as t, pytest.raises(CrmError, match="next page is not a link"):
        t.local_link(link, "next page")


@pytest.mark.parametrize("link", ["/query\\next", "/query next", "/query\tnext", "/query\x01next"])
def test_a_paging_link_with_backslashes_or_blanks_is_refused(serve, link):
    with client(serve(OK)) as t, pytest.raises(CrmError, match="holds characters no link may hold"):
        t.local_link(link, "next page")


def test_a_wait_past_the_command_deadline_names_that_deadline(serve):
    s = serve((429, {"Retry-After": "60"}, "slow down"))
    limits = Limits(timeout=5, request_deadline=600, command_deadline=30)
    with client(s, limits=limits) as t:
        with pytest.raises(CrmError) as exc:
            t.get_json("/x")
        assert ("asked us to wait 60s (Retry-After), past the command's deadline of 30s "
                "(PLAYBOOK_CRM_COMMAND_DEADLINE); try again later") in str(exc.value)
        # Not having waited, the server is not marked unresponsive: the next request is sent.
        with pytest.raises(CrmError):
            t.get_json("/y")
    assert [p for _, p, _ in s.seen] == ["/x", "/y"]


def test_a_wait_past_the_request_deadline_names_that_deadline(serve):
    s = serve((503, {"Retry-After": "60"}, "busy"))
    limits = Limits(timeout=5, request_deadline=30, command_deadline=600)
    with client(s, limits=limits) as t, pytest.raises(CrmError) as exc:
        t.get_json("/x")
    assert ("asked us to wait 60s (Retry-After), past this request's deadline of 30s "
            "(PLAYBOOK_CRM_REQUEST_DEADLINE); try again later") in str(exc.value)


def test_retry_after_as_an_http_date_with_or_without_a_zone():
    now = lambda: datetime(2015, 10, 21, 7, 27, tzinfo=timezone.utc)  # noqa: E731
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 60
    # "-0000" means UTC with no zone said (RFC 5322): parsed as a naive time, still UTC.
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000", now=now) == 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:26:00 GMT", now=now) == 0  # in the past: no wait
    assert parse_retry_after("soon", now=now) is None and parse_retry_after(None) is None


def test_a_server_dripping_its_headers_is_cut_at_the_request_deadline():
    # Every byte comes well within the 5 s read timeout, and the answer has no body to
    # check the clock between chunks: only the deadline transport can stop the request.
    limits = Limits(timeout=5, request_deadline=0.5, command_deadline=600)
    with FaultyServer("drip", interval=0.05, lifetime=6, body=b"") as server, \
            HttpTransport(server.url, TOKEN, sleep=lambda _: None, limits=limits) as t, \
            pytest.raises(CrmError, match=r"took more than 0\.5s \(PLAYBOOK_CRM_REQUEST_DEADLINE\)"):
        t.request("GET", "/x")


def test_an_answer_without_a_length_is_cut_at_the_size_cap(serve):
    limits = Limits(timeout=5, request_deadline=600, command_deadline=600, max_response_bytes=1000)
    s = serve(("stream", "x" * 5000))
    with client(s, limits=limits) as t, pytest.raises(CrmError, match="answered with more than 1000 bytes"):
        t.request("GET", "/x")
    exact = serve(("stream", "y" * 1000))  # exactly the cap is allowed
    with client(exact, limits=limits) as t:
        assert t.request("GET", "/x").text == "y" * 1000


def test_a_protocol_relative_url_is_refused_before_sending(serve):
    s = serve(OK)
    with client(s) as t, pytest.raises(CrmError, match="refused to follow it") as exc:
        t.request("GET", "//elsewhere.example/steal")
    assert "points to //elsewhere.example (a link without a scheme), not the configured http://127.0.0.1:" \
        in str(exc.value) and s.seen == []


def test_an_absolute_url_elsewhere_is_refused_by_name(serve):
    s = serve(OK)
    with client(s) as t, pytest.raises(CrmError) as exc:
        t.request("GET", "http://elsewhere.example/steal")
    port = s.server.server_port
    assert f"request URL points to http://elsewhere.example:80, not the configured http://127.0.0.1:{port};" \
        in str(exc.value)
    assert s.seen == []


def test_origins_fill_in_the_default_port():
    assert origin("https://crm.example.org/x") == ("https", "crm.example.org", 443)
    assert origin("http://CRM.example.org/x") == ("http", "crm.example.org", 80)


def test_a_link_may_hold_an_exclamation_mark(serve):
    with client(serve(OK)) as t:
        assert t.local_link("/query!next", "next page") == "/query!next"  # "!" is the first printable character


def test_an_answer_of_exactly_the_declared_cap_is_read(serve):
    limits = Limits(timeout=5, request_deadline=600, command_deadline=600, max_response_bytes=1000)
    s = serve((200, {}, "z" * 1000))
    with client(s, limits=limits) as t:
        assert t.request("GET", "/x").text == "z" * 1000


def test_a_server_that_answers_with_errors_is_not_taken_for_a_silent_one(serve):
    s = serve((503, {}, "busy"))
    with client(s, max_attempts=2) as t:
        with pytest.raises(CrmError, match="still failing after 2 attempts"):
            t.get_json("/x")
        with pytest.raises(CrmError, match="still failing after 2 attempts"):
            t.get_json("/y")  # sent again: only timeouts mark the server unresponsive
    assert [p for _, p, _ in s.seen] == ["/x", "/x", "/y", "/y"]
