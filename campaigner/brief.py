"""Briefing contacts: one email per (report, contact group, address), in the contact's language, sent at most once.

The calendar's `contacts:` name groups (journalists, officials, partners...). Each email is a
`Briefing`, sent through the same engine as posts (`publish.Publisher`: claim -> send -> record)
over the email channel (`adapters.email`): its ledger row is `brief/<event>/<group>/<address>`
(account and platform "email"), claimed before the SMTP transaction and recorded after it. The
journalists' rows keep the key they had before groups, `brief/<event>/<address>`, so a ledger
written then is read as it was and never briefs a journalist twice. A second --brief, or two
overlapping ones, never send the same briefing twice, and `status` and `history` show briefings
beside posts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from campaigner.adapters.email import SMTPSettings
from campaigner.calendar import JOURNALISTS, Calendar, Contact, Event
from campaigner.errors import CampaignerError, ConfigError, Problem, problem_at
from campaigner.render import Post, Renderer

if TYPE_CHECKING:
    from campaigner.adapters.base import Message
    from campaigner.ledger import Ledger  # only in annotations: validate renders letters without a ledger

__all__ = ["SMTPSettings", "Briefing", "BriefResult", "compose", "send", "brief_id", "briefing_of", "statements", "language_for",
           "template_names"]

# Used when the campaign has no templates/<kind>/email[.<group>].<lang>.j2: (subject, greeting, report line, statement line).
BUILT_IN = {
    "en": ("{campaign} statement: {about}", "Dear {name},", "{source} has published a report: {link}", "Our statement:"),
    "km": ("សេចក្តីថ្លែងការណ៍របស់ {campaign}៖ {about}", "ជូនចំពោះ {name}", "{source} បានចេញផ្សាយរបាយការណ៍៖ {link}", "សេចក្តីថ្លែងការណ៍របស់យើង៖"),
}


class BriefError(CampaignerError):
    """The mail server could not be reached or refused the login; nothing was sent."""

    exit_code = 1


class Briefing(NamedTuple):
    """One briefing email: what the engine claims, sends over the email channel and records."""

    id: str
    event: Event
    contact: Contact
    language: str
    subject: str
    body: str
    due: datetime
    group: str = JOURNALISTS

    @property
    def account(self) -> str:
        """The channel: every briefing goes through the email one."""
        return "email"

    @property
    def platform(self) -> str:
        """As account."""
        return "email"

    @property
    def draft(self) -> bool:
        """A draft event's briefings are never sent."""
        return self.event.draft

    @property
    def fits(self) -> bool:
        """An email has no length limit that matters here."""
        return True

    @property
    def date(self) -> date:
        """The local date the briefing is for."""
        return self.due.date()

    @property
    def text(self) -> str:
        """What is recorded in the ledger as sent."""
        return f"Subject: {self.subject}\n\n{self.body}"

    @property
    def parts(self) -> tuple[str, ...]:
        """One part: an email is never a thread."""
        return (self.text,)

    @property
    def length(self) -> int:
        """Characters of the recorded text."""
        return len(self.text)

    @property
    def limit(self) -> int:
        """No practical limit."""
        return 10**6

    @property
    def text_hash(self) -> str:
        """sha256 of the recorded text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def message(self, part: int = 0, reply_to: str | None = None) -> Message:
        """The email's content, addressed to its one contact."""
        from campaigner.adapters.base import Message

        return Message(text=self.body, idempotency_key=self.id, subject=self.subject, language=self.language,
                       recipient=(self.contact.name, self.contact.email))


@dataclass
class BriefResult:
    """What happened to one briefing: sent | already | failed | unknown."""

    id: str
    to: str
    language: str
    status: str
    message_id: str | None = None
    error: str | None = None
    group: str = JOURNALISTS

    def as_json(self) -> dict[str, Any]:
        """The stable JSON shape."""
        return {"id": self.id, "group": self.group, "to": self.to, "language": self.language, "status": self.status,
                "message_id": self.message_id, "error": self.error}


def brief_id(event_id: str, address: str, group: str = JOURNALISTS) -> str:
    """The ledger key of one (report, contact group, address): `brief/<event id>/<group>/<address>`,
    and for the journalists `brief/<event id>/<address>`, the key they had before contact groups
    (so a ledger written then still says who was briefed). Event ids, group names and addresses
    never hold a '/' (the loader refuses one), so the key reads back unambiguously."""
    if group == JOURNALISTS:
        return f"brief/{event_id}/{address.lower()}"
    return f"brief/{event_id}/{group}/{address.lower()}"


def briefing_of(ledger_id: str) -> tuple[str, str, str] | None:
    """(event id, contact group, address) of a briefing's ledger key, None for a post's: the inverse
    of brief_id (keep the two together)."""
    parts = ledger_id.split("/")
    if parts[0] != "brief" or len(parts) not in (3, 4):
        return None
    if len(parts) == 3:
        return parts[1], JOURNALISTS, parts[2]
    return parts[1], parts[2], parts[3]


def statements(posts: list[Post]) -> dict[str, Post]:
    """Per language, the post that best states the campaign's view: the one written for the platform
    that allows the longest texts (a Facebook Page's, where there is one), else the longest."""
    from campaigner import adapters

    def room(p: Post) -> tuple[int, int]:
        return (adapters.adapter_class(p.platform).max_length, len(p.text))

    best: dict[str, Post] = {}
    for p in posts:
        cur = best.get(p.language)
        if cur is None or room(p) > room(cur):
            best[p.language] = p
    return best


def language_for(contact: Contact, available: list[str], campaign_order: tuple[str, ...]) -> str:
    """The contact's first language the campaign wrote in, else the campaign's first such language."""
    for lang in contact.languages:
        if lang in available:
            return lang
    return next(lang for lang in campaign_order + tuple(available) if lang in available)


def template_names(kind: str, group: str, lang: str) -> tuple[str, str]:
    """The email templates a group's briefing in `lang` looks for, in order: the group's own, then the kind's."""
    return f"{kind}/email.{group}.{lang}.j2", f"{kind}/email.{lang}.j2"


def compose(calendar: Calendar, event: Event, posts: list[Post], now: datetime, *, group: str = JOURNALISTS,
            renderer: Renderer | None = None) -> list[Briefing]:
    """One briefing per contact of the group, from templates/<kind>/email.<group>.<lang>.j2, else
    email.<lang>.j2 (first line 'Subject: ...'), else a built-in text."""
    contacts = calendar.contacts.get(group, ())
    if not contacts:
        return []
    by_lang = statements([p for p in posts if p.event.id == event.id])
    if not by_lang:
        raise ConfigError(f"event '{event.id}' has no rendered posts to brief {group} with")
    renderer = renderer or Renderer(calendar)
    out = []
    for contact in contacts:
        lang = language_for(contact, list(by_lang), calendar.campaign.languages)
        post = by_lang[lang]
        subject, body = _write(calendar, renderer, event, post, contact, group, lang)
        out.append(Briefing(brief_id(event.id, contact.email, group), event, contact, lang, subject, body, now, group))
    return out


def _write(calendar: Calendar, renderer: Renderer, event: Event, post: Post, contact: Contact, group: str, lang: str) -> tuple[str, str]:
    import jinja2

    name = next((n for n in template_names(event.template, group, lang) if (renderer.folder / n).is_file()), None)
    if name is not None:
        from campaigner.recurrence import Occurrence

        occ = Occurrence(event, post.date, post.due)
        context = renderer.context(occ, calendar.accounts[post.account], lang)
        person = {"name": contact.name, "email": contact.email, "role": contact.role}
        context.update(contact=person, journalist=person, group=group, statement=post.text,
                       report=event.link or event.vars.get("report"), language=lang)
        try:
            tmpl = renderer.env.get_template(name)
        except jinja2.TemplateError as exc:
            raise ConfigError([problem_at(renderer.folder / name, getattr(exc, "lineno", 0) or 0, 0, f"email template: {exc}")]) from None
        # Within the sandbox's bounds, and located at the line, as a post's template is.
        text = renderer.render_text(tmpl, context, f"the {group} email for event '{event.id}'")
        first, _, rest = text.strip().partition("\n")
        if not first.lower().startswith("subject:"):
            raise ConfigError([problem_at(renderer.folder / name, 1, 1, "the first line of an email template must be 'Subject: ...'")])
        return _one_line(first[len("subject:"):]), rest.strip("\n") + "\n"
    subject_t, greeting, report_line, statement_line = BUILT_IN.get(lang, BUILT_IN["en"])
    v = event.vars
    source = str(v.get("source") or calendar.campaign.name)
    about = str(v.get("title") or (f"{source}" + (f" — {v['weapon']}" if v.get("weapon") else "")))
    link = event.link or str(v.get("report") or "")
    parts = [greeting.format(name=contact.name), ""]
    if link:
        parts += [report_line.format(source=source, link=link), ""]
    parts += [statement_line, "", post.text]
    if calendar.campaign.contact:
        parts += ["", "-- ", calendar.campaign.contact]
    return _one_line(subject_t.format(campaign=calendar.campaign.name, about=about)), "\n".join(parts) + "\n"


def letter_problems(calendar: Calendar, posts: list[Post], now: datetime, renderer: Renderer) -> list[Problem]:
    """What `validate` says about the briefings: each group's letter rendered once per language and
    event that has email templates (so an undefined variable is found before a brief is due), and a
    templates/<kind>/email.<group>.<lang>.j2 whose group the calendar does not have (a typo would
    otherwise fall back, silently, to the kind's general letter)."""
    problems: list[Problem] = []
    have = ", ".join(sorted(calendar.contacts)) or "none"
    for kind in sorted({e.template for e in calendar.events}):
        for path in sorted((renderer.folder / kind).glob("email.*.*.j2")):
            group = path.name.split(".")[1]
            if group not in calendar.contacts:
                problems.append(problem_at(path, 0, 0, f"no contact group '{group}' in the calendar (its groups: {have}): "
                                                       "rename the file, or add the group under contacts:", "warning"))
    by_event: dict[str, list[Post]] = {}
    for p in posts:
        by_event.setdefault(p.event.id, []).append(p)
    for event in calendar.events:
        if event.id not in by_event or not any((renderer.folder / event.template).glob("email*.j2")):
            continue
        langs = list(statements(by_event[event.id]))
        for group, contacts in calendar.contacts.items():
            one_each = {language_for(c, langs, calendar.campaign.languages): c for c in reversed(contacts)}
            sample = calendar._replace(contacts={group: tuple(one_each.values())})
            try:
                compose(sample, event, by_event[event.id], now, group=group, renderer=renderer)
            except ConfigError as exc:
                problems += exc.problems
    return problems


def _one_line(text: str) -> str:
    # Header values may not hold line breaks; a feed's title could carry any.
    return re.sub(r"\s+", " ", text).strip()


def send(calendar: Calendar, ledger: Ledger, briefings: list[Briefing], settings: SMTPSettings, now: datetime, *, smtp: Any = None) -> list[BriefResult]:
    """Send each briefing not yet sent through the publishing engine; never the same one twice.

    A briefing already sent (or failed for good, or unknown) is reported as it stands; the rest are
    claimed, sent and recorded by `publish.Publisher` over one SMTP session (`smtp`: an already
    connected one, for tests).
    """
    from campaigner.adapters.email import EmailAdapter
    from campaigner.publish import Publisher

    records = ledger.states(b.id for b in briefings)
    results: list[BriefResult] = []
    todo = []
    for b in briefings:
        rec = records.get(b.id)
        retryable = rec is not None and rec.state == "failed" and rec.transient
        if rec is None or rec.state == "pending" or retryable:
            todo.append(b)
        else:
            results.append(BriefResult(b.id, b.contact.email, b.language, "already" if rec.state == "published" else rec.state,
                                       rec.remote_id, None if rec.state == "published" else rec.error, b.group))
    if not todo:
        return results
    channel = EmailAdapter(settings, smtp)
    # A briefing is sent because a person asked for it now: quiet windows hold posts that the schedule publishes, not this.
    report = Publisher(calendar, ledger, lambda _: channel).run(now, command="brief", posts=todo, check_credentials=False, quiet=())
    by_id = {b.id: b for b in todo}
    for r in report.results:
        sent = by_id.get(r.id)
        if sent is None:
            continue  # a stale claim of another run, expired by this one: reported by `status`
        status = {"published": "sent", "waiting": "waiting"}.get(r.status, r.status)
        error = r.error
        if r.status == "unknown":
            error = f"{r.error}; then 'campaigner resolve {sent.id} --skip' if it arrived or '--not-published' to send it again"
        results.append(BriefResult(sent.id, sent.contact.email, sent.language, status, r.remote_id, error, sent.group))
    if report.account_problems:
        raise BriefError("; ".join(p.removeprefix("account email: ") for p in report.account_problems))
    return results
