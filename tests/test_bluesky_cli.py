"""Bluesky through the real CLI: validate's counting, a post published once, no session token kept."""

from __future__ import annotations

import json
import re

import pytest
import responses
from typer.testing import CliRunner

from campaigner.adapters.bluesky import record_key
from campaigner.cli import app
from tests import platform_fakes as pf
from tests.probe import imported_modules

runner = CliRunner()
PASSWORD = "abcd+efgh/ijkl=mnöp"
POST_ID = "mine-ban-treaty-entry-into-force/2027-03-01/ccbl_bsky/en"
MORNING = "2027-03-01T09:05"


@pytest.fixture
def bsky(shipped, monkeypatch):
    """The shipped calendar with one Bluesky account instead of its own."""
    text = shipped.read_text(encoding="utf-8")
    text = re.sub(r"\naccounts:\n(  .*\n)+", "\naccounts:\n  ccbl_bsky: {platform: bluesky, handle: ccbl.bsky.social}\n", text, count=1)
    shipped.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CAMPAIGNER_CCBL_BSKY_APP_PASSWORD", PASSWORD)
    return shipped


def test_validate_counts_graphemes_and_flags_a_khmer_post_over_300(bsky):
    assert runner.invoke(app, ["validate", "--calendar", str(bsky), "--now", "2027-02-01T08:00"]).exit_code == 0
    # 301 clusters of three code points each (ក្ស), 2,709 bytes: over by graphemes, not by bytes.
    (bsky.parent / "templates/anniversary/bluesky.km.j2").write_text("ក្ស" * 301, encoding="utf-8")
    result = runner.invoke(app, ["validate", "--calendar", str(bsky), "--now", "2027-02-01T08:00"])
    assert result.exit_code == 2
    assert "the km post for ccbl_bsky (templates/anniversary/bluesky.km.j2) is 301/300 characters on bluesky" in result.stderr


def test_validate_flags_a_post_over_3000_bytes(bsky):
    family = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"  # one grapheme, 25 bytes
    (bsky.parent / "templates/anniversary/bluesky.en.j2").write_text(family * 121, encoding="utf-8")
    result = runner.invoke(app, ["validate", "--calendar", str(bsky), "--now", "2027-02-01T08:00"])
    assert result.exit_code == 2 and "is 3,025/3,000 UTF-8 bytes on bluesky" in result.stderr


def test_an_image_over_a_megabyte_is_a_validate_error(bsky):
    media = bsky.parent / "media/women-deminers.png"
    media.write_bytes(media.read_bytes() + b"\0" * 1_000_001)
    result = runner.invoke(app, ["validate", "--calendar", str(bsky), "--now", "2027-02-01T08:00"])
    assert result.exit_code == 2
    assert re.search(r"media/women-deminers.png is [\d,]+ bytes; Bluesky takes images up to 1,000,000 bytes \(ccbl_bsky\)", result.stderr)


def test_validate_and_plan_import_no_http_library_for_a_bluesky_account(bsky, tmp_path):
    for args in (["validate", "--now", "2027-02-01T08:00"], ["plan", "--now", MORNING]):
        code, modules, stderr = imported_modules(args, bsky, tmp_path)
        assert code == 0, stderr
        assert [m for m in modules if m.split(".")[0] in ("requests", "urllib3", "atproto")] == []


def test_a_post_goes_out_once_and_no_session_token_is_kept(bsky):
    session = pf.bsky_session()
    with responses.RequestsMock() as rsps:
        login = rsps.add(responses.POST, pf.bsky_xrpc("com.atproto.server.createSession", pf.BSKY), json=session)
        create = rsps.add(responses.POST, pf.bsky_xrpc("com.atproto.repo.createRecord"),
                          json=pf.bsky_created(record_key(POST_ID)))
        create_km = rsps.add(responses.POST, pf.bsky_xrpc("com.atproto.repo.createRecord"),
                             json=pf.bsky_created(record_key(POST_ID[:-2] + "km")))
        first = runner.invoke(app, ["post", "--calendar", str(bsky), "--now", MORNING, "--json"])
        assert first.exit_code == 0, first.output
        again = runner.invoke(app, ["post", "--calendar", str(bsky), "--now", "2027-03-01T09:15", "--json"])
        assert again.exit_code == 0, again.output
        assert login.call_count == 1  # the second run had nothing to send: no login
        assert create.call_count + create_km.call_count == 2
    results = {r["id"]: r for r in json.loads(first.stdout)}
    assert results[POST_ID]["url"] == f"https://bsky.app/profile/ccbl.bsky.social/post/{record_key(POST_ID)}"
    assert {r["status"] for r in results.values()} == {"published"}
    stored = "".join(f.read_bytes().decode("utf-8", "replace") for f in (bsky.parent / ".campaigner").glob("state.db*"))
    assert stored and record_key(POST_ID) in stored
    for secret in (session["accessJwt"], session["refreshJwt"], PASSWORD):
        pf.assert_no_secret(stored + first.output + again.output, [secret])
