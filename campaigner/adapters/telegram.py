"""Telegram channels through the Bot API, over plain requests.

Three methods serve a channel: sendMessage, sendPhoto and sendMediaGroup (getMe, getChat and
getChatMember check the account). python-telegram-bot 22 and aiogram 3 are asyncio-only and much
heavier to import than the requests that the other adapters already use, so this adapter speaks
the documented HTTP API itself. Texts go as plain text (no parse_mode), so a `<` or a `*` in a
template arrives as written. The bot token is part of every URL: it never appears in a message,
a log line or a dry run.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from campaigner.adapters.base import (
    COMMON_OPTIONS,
    AccountCheck,
    Adapter,
    Message,
    RateLimit,
    Receipt,
    WireRequest,
    connection_problem,
    reached_platform,
    redact_library_logs,
)
from campaigner.credentials import env_name, missing_message, redact, remember
from campaigner.errors import Ambiguous, ConfigError, Permanent, PublishFailure, Transient

API = "https://api.telegram.org"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # sendPhoto: "The photo must be at most 10 MB in size"




class _Refused(Exception):
    """A Bot API answer with ok: false (or not the Bot API's JSON at all)."""

    def __init__(self, status: int, code: int | None, description: str, retry_after: int | None):
        super().__init__(description)
        self.status, self.code, self.description, self.retry_after = status, code, description, retry_after


class TelegramAdapter(Adapter):
    """Posts to one Telegram channel as a bot that is one of its administrators."""

    platform = "telegram"
    label = "Telegram"
    counts = "utf16"  # the Bot API measures texts in UTF-16 code units
    max_length = 4096
    caption_length = 1024  # a photo's caption; a longer text follows the photos as a reply
    max_images = 10
    max_image_bytes = MAX_PHOTO_BYTES
    image_types = IMAGE_TYPES
    alt_text = False  # the Bot API has no alt text for photos
    supports_threads = True
    # About 20 messages per minute in a channel (python-telegram-bot wiki, "Avoiding flood limits").
    rate_limits = (RateLimit(20, timedelta(minutes=1), "chat"),)
    credential_sets = (("BOT_TOKEN",),)
    account_options = COMMON_OPTIONS + ("chat_id",)
    required_options = ("chat_id",)
    lookup_note = "the Telegram Bot API cannot read a channel's history"

    def __init__(self, account: str, options: Mapping[str, Any], credentials: Mapping[str, str], session: Any = None):
        super().__init__(account, options, credentials, session)
        for value in self.credentials.values():
            remember(value)
        self.chat_id = str(self.options.get("chat_id") or "").strip()
        if not self.chat_id:
            raise ConfigError(f"account {account}: a Telegram account needs chat_id (the channel's @username, or its numeric id in quotes)")

    @classmethod
    def split(cls, text: str, options: Mapping[str, Any], *, thread: bool, images: int) -> tuple[str, ...] | None:
        """A text too long for a photo's caption follows the photos as a reply: ("", text...)."""
        if images and cls.measure(text, options) > (cls.caption_length or 0):
            rest = super().split(text, options, thread=True, images=0)
            return ("",) + (rest or (text,))
        return super().split(text, options, thread=thread, images=images)

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The base's checks, and chat_id's form."""
        problems = super().option_problems(options)
        chat = options.get("chat_id")
        if chat is not None and not isinstance(chat, str):
            problems.append(("chat_id", f'write it in quotes, e.g. chat_id: "{chat}" (a channel\'s numeric id is long and starts with -100)'))
        elif isinstance(chat, str) and not (chat.startswith("@") and len(chat) > 5 or chat.lstrip("-").isdigit()):
            problems.append(("chat_id", f"'{chat}' is neither a channel's @username nor its numeric id (e.g. \"-1001234567890\")"))
        return problems

    # -- publish ---------------------------------------------------------------------------

    def publish(self, message: Message) -> Receipt:
        """sendMessage, sendPhoto or sendMediaGroup; the receipt is the first message's."""
        images = self.load_images(message.media)
        reply = {"reply_parameters": json.dumps({"message_id": int(message.reply_to)})} if message.reply_to else {}
        if not images:
            fields: dict[str, Any] = {"chat_id": self.chat_id, "text": message.text, **reply}
            if message.link:
                fields["link_preview_options"] = json.dumps({"url": message.link})
            result = self._call("sendMessage", data=fields, what="posting", publishing=True)
        elif len(images) == 1:
            image = images[0]
            fields = {"chat_id": self.chat_id, **({"caption": message.text} if message.text else {}), **reply}
            result = self._call("sendPhoto", data=fields, files={"photo": (image.name, image.data, image.mime)},
                                what="posting the photo", publishing=True)
        else:
            media = [{"type": "photo", "media": f"attach://photo{n}"} for n in range(len(images))]
            if message.text:
                media[0]["caption"] = message.text
            files = {f"photo{n}": (image.name, image.data, image.mime) for n, image in enumerate(images)}
            result = self._call("sendMediaGroup", data={"chat_id": self.chat_id, "media": json.dumps(media), **reply}, files=files,
                                what="posting the photos", publishing=True)
        first = result[0] if isinstance(result, list) and result else result
        message_id = first.get("message_id") if isinstance(first, dict) else None
        if message_id is None:
            raise Ambiguous(f"Telegram accepted the post for {self.account} but answered without a message id: look at the channel")
        return Receipt(str(message_id), self._link(first, str(message_id)))

    def _link(self, sent: Mapping[str, Any], message_id: str) -> str:
        """t.me/<channel>/<id> for a public channel, t.me/c/<id>/<id> (members only) for a private one."""
        found = sent.get("chat")
        chat: Mapping[str, Any] = found if isinstance(found, dict) else {}
        username = chat.get("username") or (self.chat_id[1:] if self.chat_id.startswith("@") else None)
        if username:
            return f"https://t.me/{username}/{message_id}"
        numeric = str(chat.get("id") or self.chat_id)
        return f"https://t.me/c/{numeric.removeprefix('-100')}/{message_id}"


    # -- describe and check ----------------------------------------------------------------

    def _shown_url(self, method: str) -> str:
        return f"{API}/bot<{env_name(self.account, 'BOT_TOKEN')}>/{method}"

    def describe(self, message: Message) -> list[WireRequest]:
        """The one request `publish` would send; the token in the URL is shown as its variable's name."""
        names = tuple(Path(item.path).name for item in message.media)
        reply = {"reply_parameters": {"message_id": message.reply_to}} if message.reply_to else {}
        if not names:
            body: dict[str, Any] = {"chat_id": self.chat_id, "text": message.text, **reply}
            if message.link:
                body["link_preview_options"] = {"url": message.link}
            return [WireRequest("POST", self._shown_url("sendMessage"), body)]
        if len(names) == 1:
            return [WireRequest("POST", self._shown_url("sendPhoto"), {"chat_id": self.chat_id, **({"caption": message.text} if message.text else {}), **reply}, names)]
        media = [{"type": "photo", "media": f"attach://photo{n}"} for n in range(len(names))]
        if message.text:
            media[0]["caption"] = message.text
        return [WireRequest("POST", self._shown_url("sendMediaGroup"), {"chat_id": self.chat_id, "media": media, **reply}, names)]

    def describe_check(self) -> list[WireRequest]:
        """getMe, getChat and getChatMember."""
        return [WireRequest("GET", self._shown_url("getMe")), WireRequest("GET", self._shown_url("getChat"), {"chat_id": self.chat_id}),
                WireRequest("GET", self._shown_url("getChatMember"), {"chat_id": self.chat_id, "user_id": "<the bot's id>"})]

    def check(self) -> AccountCheck:
        """The bot (getMe), the channel (getChat), and whether the bot may post there (getChatMember)."""
        try:
            me = self._call("getMe", what="checking the bot token", publishing=False)
            chat = self._call("getChat", params={"chat_id": self.chat_id}, what="reading the channel", publishing=False)
            member = self._call("getChatMember", params={"chat_id": self.chat_id, "user_id": me.get("id")}, what="reading the bot's rights", publishing=False)
        except PublishFailure as failure:
            return AccountCheck(False, failure.message)
        title = chat.get("title") or chat.get("username") or self.chat_id
        where = f"channel {title} ({'@' + chat['username'] if chat.get('username') else chat.get('id')})"
        if member.get("status") == "creator" or (member.get("status") == "administrator" and member.get("can_post_messages", True)):
            return AccountCheck(True, f"@{me.get('username')} can post to {where}")
        return AccountCheck(False, f"@{me.get('username')} is {member.get('status') or 'not a member'} of {where}, not an administrator "
                                   "that may post: add the bot as an administrator of the channel with the right to post messages")

    # -- plumbing --------------------------------------------------------------------------

    def _call(self, method: str, *, what: str, publishing: bool, data: Mapping[str, Any] | None = None,
              files: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None) -> Any:
        """One Bot API call; returns its `result` or raises Transient, Permanent or Ambiguous."""
        import requests

        token = self.credentials.get("BOT_TOKEN")
        if not token:
            raise Permanent(missing_message(self.account, self.credential_sets, self.credentials))
        if self.session is None:
            self.session = requests.Session()
        redact_library_logs("urllib3.connectionpool")  # its DEBUG lines hold the URL, and so the token
        try:
            response = self.session.request("POST" if data is not None else "GET", f"{API}/bot{token}/{method}",
                                            data=data, files=files, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            problem = connection_problem(exc, self.timeout)  # never str(exc): it holds the URL
            if publishing and reached_platform(exc):
                raise Ambiguous(f"the request may have reached Telegram while {what} for {self.account} ({problem}); "
                                "Telegram cannot tell a repeat from a new post: look at the channel before trying again") from None
            raise Transient(f"could not reach Telegram while {what} for {self.account} ({problem}); nothing was posted") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "ok" not in answer:
            raise self._failure(_Refused(response.status_code, None, f"HTTP {response.status_code}, not the Bot API's JSON", None), what, publishing)
        if answer["ok"] is not True:
            parameters = answer.get("parameters")
            retry = parameters.get("retry_after") if isinstance(parameters, dict) else None
            raise self._failure(_Refused(response.status_code, answer.get("error_code"), str(answer.get("description") or ""),
                                         retry if isinstance(retry, int) else None), what, publishing)
        return answer.get("result")

    def _failure(self, refused: _Refused, what: str, publishing: bool) -> PublishFailure:
        code = refused.code or refused.status
        said = redact(refused.description) or f"HTTP {refused.status}"
        lowered = said.lower()
        if code == 429:
            at = datetime.now(timezone.utc) + timedelta(seconds=refused.retry_after) if refused.retry_after else None
            return Transient(f"Telegram is limiting posts for {self.account} while {what}: {said}", at)
        if code == 401 or (code == 404 and "chat" not in lowered):  # 404: a token of the wrong form
            return Permanent(f"Telegram refused the bot token for {self.account} ({said}): check {env_name(self.account, 'BOT_TOKEN')} "
                             "(from @BotFather; see README: Telegram)")
        if "chat not found" in lowered:
            return Permanent(f"Telegram knows no chat {self.chat_id} for {self.account} ({said}): check chat_id in calendar.yaml "
                             "(the channel's @username, or its numeric id) and add the bot as an administrator of the channel")
        if code == 403 or "not enough rights" in lowered or "need administrator rights" in lowered:
            return Permanent(f"Telegram refused {what} for {self.account} ({said}): add the bot as an administrator of the channel "
                             "with the right to post messages")
        if refused.status >= 500 or code >= 500:
            if publishing:
                return Ambiguous(f"Telegram failed while {what} for {self.account} ({said}); the post may be out and Telegram cannot "
                                 "deduplicate a retry: look at the channel before trying again")
            return Transient(f"Telegram failed while {what} for {self.account} ({said})")
        if refused.code is None and 200 <= refused.status < 300 and publishing:
            return Ambiguous(f"Telegram answered {what} for {self.account} with something unreadable ({said}): the post may be out, look at the channel")
        return Permanent(f"Telegram refused {what} for {self.account} (code {code}): {said}")
