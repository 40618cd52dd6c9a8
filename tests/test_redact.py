"""The one redactor (generator/redact.py): every secret pattern, every form, every code path."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from fakecrm import FakeCRM
from generator.conformance.source import SourceError
from generator.conformance.sources import open_source
from generator.crm.hubspot import HubSpotClient, HubSpotError
from generator.crm.salesforce import SalesforceClient, SalesforceError
from generator.redact import Redactor, redact, redact_url, url_secrets

TOKEN = "00Dxx0000001gPL!AR8AQJXg5oj/8a+b c"


def _escaped(secret: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in secret)


@pytest.mark.parametrize("form", [
    TOKEN,
    quote(TOKEN, safe=""),
    quote_plus(TOKEN),
    quote(TOKEN, safe="").lower(),
    _escaped(TOKEN),
    json.dumps(TOKEN)[1:-1].replace("/", "\\/"),
    TOKEN[:10] + quote(TOKEN[10:], safe=""),  # mixed forms
])
def test_given_secret_masked_in_every_form(form):
    out = redact(f'{{"message": "bad session {form} for user"}}', TOKEN)
    assert "***" in out and "AR8AQJXg5oj" not in out and "gPL" not in out
    assert out.startswith('{"message": "bad session ') and out.endswith(' for user"}')


@pytest.mark.parametrize("text,secret_part", [
    ("Authorization: Bearer eyJhbGciOi.J9x-_y", "eyJhbGciOi"),
    ("Authorization: OAuth 00D5g!ARoAQx", "00D5g"),
    ("header Bearer%20tok3nValue", "tok3nValue"),
    ("GET /x?hapikey=abcd-1234-ef&limit=10", "abcd-1234"),
    ("POST body grant_type=refresh_token&client_id=3MVG9&client_secret=SeCrEt99&refresh_token=5Aep861", "SeCrEt99"),
    ("POST body grant_type=refresh_token&client_id=3MVG9&client_secret=SeCrEt99&refresh_token=5Aep861", "5Aep861"),
    ('{"access_token": "00Dabc!xyz", "instance_url": "https://x"}', "00Dabc"),
    ('{\\"id_token\\":\\"eyJraWQ\\"}', "eyJraWQ"),
    ("X-API-Key: k-9f8e7d6c", "9f8e7d6c"),
    ("redirect?api_key%3Dkey987654%26x%3D1", "key987654"),
    ('json \\u0022client_secret\\u0022:\\u0022cs-42424242\\u0022', "cs-42424242"),
    ("host=db user=u password='pa ss w0rd' dbname=crm", "w0rd"),
    ("dsn pass=hunter2x&host=db", "hunter2x"),
    ("assertion=eyJ0eXAi.payload.sig&client_assertion=abc.def.ghi", "payload"),
])
def test_credential_shapes_masked(text, secret_part):
    out = redact(text)
    assert secret_part not in out and "***" in out


@pytest.mark.parametrize("url,password", [
    ("postgresql://u:pa#ss@db.example:5432/crm", "pa#ss"),
    ("postgresql://u:pa/ss@db.example/crm?schema=s", "pa/ss"),
    ("postgresql://u:p@ss:w?rd#x9@db.example/crm", "p@ss:w?rd#x9"),
    ("postgresql://u:hunter22@db:5432/crm?password=x9y8&schema=s", "hunter22"),
    ("postgresql://u:%23enc%2Fpw@db/crm", "%23enc%2Fpw"),
])
def test_url_passwords_masked_whole(url, password):
    shown = redact_url(url)
    assert shown.startswith("postgresql://u:***@db")
    for piece in [password, *url_secrets(url)]:
        if len(piece) >= 3:
            assert piece not in shown
    assert "x9y8" not in shown
    said = redact(f"cannot connect to {url}: connection refused")
    assert password not in said and "connection refused" in said
    assert "#enc/pw" not in redact("failed: #enc/pw", *url_secrets("postgresql://u:%23enc%2Fpw@db/crm"))


def test_url_secrets_include_what_urllib_makes_of_it():
    # urllib ends the netloc at '#': it sees user "u", "port" "pa#" -> "pa", and a fragment.
    assert {"pa#ss", "ss"} <= set(url_secrets("postgresql://u:pa#ss@host/db"))
    assert url_secrets("postgresql://u@host/db") == [] and redact_url("postgresql://u@host/db") == "postgresql://u@host/db"


def test_redactor_binds_secrets_and_keeps_plain_text():
    r = Redactor(["tok-123456", None, ""])
    assert r("x tok-123456 y") == "x *** y"
    assert r.with_secrets("other-999")("other-999 tok-123456") == "*** ***"
    assert redact("no secrets here: 12 leads, stage qualified") == "no secrets here: 12 leads, stage qualified"


# ------------------------------------------------------------------ every code path uses it


def test_crm_error_body_with_encoded_token_is_masked():
    with FakeCRM(token=TOKEN) as fake:
        body = {"message": f"bad {quote(TOKEN, safe='')} and {_escaped(TOKEN)}", "errorCode": "X"}
        fake.fail_next("/services/data/", 400, [body])
        fake.fail_next("/crm/v3/", 400, {"message": json.dumps(TOKEN)})
        with SalesforceClient.from_env(fake.sf_env(), sleep=lambda s: None) as client, \
                pytest.raises(SalesforceError) as sf_exc:
            client.describe("Lead")
        with HubSpotClient.from_env(fake.hs_env(), sleep=lambda s: None) as client, \
                pytest.raises(HubSpotError) as hs_exc:
            client.get_properties("leads")
    for exc in (sf_exc, hs_exc):
        text = str(exc.value)
        assert "AR8AQJXg5oj" not in text and "AR8AQJXg5oj" not in text.replace("\\", "")
        assert "%21AR8" not in text and "***" in text


def test_postgres_password_with_hash_and_slash_never_printed(capsys):
    from generator.cli import run

    for url in ("postgresql://u:pa#ss-77@127.0.0.1:1/db", "postgresql://u:pa/ss-77@127.0.0.1:1/db"):
        with pytest.raises(SourceError) as exc:
            open_source(url)
        assert "ss-77" not in str(exc.value) and "pa#" not in str(exc.value), str(exc.value)
    code = run(["conform", "--source", "postgresql://u:pa#ss-77@127.0.0.1:1/db",
                "--playbook", str(Path(__file__).parent / "fixtures" / "conformance" / "playbook")])
    out = capsys.readouterr()
    assert code == 2
    assert "ss-77" not in out.out + out.err and "u:***@127.0.0.1" in out.err


def test_no_module_reads_another_objects_private_attributes():
    offenders = []
    for path in sorted((Path(__file__).parents[1] / "generator").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Objects only: a module's underscore helpers (`from . import sql; sql._col`) are another matter.
        modules = {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
                   if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = node.value
                if not (isinstance(base, ast.Name) and (base.id in ("self", "cls") or base.id in modules)):
                    name = node.attr
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
                  and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                  and not (isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls"))
                  and str(node.args[1].value).startswith("_") and not str(node.args[1].value).startswith("__")):
                name = node.args[1].value
            if name:
                offenders.append(f"{path.name}:{node.lineno}: {name}")
    assert offenders == []
