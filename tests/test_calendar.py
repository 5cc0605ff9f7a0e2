"""calendar.yaml -> Calendar: the good fixture loads, every broken one names its line, column and fix."""

from __future__ import annotations

import re
import textwrap
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from campaigner import adapters
from campaigner.calendar import load_calendar
from campaigner.errors import ConfigError

# Lines 1-8; events written after it start on line 9.
HEAD = """\
campaign:
  name: Test Campaign
  timezone: Asia/Phnom_Penh
  languages: [km, en]
accounts:
  ccbl_x: {platform: x}
  ccbl_facebook: {platform: facebook, page_id: "100000000000000"}
events:
"""

# One valid event, lines 9-11.
EVENT = """\
  - id: a
    kind: anniversary
    date: 2010-08-01
"""


def known() -> str:
    """The registered platforms as messages list them (other test modules may register a fake one)."""
    return ", ".join(adapters.platforms())


def write(text: str, name: str = "calendar.yaml") -> Path:
    """Write a file into the test's folder (the cwd) and return its path."""
    path = Path(name)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(text: str) -> list[str]:
    """Load a calendar that must fail; its problems as printed, one string each."""
    path = write(text)
    with pytest.raises(ConfigError) as caught:
        load_calendar(path)
    return [str(p) for p in caught.value.problems]


# ---------------------------------------------------------------- the good calendar


def test_good_fixture_loads_into_frozen_events(fixture_calendar):
    cal = load_calendar(fixture_calendar("good"))
    assert cal.campaign.name == "Test Campaign"
    assert cal.campaign.timezone == "Asia/Phnom_Penh"
    assert cal.campaign.default_time == time(9, 0)
    assert cal.campaign.languages == ("km", "en")
    assert set(cal.accounts) == {"ccbl_x", "ccbl_facebook"}
    assert cal.accounts["ccbl_facebook"].options["page_id"] == "100000000000000"
    assert [e.id for e in cal.events] == ["ccm-entry-into-force", "leap-day", "monthly-story", "weekly-tip"]
    ccm = cal.event("ccm-entry-into-force")
    assert (ccm.date, ccm.time, ccm.repeat, ccm.until) == (date(2010, 8, 1), time(8, 0), "yearly", None)
    assert ccm.accounts == ("ccbl_x", "ccbl_facebook")  # default: every account
    assert ccm.template == "anniversary" and ccm.goal == "universalization"
    assert ccm.vars["treaty"] == "Convention on Cluster Munitions"
    leap = cal.event("leap-day")
    assert leap.time == time(9, 0) and leap.until == date(2030, 12, 31)  # default_time
    story = cal.event("monthly-story")
    assert story.accounts == ("ccbl_facebook",)
    assert [(m.written, m.alt) for m in story.media] == [("media/pixel.png", "A deminer kneels in a marked lane")]
    assert story.media[0].path.is_file()
    assert cal.warnings == ()
    with pytest.raises(AttributeError):
        ccm.date = date(2011, 1, 1)  # frozen


def test_unquoted_leading_zero_time_is_read_as_text():
    # PyYAML resolves 08:00 (leading zero) as a string, unlike 8:00 or 18:30: it must load as 08:00.
    cal = load_calendar(write(HEAD + EVENT + "    time: 08:00\n"))
    assert cal.events[0].time == time(8, 0)


# ---------------------------------------------------------------- YAML itself


def test_yaml_syntax_error_is_located_where_the_parser_stopped():
    text = "campaign:\n  name: T\n   timezone: Asia/Phnom_Penh\n"
    assert problems(text) == [
        "calendar.yaml:3:12: YAML syntax: mapping values are not allowed in this context (check indentation, colons and quotes)"
    ]


def test_unclosed_quote_is_a_syntax_error_not_a_traceback():
    text = 'campaign:\n  name: "Test\n  timezone: Asia/Phnom_Penh\n'
    assert problems(text) == [
        "calendar.yaml:4:1: YAML syntax: found unexpected end of stream (check indentation, colons and quotes)"
    ]


def test_duplicate_key_is_reported_at_the_second_and_the_rest_is_still_checked():
    text = HEAD + EVENT + "    date: 2010-08-02\n    draft: \"yes\"\n"
    assert problems(text) == [
        "calendar.yaml:12:5: duplicate key 'date': each key may appear once in a mapping",
        "calendar.yaml:13:12: event 'a'.draft: expected true or false, got 'yes'",
    ]


def test_impossible_date_is_located_not_a_crash():
    text = HEAD + "  - id: a\n    kind: anniversary\n    date: 2010-02-30\n"
    assert problems(text) == [
        "calendar.yaml:11:11: event 'a'.date: expected a date as YYYY-MM-DD, got '2010-02-30' (day is out of range for month)"
    ]


def test_empty_calendar_says_what_it_needs():
    assert problems("# nothing yet\n") == [
        "calendar.yaml:1:1: the calendar is empty: it needs campaign:, accounts: and events:"
    ]


def test_missing_calendar_file_names_the_option():
    with pytest.raises(ConfigError) as caught:
        load_calendar(Path("nowhere.yaml"))
    assert [str(p) for p in caught.value.problems] == [
        "nowhere.yaml: file not found (pass --calendar PATH or set CAMPAIGNER_CALENDAR)"
    ]


# ---------------------------------------------------------------- keys


def test_unknown_top_level_key_suggests_the_right_one():
    text = HEAD.replace("accounts:\n", "acounts:\n", 1) + EVENT
    assert problems(text) == [
        "calendar.yaml:1:1: calendar: missing required key 'accounts'",
        "calendar.yaml:5:1: calendar: unknown key 'acounts' (did you mean 'accounts'?)",
    ]


def test_unknown_event_key_suggests_the_right_one():
    assert problems(HEAD + EVENT + '    tiem: "08:00"\n') == [
        "calendar.yaml:12:5: events[0]: unknown key 'tiem' (did you mean 'time'?)"
    ]


def test_missing_required_event_keys_are_reported_at_the_event():
    assert problems(HEAD + "  - kind: anniversary\n") == [
        "calendar.yaml:9:5: events[0]: missing required key 'id'",
        "calendar.yaml:9:5: events[0]: missing required key 'date'",
    ]


def test_missing_campaign_keys_are_each_reported():
    text = "campaign:\n  name: T\naccounts:\n  ccbl_x: {platform: x}\n"
    assert problems(text) == [
        "calendar.yaml:2:3: campaign: missing required key 'timezone'",
        "calendar.yaml:2:3: campaign: missing required key 'languages'",
    ]


# ---------------------------------------------------------------- types


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            HEAD.replace('accounts:\n  ccbl_x: {platform: x}\n  ccbl_facebook: {platform: facebook, page_id: "100000000000000"}\n',
                         "accounts: [ccbl_x]\n") + EVENT,
            "calendar.yaml:5:11: accounts: expected a mapping of keys to values, got a list",
            id="accounts-as-list",
        ),
        pytest.param(
            HEAD + EVENT + "    vars: [treaty]\n",
            "calendar.yaml:12:11: event 'a'.vars: expected a mapping such as {treaty: ..., since: 2010}",
            id="vars-as-list",
        ),
        pytest.param(
            HEAD + "  - id: a\n    kind: anniversary\n    date: 1st of August\n",
            "calendar.yaml:11:11: event 'a'.date: expected a date as YYYY-MM-DD, got '1st of August'",
            id="date-not-a-date",
        ),
        pytest.param(
            HEAD + EVENT + '    draft: "yes"\n',
            "calendar.yaml:12:12: event 'a'.draft: expected true or false, got 'yes'",
            id="draft-quoted-yes",
        ),
        pytest.param(
            HEAD + EVENT + "    goal: [a, b]\n",
            "calendar.yaml:12:11: event 'a'.goal: expected text, got a list",
            id="goal-as-list",
        ),
    ],
)
def test_wrong_types_are_located_at_the_value(text, expected):
    assert problems(text) == [expected]


@pytest.mark.parametrize("written, quoted", [("18:30", "18:30"), ("9:00", "09:00")])
def test_unquoted_time_read_as_a_number_asks_for_quotes(written, quoted):
    # YAML 1.1 reads 18:30 as the sexagesimal number 1110.
    assert problems(HEAD + EVENT + f"    time: {written}\n") == [
        f'calendar.yaml:12:11: event \'a\'.time: write the time in quotes, e.g. "{quoted}"'
    ]


@pytest.mark.parametrize("written, message", [
    ("900", 'expected a 24-hour time in quotes, e.g. "09:00", got 900'),
    ("1430", 'expected a 24-hour time in quotes, e.g. "14:30", got 1430'),
    ("2500", 'expected a 24-hour time in quotes, e.g. "09:00", got 2500'),
    ("15:00  # afternoon", 'write the time in quotes, e.g. "15:00"'),  # 900 too, but written with a colon
])
def test_a_time_written_as_a_number_gets_the_right_suggestion(written, message):
    assert problems(HEAD + EVENT + f"    time: {written}\n") == [f"calendar.yaml:12:11: event 'a'.time: {message}"]


@pytest.mark.parametrize("written", ["99999999999d", "367d", "8785h", "99999999999999"])
def test_a_grace_longer_than_a_year_is_refused_not_a_crash(written):
    assert problems(HEAD + EVENT + f"    grace: {written}\n") == [
        f"calendar.yaml:12:12: event 'a'.grace: '{written}' is more than a year: give at most 366d"]


def test_a_grace_of_a_year_is_accepted():
    assert load_calendar(write(HEAD + EVENT + "    grace: 366d\n")).events[0].grace == timedelta(days=366)


@pytest.mark.parametrize("key, value, message", [
    ("timezone", '""', "campaign.timezone: empty: give an IANA time zone such as Asia/Phnom_Penh"),
    ("name", "'  '", "campaign.name: empty: give the campaign's name, as posts and emails should show it"),
])
def test_an_empty_campaign_setting_says_which(key, value, message):
    text = re.sub(rf"(?m)^  {key}: .*$", f"  {key}: {value}", HEAD) + EVENT
    [problem] = problems(text)
    assert problem.endswith(f": {message}") and problem.startswith("calendar.yaml:")


def test_impossible_time_is_refused():
    assert problems(HEAD + EVENT + '    time: "25:00"\n') == [
        "calendar.yaml:12:11: event 'a'.time: expected a 24-hour time like \"09:00\", got '25:00'"
    ]


def test_unknown_repeat_suggests_the_right_one():
    assert problems(HEAD + EVENT + "    repeat: yearley\n") == [
        "calendar.yaml:12:13: event 'a'.repeat: 'yearley' is not one of none, yearly, monthly, weekly (did you mean 'yearly'?)"
    ]


def test_until_before_the_date_is_an_error():
    assert problems(HEAD + EVENT + "    repeat: yearly\n    until: 2009-12-31\n") == [
        "calendar.yaml:13:12: event 'a'.until: 2009-12-31 is before the event's date 2010-08-01"
    ]


def test_bad_link_is_refused():
    assert problems(HEAD + EVENT + "    link: www.example.org/report\n") == [
        "calendar.yaml:12:11: event 'a'.link: 'www.example.org/report' is not an http(s) URL"
    ]


# ---------------------------------------------------------------- the campaign's id


def test_campaign_id_defaults_to_the_name_slugified():
    assert load_calendar(write(HEAD + EVENT)).campaign.id == "test-campaign"
    named = HEAD.replace("name: Test Campaign", "name: \"CCBL – Cambodia's Campaign (Ban Landmines!)\"")
    assert load_calendar(write(named + EVENT)).campaign.id == "ccbl-cambodia-s-campaign-ban-landmines"


def test_campaign_id_as_written_is_kept():
    text = HEAD.replace("  timezone:", "  id: ccbl-2027\n  timezone:") + EVENT
    assert load_calendar(write(text)).campaign.id == "ccbl-2027"


@pytest.mark.parametrize("written, hint", [
    ("CCBL", " (e.g. id: ccbl)"), ("ccbl_x", " (e.g. id: ccbl-x)"), ("-ccbl", " (e.g. id: ccbl)"),
    ("'1234567890123456789012345678901234567890123456789012345678901234x'", " (e.g. id: 1234567890123456789012345678901234567890123456789012345678901234)"),
    ("''", ""),
])
def test_campaign_id_that_is_not_a_key_is_located_with_a_fix(written, hint):
    text = HEAD.replace("  timezone:", f"  id: {written}\n  timezone:") + EVENT
    value = written.strip("'")
    assert problems(text) == [
        f"calendar.yaml:3:7: campaign.id: '{value}' must be 1 to 64 lowercase letters, digits and '-', "
        f"starting and ending with a letter or digit{hint}"
    ]


def test_a_name_with_no_latin_letters_asks_for_an_id():
    text = HEAD.replace("name: Test Campaign", "name: យុទ្ធនាការ") + EVENT
    assert problems(text) == [
        "calendar.yaml:2:3: campaign: the name 'យុទ្ធនាការ' gives no id (it has no Latin letters or digits): "
        "add id: with lowercase letters, digits and '-', e.g. id: ccbl"
    ]
    assert load_calendar(write(text.replace("  timezone:", "  id: ccbl\n  timezone:"))).campaign.id == "ccbl"


def test_the_shipped_calendar_has_its_own_id():
    from tests.conftest import ROOT

    assert load_calendar(ROOT / "calendar.yaml").campaign.id == "ccbl"


# ---------------------------------------------------------------- the records need no YAML


def test_importing_the_records_does_not_import_yaml():
    import subprocess
    import sys

    code = ("import sys\n"
            "from campaigner.calendar import Account, Calendar, Campaign, Event, Media, RAPID_FILE, suggest\n"
            "import campaigner.recurrence\n"
            "assert 'yaml' not in sys.modules, sorted(m for m in sys.modules if 'yaml' in m)\n"
            "from campaigner.calendar import load_calendar, MarkedDict, read_yaml, parse_duration\n"
            "assert 'yaml' in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_an_unknown_name_is_still_an_attribute_error():
    import campaigner.calendar

    with pytest.raises(AttributeError):
        campaigner.calendar.nothing_here  # noqa: B018


# ---------------------------------------------------------------- ids and accounts


def test_duplicate_event_id_is_reported_where_the_second_one_stands():
    text = HEAD + EVENT + "  - id: b\n    kind: story\n    date: 2026-01-01\n  - id: a\n    kind: story\n    date: 2026-02-01\n"
    assert problems(text) == [
        "calendar.yaml:15:9: event id 'a' is already used (first in calendar.yaml); ids must be unique because they key the ledger"
    ]


def test_unknown_account_is_reported_at_its_item():
    text = HEAD + EVENT + "    accounts:\n      - ccbl_x\n      - ccbl_facebok\n"
    assert problems(text) == [
        "calendar.yaml:14:9: event 'a'.accounts: unknown account 'ccbl_facebok' (did you mean 'ccbl_facebook'?); the calendar defines ccbl_x, ccbl_facebook under accounts:"
    ]


def test_unknown_platform_suggests_a_known_one():
    text = HEAD.replace("{platform: x}", "{platform: facebok}") + EVENT
    assert problems(text) == [
        f"calendar.yaml:6:22: accounts.ccbl_x.platform: unknown platform 'facebok' (did you mean 'facebook'?); known: {known()}"
    ]
    assert {"facebook", "x"} <= set(adapters.platforms())


def test_misspelt_platform_key_is_named():
    text = HEAD.replace("{platform: x}", "{platfrom: x}") + EVENT
    assert problems(text) == [
        f"calendar.yaml:6:11: accounts.ccbl_x: missing required key 'platform' (one of {known()})",
        "calendar.yaml:6:12: accounts.ccbl_x: unknown key 'platfrom' (did you mean 'platform'?)",
    ]


def test_facebook_account_needs_a_page_id():
    text = HEAD.replace(', page_id: "100000000000000"', "") + EVENT
    assert problems(text) == ["calendar.yaml:7:18: accounts.ccbl_facebook: missing required key 'page_id'"]


def test_unquoted_page_id_must_be_quoted():
    text = HEAD.replace('page_id: "100000000000000"', "page_id: 100000000000000") + EVENT
    assert problems(text) == [
        'calendar.yaml:7:48: accounts.ccbl_facebook.page_id: write it in quotes, e.g. page_id: "100000000000000" (long numbers lose digits otherwise)'
    ]


def test_unknown_time_zone_suggests_the_closest():
    text = HEAD.replace("Asia/Phnom_Penh", "Asia/Phnom_Phen") + EVENT
    assert problems(text) == [
        "calendar.yaml:3:13: campaign.timezone: unknown time zone 'Asia/Phnom_Phen' (did you mean 'Asia/Phnom_Penh'?); use an IANA name such as Asia/Phnom_Penh"
    ]


# ---------------------------------------------------------------- media


def test_missing_media_file_is_an_error_at_its_path():
    text = HEAD + EVENT + "    media: [{path: media/deminers.jpg, alt: Deminers at work}]\n"
    assert problems(text) == [
        "calendar.yaml:12:20: event 'a'.media[0].path: media file 'media/deminers.jpg' not found (paths are relative to the calendar's folder)"
    ]


@pytest.mark.parametrize("written", ["/etc/hostname", "../media/pixel.png", "media/../../x.png"])
def test_media_outside_the_calendars_folder_is_refused(written):
    text = HEAD + EVENT + f"    media: [{{path: '{written}', alt: x}}]\n"
    assert problems(text) == [
        f"calendar.yaml:12:20: event 'a'.media[0].path: '{written}' leaves the calendar's folder: media paths are relative "
        "to it and stay inside it (e.g. media/photo.jpg); copy the file there"]


def test_media_through_a_symlinked_folder_inside_is_accepted_and_a_loop_is_located(tmp_path):
    import os

    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "p.png").write_bytes(b"\x89PNG")
    os.symlink("photos", tmp_path / "media")
    cal = load_calendar(write(HEAD + EVENT + "    media: [{path: media/p.png, alt: x}]\n"))
    assert cal.events[0].media[0].path == (tmp_path / "photos" / "p.png").resolve()
    os.symlink("loop", tmp_path / "loop")
    assert problems(HEAD + EVENT + "    media: [{path: loop/p.png, alt: x}]\n") == [
        "calendar.yaml:12:20: event 'a'.media[0].path: media file 'loop/p.png' cannot be read: a symlink on its way leads in a loop"]


@pytest.mark.parametrize("written", ["../../outside", "story/x", "/abs", "Story"])
def test_a_template_is_a_folder_name_not_a_path(written):
    assert problems(HEAD + EVENT + f"    template: '{written}'\n") == [
        f"calendar.yaml:12:15: event 'a'.template: '{written}' must be the name of a folder under templates/ "
        "(lowercase letters, digits, '-', '_', '.'), not a path"]


def test_a_journalists_csv_saved_by_a_spreadsheet_is_read_and_one_in_latin1_is_located(tmp_path):
    text = HEAD.replace("events:", "journalists: press.csv\nevents:") + EVENT
    (tmp_path / "press.csv").write_bytes("\ufeffname,email,languages\nSok Chea,chea@example.org,km en\n".encode())
    assert [(j.name, j.languages) for j in load_calendar(write(text)).journalists] == [("Sok Chea", ("km", "en"))]
    (tmp_path / "press.csv").write_bytes(b"name,email,languages\nJos\xe9,jose@example.org,en\n")
    assert problems(text) == ["press.csv:2:4: not UTF-8 text (byte 0xe9): save the file as UTF-8 (in most editors: Save with Encoding, UTF-8)"]


def test_media_without_alt_text_is_a_warning_and_the_calendar_loads():
    Path("media").mkdir()
    Path("media/pixel.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    path = write(HEAD + EVENT + "    media:\n      - path: media/pixel.png\n")
    seen: list[str] = []
    cal = load_calendar(path, on_problems=lambda ws: seen.extend(str(w) for w in ws))
    expected = ("calendar.yaml:13:9: warning: event 'a'.media[0]: image 'media/pixel.png' has no alt text: "
                'add alt: "what the picture shows" so screen-reader users can follow')
    assert [str(w) for w in cal.warnings] == [expected]
    assert cal.warnings[0].severity == "warning"
    assert seen == [expected]
    assert cal.events[0].media[0].alt is None


def test_a_warning_travels_with_the_errors_when_loading_fails():
    Path("media").mkdir()
    Path("media/pixel.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    text = HEAD + EVENT + "    media: [media/pixel.png]\n    repeat: yerly\n"
    got = problems(text)
    assert got == [
        "calendar.yaml:12:13: warning: event 'a'.media[0]: image 'media/pixel.png' has no alt text: "
        'add alt: "what the picture shows" so screen-reader users can follow',
        "calendar.yaml:13:13: event 'a'.repeat: 'yerly' is not one of none, yearly, monthly, weekly (did you mean 'yearly'?)",
    ]


# ---------------------------------------------------------------- rapid.yaml and approval


def test_rapid_yaml_beside_the_calendar_adds_events():
    write("events:\n  - id: new-use\n    kind: condemnation\n    date: 2026-08-02\n    link: https://example.org/report\n", "rapid.yaml")
    cal = load_calendar(write(HEAD + EVENT))
    assert [e.id for e in cal.events] == ["a", "new-use"]
    new = cal.event("new-use")
    assert new.file == Path("rapid.yaml") and new.line == 2
    assert new.link == "https://example.org/report"
    assert new.draft is False  # no approval configured


def test_duplicate_id_across_files_is_reported_in_rapid_yaml():
    write("events:\n  - id: b\n    kind: story\n    date: 2026-08-02\n  - id: a\n    kind: story\n    date: 2026-08-03\n", "rapid.yaml")
    assert problems(HEAD + EVENT) == [
        "rapid.yaml:5:9: event id 'a' is already used (first in calendar.yaml); ids must be unique because they key the ledger"
    ]


def test_rapid_yaml_problems_are_located_in_rapid_yaml():
    write("events:\n  - id: b\n    kind: story\n    date: 2026-08-02\n    tiem: '10:00'\n", "rapid.yaml")
    assert problems(HEAD + EVENT) == ["rapid.yaml:5:5: events[0]: unknown key 'tiem' (did you mean 'time'?)"]


def test_unapproved_condemnation_is_held_as_a_draft_with_a_warning():
    head = HEAD.replace("  languages: [km, en]\n", "  languages: [km, en]\n  approval: [condemnation]\n")
    write("events:\n  - id: new-use\n    kind: condemnation\n    date: 2026-08-02\n"
          "  - id: signed-off\n    kind: condemnation\n    date: 2026-08-03\n    approved_by: Sok Dara\n", "rapid.yaml")
    cal = load_calendar(write(head + "  - id: a\n    kind: anniversary\n    date: 2010-08-01\n"))
    assert cal.event("new-use").draft is True
    assert cal.event("signed-off").draft is False and cal.event("signed-off").approved_by == "Sok Dara"
    assert cal.event("a").draft is False  # anniversaries need no approval
    assert [str(w) for w in cal.warnings] == [
        "rapid.yaml:2:1: warning: event 'new-use': kind 'condemnation' requires approval, so it is held as a draft: run 'campaigner approve new-use'"
    ]


# ---------------------------------------------------------------- everything at once


def test_all_problems_are_reported_at_once_sorted_by_line():
    text = HEAD + EVENT + "    tiem: '08:00'\n  - id: b\n    kind: story\n    date: 2026-01-01\n    repeat: weekley\n    accounts: [ccbl_xx]\n"
    assert problems(text) == [
        "calendar.yaml:12:5: events[0]: unknown key 'tiem' (did you mean 'time'?)",
        "calendar.yaml:16:13: event 'b'.repeat: 'weekley' is not one of none, yearly, monthly, weekly (did you mean 'weekly'?)",
        "calendar.yaml:17:16: event 'b'.accounts: unknown account 'ccbl_xx' (did you mean 'ccbl_x'?); the calendar defines ccbl_x, ccbl_facebook under accounts:",
    ]


def test_grace_and_draft_parse():
    cal = load_calendar(write(HEAD.replace("  languages: [km, en]\n", "  languages: [km, en]\n  grace: 2h30m\n")
                              + EVENT + "    draft: true\n    grace: 90m\n"))
    assert cal.campaign.grace == timedelta(hours=2, minutes=30)
    assert cal.events[0].draft is True and cal.grace_for(cal.events[0]) == timedelta(minutes=90)


def test_contacts_are_named_groups_of_lists_or_csv_files_and_bad_ones_are_located(tmp_path):
    groups = """contacts:
  officials:
    - {name: Ministry, email: mfa@gov.example, languages: [km], role: Ministry of Foreign Affairs}
    - {name: Mission, email: mission@gov.example}
  partners: partners.csv
"""
    (tmp_path / "partners.csv").write_text("name,email,languages,role\nNGO,ngo@partner.example,en km,Partner\n", encoding="utf-8")
    cal = load_calendar(write(HEAD.replace("events:", groups + "events:") + EVENT))
    assert list(cal.contacts) == ["officials", "partners"] and cal.journalists == ()
    assert cal.contacts["officials"][0] == ("Ministry", "mfa@gov.example", ("km",), "Ministry of Foreign Affairs")
    assert cal.contacts["officials"][1].languages == cal.campaign.languages[:1] and cal.contacts["officials"][1].role is None
    assert cal.contacts["partners"] == (("NGO", "ngo@partner.example", ("en", "km"), "Partner"),)
    assert Path("partners.csv") in cal.sources

    bad = """contacts:
  Officials!:
    - {name: A, email: a@gov.example}
  officials:
    - {name: A, email: a@gov.example}
    - {name: B, email: A@gov.example}
    - {name: C, email: c/d@gov.example, title: Dr}
journalists:
  - {name: J, email: j@news.example}
"""
    text = HEAD.replace("events:", bad + "events:") + EVENT
    line = HEAD.split("events:")[0].count("\n") + 1
    found = problems(text)
    assert f"calendar.yaml:{line + 1}:3: contacts: 'Officials!' is not a group name: use lowercase letters, digits, '-' and '_', e.g. officials" in found
    assert any(p.startswith(f"calendar.yaml:{line + 5}:") and "contacts.officials[1].email: 'A@gov.example' is already in this group" in p for p in found)
    assert any(p.startswith(f"calendar.yaml:{line + 6}:") and "'c/d@gov.example' is not an email address" in p for p in found)
    assert any(p.startswith(f"calendar.yaml:{line + 6}:") and "title" in p for p in found)  # an unknown key, with the allowed ones
    both = HEAD.replace("events:", "contacts:\n  journalists: []\njournalists: []\nevents:") + EVENT
    assert [p for p in problems(both) if "journalists: the group is also under contacts:" in p]
