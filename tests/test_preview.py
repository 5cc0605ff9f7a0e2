"""`campaigner preview`: the static site, through the CLI, then looked at in a real headless Chromium."""

from __future__ import annotations

import html
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from tests.browser import Browser
from tests.conftest import FIXTURES, ROOT

NOW = "2026-07-30T08:00"
ARTEFACTS = ROOT / "test-artifacts"  # gitignored: screenshots a person can open after a run
KM_X = "women-deminers/2026-08-05/ccbl_x/km"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def cal(tmp_path) -> Path:
    dest = tmp_path / "preview-cal"
    shutil.copytree(FIXTURES / "preview", dest)
    return dest / "calendar.yaml"


def build(cal: Path, *args: str) -> Path:
    out = cal.parent / "site"
    result = run("preview", "--calendar", str(cal), "--now", NOW, "--out", str(out), *args)
    assert result.exit_code == 0, result.stderr
    return out


def ledger_with_outcomes(cal: Path) -> None:
    """A published and a failed post, through the ledger's own interface, as `post` would leave them."""
    from campaigner.publish import meta_for
    from campaigner.render import expand
    from campaigner.runtime import session

    at = datetime(2026, 8, 1, 1, 0, tzinfo=timezone.utc)
    with session(cal, write=True) as rt:
        posts = {p.id: p for p in expand(rt.calendar, datetime(2026, 8, 1).date(), datetime(2026, 8, 1).date(), renderer=rt.renderer)}
        ledger = rt.ledger
        for pid in ("ccm-entry-into-force/2026-08-01/ccbl_x/en", "ccm-entry-into-force/2026-08-01/ccbl_facebook/en"):
            assert ledger.claim(meta_for(posts[pid]), run_id="r1", host="h", pid=1, now=at, lease_until=at)
        ledger.record_published("ccm-entry-into-force/2026-08-01/ccbl_x/en", run_id="r1", remote_id="1866",
                                url="https://x.com/ccbl/status/1866", text="t", text_hash="h", now=at)
        ledger.record_failed("ccm-entry-into-force/2026-08-01/ccbl_facebook/en", run_id="r1", error="Facebook refused the Page token: renew it",
                             transient=False, next_attempt=None, now=at)


# ---------------------------------------------------------------- the files


def test_preview_writes_one_self_contained_page_and_copies_the_images(cal):
    out = build(cal, "--days", "10")
    page = (out / "index.html").read_text(encoding="utf-8")
    copied = list((out / "media").iterdir())
    assert len(copied) == 1 and copied[0].name.endswith("-pixel.png")  # the same image used twice is copied once
    assert copied[0].read_bytes() == (cal.parent / "media" / "pixel.png").read_bytes()
    # Nothing is loaded from elsewhere: no external stylesheet, script, font or image.
    assert not re.search(r"<(link|script)[^>]+(src|href)=", page)
    assert "@import" not in page and "url(" not in page
    assert re.findall(r'<img src="([^"]+)"', page) == ["media/" + copied[0].name] * 8
    assert "default-src 'none'" in page  # and the browser is told so


def test_every_card_shows_id_due_account_language_kind_goal_and_state(cal):
    page = (build(cal, "--days", "10") / "index.html").read_text(encoding="utf-8")
    cards = re.findall(r"<article .*?</article>", page, re.S)
    assert len(cards) == 8
    card = next(c for c in cards if html.escape(KM_X) in c)
    for shown in (f"<code>{KM_X}</code>", "Wed 05 Aug 2026 09:00 +07", "ccbl_x (X)", "Khmer (km)", "<dd>story</dd>", "<dd>clearance</dd>",
                  '<span class="state">pending</span>', '<div class="body" lang="km">'):
        assert shown in card, shown
    assert 'class="card platform-x state-pending over"' in card
    assert "420 / 280" in card and "140 over the limit" in card


def test_post_texts_and_titles_are_data_never_markup(cal):
    page = (build(cal, "--days", "10") / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__ran = 1&lt;/script&gt; Women deminers &amp; their teams" in page
    assert page.count("<script>") == 1  # the page's own filter script, nothing else
    # A link in a text becomes a link; its query string is escaped, not re-interpreted.
    assert '<a href="https://example.org/stories/deminers?from=ccbl&amp;lang=km" rel="noopener noreferrer">' in page


def test_ledger_states_show_the_link_or_the_reason(cal):
    ledger_with_outcomes(cal)
    page = (build(cal, "--days", "10") / "index.html").read_text(encoding="utf-8")
    cards = {re.search(r"<code>(.*?)</code>", c).group(1): c for c in re.findall(r"<article .*?</article>", page, re.S)}
    published = cards["ccm-entry-into-force/2026-08-01/ccbl_x/en"]
    assert '<span class="state">published</span>: <a href="https://x.com/ccbl/status/1866"' in published
    failed = cards["ccm-entry-into-force/2026-08-01/ccbl_facebook/en"]
    assert '<span class="state">failed</span>: Facebook refused the Page token: renew it' in failed
    assert "<li>1 published</li>" in page and "<li>1 failed</li>" in page


def test_a_card_names_the_stale_facts_its_text_cites_with_their_source(shipped):
    """A post due after a fact it cites went stale says which fact, as of when, and where to update it."""
    out = shipped.parent / "site"
    result = run("preview", "--calendar", str(shipped), "--now", "2027-04-01T08:00", "--month", "2027-04", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    card = page[page.index('id="' + _anchor("international-mine-awareness-day/2027-04-04/ccbl_x/en") + '"'):]
    card = card[: card.index("</article>")]
    assert "<dt>Stale facts</dt>" in card and "<code>contaminated_km2</code> (as of 2025-03): update it from " in card
    fresh = run("preview", "--calendar", str(shipped), "--now", "2025-04-01T08:00", "--month", "2025-04", "--out", str(out))
    assert fresh.exit_code == 0 and "Stale facts" not in (out / "index.html").read_text(encoding="utf-8")


def test_the_window_options_and_the_default_folder(cal):
    result = run("preview", "--calendar", str(cal), "--now", NOW, "--month", "2026-08")
    assert result.exit_code == 0, result.stderr
    out = cal.parent / "preview"
    assert f"Wrote {out / 'index.html'}: 8 post(s) from 2026-08-01 to 2026-08-31, 1 month(s), 1 image(s)." in result.stdout
    assert (out / "index.html").as_uri() in result.stdout
    only_x = (build(cal, "--from", "2026-08-01", "--to", "2026-08-05", "--account", "ccbl_x") / "index.html").read_text(encoding="utf-8")
    assert only_x.count("<article ") == 4 and "ccbl_facebook" not in only_x


@pytest.mark.parametrize("args, message", [
    (["--month", "2026-8"], "--month: '2026-8' is not a month; write YYYY-MM, e.g. 2026-07\n"),
    (["--month", "2026-08", "--days", "3"], "--month: a month is shown whole: leave out --days\n"),
    (["--from", "2026-08-05", "--to", "2026-08-01"], "--to: 2026-08-01 is before 2026-08-05: --to must not be earlier than --from\n"),
    (["--account", "ccbl_fb"], "--account: unknown account 'ccbl_fb' (did you mean 'ccbl_x'?); the calendar defines ccbl_x, ccbl_facebook\n"),
])
def test_bad_options_are_one_line_exit_2_and_write_nothing(cal, args, message):
    result = run("preview", "--calendar", str(cal), "--now", NOW, *args)
    assert (result.exit_code, result.stdout, result.stderr.splitlines()[-1] + "\n") == (2, "", message)  # after the calendar's own warning
    assert not (cal.parent / "preview").exists()


def test_a_folder_that_preview_did_not_write_is_left_alone(cal):
    theirs = cal.parent / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine", encoding="utf-8")
    result = run("preview", "--calendar", str(cal), "--now", NOW, "--out", str(theirs))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] + "\n" == f"{theirs}: the folder exists and was not written by 'campaigner preview'; choose another with --out, or empty it\n"
    assert sorted(p.name for p in theirs.iterdir()) == ["notes.txt"]
    build(cal)  # its own folder is rewritten freely
    build(cal, "--days", "1")
    assert list((cal.parent / "site" / "media").iterdir()) == []  # images no longer shown are removed


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def site(cal) -> Path:
    ledger_with_outcomes(cal)
    return build(cal, "--days", "10") / "index.html"


def keep(path: Path) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTEFACTS / path.name)


def test_a_person_sees_khmer_set_in_a_khmer_font(browser, site, tmp_path):
    page = browser.page()
    page.open(site)
    card = f'article[id="{_anchor(KM_X)}"]'
    text = page.eval(f"document.querySelector('{card} .text').innerText")
    assert text.startswith("ស្ត្រីអ្នកដោះមីន៖ ថ្ងៃទី៥ ខែសីហា ឆ្នាំ២០២៦។")
    assert page.eval(f"document.querySelector('{card} .body').lang") == "km"
    stack = page.eval(f"getComputedStyle(document.querySelector('{card} .text')).fontFamily")
    assert stack.startswith('"Noto Sans Khmer", "Khmer OS"'), stack  # the page asks for Khmer faces first
    english = page.eval("getComputedStyle(document.querySelector('.body[lang=en] .text')).fontFamily")
    assert "Khmer" not in english
    fonts = page.fonts(f"{card} .text")
    assert fonts and "khmer" in fonts[0].lower(), fonts  # the glyphs were drawn with a Khmer face, not a fallback box
    page.eval(f"document.querySelector('{card}').scrollIntoView()")
    keep(page.screenshot(tmp_path / "preview-desktop.png", full_page=False))


def test_the_over_limit_card_is_marked_in_red_and_in_words(browser, site):
    page = browser.page()
    page.open(site)
    card = f'article[id="{_anchor(KM_X)}"]'
    assert page.eval(f"getComputedStyle(document.querySelector('{card} .length')).color") == "rgb(165, 14, 14)"
    assert page.eval(f"getComputedStyle(document.querySelector('{card}')).borderTopColor") == "rgb(165, 14, 14)"
    note = page.eval(f"document.querySelector('{card} .over-note').innerText")
    assert note == "140 over the limit: it will not be sent until shortened"
    fitting = page.eval("Array.from(document.querySelectorAll('.length.over')).length")
    assert fitting == 1  # only that one


def test_a_filter_hides_the_other_accounts_and_says_how_many_are_shown(browser, site):
    page = browser.page()
    page.open(site)
    visible = "Array.from(document.querySelectorAll('article.card')).filter(c => c.offsetParent !== null).map(c => c.dataset.account)"
    assert sorted(set(page.eval(visible))) == ["ccbl_facebook", "ccbl_x"]
    choose(page, "account", "ccbl_x")
    assert page.eval(visible) and set(page.eval(visible)) == {"ccbl_x"}
    assert page.eval("document.getElementById('shown').textContent") == "4 of 8 posts shown"
    grid = "Array.from(document.querySelectorAll('table.month li')).filter(li => li.offsetParent !== null).map(li => li.dataset.account)"
    assert set(page.eval(grid)) == {"ccbl_x"}
    choose(page, "language", "km")
    assert page.eval("document.getElementById('shown').textContent") == "2 of 8 posts shown"
    page.eval("document.querySelector('button[type=reset]').click()")
    page.wait_for("document.getElementById('shown').textContent === '8 of 8 posts shown'", "reset did not show every post again")


def test_a_filter_in_the_link_applies_on_opening(browser, site):
    page = browser.page()
    page.open(site, fragment="account=ccbl_facebook&state=failed")
    assert page.eval("document.getElementById('shown').textContent") == "1 of 8 posts shown"


def test_without_scripts_every_post_is_shown_and_the_filters_are_not(browser, site):
    page = browser.page(scripts=False)
    page.open(site)
    assert page.eval("document.getElementById('filters').offsetParent") is None
    assert page.eval("Array.from(document.querySelectorAll('article.card')).every(c => c.offsetParent !== null)") is True


def test_images_are_shown_with_their_alt_text_visible_on_focus(browser, site):
    page = browser.page()
    page.open(site)
    images = page.eval("Array.from(document.querySelectorAll('article.card img')).map(i => [i.alt, i.naturalWidth > 0])")
    assert images and all(loaded for _, loaded in images)
    assert {alt for alt, _ in images} == {"A deminer kneels in a marked lane", ""}
    figure = "document.querySelector('article.card figure:has(img[alt^=\"A deminer\"])')"
    caption = f"getComputedStyle({figure}.querySelector('figcaption')).display"
    assert page.eval(caption) == "none"
    page.eval(f"{figure}.focus()")
    assert page.eval(caption) == "block"
    assert page.eval(f"{figure}.querySelector('figcaption').innerText") == "A deminer kneels in a marked lane"
    # The image without alt text says so to the editor, visibly.
    assert page.eval("document.querySelector('figcaption.no-alt').offsetParent !== null") is True


def test_readable_on_a_phone_375_px_wide(browser, site, tmp_path):
    page = browser.page(width=375, height=740)
    page.open(site)
    assert page.eval("document.documentElement.scrollWidth") <= 375  # nothing to scroll sideways
    assert page.eval("parseFloat(getComputedStyle(document.querySelector('.text')).fontSize)") >= 15
    widths = page.eval("Array.from(document.querySelectorAll('article.card')).map(c => c.getBoundingClientRect().right)")
    assert max(widths) <= 375
    page.eval(f"document.querySelector('article[id=\"{_anchor(KM_X)}\"]').scrollIntoView()")
    keep(page.screenshot(tmp_path / "preview-phone.png", full_page=False))


def test_keyboard_focus_starts_at_a_visible_skip_link_and_reaches_the_filters(browser, site):
    page = browser.page()
    page.open(site)
    page.press("Tab", "Tab", 9)
    assert page.eval("document.activeElement.className") == "skip"
    assert page.eval("document.activeElement.getBoundingClientRect().left") >= 0
    assert page.eval("getComputedStyle(document.activeElement).outlineStyle") != "none"
    for _ in range(5):
        page.press("Tab", "Tab", 9)
    assert page.eval("document.activeElement.tagName") == "SELECT"
    landmarks = page.eval("['header', 'nav', 'main', 'footer'].map(t => document.querySelectorAll(t).length)")
    assert landmarks[1:3] == [1, 1] and landmarks[0] >= 1
    assert page.eval("Array.from(document.querySelectorAll('h1')).length") == 1


def test_the_page_asks_for_nothing_but_its_own_files(browser, site):
    page = browser.page()
    page.send("Network.enable")
    browser.events.clear()
    page.open(site)
    urls = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert urls and all(u.startswith("file://") for u in urls), urls
    assert page.eval("window.__ran") is None  # the title's script was text


def choose(page, field: str, value: str) -> None:
    """Pick an option in a filter, as a person's click would, firing its change event."""
    page.eval(f"(() => {{ const s = document.querySelector('select[name={field}]'); s.value = '{value}'; s.dispatchEvent(new Event('change', {{bubbles: true}})); }})()")


def _anchor(post_id: str) -> str:
    return "post-" + re.sub(r"[^A-Za-z0-9_.-]+", "~", post_id)
