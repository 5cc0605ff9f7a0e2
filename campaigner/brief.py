"""Briefing journalists: one email per (report, journalist), in their language, sent at most once.

Each email is a row in the ledger's posts table (`brief/<event>/<address>`, account and platform
"email") that is claimed before the SMTP transaction and recorded after it, exactly as a post is:
a second --brief, or two overlapping ones, never send the same briefing twice, and `status` and
`history` show briefings beside posts.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Callable

from campaigner import credentials
from campaigner.calendar import Calendar, Event, Journalist
from campaigner.errors import CampaignerError, ConfigError, problem_at
from campaigner.ledger import Ledger, PostMeta, RunRecord
from campaigner.render import Post, Renderer

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SMTP_TIMEOUT = 30
LEASE = timedelta(minutes=10)

# Used when the campaign has no templates/<kind>/email.<lang>.j2: (subject, greeting, report line, statement line).
BUILT_IN = {
    "en": ("{campaign} statement: {about}", "Dear {name},", "{source} has published a report: {link}", "Our statement:"),
    "km": ("សេចក្តីថ្លែងការណ៍របស់ {campaign}៖ {about}", "ជូនចំពោះ {name}", "{source} បានចេញផ្សាយរបាយការណ៍៖ {link}", "សេចក្តីថ្លែងការណ៍របស់យើង៖"),
}


class BriefError(CampaignerError):
    """The mail server could not be reached or refused the login; nothing was sent."""

    exit_code = 1


@dataclass(frozen=True)
class SMTPSettings:
    """Where and how to send: CAMPAIGNER_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _SECURITY."""

    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    security: str

    @classmethod
    def from_env(cls, calendar: Calendar) -> SMTPSettings:
        """Read the settings (and .env beside the calendar); ConfigError naming what to set."""
        credentials.load_env_file(calendar.root)
        env = os.environ
        security = env.get("CAMPAIGNER_SMTP_SECURITY", "starttls").strip().lower() or "starttls"
        problems = []
        if security not in SECURITY:
            problems.append(f"CAMPAIGNER_SMTP_SECURITY: '{security}' is not one of {', '.join(SECURITY)}")
            security = "starttls"
        host = env.get("CAMPAIGNER_SMTP_HOST", "").strip()
        user = env.get("CAMPAIGNER_SMTP_USER") or None
        password = env.get("CAMPAIGNER_SMTP_PASSWORD") or None
        if password:
            credentials.remember(password)
        sender = env.get("CAMPAIGNER_SMTP_FROM") or (user if user and "@" in user else "")
        port_text = env.get("CAMPAIGNER_SMTP_PORT", "").strip()
        if not host:
            problems.append("set CAMPAIGNER_SMTP_HOST to your mail server (and CAMPAIGNER_SMTP_PORT, _USER, _PASSWORD, _FROM; see README: Briefing journalists)")
        if not sender:
            problems.append("set CAMPAIGNER_SMTP_FROM to the address the briefings come from, e.g. press@ccbl.example")
        if user and not password:
            problems.append("CAMPAIGNER_SMTP_USER is set but CAMPAIGNER_SMTP_PASSWORD is not")
        if port_text and not port_text.isdigit():
            problems.append(f"CAMPAIGNER_SMTP_PORT: '{port_text}' is not a port number")
        if problems:
            raise ConfigError([problem_at("briefing", 0, 0, p) for p in problems])
        return cls(host, int(port_text) if port_text else DEFAULT_PORTS[security], user, password, sender, security)

    def connect(self) -> Any:
        """An SMTP session, secured and logged in; BriefError (secrets redacted) when that fails."""
        import smtplib
        import ssl

        try:
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
                if self.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise BriefError(credentials.redact(f"the mail server {self.host} refused the login for {self.user} ({exc.smtp_code}): check CAMPAIGNER_SMTP_USER and CAMPAIGNER_SMTP_PASSWORD")) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise BriefError(credentials.redact(f"cannot reach the mail server {self.host}:{self.port} ({self.security}): {type(exc).__name__}: {exc}; nothing was sent, run the same command again later")) from None
        return smtp


@dataclass(frozen=True)
class Email:
    """One briefing: its ledger id, its journalist and language, and the message itself."""

    id: str
    event: Event
    journalist: Journalist
    language: str
    subject: str
    body: str
    message: EmailMessage

    @property
    def text(self) -> str:
        """What is recorded in the ledger as sent."""
        return f"Subject: {self.subject}\n\n{self.body}"


@dataclass
class Result:
    """What happened to one briefing: sent | already | failed | unknown | would-send."""

    id: str
    to: str
    language: str
    status: str
    message_id: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The stable JSON shape."""
        return {"id": self.id, "to": self.to, "language": self.language, "status": self.status, "message_id": self.message_id, "error": self.error}


def brief_id(event_id: str, address: str) -> str:
    """`brief/<event id>/<address>`: the ledger key of one (report, journalist) pair."""
    return f"brief/{event_id}/{address.lower()}"


def statements(posts: list[Post]) -> dict[str, Post]:
    """Per language, the post that best states the campaign's view: Facebook's if there is one, else the longest."""
    best: dict[str, Post] = {}
    for p in posts:
        cur = best.get(p.language)
        if cur is None or (p.platform == "facebook", len(p.text)) > (cur.platform == "facebook", len(cur.text)):
            best[p.language] = p
    return best


def language_for(journalist: Journalist, available: list[str], campaign_order: tuple[str, ...]) -> str:
    """The journalist's first language the campaign wrote in, else the campaign's first such language."""
    for lang in journalist.languages:
        if lang in available:
            return lang
    return next(lang for lang in campaign_order + tuple(available) if lang in available)


def compose(calendar: Calendar, event: Event, posts: list[Post], now: datetime, *, sender: str = "") -> list[Email]:
    """One email per journalist, from templates/<kind>/email.<lang>.j2 (first line 'Subject: ...') or a built-in text."""
    if not calendar.journalists:
        return []
    by_lang = statements([p for p in posts if p.event.id == event.id])
    if not by_lang:
        raise ConfigError(f"event '{event.id}' has no rendered posts to brief journalists with")
    renderer = Renderer(calendar)
    domain = sender.rpartition("@")[2] or "campaigner.invalid"
    out = []
    for j in calendar.journalists:
        lang = language_for(j, list(by_lang), calendar.campaign.languages)
        post = by_lang[lang]
        subject, body = _write(calendar, renderer, event, post, j, lang)
        msg = EmailMessage()
        msg["From"] = sender or "campaigner@campaigner.invalid"
        msg["To"] = _address(j)
        msg["Subject"] = subject
        msg["Date"] = _format_date(now)
        msg["Message-ID"] = f"<{uuid.uuid4().hex}.{hashlib.sha256(brief_id(event.id, j.email).encode()).hexdigest()[:12]}@{domain}>"
        msg.set_content(body)
        msg["Content-Language"] = lang  # after set_content, which clears every Content-* header
        out.append(Email(brief_id(event.id, j.email), event, j, lang, subject, body, msg))
    return out


def _address(j: Journalist) -> Any:
    from email.headerregistry import Address

    local, _, domain = j.email.partition("@")
    return Address(display_name=re.sub(r"\s+", " ", j.name), username=local, domain=domain)


def _format_date(now: datetime) -> str:
    from email.utils import format_datetime

    return format_datetime(now)


def _write(calendar: Calendar, renderer: Renderer, event: Event, post: Post, j: Journalist, lang: str) -> tuple[str, str]:
    import jinja2

    name = f"{event.template}/email.{lang}.j2"
    if (renderer.folder / name).is_file():
        from campaigner.recurrence import Occurrence

        occ = Occurrence(event, post.date, post.due)
        context = renderer.context(occ, calendar.accounts[post.account], lang)
        context.update(journalist={"name": j.name, "email": j.email}, statement=post.text, report=event.link or event.vars.get("report"), language=lang)
        try:
            text = renderer.env.get_template(name).render(context)
        except jinja2.TemplateError as exc:
            raise ConfigError([problem_at(renderer.folder / name, getattr(exc, "lineno", 0) or 0, 0, f"email template: {exc}")]) from None
        first, _, rest = text.strip().partition("\n")
        if not first.lower().startswith("subject:"):
            raise ConfigError([problem_at(renderer.folder / name, 1, 1, "the first line of an email template must be 'Subject: ...'")])
        return _one_line(first[len("subject:"):]), rest.strip("\n") + "\n"
    subject_t, greeting, report_line, statement_line = BUILT_IN.get(lang, BUILT_IN["en"])
    v = event.vars
    source = str(v.get("source") or calendar.campaign.name)
    about = str(v.get("title") or (f"{source}" + (f" — {v['weapon']}" if v.get("weapon") else "")))
    link = event.link or str(v.get("report") or "")
    parts = [greeting.format(name=j.name), ""]
    if link:
        parts += [report_line.format(source=source, link=link), ""]
    parts += [statement_line, "", post.text]
    if calendar.campaign.contact:
        parts += ["", "-- ", calendar.campaign.contact]
    return _one_line(subject_t.format(campaign=calendar.campaign.name, about=about)), "\n".join(parts) + "\n"


def _one_line(text: str) -> str:
    # Header values may not hold line breaks; a feed's title could carry any.
    return re.sub(r"\s+", " ", text).strip()


def send(ledger: Ledger, emails: list[Email], settings: SMTPSettings, now: datetime, *, connect: Callable[[], Any] | None = None) -> list[Result]:
    """Send each briefing not yet sent, claiming it in the ledger first; never the same one twice."""
    import smtplib

    from campaigner.schedule import next_attempt

    records = ledger.states(e.id for e in emails)
    results: list[Result] = []
    todo = []
    for e in emails:
        rec = records.get(e.id)
        retryable = rec is not None and rec.state == "failed" and rec.transient and (rec.next_attempt is None or rec.next_attempt <= now)
        if rec is None or rec.state == "pending" or retryable:
            todo.append(e)
        else:
            results.append(Result(e.id, e.journalist.email, e.language, "already" if rec.state == "published" else rec.state,
                                  rec.remote_id, None if rec.state == "published" else rec.error))
    if not todo:
        return results
    host, pid, run_id = socket.gethostname(), os.getpid(), uuid.uuid4().hex[:12]
    smtp = (connect or settings.connect)()  # before any claim: an unreachable server leaves nothing to resolve
    ledger.begin_run(RunRecord(run_id, "brief", host, pid, now, None, {}, None))
    counts: dict[str, int] = {}
    try:
        for e in todo:
            meta = PostMeta(e.id, e.event.id, "email", "email", e.language, now)
            if not ledger.claim(meta, run_id=run_id, host=host, pid=pid, now=now, lease_until=now + LEASE):
                results.append(Result(e.id, e.journalist.email, e.language, "already", error="another run is sending it"))
                continue
            del e.message["From"]
            e.message["From"] = settings.sender
            message_id = str(e.message["Message-ID"])
            try:
                smtp.send_message(e.message)
            except smtplib.SMTPRecipientsRefused as exc:
                error = credentials.redact(f"the mail server refused {e.journalist.email}: {_refusal(exc)}; fix the address in the calendar")
                ledger.record_failed(e.id, run_id=run_id, error=error, transient=False, next_attempt=None, now=now)
                results.append(Result(e.id, e.journalist.email, e.language, "failed", error=error))
            except smtplib.SMTPResponseException as exc:
                transient = 400 <= exc.smtp_code < 500
                at = next_attempt(ledger.states([e.id])[e.id].attempts, now) if transient else None
                error = credentials.redact(f"the mail server answered {exc.smtp_code} {_decode(exc.smtp_error)}" + (f"; next attempt at {at.isoformat()}" if at else ""))
                ledger.record_failed(e.id, run_id=run_id, error=error, transient=transient, next_attempt=at, now=now)
                results.append(Result(e.id, e.journalist.email, e.language, "failed", error=error))
            except (OSError, smtplib.SMTPException) as exc:
                # The connection broke mid-transaction: the server may have accepted the message.
                error = credentials.redact(f"connection lost while sending ({type(exc).__name__}: {exc}); the email may have been delivered: "
                                           f"check the server's log or ask {e.journalist.email}, then 'campaigner resolve {e.id} --skip' if it arrived or '--not-published' to send it again")
                ledger.record_unknown(e.id, run_id=run_id, error=error, now=now)
                results.append(Result(e.id, e.journalist.email, e.language, "unknown", error=error))
                break  # the session is gone; later briefings wait for the next run
            else:
                ledger.record_published(e.id, run_id=run_id, remote_id=message_id, url=f"mailto:{e.journalist.email}", text=e.text,
                                        text_hash=hashlib.sha256(e.text.encode("utf-8")).hexdigest(), now=now)
                results.append(Result(e.id, e.journalist.email, e.language, "sent", message_id))
    finally:
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        ledger.end_run(run_id, counts=counts, exit_code=1 if any(r.status in ("failed", "unknown") for r in results) else 0, now=now)
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return results


def _refusal(exc: Any) -> str:
    return "; ".join(f"{code} {_decode(msg)}" for code, msg in exc.recipients.values())


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
