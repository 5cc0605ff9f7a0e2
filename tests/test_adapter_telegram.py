"""The Telegram adapter over real requests against a faked Bot API."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from campaigner.adapters.base import MediaItem, Message, Receipt
from campaigner.adapters.telegram import TelegramAdapter
from campaigner.errors import Permanent
from tests.platform_fakes import TG_CHANNEL_ID, multipart, png_bytes, tg_error, tg_ok, tg_sent, tg_url, write_png

TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TEXT = "ថ្ងៃនេះ <b>not bold</b> & *not italic* #MinefreeCambodia"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def adapter(chat="@ccbl_kh", creds=None) -> TelegramAdapter:
    return TelegramAdapter("ccbl_tg", {"chat_id": chat}, {"BOT_TOKEN": TOKEN} if creds is None else creds, session=requests.Session())


def message(text=TEXT, **kw) -> Message:
    return Message(text=text, idempotency_key="day/2026-12-03/ccbl_tg/km", **kw)


def form(request) -> dict:
    from urllib.parse import parse_qs

    return {k: v[0] for k, v in parse_qs(request.body, keep_blank_values=True).items()}


def test_a_text_goes_as_plain_text_so_markup_arrives_as_written(rsps):
    rsps.add(responses.POST, tg_url("sendMessage"), json=tg_ok(tg_sent(77, TEXT)))
    receipt = adapter().publish(message(link="https://ccbl.example/report"))
    assert receipt == Receipt("77", "https://t.me/ccbl_kh/77")
    sent = form(rsps.calls[0].request)
    assert sent["text"] == TEXT and "parse_mode" not in sent and sent["chat_id"] == "@ccbl_kh"
    assert json.loads(sent["link_preview_options"]) == {"url": "https://ccbl.example/report"}
    assert rsps.calls[0].request.url == f"https://api.telegram.org/bot{TOKEN}/sendMessage"


def test_one_photo_is_sent_with_its_caption(rsps, tmp_path):
    rsps.add(responses.POST, tg_url("sendPhoto"), json=tg_ok(tg_sent(78, None, caption=TEXT, photo=[])))
    adapter().publish(message(media=(MediaItem(write_png(tmp_path / "p.png"), "ignored: Telegram has no alt text"),)))
    parts = multipart(rsps.calls[0].request)
    assert parts["photo"]["data"] == png_bytes() and parts["caption"]["data"].decode() == TEXT


def test_several_photos_go_as_one_media_group_with_the_caption_on_the_first(rsps, tmp_path):
    rsps.add(responses.POST, tg_url("sendMediaGroup"), json=tg_ok([tg_sent(80, None), tg_sent(81, None)]))
    media = (MediaItem(write_png(tmp_path / "a.png")), MediaItem(write_png(tmp_path / "b.png", (0, 0, 200))))
    receipt = adapter().publish(message(media=media))
    assert receipt.remote_id == "80"
    parts = multipart(rsps.calls[0].request)
    assert json.loads(parts["media"]["data"]) == [{"type": "photo", "media": "attach://photo0", "caption": TEXT},
                                                   {"type": "photo", "media": "attach://photo1"}]
    assert parts["photo1"]["data"] == png_bytes((0, 0, 200))


def test_a_reply_names_the_previous_message(rsps):
    rsps.add(responses.POST, tg_url("sendMessage"), json=tg_ok(tg_sent(79)))
    adapter().publish(message("part two", reply_to="78"))
    assert json.loads(form(rsps.calls[0].request)["reply_parameters"]) == {"message_id": 78}


def test_a_private_channel_links_through_t_me_c(rsps):
    sent = tg_sent(5)
    sent["chat"] = {"id": TG_CHANNEL_ID, "title": "CCBL staff", "type": "channel"}
    rsps.add(responses.POST, tg_url("sendMessage"), json=tg_ok(sent))
    assert adapter(chat=str(TG_CHANNEL_ID)).publish(message()).url == "https://t.me/c/1234567890/5"


@pytest.mark.parametrize("answer, phrase", [
    (tg_error(400, "Bad Request: chat not found"), "check chat_id"),
    (tg_error(403, "Forbidden: bot is not a member of the channel chat"), "add the bot as an administrator"),
    (tg_error(401, "Unauthorized"), "CAMPAIGNER_CCBL_TG_BOT_TOKEN"),
])
def test_refusals_say_what_to_fix(rsps, answer, phrase):
    rsps.add(responses.POST, tg_url("sendMessage"), json=answer, status=answer["error_code"])
    with pytest.raises(Permanent) as caught:
        adapter().publish(message())
    assert phrase in caught.value.message and TOKEN not in caught.value.message


def test_describe_shows_the_token_as_its_variable():
    wire = adapter().describe(message())
    assert str(wire[0]).startswith("POST https://api.telegram.org/bot<CAMPAIGNER_CCBL_TG_BOT_TOKEN>/sendMessage ")
    assert TOKEN not in str(wire)


def test_check_says_whether_the_bot_may_post(rsps):
    rsps.add(responses.GET, tg_url("getMe"), json=tg_ok({"id": 7012345678, "is_bot": True, "first_name": "CCBL", "username": "ccbl_post_bot"}))
    rsps.add(responses.GET, tg_url("getChat"), json=tg_ok({"id": TG_CHANNEL_ID, "title": "CCBL Cambodia", "username": "ccbl_kh", "type": "channel"}))
    rsps.add(responses.GET, tg_url("getChatMember"), json=tg_ok({"status": "administrator", "can_post_messages": True,
                                                                  "user": {"id": 7012345678, "is_bot": True}}))
    result = adapter().check()
    assert result.ok and result.detail == "@ccbl_post_bot can post to channel CCBL Cambodia (@ccbl_kh)"


def test_check_fails_a_bot_that_is_only_a_member(rsps):
    rsps.add(responses.GET, tg_url("getMe"), json=tg_ok({"id": 1, "is_bot": True, "username": "ccbl_post_bot"}))
    rsps.add(responses.GET, tg_url("getChat"), json=tg_ok({"id": TG_CHANNEL_ID, "title": "CCBL Cambodia", "type": "channel"}))
    rsps.add(responses.GET, tg_url("getChatMember"), json=tg_ok({"status": "member", "user": {"id": 1}}))
    result = adapter().check()
    assert not result.ok and "add the bot as an administrator" in result.detail


def test_a_caption_too_long_for_the_photos_is_sent_after_them():
    parts = TelegramAdapter.split("ក" * 1100, {}, thread=False, images=1)
    assert parts == ("", "ក" * 1100)
    assert TelegramAdapter.split("ក" * 1000, {}, thread=False, images=1) is None
    assert TelegramAdapter.measure("🇰🇭 ok", {}) == 7  # UTF-16 code units, as the Bot API counts
