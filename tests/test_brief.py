"""Briefing contacts against a real SMTP server (aiosmtpd on 127.0.0.1): once each per group, in their language."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import ssl
import subprocess
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner import rapid
from campaigner.cli import app

runner = CliRunner()
NOW = "2026-11-30T14:05:33"
REPORT = "https://www.hrw.org/news/2026/11/30/cluster-munitions-used"
PASSWORD = "smtp-very-secret-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the server received, and which recipients it refuses."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK queued"

    def parsed(self) -> dict[str, email.message.EmailMessage]:
        """Messages by recipient."""
        out = {}
        for rcpts, raw in self.messages:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            for r in rcpts:
                out[r] = msg
        return out


def _authenticator(inbox: Inbox):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            inbox.logins.append((auth_data.login, auth_data.password))
            ok = auth_data.login == b"press" and auth_data.password == PASSWORD.encode()
            return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself
        return AuthResult(success=False, handled=False)

    return check


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server on loopback, plain (security=none) with AUTH allowed without TLS."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator(inbox), auth_require_tls=False)
    controller.start()
    monkeypatch.setenv("CAMPAIGNER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CAMPAIGNER_SMTP_PORT", str(port))
    monkeypatch.setenv("CAMPAIGNER_SMTP_SECURITY", "none")
    monkeypatch.setenv("CAMPAIGNER_SMTP_FROM", "press@ccbl.example")
    monkeypatch.setenv("CAMPAIGNER_SMTP_USER", "press")
    monkeypatch.setenv("CAMPAIGNER_SMTP_PASSWORD", PASSWORD)
    yield inbox
    controller.stop()


@pytest.fixture
def cal(fixture_calendar, tmp_path, monkeypatch):
    import tests.fake_platform  # noqa: F401

    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    return fixture_calendar("rapid")


def condemn(cal: Path, *extra: str, now: str = NOW):
    return runner.invoke(app, ["condemn", "--report", REPORT, "--source", "Human Rights Watch", "--title", "Cluster munitions used again",
                               "--calendar", str(cal), "--now", now, "--reviewer", "sokha", *extra])


def subject(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def test_each_journalist_gets_one_email_in_their_language(cal, smtp):
    result = condemn(cal, "--brief")
    assert result.exit_code == 0, result.output
    got = smtp.parsed()
    assert sorted(got) == ["dara@news.example", "jane@wire.example", "pierre@agence.example"]
    assert len(smtp.messages) == 3  # one message per journalist, never one to all

    km = got["dara@news.example"]  # Khmer first
    assert subject(km) == "Rapid Test ថ្កោលទោសការប្រើប្រាស់គ្រាប់បែកចង្កោម"
    raw = next(raw for rcpts, raw in smtp.messages if rcpts == ["dara@news.example"])
    header = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    assert header.isascii() and b"=?utf-8?" in header.lower()  # RFC 2047, not raw UTF-8 in the header
    body = km.get_content()
    assert "ជូនចំពោះ Sok Dara" in body and REPORT in body
    assert "Human Rights Watch បានរាយការណ៍អំពីការប្រើប្រាស់គ្រាប់បែកចង្កោម។" in body  # the Khmer statement
    assert "Press: press@ccbl.example, +855 12 345 678" in body
    assert km["Content-Language"] == "km" and km["From"] == "press@ccbl.example"
    assert km["To"].addresses[0].display_name == "Sok Dara"

    for address in ("jane@wire.example", "pierre@agence.example"):  # Pierre reads French, which has no templates: English
        msg = got[address]
        assert subject(msg) == "Rapid Test condemns the use of cluster munitions reported by Human Rights Watch"
        text = msg.get_content()
        assert REPORT in text and "Human Rights Watch reports the use of cluster munitions." in text
        assert msg["Content-Language"] == "en"
    assert PASSWORD not in result.stdout and PASSWORD not in result.stderr
    assert "emailed dara@news.example (journalists, km)" in result.stdout
    assert smtp.logins == [(b"press", PASSWORD.encode())]


def test_a_second_brief_sends_nothing_more_and_history_shows_them(cal, smtp):
    assert condemn(cal, "--brief").exit_code == 0
    again = condemn(cal, "--brief", now="2026-11-30T15:00")
    assert again.exit_code == 0, again.output
    assert "already exists" in again.stdout and "already briefed dara@news.example" in again.stdout
    assert len(smtp.messages) == 3
    standalone = runner.invoke(app, ["brief", rapid_event_id(), "--calendar", str(cal), "--now", "2026-11-30T16:00"])
    assert standalone.exit_code == 0 and len(smtp.messages) == 3
    history = json.loads(runner.invoke(app, ["history", "--calendar", str(cal), "--now", "2026-11-30T17:00", "--json"]).stdout)
    briefs = {h["id"]: h for h in history if h["id"].startswith("brief/")}
    eid = rapid_event_id()
    assert set(briefs) == {f"brief/{eid}/dara@news.example", f"brief/{eid}/jane@wire.example", f"brief/{eid}/pierre@agence.example"}
    assert briefs[f"brief/{eid}/dara@news.example"]["url"] == "mailto:dara@news.example"
    sent_ids = {str(msg["Message-ID"]) for msg in smtp.parsed().values()}
    assert {h["remote_id"] for h in briefs.values()} == sent_ids  # the Message-ID is the receipt


def rapid_event_id() -> str:
    return f"condemn-2026-11-30-hrw-{rapid.short_hash(REPORT)}"


def test_dry_run_prints_the_emails_and_sends_nothing(cal, smtp):
    result = condemn(cal, "--brief", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would email Sok Dara <dara@news.example> (journalists, km)" in result.stdout
    assert "Subject: Rapid Test ថ្កោលទោសការប្រើប្រាស់គ្រាប់បែកចង្កោម" in result.stdout
    assert REPORT in result.stdout
    assert smtp.messages == [] and not (cal.parent / "rapid.yaml").exists()
    assert not (cal.parent / ".campaigner").exists()


def test_without_email_templates_a_built_in_text_carries_link_statement_and_contact(cal, smtp):
    for f in (cal.parent / "templates" / "condemnation").glob("email.*.j2"):
        f.unlink()
    assert condemn(cal, "--brief").exit_code == 0
    got = smtp.parsed()
    km, en = got["dara@news.example"], got["jane@wire.example"]
    assert subject(en) == "Rapid Test statement: Cluster munitions used again"
    assert subject(km) == "សេចក្តីថ្លែងការណ៍របស់ Rapid Test៖ Cluster munitions used again"
    for msg in (km, en):
        text = msg.get_content()
        assert REPORT in text and "+855 12 345 678" in text
    assert "យើងថ្កោលទោស" in km.get_content() and "We condemn" in en.get_content()


def test_a_refused_address_fails_alone_and_is_not_retried(cal, smtp):
    smtp.refuse.add("jane@wire.example")
    result = condemn(cal, "--brief")
    assert result.exit_code == 1
    assert "failed brief/" in result.stderr and "refused jane@wire.example" in result.stderr
    assert sorted(smtp.parsed()) == ["dara@news.example", "pierre@agence.example"]
    smtp.refuse.clear()
    again = runner.invoke(app, ["brief", rapid_event_id(), "--calendar", str(cal), "--now", "2026-11-30T15:00"])
    assert len(smtp.messages) == 2  # a permanent refusal waits for a person ('campaigner resolve')
    assert again.exit_code == 1


def test_a_wrong_password_sends_nothing_and_never_shows_the_password(cal, smtp, monkeypatch):
    monkeypatch.setenv("CAMPAIGNER_SMTP_PASSWORD", "wrong-password-123")
    result = condemn(cal, "--brief")
    assert result.exit_code == 1
    assert "refused the login for press" in result.stderr and "CAMPAIGNER_SMTP_PASSWORD" in result.stderr
    assert "wrong-password-123" not in result.output and "wrong-password-123" not in result.stderr
    assert smtp.messages == []
    status = json.loads(runner.invoke(app, ["status", "--calendar", str(cal), "--now", "2026-11-30T15:00", "--json"]).stdout)
    assert status["counts"] == {}  # the login failed before any briefing was claimed: nothing to resolve


def test_missing_settings_are_named_before_anything_is_written(cal, monkeypatch):
    monkeypatch.delenv("CAMPAIGNER_SMTP_HOST", raising=False)
    monkeypatch.delenv("CAMPAIGNER_SMTP_FROM", raising=False)
    result = condemn(cal, "--brief")
    assert result.exit_code == 2
    assert "CAMPAIGNER_SMTP_HOST" in result.stderr and "CAMPAIGNER_SMTP_FROM" in result.stderr
    assert not (cal.parent / "rapid.yaml").exists()


def test_a_draft_is_not_briefed(cal, smtp):
    result = condemn(cal, "--brief", "--draft")
    assert result.exit_code == 2 and "contradict" in result.stderr
    assert condemn(cal, "--draft").exit_code == 0
    later = runner.invoke(app, ["brief", rapid_event_id(), "--calendar", str(cal), "--now", "2026-11-30T15:00"])
    assert later.exit_code == 1 and "is a draft" in later.stderr  # a refusal is not a success
    rehearsal = runner.invoke(app, ["brief", rapid_event_id(), "--dry-run", "--calendar", str(cal), "--now", "2026-11-30T15:00"])
    assert rehearsal.exit_code == 0 and "is a draft" in rehearsal.stderr and "would email" in rehearsal.stdout  # shown, with the warning
    assert smtp.messages == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_starttls_with_a_verified_certificate(cal, tmp_path, monkeypatch):
    from aiosmtpd.controller import Controller

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=_authenticator(inbox))
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate as it would a real CA's
        for key_, value in dict(CAMPAIGNER_SMTP_HOST="127.0.0.1", CAMPAIGNER_SMTP_PORT=str(port), CAMPAIGNER_SMTP_FROM="press@ccbl.example",
                                CAMPAIGNER_SMTP_USER="press", CAMPAIGNER_SMTP_PASSWORD=PASSWORD).items():
            monkeypatch.setenv(key_, value)
        result = condemn(cal, "--brief")  # CAMPAIGNER_SMTP_SECURITY unset: starttls is the default
        assert result.exit_code == 0, result.output
        assert len(inbox.messages) == 3 and inbox.logins == [(b"press", PASSWORD.encode())]
    finally:
        controller.stop()


def test_status_counts_briefings_apart_from_posts(cal, smtp):
    assert condemn(cal, "--brief", "--post").exit_code == 0
    out = runner.invoke(app, ["status", "--calendar", str(cal), "--now", "2026-11-30T15:00"]).stdout
    assert "Posts by state: published 3" in out and "Briefings by state: published 3" in out
    js = json.loads(runner.invoke(app, ["status", "--calendar", str(cal), "--now", "2026-11-30T15:00", "--json"]).stdout)
    assert js["counts"] == {"published": 3} and js["briefings"] == {"published": 3}


# ---------------------------------------------------------------- contact groups

OFFICIALS = """contacts:
  journalists:
    - {name: Sok Dara, email: dara@news.example, languages: [km, en]}
  officials:
    - {name: Ministry of Foreign Affairs, email: mfa@gov.example, languages: [km], role: Ministry}
    - {name: Permanent Mission, email: mission@gov.example, languages: [en]}
    - {name: Sok Dara, email: dara@news.example, languages: [en]}
"""


def with_groups(cal: Path, groups: str = OFFICIALS, letters: bool = True) -> Path:
    text = cal.read_text(encoding="utf-8")
    head, rest = text.split("journalists:\n", 1)
    rest = rest.split("events:\n", 1)[1]
    cal.write_text(head + groups + "events:\n" + rest, encoding="utf-8")
    folder = cal.parent / "templates" / "condemnation"
    if letters:
        (folder / "email.officials.en.j2").write_text(
            "Subject: Letter to {{ contact.name }}: please condemn\nExcellency,\n\nWe ask the government to condemn the use reported at {{ report }}.\n"
            "{{ group }} / {{ contact.role or 'no role' }}\n", encoding="utf-8")
        (folder / "email.officials.km.j2").write_text(
            "Subject: លិខិតជូន {{ contact.name }}\nសូមគោរពជូន {{ contact.name }}\n\nសូមថ្កោលទោស។ {{ report }}\n{{ contact.role }}\n", encoding="utf-8")
    return cal


def test_two_groups_get_their_own_letters_once_per_event_group_and_address(cal, smtp):
    with_groups(cal)
    first = condemn(cal, "--brief", "--to", "journalists", "--to", "officials")
    assert first.exit_code == 0, first.output
    by_to: dict[str, list[str]] = {}
    for rcpts, raw in smtp.messages:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        by_to.setdefault(rcpts[0], []).append(subject(msg))
    assert len(smtp.messages) == 4
    assert by_to["mfa@gov.example"] == ["លិខិតជូន Ministry of Foreign Affairs"]  # the group's own Khmer letter
    assert by_to["mission@gov.example"] == ["Letter to Permanent Mission: please condemn"]
    # Sok Dara is in both groups: one journalists' email (Khmer, the kind's template) and one officials' letter
    assert sorted(by_to["dara@news.example"]) == ["Letter to Sok Dara: please condemn", "Rapid Test ថ្កោលទោសការប្រើប្រាស់គ្រាប់បែកចង្កោម"]
    mfa = next(email.message_from_bytes(raw, policy=email.policy.default) for rcpts, raw in smtp.messages if rcpts == ["mfa@gov.example"])
    assert "សូមគោរពជូន Ministry of Foreign Affairs" in mfa.get_content() and "Ministry" in mfa.get_content()
    assert "emailed mfa@gov.example (officials, km)" in first.stdout

    again = condemn(cal, "--brief", "--to", "officials,journalists", now="2026-11-30T15:00")
    assert again.exit_code == 0, again.output
    assert "already briefed mfa@gov.example (officials)" in again.stdout and "already briefed dara@news.example (journalists)" in again.stdout
    for to in ("officials", "journalists"):
        standalone = runner.invoke(app, ["brief", rapid_event_id(), "--to", to, "--calendar", str(cal), "--now", "2026-11-30T16:00"])
        assert standalone.exit_code == 0, standalone.output
    assert len(smtp.messages) == 4  # at most once per (event, group, address), across runs
    history = json.loads(runner.invoke(app, ["history", "--calendar", str(cal), "--now", "2026-11-30T17:00", "--json"]).stdout)
    eid = rapid_event_id()
    assert {h["id"] for h in history if h["id"].startswith("brief/")} == {
        f"brief/{eid}/dara@news.example", f"brief/{eid}/officials/dara@news.example",
        f"brief/{eid}/officials/mfa@gov.example", f"brief/{eid}/officials/mission@gov.example"}
    report = json.loads(runner.invoke(app, ["report", "--calendar", str(cal), "--now", "2026-11-30T17:00", "--format", "json"]).stdout)
    assert any(g["briefings"] == {"journalists": {"published": 1}, "officials": {"published": 3}} for g in report["goals"])


def test_brief_to_defaults_to_the_journalists_and_a_group_without_letters_uses_the_kinds_template(cal, smtp):
    with_groups(cal, letters=False)
    assert runner.invoke(app, ["brief", "old-report", "--dry-run", "--calendar", str(cal), "--now", NOW]).exit_code == 0
    assert condemn(cal).exit_code == 0
    default = runner.invoke(app, ["brief", rapid_event_id(), "--calendar", str(cal), "--now", "2026-11-30T15:00"])
    assert default.exit_code == 0, default.output
    assert [r for r, _ in smtp.messages] == [["dara@news.example"]]  # only the journalists
    officials = runner.invoke(app, ["brief", rapid_event_id(), "--to", "officials", "--calendar", str(cal), "--now", "2026-11-30T15:05"])
    assert officials.exit_code == 0, officials.output
    got = {r[0]: email.message_from_bytes(raw, policy=email.policy.default) for r, raw in smtp.messages[1:]}
    assert sorted(got) == ["dara@news.example", "mfa@gov.example", "mission@gov.example"]
    assert subject(got["mission@gov.example"]) == "Rapid Test condemns the use of cluster munitions reported by Human Rights Watch"  # email.en.j2


def test_the_journalists_key_is_an_alias_of_the_group_and_both_at_once_is_a_located_error(cal, smtp):
    assert condemn(cal, "--brief").exit_code == 0  # journalists: (the fixture's old spelling) is the group journalists
    eid = rapid_event_id()
    with_groups(cal, letters=False)  # now contacts: {journalists: ...}: same keys, so nobody is briefed twice
    again = runner.invoke(app, ["brief", eid, "--calendar", str(cal), "--now", "2026-11-30T15:00"])
    assert again.exit_code == 0 and "already briefed dara@news.example (journalists)" in again.stdout
    assert len(smtp.messages) == 3
    text = cal.read_text(encoding="utf-8")
    cal.write_text(text.replace("events:\n", "journalists:\n  - {name: X, email: x@news.example}\nevents:\n", 1), encoding="utf-8")
    both = runner.invoke(app, ["brief", eid, "--calendar", str(cal), "--now", "2026-11-30T15:00"])
    assert both.exit_code == 2 and "Traceback" not in both.output
    line = text.split("events:\n")[0].count("\n") + 1
    assert f"calendar.yaml:{line}:1: journalists: the group is also under contacts:" in both.stderr


def test_an_unknown_group_is_refused_before_anything_is_written_or_sent(cal, smtp):
    with_groups(cal)
    result = condemn(cal, "--brief", "--to", "partners")
    assert result.exit_code == 2
    assert "no contact group 'partners' in the calendar (its groups: journalists, officials)" in result.stderr
    assert not (cal.parent / "rapid.yaml").exists() and smtp.messages == []


def test_a_group_from_a_csv_file_with_roles(cal, smtp):
    (cal.parent / "officials.csv").write_text("name,email,languages,role\nMinistry,mfa@gov.example,km,Ministry of Foreign Affairs\n"
                                             "Bad row,not-an-address,en,\n", encoding="utf-8")
    with_groups(cal, "contacts:\n  officials: officials.csv\n")
    result = condemn(cal, "--brief", "--to", "officials", "--dry-run")
    assert result.exit_code == 2 and "officials.csv:3:1: each row needs a name and a valid email" in result.stderr
    (cal.parent / "officials.csv").write_text("name,email,languages,role\nMinistry,mfa@gov.example,km,Ministry of Foreign Affairs\n", encoding="utf-8")
    result = condemn(cal, "--brief", "--to", "officials", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would email Ministry <mfa@gov.example> (officials, km)" in result.stdout and "Ministry of Foreign Affairs" in result.stdout


def test_the_shipped_calendar_writes_formal_letters_to_officials_in_khmer_and_english(shipped):
    result = runner.invoke(app, ["brief", "condemn-cluster-munitions-border-2025", "--to", "officials", "--dry-run", "--json",
                                 "--calendar", str(shipped), "--now", "2026-11-30T10:00"])
    assert result.exit_code == 0, result.output
    letters = json.loads(result.stdout)["briefs"]
    assert {b["language"] for b in letters} == {"km", "en"} and all(b["group"] == "officials" for b in letters)
    assert all(b["to"].endswith("@example.org") for b in letters)  # example addresses, clearly marked
    km = next(b for b in letters if b["language"] == "km")
    en = next(b for b in letters if b["language"] == "en")
    assert km["body"].startswith("សូមគោរពជូន ") and "កម្មវត្ថុ៖ សំណើសុំឱ្យរាជរដ្ឋាភិបាលកម្ពុជា ថ្កោលទោស" in km["body"]
    assert "សូមទទួលនូវការគោរពដ៏ខ្ពង់ខ្ពស់" in km["body"] and "ការស៊ើបអង្កេតដោយមិនលម្អៀង" in km["body"]
    assert "Excellency," in en["body"] and "We respectfully call on the Royal Government of Cambodia to condemn this use publicly" in en["body"]
    assert "impartial investigation of the allegations of new mine use" in en["body"] and "Yours faithfully," in en["body"]
    for b in letters:
        assert "https://eacnews.asia/home/details/33397" in b["body"] and "CCBL press contact: press@example.org" in b["body"]
    praise = runner.invoke(app, ["brief", "vanuatu-joins-ccm", "--to", "officials", "--dry-run", "--json",
                                 "--calendar", str(shipped), "--now", "2026-11-30T10:00"])
    assert praise.exit_code == 0, praise.output
    bodies = {b["language"]: b["body"] for b in json.loads(praise.stdout)["briefs"]}
    assert "urge the Royal Government of Cambodia to follow Vanuatu and join the Convention on Cluster Munitions" in bodies["en"]
    assert "ចូលជាភាគីនៃអនុសញ្ញាហាមឃាត់គ្រាប់បែកចង្កោម" in bodies["km"] and "វ៉ានូអាទូ" in bodies["km"]


def test_praise_briefs_the_officials_with_the_shipped_accession_letters_once(shipped, smtp):
    def praise(now: str):
        return runner.invoke(app, ["praise", "Tuvalu", "--joined", "2026-11-20", "--treaty", "ccm", "--brief", "--to", "officials",
                                   "--calendar", str(shipped), "--now", now])

    first = praise("2026-11-30T10:00")
    assert first.exit_code == 0, first.output
    got = smtp.parsed()
    assert sorted(got) == ["cambodia-mission-geneva@example.org", "cmaa@example.org", "mfaic@example.org"]
    en = got["cambodia-mission-geneva@example.org"]
    assert subject(en).endswith("Tuvalu has joined the Convention on Cluster Munitions; a request to the Royal Government of Cambodia")
    assert "We respectfully urge the Royal Government of Cambodia to follow Tuvalu and join the Convention on Cluster Munitions" in en.get_content()
    km = got["mfaic@example.org"].get_content()
    assert km.startswith("សូមគោរពជូន ក្រសួងការបរទេស") and "កម្មវត្ថុ៖ សំណើសុំឱ្យរាជរដ្ឋាភិបាលកម្ពុជា ចូលជាភាគីនៃអនុសញ្ញាហាមឃាត់គ្រាប់បែកចង្កោម" in km
    assert got["mfaic@example.org"]["Content-Language"] == "km"
    again = praise("2026-11-30T11:00")
    assert again.exit_code == 0 and "already briefed mfaic@example.org (officials)" in again.stdout
    assert len(smtp.messages) == 3


def test_validate_renders_each_groups_letters_and_warns_of_a_letter_for_no_group(shipped):
    def validate():
        return runner.invoke(app, ["validate", "--calendar", str(shipped), "--now", "2026-01-01T00:00"])

    assert validate().exit_code == 0
    folder = shipped.parent / "templates"
    letter = folder / "condemnation" / "email.officials.en.j2"
    letter.write_text(letter.read_text(encoding="utf-8") + "{{ contact.title }}\n", encoding="utf-8")
    (folder / "accession" / "email.oficials.km.j2").write_text("Subject: x\n{{ statement }}\n", encoding="utf-8")
    result = validate()
    assert result.exit_code == 2
    assert "templates/condemnation/email.officials.en.j2" in result.stderr and "'title'" in result.stderr
    # Said of the contact, where the letter reads it, not of the event's vars.
    assert "'contact.title' is not set (contact has no 'title'); guard it with {% if ... is defined %}" in result.stderr
    assert "vars.title" not in result.stderr
    assert "templates/accession/email.oficials.km.j2: warning: no contact group 'oficials' in the calendar (its groups: officials)" in result.stderr
