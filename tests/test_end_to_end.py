"""The shipped calendar published to X and Facebook through the real tweepy and facebook-sdk code
(only HTTP faked), then `status` and `history`; and secret canaries across every command."""

from __future__ import annotations

import itertools
import json
import logging
import os
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import responses
from typer.testing import CliRunner

from campaigner.cli import app
from tests import platform_fakes as pf

runner = CliRunner()
PAGE = "100000000000000"
CANARIES = {
    "CAMPAIGNER_CCBL_X_API_KEY": "canaryApiKey1111",
    "CAMPAIGNER_CCBL_X_API_SECRET": "canaryApiSecret2222",
    "CAMPAIGNER_CCBL_X_ACCESS_TOKEN": "canaryAccessToken3333",
    "CAMPAIGNER_CCBL_X_ACCESS_SECRET": "canaryAccessSecret4444",
    "CAMPAIGNER_CCBL_FACEBOOK_PAGE_TOKEN": "canaryPageToken5555",
}


@pytest.fixture
def creds(monkeypatch):
    for k, v in CANARIES.items():
        monkeypatch.setenv(k, v)


def fake_platforms(rsps: responses.RequestsMock, *, x_status: int = 201, x_body: dict | None = None, fb_body: dict | None = None) -> dict:
    """X and Graph answers with fresh ids for every post; records what each post said."""
    ids = itertools.count(1866000000000000001)
    sent: dict[str, list] = {"x": [], "facebook": []}

    def tweet(request):
        body = json.loads(request.body)
        sent["x"].append(body)
        if x_status != 201:
            return (x_status, {"content-type": "application/json"}, json.dumps(x_body))
        return (201, {"content-type": "application/json"}, json.dumps(pf.x_created(body["text"], str(next(ids)))))

    def feed(request):
        sent["facebook"].append(parse_qs(request.body))
        if fb_body is not None:
            return (200, {"content-type": "application/json"}, json.dumps(fb_body))
        return (200, {"content-type": "application/json"}, json.dumps({"id": f"{PAGE}_{next(ids)}"}))

    def photo(request):
        sent["facebook"].append({"photo": True})
        n = next(ids)
        return (200, {"content-type": "application/json"}, json.dumps({"id": str(n), "post_id": f"{PAGE}_{n}"}))

    rsps.add(responses.GET, pf.X_ME, json=pf.x_me("ccbl_kh"), status=200)
    rsps.add_callback(responses.POST, pf.X_TWEETS, callback=tweet)
    rsps.add(responses.POST, pf.X_UPLOAD, json=pf.x_media(), status=200)
    rsps.add(responses.POST, pf.X_METADATA, json=pf.x_metadata(), status=200)
    rsps.add_callback(responses.POST, pf.graph_url(f"{PAGE}/feed"), callback=feed)
    rsps.add_callback(responses.POST, pf.graph_url(f"{PAGE}/photos"), callback=photo)
    rsps.add(responses.GET, pf.graph_url(PAGE), json={"name": "CCBL", "id": PAGE}, status=200)
    rsps.add(responses.GET, pf.graph_url("me"), json={"name": "CCBL", "id": PAGE}, status=200)
    return sent


def cli(*args: str):
    return runner.invoke(app, list(args))


def test_shipped_calendar_publishes_an_anniversary_morning_and_a_photo_story(shipped, creds):
    cal = str(shipped)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sent = fake_platforms(rsps)
        dry = cli("post", "--calendar", cal, "--now", "2026-12-03T08:05", "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert "would send international-day-of-persons-with-disabilities/2026-12-03/ccbl_x/km" in dry.stdout
        assert f"-> POST https://graph.facebook.com/v24.0/{PAGE}/feed" in dry.stdout
        assert len(rsps.calls) == 0  # a dry run makes no request

        result = cli("post", "--calendar", cal, "--now", "2026-12-03T08:05")
        assert result.exit_code == 0, result.output
        published = [line for line in result.stdout.splitlines() if line.startswith("published ")]
        assert len(published) == 4
        assert any("https://x.com/ccbl_kh/status/18660000000000000" in line for line in published)
        assert any(f"https://www.facebook.com/{PAGE}_" in line for line in published)
        assert len(sent["x"]) == 2 and {b["text"][:10] for b in sent["x"]}  # Khmer and English
        assert any("ជនមានពិការភាព" in b["text"] for b in sent["x"])

        story = cli("post", "--calendar", cal, "--now", "2026-12-17T09:05")
        assert story.exit_code == 0, story.output
        uploads = [c for c in rsps.calls if c.request.url == pf.X_UPLOAD]
        alts = [json.loads(c.request.body) for c in rsps.calls if c.request.url == pf.X_METADATA]
        assert len(uploads) == 2 and all("APOPO" in a["metadata"]["alt_text"]["text"] for a in alts)
        assert all(b.get("media", {}).get("media_ids") for b in sent["x"][2:])
        assert {"photo": True} in sent["facebook"]

    status = cli("status", "--calendar", cal, "--now", "2026-12-17T09:10")
    assert status.exit_code == 0 and "published 8" in status.stdout
    history = cli("history", "--calendar", cal, "--now", "2026-12-17T09:10", "--json")
    rows = json.loads(history.stdout)
    assert len(rows) == 8
    assert all(r["url"].startswith(("https://x.com/ccbl_kh/status/", "https://www.facebook.com/")) for r in rows)


def test_expired_facebook_token_fails_that_account_only_with_the_variable_to_set(shipped, creds):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_platforms(rsps, fb_body=pf.graph_error(190, "Error validating access token: Session has expired", subcode=463))
        result = cli("post", "--calendar", str(shipped), "--now", "2026-12-03T08:05")
    assert result.exit_code == 1
    assert "CAMPAIGNER_CCBL_FACEBOOK_PAGE_TOKEN" in result.stderr and "expired" in result.stderr
    assert result.stdout.count("published ") == 2  # X went out regardless


def test_no_secret_appears_in_any_output_log_or_ledger(shipped, creds, caplog, tmp_path):
    """Canary secrets through every command, including error paths where a platform echoes them."""
    caplog.set_level(logging.DEBUG)
    cal = str(shipped)
    outputs = []
    leaky_401 = {**pf.X_UNAUTHORIZED, "detail": f"Unauthorized: token {CANARIES['CAMPAIGNER_CCBL_X_ACCESS_TOKEN']} is invalid"}
    leaky_fb = pf.graph_error(190, f"Invalid OAuth access token {CANARIES['CAMPAIGNER_CCBL_FACEBOOK_PAGE_TOKEN']}")
    commands = [
        ("validate", "--calendar", cal),
        ("plan", "--calendar", cal, "--now", "2026-12-01T00:00", "--full"),
        ("plan", "--calendar", cal, "--now", "2026-12-01T00:00", "--json"),
        ("accounts", "--calendar", cal),
        ("accounts", "--calendar", cal, "--json"),
        ("accounts", "check", "--calendar", cal),
        ("post", "--calendar", cal, "--now", "2026-12-03T08:05", "--dry-run"),
        ("post", "--calendar", cal, "--now", "2026-12-03T08:05", "--dry-run", "--json"),
        ("post", "--calendar", cal, "--now", "2026-12-03T08:05"),
        ("post", "--calendar", cal, "--now", "2026-12-03T11:05", "--json"),
        ("status", "--calendar", cal, "--now", "2026-12-03T12:00"),
        ("status", "--calendar", cal, "--now", "2026-12-03T12:00", "--json"),
        ("history", "--calendar", cal, "--now", "2026-12-03T12:00"),
        ("cron", "--calendar", cal),
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake_platforms(rsps, x_status=401, x_body=leaky_401, fb_body=leaky_fb)
        for args in commands:
            result = runner.invoke(app, list(args))
            assert result.exit_code in (0, 1), (args, result.output)
            outputs.append(result.output + (result.stderr or ""))
    assert any("X rejected the credentials for ccbl_x" in o for o in outputs)
    assert any("c…3" in o for o in outputs)  # masked access token shown by 'accounts'
    ledger_files = list((shipped.parent / ".campaigner").glob("state.db*"))
    assert ledger_files
    snapshots = list(Path(os.environ["CAMPAIGNER_CACHE_DIR"]).glob("*.pickle"))
    assert snapshots
    haystacks = outputs + [caplog.text] + [f.read_bytes().decode("utf-8", "replace") for f in ledger_files + snapshots]
    for name, secret in CANARIES.items():
        for text in haystacks:
            assert secret not in text, f"{name} leaked"
