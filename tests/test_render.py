"""Occurrences -> posts: ids, languages, template lookup, plain-text output, located template errors, filters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import regex

from campaigner.calendar import load_calendar
from campaigner.errors import ConfigError
from campaigner.filters import digits, hashtag, hashtags, longdate, number, ordinal
from campaigner.render import Renderer, expand, post_id

CCM_DAY = date(2026, 8, 1)
KHMER_MONTHS = ["មករា", "កុម្ភៈ", "មីនា", "មេសា", "ឧសភា", "មិថុនា", "កក្កដា", "សីហា", "កញ្ញា", "តុលា", "វិច្ឆិកា", "ធ្នូ"]


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a fixture copy; the old text must be there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def template(cal_path: Path, name: str, text: str) -> None:
    path = cal_path.parent / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def posts_on(cal_path: Path, day: date = CCM_DAY, **kw) -> dict:
    """The posts of one local day, by id."""
    return {p.id: p for p in expand(load_calendar(cal_path), day, day, **kw)}


def render_error(cal_path: Path, day: date = CCM_DAY) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        expand(load_calendar(cal_path), day, day)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def good(fixture_calendar) -> Path:
    return fixture_calendar("good")


# ---------------------------------------------------------------- posts


def test_one_post_per_occurrence_account_and_language_with_stable_ids(good):
    posts = posts_on(good)
    assert sorted(posts) == [
        "ccm-entry-into-force/2026-08-01/ccbl_facebook/en",
        "ccm-entry-into-force/2026-08-01/ccbl_facebook/km",
        "ccm-entry-into-force/2026-08-01/ccbl_x/en",
        "ccm-entry-into-force/2026-08-01/ccbl_x/km",
    ]
    p = posts["ccm-entry-into-force/2026-08-01/ccbl_x/km"]
    assert (p.event.id, p.date, p.account, p.platform, p.language, p.kind) == (
        "ccm-entry-into-force", CCM_DAY, "ccbl_x", "x", "km", "anniversary")
    assert p.due.isoformat() == "2026-08-01T08:00:00+07:00"
    assert post_id("e", date(2027, 2, 28), "acct", "km") == "e/2027-02-28/acct/km"


def test_posts_come_in_due_order(good):
    posts = expand(load_calendar(good), date(2026, 11, 2), date(2026, 11, 30))
    assert len(posts) == 12  # weekly-tip: 5 Mondays x 2 languages; monthly-story on the 30th x 2
    assert [p.due for p in posts] == sorted(p.due for p in posts)
    assert [p.id for p in posts[-4:]] == [
        "monthly-story/2026-11-30/ccbl_facebook/en", "monthly-story/2026-11-30/ccbl_facebook/km",
        "weekly-tip/2026-11-30/ccbl_x/en", "weekly-tip/2026-11-30/ccbl_x/km",
    ]
    assert posts[-1].due.isoformat() == "2026-11-30T18:30:00+07:00"


def test_account_languages_override_the_campaigns(good):
    edit(good, "ccbl_x: {platform: x}", "ccbl_x: {platform: x, languages: [en]}")
    assert sorted(posts_on(good)) == [
        "ccm-entry-into-force/2026-08-01/ccbl_facebook/en",
        "ccm-entry-into-force/2026-08-01/ccbl_facebook/km",
        "ccm-entry-into-force/2026-08-01/ccbl_x/en",
    ]


def test_post_id_uses_the_local_date_when_utc_is_still_the_day_before(good):
    edit(good, 'time: "08:00"', 'time: "06:30"')
    p = posts_on(good)["ccm-entry-into-force/2026-08-01/ccbl_x/en"]
    assert p.due.isoformat() == "2026-08-01T06:30:00+07:00"
    assert p.due == datetime.fromisoformat("2026-07-31T23:30:00+00:00")


# ---------------------------------------------------------------- golden texts


def test_golden_renders_in_english_and_khmer(good):
    posts = posts_on(good)
    assert posts["ccm-entry-into-force/2026-08-01/ccbl_x/en"].text == (
        "Today marks the 16th anniversary of the Convention on Cluster Munitions (1 August 2010).\n#MinefreeCambodia")
    assert posts["ccm-entry-into-force/2026-08-01/ccbl_x/km"].text == (
        "ថ្ងៃនេះជាខួបលើកទី១៦ នៃអនុសញ្ញាហាមឃាត់គ្រាប់បែកចង្កោម (ថ្ងៃទី១ ខែសីហា ឆ្នាំ២០១០)។\n#MinefreeCambodia")
    leap = posts_on(good, date(2027, 2, 28))
    assert leap["leap-day/2027-02-28/ccbl_facebook/en"].text.startswith("Today marks the 3rd anniversary of the Leap Treaty (29 February 2024).")
    assert leap["monthly-story/2027-02-28/ccbl_facebook/km"].text == "Deminers at work៖ ថ្ងៃទី២៨ ខែកុម្ភៈ ឆ្នាំ២០២៧។"


def test_x_counts_weighted_characters_and_facebook_counts_characters(good):
    posts = posts_on(good)
    km_x = posts["ccm-entry-into-force/2026-08-01/ccbl_x/km"]
    km_fb = posts["ccm-entry-into-force/2026-08-01/ccbl_facebook/km"]
    assert km_x.text == km_fb.text
    khmer = sum(1 for ch in km_x.text if "\u1780" <= ch <= "\u17ff")
    assert khmer == 74
    assert km_fb.length == len(km_fb.text) == 98
    assert km_x.length == len(km_x.text) + khmer == 172  # Khmer weighs 2 per code point on X
    assert (km_x.limit, km_fb.limit) == (280, 63206)
    en_x = posts["ccm-entry-into-force/2026-08-01/ccbl_x/en"]
    assert en_x.length == len(en_x.text) == 106 and en_x.fits


# ---------------------------------------------------------------- template lookup


def test_platform_template_is_preferred_over_the_language_fallback(good):
    template(good, "anniversary/x.en.j2", "On X: {{ vars.treaty }}, {{ years }} years.\n")
    posts = posts_on(good)
    assert posts["ccm-entry-into-force/2026-08-01/ccbl_x/en"].text == "On X: Convention on Cluster Munitions, 16 years."
    assert posts["ccm-entry-into-force/2026-08-01/ccbl_facebook/en"].text.startswith("Today marks the 16th")
    assert posts["ccm-entry-into-force/2026-08-01/ccbl_x/km"].text.startswith("ថ្ងៃនេះជាខួបលើកទី១៦")


def test_template_key_borrows_another_kinds_templates(good):
    edit(good, "  - id: leap-day\n", "  - id: borrowed\n    kind: story\n    template: anniversary\n"
         "    date: 2016-08-01\n    repeat: yearly\n    accounts: [ccbl_facebook]\n    vars: {treaty: Borrowed Treaty, treaty_km: សន្ធិសញ្ញា}\n"
         "  - id: leap-day\n")
    p = posts_on(good)["borrowed/2026-08-01/ccbl_facebook/en"]
    assert p.kind == "story"
    assert p.text.startswith("Today marks the 10th anniversary of the Borrowed Treaty (1 August 2016).")


def test_missing_template_names_both_candidates(good):
    (good.parent / "templates/story/km.j2").unlink()
    assert render_error(good, date(2026, 8, 31)) == [
        "good/calendar.yaml:26:1: event 'monthly-story': no template for kind 'story' on facebook in km: "
        "create templates/story/facebook.km.j2 or templates/story/km.j2"
    ]


# ---------------------------------------------------------------- plain text out


def test_no_html_escaping(good):
    edit(good, "vars: {title: Deminers at work}", 'vars: {title: "<b>Deminers</b> & rats"}')
    p = posts_on(good, date(2026, 8, 31))["monthly-story/2026-08-31/ccbl_facebook/en"]
    assert p.text == "<b>Deminers</b> & rats: 31 August 2026."


def test_trailing_whitespace_is_trimmed_per_line_and_at_the_end(good):
    template(good, "story/en.j2", "{{ vars.title }}   \n  indented stays\t \n{% if true %}\nlast line \n{% endif %}\n\n\n")
    p = posts_on(good, date(2026, 8, 31))["monthly-story/2026-08-31/ccbl_facebook/en"]
    assert p.text == "Deminers at work\n  indented stays\nlast line"


# ---------------------------------------------------------------- template errors


def test_undefined_variable_is_located_at_its_template_line(good):
    template(good, "anniversary/en.j2", "Line one\n{% if true %}\n{{ vars.nothing }}\n{% endif %}\n")
    assert render_error(good) == [
        "good/templates/anniversary/en.j2:3: undefined variable for event 'ccm-entry-into-force': "
        "'nothing' is not set (vars.nothing is missing); define it in the event's vars or guard it with {% if ... is defined %}"
    ]


def test_undefined_variable_in_an_included_template_is_located_there(good):
    template(good, "anniversary/footer.j2", "a\nb\n{{ campaign.slogan }}\n")
    template(good, "anniversary/en.j2", "Line one\n{% include 'anniversary/footer.j2' %}\n")
    (problem,) = render_error(good)
    assert problem.startswith("good/templates/anniversary/footer.j2:3: undefined variable for event 'ccm-entry-into-force':")
    assert "slogan" in problem


def test_template_syntax_error_is_located_at_its_line(good):
    template(good, "anniversary/en.j2", "Line one\n\n{% if years %}\n")
    assert render_error(good) == [
        "good/templates/anniversary/en.j2:3: template syntax: Unexpected end of template. Jinja was looking for "
        "the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'."
    ]


def test_filter_given_the_wrong_type_says_how_to_fix_it(good):
    template(good, "anniversary/en.j2", "Signed\n{{ vars.treaty | longdate }}\n")
    assert render_error(good) == [
        "good/templates/anniversary/en.j2:2: rendering event 'ccm-entry-into-force' failed: TypeError: longdate needs "
        "a date, got 'Convention on Cluster Munitions': in vars write it unquoted, e.g. signed: 2010-08-01"
    ]


def test_sandbox_refuses_python_internals(good):
    template(good, "anniversary/en.j2", "Hello\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    assert render_error(good) == [
        "good/templates/anniversary/en.j2:2: not allowed in a template: access to attribute '__class__' of 'str' object is unsafe."
    ]


def test_sandbox_does_not_run_code(good, tmp_path):
    marker = tmp_path / "pwned"
    template(good, "anniversary/en.j2",
             "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}\n")
    (problem,) = render_error(good)
    assert problem.startswith("good/templates/anniversary/en.j2:1: not allowed in a template:")
    assert not marker.exists()


def test_renderer_exposes_the_documented_context(good):
    template(good, "anniversary/en.j2",
             "{{ campaign.name }}|{{ event.id }}|{{ event.kind }}|{{ event.goal }}|{{ date }}|{{ years }}|"
             "{{ account.name }}|{{ account.platform }}|{{ platform }}|{{ language }}|{{ due.strftime('%H:%M') }}\n")
    p = posts_on(good)["ccm-entry-into-force/2026-08-01/ccbl_x/en"]
    assert p.text == "Test Campaign|ccm-entry-into-force|anniversary|universalization|2026-08-01|16|ccbl_x|x|x|en|08:00"


def test_templates_compile_once(good):
    cal = load_calendar(good)
    r = Renderer(cal)
    assert r.template("anniversary", "x", "en") is r.template("anniversary", "x", "en")
    assert r.candidates("anniversary", "x", "km") == ["anniversary/x.km.j2", "anniversary/km.j2"]


# ---------------------------------------------------------------- filters


def test_longdate_in_english_and_khmer():
    assert longdate(date(2010, 8, 1)) == "1 August 2010"
    assert longdate(date(2010, 8, 1), "en") == "1 August 2010"
    assert longdate(date(2010, 8, 1), "km") == "ថ្ងៃទី១ ខែសីហា ឆ្នាំ២០១០"
    assert longdate(datetime(2026, 12, 3, 9, 0), "km") == "ថ្ងៃទី៣ ខែធ្នូ ឆ្នាំ២០២៦"
    with pytest.raises(TypeError, match="longdate needs a date"):
        longdate("2010-08-01")


def test_all_twelve_khmer_month_names_are_cldrs():
    got = [longdate(date(2026, m, 15), "km") for m in range(1, 13)]
    assert got == [f"ថ្ងៃទី១៥ ខែ{name} ឆ្នាំ២០២៦" for name in KHMER_MONTHS]
    assert "មិនា" not in " ".join(got)  # the common misspelling of March


def test_ordinals_in_english():
    got = [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111, 112)]
    assert got == ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th", "112th"]


def test_ordinals_in_khmer():
    assert ordinal(16, "km") == "ទី១៦"
    assert ordinal(112, "km") == "ទី១១២"
    assert "ខួបលើក" + ordinal(16, "km") == "ខួបលើកទី១៦"


def test_digits_and_numbers():
    assert digits(2026) == "២០២៦"
    assert digits("0123456789", "km") == "០១២៣៤៥៦៧៨៩"
    assert digits(2026, "en") == "2026"
    assert number(1234567) == "1,234,567"
    assert number(1234567, "km") == "១,២៣៤,៥៦៧"
    assert number(112, "km") == "១១២"


def test_hashtag_keeps_khmer_combining_marks():
    assert hashtag("គ្រាប់បែក ចង្កោម") == "#គ្រាប់បែកចង្កោម"
    marks_in = regex.findall(r"\p{M}", "គ្រាប់បែក ចង្កោម")
    assert regex.findall(r"\p{M}", hashtag("គ្រាប់បែក ចង្កោម")) == marks_in and len(marks_in) == 6
    assert hashtag("mine-free cambodia!") == "#MineFreeCambodia"
    assert hashtag("#ban landmines") == "#BanLandmines"
    assert hashtag("!!!") == ""


def test_hashtags_joins_and_keeps_written_tags():
    assert hashtags(["#MinefreeCambodia", "ban landmines", "គ្រាប់បែក ចង្កោម"]) == (
        "#MinefreeCambodia #BanLandmines #គ្រាប់បែកចង្កោម")
    assert hashtags([]) == ""


# ---------------------------------------------------------------- rendering in a forked child


def _serial_and_parallel(cal_path: Path, monkeypatch, start: date, end: date):
    from campaigner import parallel

    cal = load_calendar(cal_path)

    def run():
        try:
            return expand(cal, start, end)
        except ConfigError as exc:
            return [str(p) for p in exc.problems]

    monkeypatch.setenv("CAMPAIGNER_PARALLEL", "0")
    serial = run()
    monkeypatch.delenv("CAMPAIGNER_PARALLEL")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 2)
    forks = []
    import os

    real_fork = os.fork

    def counting_fork():
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    parallel = run()
    return serial, parallel, forks


@pytest.mark.skipif(not hasattr(__import__("os"), "fork") or not __import__("sys").platform.startswith("linux"), reason="forks on Linux only")
def test_a_forked_child_renders_half_and_the_result_is_the_same(shipped, monkeypatch):
    serial, parallel, forks = _serial_and_parallel(shipped, monkeypatch, date(2026, 1, 1), date(2027, 12, 31))
    assert forks == [1]
    assert len(serial) > 100 and parallel == serial


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forks on Linux only")
def test_problems_found_in_the_child_are_reported_as_in_one_process(good, monkeypatch):
    # Every other post fails to render; half of those failures happen in the child.
    template(good, "anniversary/km.j2", "{{ vars.nope }}\n")
    serial, parallel, forks = _serial_and_parallel(good, monkeypatch, date(2026, 1, 1), date(2030, 12, 31))
    assert forks == [1]
    assert serial and all("undefined variable" in line for line in serial)
    assert parallel == serial


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forks on Linux only")
def test_a_child_that_fails_leaves_the_work_to_the_parent(good, monkeypatch):
    import os

    parent = os.getpid()
    real = Renderer._render_or_error

    def crash_in_child(self, *args):
        if os.getpid() != parent:
            raise SystemExit("the child dies")
        return real(self, *args)

    monkeypatch.setattr(Renderer, "_render_or_error", crash_in_child)
    serial, parallel, forks = _serial_and_parallel(good, monkeypatch, date(2026, 1, 1), date(2030, 12, 31))
    assert forks == [1]
    assert len(serial) > 10 and parallel == serial


def test_no_fork_beside_other_threads_or_when_turned_off(monkeypatch):
    import threading

    from campaigner.parallel import spare_core

    if not __import__("sys").platform.startswith("linux"):
        assert spare_core() is False
        return
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert spare_core() is False
    finally:
        stop.set()
        worker.join()
    monkeypatch.setenv("CAMPAIGNER_PARALLEL", "0")
    assert spare_core() is False


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="forks on Linux only")
@pytest.mark.parametrize("n", [2, 3, 7, 8])
def test_ordered_map_shares_the_calls_with_a_child_and_keeps_their_order(monkeypatch, n):
    import os

    from campaigner import parallel

    parent, forks, real_fork = os.getpid(), [], os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    got = parallel.ordered_map(lambda x: (x * x, os.getpid() == parent), list(range(n)), min_items=2)
    assert [square for square, _ in got] == [x * x for x in range(n)] and forks == [1]
    assert [here for _, here in got] == [i % 2 == 0 for i in range(n)]  # every other call made in the child
    assert parallel.ordered_map(lambda x: x, [1], min_items=2) == [1] and forks == [1]  # too few: no child


def test_a_config_error_crosses_a_pickle_with_its_problems():
    import pickle

    from campaigner.errors import Problem

    error = ConfigError([Problem("t.j2", 3, 0, "undefined"), Problem("c.yaml", 1, 2, "note", "warning")])
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ConfigError and again.problems == error.problems and str(again) == str(error)


# ---------------------------------------------------------------- the sandbox's bounds


def test_ordinary_arithmetic_formatting_and_padding_still_work(good):
    template(good, "anniversary/en.j2", "{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ 3 * '-' }} {{ '%05d' % 42 }} {{ '{:>4}'.format(7) }}"
                                        "|{{ 'x'|center(5) }}|{{ 'y'.ljust(3) }}|{{ 'aaa'.replace('a', 'bb') }}|{{ lipsum(1, html=False)|length > 10 }}\n")
    text = posts_on(good)["ccm-entry-into-force/2026-08-01/ccbl_x/en"].text
    assert text == "1024 ababab --- 00042    7|  x  |y  |bbbbbb|True"


def test_one_posts_render_cannot_change_what_the_next_one_sees(good):
    # Each account renders the same event: a template that could change vars would number them #1, #2.
    template(good, "anniversary/en.j2", "{% set n = vars.get('n', 0) + 1 %}{{ vars.update({'n': n}) }}#{{ vars.n }}\n")
    assert render_error(good) == [
        "good/templates/anniversary/en.j2:1: not allowed in a template: templates cannot change the calendar's data "
        "('update' of a dict): make a new value with {% set name = ... %} instead"]
    for code in ("{{ campaign.hashtags.append('#x') }}", "{{ media.pop() }}", "{% set _ = campaign.languages.sort() %}", "{{ vars.clear() }}"):
        template(good, "anniversary/en.j2", code + "x\n")
        assert "cannot change the calendar's data" in render_error(good)[0], code


def test_a_render_past_its_time_limit_is_stopped_and_located(good, monkeypatch):
    import signal

    from campaigner import sandbox

    monkeypatch.setattr(sandbox, "RENDER_SECONDS", 0.2)
    template(good, "anniversary/en.j2", "Signed\n{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}\n")
    before = signal.getsignal(signal.SIGALRM)
    assert render_error(good) == [
        "good/templates/anniversary/en.j2:2: rendering event 'ccm-entry-into-force' stopped: the render took more than 0.2 s "
        "(a loop too long, or one that never ends?)"]
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_renders_in_another_thread_run_without_the_signal_and_keep_the_other_bounds(good):
    import threading

    results: dict = {}

    def work():
        results["posts"] = posts_on(good)
        template(good, "anniversary/en.j2", "{{ 'a' * 10**9 }}\n")
        results["error"] = render_error(good)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert len(results["posts"]) == 4 and "repeating a text of 1 character 1,000,000,000 times" in results["error"][0]


def test_a_text_past_the_size_cap_is_stopped_as_it_grows(good):
    template(good, "anniversary/en.j2", "{% for i in range(99999) %}{{ 'abcdefghij' }}{% endfor %}\n")
    assert render_error(good) == [
        "good/templates/anniversary/en.j2: rendering event 'ccm-entry-into-force' stopped: the text grew past 100,000 characters"]


def test_the_memory_ceiling_is_lifted_after_the_batch(good):
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    template(good, "anniversary/en.j2", "{{ range(99999)|join('a' * 99999) }}\n")
    assert render_error(good) == [
        "good/templates/anniversary/en.j2: rendering event 'ccm-entry-into-force' stopped: it needed more memory than a text can (1,024 MiB)"]
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert len(bytearray(1 << 30)) == 1 << 30  # the process may use more again


def test_a_template_that_is_not_utf8_is_located_at_its_first_bad_byte(good):
    (good.parent / "templates" / "anniversary" / "en.j2").write_bytes("ថ្ងៃ\nCaf".encode() + b"\xe9 {{ vars.treaty }}\n")
    assert render_error(good) == [
        "good/templates/anniversary/en.j2:2:4: not UTF-8 text (byte 0xe9): save the file as UTF-8 (in most editors: Save with Encoding, UTF-8)"]


def test_a_template_path_that_is_a_folder_or_a_broken_symlink_says_so(good):
    import os

    target = good.parent / "templates" / "anniversary" / "en.j2"
    target.unlink()
    target.mkdir()
    assert render_error(good) == ["good/templates/anniversary/en.j2: templates/anniversary/en.j2 is a folder, not a template file: remove it, or move what is in it"]
    target.rmdir()
    os.symlink("nowhere.j2", target)
    assert render_error(good) == ["good/templates/anniversary/en.j2: templates/anniversary/en.j2 is a symlink that leads nowhere "
                                  "(its target is missing, or it leads in a loop): fix or remove it"]
