"""Email over SMTP: the channel journalists (and other contacts) are briefed through.

It is driven by the same engine as the platforms (claim -> send -> record): `open` connects and
logs in before anything is claimed, so an unreachable server or a refused login leaves nothing to
resolve; a refused recipient is permanent; a 4xx answer is transient; a connection lost during the
transaction is ambiguous (the server may have accepted the message). Settings come from
CAMPAIGNER_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM and _SECURITY (and .env beside the calendar).
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaigner import credentials
from campaigner.adapters.base import Adapter, Message, Receipt, WireRequest
from campaigner.errors import Ambiguous, ConfigError, Permanent, Transient, problem_at

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SMTP_TIMEOUT = 30


@dataclass(frozen=True)
class SMTPSettings:
    """Where and how to send: CAMPAIGNER_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _SECURITY."""

    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    security: str

    def __repr__(self) -> str:  # never show the password
        return f"SMTPSettings(host={self.host!r}, port={self.port}, user={self.user!r}, security={self.security!r})"

    @classmethod
    def from_env(cls, folder: Path) -> SMTPSettings:
        """Read the settings (and .env in the calendar's folder); ConfigError naming what to set."""
        credentials.load_env_file(folder)
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
            problems.append("set CAMPAIGNER_SMTP_HOST to your mail server (and CAMPAIGNER_SMTP_PORT, _USER, _PASSWORD, _FROM; see README: Briefing contacts)")
        if not sender:
            problems.append("set CAMPAIGNER_SMTP_FROM to the address the briefings come from, e.g. press@ccbl.example")
        if user and not password:
            problems.append("CAMPAIGNER_SMTP_USER is set but CAMPAIGNER_SMTP_PASSWORD is not")
        if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
            problems.append(f"CAMPAIGNER_SMTP_PORT: '{port_text}' is not a port number")
        if problems:
            raise ConfigError([problem_at("briefing", 0, 0, p) for p in problems])
        return cls(host, int(port_text) if port_text else DEFAULT_PORTS[security], user, password, sender, security)


class EmailAdapter(Adapter):
    """Sends each message to its one recipient over one SMTP session per run."""

    platform = "email"
    max_length = 10**6
    counts = "chars"
    # SMTP cannot tell a message it accepted twice from two messages: a lost answer is ambiguous.

    def __init__(self, settings: SMTPSettings, session: Any = None):
        super().__init__("email", {}, {}, session)
        self.settings = settings
        self._smtp: Any = session  # an already connected smtplib.SMTP (tests), else made by open()

    def open(self) -> None:
        """Connect, secure and log in; Permanent for a refused login, Transient for an unreachable server."""
        import smtplib
        import ssl

        if self._smtp is not None:
            return
        s = self.settings
        smtp: smtplib.SMTP
        try:
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT)
                if s.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if s.user:
                _login(smtp, s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise Permanent(credentials.redact(f"the mail server {s.host} refused the login for {s.user} ({exc.smtp_code}): check CAMPAIGNER_SMTP_USER and CAMPAIGNER_SMTP_PASSWORD")) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Transient(credentials.redact(f"cannot reach the mail server {s.host}:{s.port} ({s.security}): {type(exc).__name__}: {exc}; nothing was sent, run the same command again later")) from None
        self._smtp = smtp

    def close(self) -> None:
        """QUIT the session, if one is open."""
        import smtplib

        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None

    def email(self, message: Message) -> Any:
        """The EmailMessage for a message: From, To, Subject, Date, Message-ID, Content-Language."""
        from email.headerregistry import Address
        from email.message import EmailMessage
        from email.utils import format_datetime, localtime

        if message.recipient is None:
            raise Permanent("an email needs a recipient")
        name, address = message.recipient
        local, _, domain = address.partition("@")
        sender_domain = self.settings.sender.rpartition("@")[2] or "campaigner.invalid"
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = Address(display_name=re.sub(r"\s+", " ", name), username=local, domain=domain)
        msg["Subject"] = re.sub(r"\s+", " ", message.subject or "").strip()  # header values may not hold line breaks
        msg["Date"] = format_datetime(localtime())
        msg["Message-ID"] = f"<{uuid.uuid4().hex}.{hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:12]}@{sender_domain}>"
        msg.set_content(message.text)
        if message.language:
            msg["Content-Language"] = message.language  # after set_content, which clears every Content-* header
        return msg

    def publish(self, message: Message) -> Receipt:
        """Send one email; its Message-ID is the receipt."""
        import smtplib

        msg = self.email(message)
        address = message.recipient[1] if message.recipient else ""
        self.open()
        try:
            self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise Permanent(credentials.redact(f"the mail server refused {address}: {_refusal(exc)}; fix the address in the calendar")) from None
        except smtplib.SMTPResponseException as exc:
            said = credentials.redact(f"the mail server answered {exc.smtp_code} {_decode(exc.smtp_error)}")
            raise (Transient(said) if 400 <= exc.smtp_code < 500 else Permanent(said)) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._smtp = None  # the session is gone
            raise Ambiguous(credentials.redact(
                f"connection lost while sending ({type(exc).__name__}: {exc}); the email may have been delivered: check the server's log or ask {address}")) from None
        return Receipt(str(msg["Message-ID"]), f"mailto:{address}")

    def describe(self, message: Message) -> list[WireRequest]:
        """The SMTP transaction that would be made (the password is never shown)."""
        to = message.recipient[1] if message.recipient else "?"
        return [WireRequest("SMTP", f"{self.settings.security}://{self.settings.host}:{self.settings.port}",
                            {"from": self.settings.sender, "to": to, "subject": message.subject or ""})]


def _login(smtp: Any, user: str, password: str) -> None:
    """smtplib's login, or AUTH PLAIN in UTF-8 (RFC 4616) for a login or password that is not ASCII:
    smtplib encodes every mechanism's answer as ASCII and would crash on it."""
    import base64
    import smtplib

    if user.isascii() and password.isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth") or "PLAIN" not in smtp.esmtp_features["auth"].upper().split():
        raise smtplib.SMTPAuthenticationError(504, b"the server offers no AUTH PLAIN, the only way to send a non-ASCII login or password")
    code, answer = smtp.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode())
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


def _refusal(exc: Any) -> str:
    return "; ".join(f"{code} {_decode(msg)}" for code, msg in exc.recipients.values())


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

