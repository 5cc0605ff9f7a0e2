"""`validate` checks what the platform will refuse before anything is sent (issue 11, item 5): each
image's real type and size, each post's image count against its account's platform, empty texts;
and `post` refuses the same posts instead of going out half-published."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from tests.platform_fakes import png_bytes

NOW = "2026-07-01T00:00"
runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result


def story(cal: Path, media: list[str], accounts: str = "[ccbl_x, ccbl_facebook]") -> None:
    """Give the monthly story these images, on these accounts."""
    text = cal.read_text(encoding="utf-8")
    old = '    accounts: [ccbl_facebook]\n    goal: clearance\n    vars: {title: Deminers at work}\n    media: [{path: media/pixel.png, alt: "A deminer kneels in a marked lane"}]'
    assert old in text
    items = ", ".join(f'{{path: {m}, alt: "A deminer at work"}}' for m in media)
    cal.write_text(text.replace(old, f"    accounts: {accounts}\n    goal: clearance\n    vars: {{title: Deminers at work}}\n    media: [{items}]"), encoding="utf-8")


def jpeg(size: int) -> bytes:
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    return head + b"\x00" * (size - len(head))


def test_a_6_mb_jpeg_is_refused_for_x_only(fixture_calendar):
    cal = fixture_calendar("good")
    (cal.parent / "media" / "big.jpg").write_bytes(jpeg(6 * 1024 * 1024))
    story(cal, ["media/big.jpg"])
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "big.jpg" in line]
    assert lines == ["good/calendar.yaml:26:1: event 'monthly-story': media/big.jpg is 6,291,456 bytes; X takes images up to 5,242,880 bytes (ccbl_x): make it smaller"]


def test_a_text_file_named_png_is_refused_on_both(fixture_calendar):
    cal = fixture_calendar("good")
    (cal.parent / "media" / "notes.png").write_text("these are my notes, not a picture\n")
    story(cal, ["media/notes.png"])
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "notes.png" in line]
    assert len(lines) == 2 and all("not an image (its first bytes match no image format)" in line for line in lines)
    assert any("X takes GIF, JPEG, PNG, WebP (ccbl_x)" in line for line in lines)
    assert any("Facebook takes BMP, GIF, JPEG, PNG, TIFF, WebP (ccbl_facebook)" in line for line in lines)


@pytest.mark.parametrize("count, platform, limit", [(5, "X", 4), (11, "Facebook", 10)])
def test_too_many_images_for_the_platform(fixture_calendar, count, platform, limit):
    cal = fixture_calendar("good")
    for n in range(count):
        (cal.parent / "media" / f"p{n}.png").write_bytes(png_bytes((n, 0, 0)))
    story(cal, [f"media/p{n}.png" for n in range(count)])
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 2
    assert f"{count} images, but {platform} takes at most {limit} images per post" in result.stderr
    if platform == "Facebook":
        assert "but X takes" in result.stderr  # 11 is too many for X as well


@pytest.mark.parametrize("body", ["", "   \n\t\n", "{# only a comment #}\n{% if false %}x{% endif %}\n"])
def test_an_empty_or_whitespace_template_is_refused(fixture_calendar, body):
    cal = fixture_calendar("good")
    (cal.parent / "templates" / "story" / "en.j2").write_text(body, encoding="utf-8")
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 2
    assert "event 'monthly-story': the en post for ccbl_facebook is empty" in result.stderr
    assert "event 'weekly-tip': the en post for ccbl_x is empty" in result.stderr


def test_post_refuses_the_same_posts_before_sending_anything(fixture_calendar, monkeypatch):
    import responses

    cal = fixture_calendar("good")
    (cal.parent / "media" / "notes.png").write_text("not a picture")
    story(cal, ["media/notes.png"])
    monkeypatch.setenv("CAMPAIGNER_CCBL_X_BEARER_TOKEN", "token-for-the-test")
    monkeypatch.setenv("CAMPAIGNER_CCBL_FACEBOOK_PAGE_TOKEN", "page-token-for-the-test")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        result = run("post", "--calendar", str(cal), "--now", "2026-07-31T09:05")
        assert len(rsps.calls) == 0  # not even the account that would have taken it
    assert result.exit_code == 2
    assert "notes.png is not an image" in result.stderr
