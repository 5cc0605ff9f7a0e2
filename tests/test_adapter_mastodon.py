"""The Mastodon adapter through the real Mastodon.py and requests, against a faked instance."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
import responses

from campaigner.adapters.base import MediaItem, Message
from campaigner.adapters.mastodon import MastodonAdapter, idempotency_key, mastodon_length
from campaigner.errors import Permanent
from tests.platform_fakes import MASTODON, mastodon_account, mastodon_media, mastodon_status, multipart, png_bytes, write_png

TOKEN = "md-token-abcdefghijklmnop"
TEXT = "ថ្ងៃនេះ Cambodia marks the Mine Ban Treaty. https://ccbl.example/2026/anniversary"
STATUSES = f"{MASTODON}/api/v1/statuses"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def adapter(**options) -> MastodonAdapter:
    return MastodonAdapter("ccbl_md", {"instance": MASTODON, **options}, {"ACCESS_TOKEN": TOKEN}, session=requests.Session())


def message(text=TEXT, **kw) -> Message:
    return Message(text=text, idempotency_key="mbt/2026-12-03/ccbl_md/en", **kw)


def test_a_status_carries_the_idempotency_key_and_the_token_only_in_its_header(rsps):
    rsps.add(responses.POST, STATUSES, json=mastodon_status(TEXT))
    receipt = adapter().publish(message(language="en"))
    assert receipt.url == f"{MASTODON}/@ccbl/113456789012345678"
    request = rsps.calls[0].request
    assert request.headers["Idempotency-Key"] == idempotency_key("mbt/2026-12-03/ccbl_md/en")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}" and TOKEN not in request.url
    assert "language=en" in request.body and "status=" in request.body


def test_images_are_uploaded_with_their_description_and_waited_for(rsps, tmp_path, monkeypatch):
    monkeypatch.setattr("campaigner.adapters.mastodon.time.sleep", lambda s: None)
    rsps.add(responses.POST, f"{MASTODON}/api/v2/media", json=mastodon_media(processed=False), status=202)
    rsps.add(responses.GET, f"{MASTODON}/api/v1/media/113456789012340001", json=mastodon_media(processed=False), status=206)
    rsps.add(responses.GET, f"{MASTODON}/api/v1/media/113456789012340001", json=mastodon_media(), status=200)
    rsps.add(responses.POST, STATUSES, json=mastodon_status(TEXT))
    adapter().publish(message(media=(MediaItem(write_png(tmp_path / "field.png"), "A cleared field near Pailin"),)))
    parts = multipart(rsps.calls[0].request)
    assert parts["file"]["data"] == png_bytes() and parts["description"]["data"].decode() == "A cleared field near Pailin"
    assert "media_ids%5B%5D=113456789012340001" in rsps.calls[3].request.body


def test_a_validation_error_is_permanent_with_the_servers_words(rsps):
    rsps.add(responses.POST, STATUSES, json={"error": "Validation failed: Text character limit of 500 exceeded"}, status=422)
    with pytest.raises(Permanent, match="character limit of 500 exceeded"):
        adapter().publish(message())


def test_counting_follows_the_instance():
    assert mastodon_length("ក្ស https://example.org/a/very/long/path/that/is/long") == 1 + 1 + 23
    assert mastodon_length("hi @someone@mastodon.social") == len("hi @someone")
    assert MastodonAdapter.text_limit({"max_characters": 1000}) == 1000 and MastodonAdapter.text_limit({}) == 500


def test_find_matches_the_text_among_the_accounts_statuses(rsps):
    rsps.add(responses.GET, f"{MASTODON}/api/v1/accounts/verify_credentials", json=mastodon_account())
    rsps.add(responses.GET, f"{MASTODON}/api/v1/accounts/109876543210/statuses",
             json=[mastodon_status("something else", "2"), mastodon_status(TEXT, "3", created_at="2026-12-03T01:06:00.000Z")])
    found = adapter().find(message(), datetime(2026, 12, 3, 1, 5, tzinfo=timezone.utc))
    assert found is not None and found.remote_id == "3"


def test_check_compares_the_instances_limit(rsps):
    rsps.add(responses.GET, f"{MASTODON}/api/v1/accounts/verify_credentials", json=mastodon_account())
    rsps.add(responses.GET, f"{MASTODON}/api/v2/instance/", json={"domain": "mastodon.example", "title": "Example", "version": "4.3.0",
                                                                  "configuration": {"statuses": {"max_characters": 1000, "characters_reserved_per_url": 23}}})
    result = adapter().check()
    assert result.ok and "set max_characters: 1000" in result.detail and "@ccbl on https://mastodon.example" in result.detail
