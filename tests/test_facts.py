"""Facts with their date and source: facts.<name> in templates, freshness at each post's date,
located errors, `campaigner facts`, the shipped calendar's figures, and the snapshot cache."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app

CAMPAIGN = """\
campaign:
  name: Test Campaign
  timezone: Asia/Phnom_Penh
  languages: [km, en]
{max_age}accounts:
  ccbl_x: {{platform: x}}
{facts}events:
  - id: on-the-last-fresh-day
    kind: note
    date: 2026-09-01
  - id: the-day-after
    kind: note
    date: 2026-09-02
"""

FACTS = """\
facts:
  states_parties:
    value: 112
    as_of: 2026-03-01
    source: icblcmc.org
    max_age: 6 months
  area:
    value: {en: "1,697 km²", km: "១,៦៩៧ គ.ម²"}
    as_of: "2025-03"
    source: CMAA (cmaa.gov.kh)
"""

EN = '{{ facts.states_parties | number("en") }} States Parties as of {{ facts.states_parties.as_of | longdate("en") }} ({{ facts.states_parties.source }}).\n'
KM = 'រដ្ឋភាគី{{ facts.states_parties | digits("km") }} {{ facts.area }}\n'


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def make(tmp_path: Path, *, facts: str = FACTS, max_age: str = "", en: str = EN, km: str = KM) -> Path:
    (tmp_path / "templates" / "note").mkdir(parents=True, exist_ok=True)
    (tmp_path / "templates" / "note" / "en.j2").write_text(en, encoding="utf-8")
    (tmp_path / "templates" / "note" / "km.j2").write_text(km, encoding="utf-8")
    cal = tmp_path / "calendar.yaml"
    cal.write_text(CAMPAIGN.format(max_age=max_age, facts=facts), encoding="utf-8")
    return cal


def plan_json(cal: Path, *args: str) -> tuple[list[dict], str]:
    result = run("plan", "--calendar", str(cal), "--from", "2026-08-01", "--to", "2026-09-30", "--json", "--now", "2026-08-01T00:00", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def test_a_fact_renders_as_its_value_with_as_of_and_source_and_per_language(tmp_path):
    posts, _ = plan_json(make(tmp_path))
    texts = {(p["event"], p["language"]): p["text"] for p in posts}
    assert texts["on-the-last-fresh-day", "en"] == "112 States Parties as of 1 March 2026 (icblcmc.org)."
    assert texts["on-the-last-fresh-day", "km"] == "រដ្ឋភាគី១១២ ១,៦៩៧ គ.ម²"
    assert {tuple(p["facts"]) for p in posts if p["language"] == "km"} == {("area", "states_parties")}
    assert {tuple(p["facts"]) for p in posts if p["language"] == "en"} == {("states_parties",)}


def test_stale_from_the_day_after_max_age_and_fresh_on_it(tmp_path):
    # 2026-03-01 + 6 months = 2026-09-01: a post that day may still cite it, the next day's may not.
    posts, stderr = plan_json(make(tmp_path))
    stale = {(p["event"], p["language"]): p["stale_facts"] for p in posts}
    assert stale["on-the-last-fresh-day", "en"] == []
    assert stale["the-day-after", "en"] == ["states_parties"]
    # "2025-03" covers March 2025: with the default 12 months it is stale after 31 March 2026.
    assert stale["on-the-last-fresh-day", "km"] == ["area"]
    lines = stderr.splitlines()
    assert "calendar.yaml:8:3: warning: fact 'states_parties' (as of 2026-03-01) is stale in the-day-after/2026-09-02 (ccbl_x/en, ccbl_x/km): " \
           "6 months old then, more than its max_age of 6 months; update its value and as_of from icblcmc.org" in lines
    assert not any("states_parties" in line and "on-the-last-fresh-day" in line for line in lines)
    assert any(line.startswith("calendar.yaml:13:3: warning: fact 'area' (as of 2025-03) is stale in on-the-last-fresh-day/2026-09-01 (ccbl_x/km)")
               and line.endswith("from CMAA (cmaa.gov.kh)") for line in lines)


def test_a_fact_cited_on_its_fresh_days_only_warns_nothing(tmp_path):
    cal = make(tmp_path)
    result = run("plan", "--calendar", str(cal), "--from", "2026-09-01", "--to", "2026-09-01", "--account", "ccbl_x", "--now", "2026-08-01T00:00", "--json")
    assert result.exit_code == 0
    assert [p["stale_facts"] for p in json.loads(result.stdout) if p["language"] == "en"] == [[]]
    assert "states_parties" not in result.stderr


def test_campaign_fact_max_age_is_the_default_and_a_facts_own_wins(tmp_path):
    cal = make(tmp_path, max_age="  fact_max_age: 2 years\n")
    posts, stderr = plan_json(cal)
    # area ("2025-03") is fresh for two years now; states_parties keeps its own 6 months.
    assert {p["event"]: p["stale_facts"] for p in posts if p["language"] == "km"} == {
        "on-the-last-fresh-day": [], "the-day-after": ["states_parties"]}
    assert "'area'" not in stderr


def test_validate_warns_for_the_posts_it_renders_and_strict_fails(tmp_path):
    cal = make(tmp_path)
    result = run("validate", "--calendar", str(cal), "--now", "2026-09-02T00:00")
    assert result.exit_code == 0, result.stderr
    assert "fact 'states_parties' (as of 2026-03-01) is stale in the-day-after/2026-09-02 (ccbl_x/en, ccbl_x/km)" in result.stderr
    assert "on-the-last-fresh-day/2026-09-01 (ccbl_x/km): " in result.stderr  # its last occurrence: area is stale there
    assert result.stdout.startswith(f"{cal}: 0 error(s), 3 warning(s)")
    strict = run("validate", "--calendar", str(cal), "--now", "2026-09-02T00:00", "--strict")
    assert strict.exit_code == 2
    assert "0 error(s), 3 warning(s)" in strict.stderr


def test_plan_strict_exits_2_on_a_stale_fact_and_0_without_one(tmp_path):
    cal = make(tmp_path, max_age="  fact_max_age: 2 years\n")
    args = ["plan", "--calendar", str(cal), "--now", "2026-08-01T00:00", "--strict"]
    fresh = run(*args, "--from", "2026-09-01", "--to", "2026-09-01")
    assert fresh.exit_code == 0, fresh.stderr
    stale = run(*args, "--from", "2026-09-02", "--to", "2026-09-02")
    assert stale.exit_code == 2
    assert "calendar.yaml:9:3: fact 'states_parties' (as of 2026-03-01) is stale in the-day-after/2026-09-02" in stale.stderr
    assert "1 stale fact(s) in the posts shown (--strict)" in stale.stderr
    assert "the-day-after" in stale.stdout  # the table is still shown


def test_an_undefined_fact_is_located_in_the_template_in_any_branch(tmp_path):
    en = 'Hello\n{{ facts.state_parties }}\n'
    km = '{% if date.year > 3000 %}{{ facts.aera }}{% endif %}ok\n'
    cal = make(tmp_path, en=en, km=km)
    result = run("validate", "--calendar", str(cal), "--now", "2026-08-01T00:00")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert ("templates/note/en.j2:2:4: undefined fact 'state_parties' (facts.state_parties) (did you mean 'states_parties'?): "
            "define it under facts: with value, as_of and source; defined: area, states_parties") in lines
    # a branch no post takes is checked too
    assert any(line.startswith("templates/note/km.j2:1:29: undefined fact 'aera' (facts.aera) (did you mean 'area'?)") for line in lines)
    assert lines[-1] == f"{cal}: 2 error(s), 0 warning(s); 2 events, 1 accounts, 2 posts rendered"
    # plan renders: the same located line
    planned = run("plan", "--calendar", str(cal), "--now", "2026-08-01T00:00", "--days", "60")
    assert planned.exit_code == 2
    assert planned.stderr.splitlines()[0].startswith("templates/note/en.j2:2:4: undefined fact 'state_parties'")


def test_a_guarded_fact_is_not_an_error(tmp_path):
    km = '{% if facts.maybe is defined %}{{ facts.maybe }}{% else %}none{% endif %}\n'
    cal = make(tmp_path, km=km)
    result = run("validate", "--calendar", str(cal), "--now", "2026-08-01T00:00")
    assert result.exit_code == 0, result.stderr
    posts, _ = plan_json(cal)
    assert {p["text"] for p in posts if p["language"] == "km"} == {"none"}


@pytest.mark.parametrize("fact, message", [
    ("  x: {value: 1, as_of: 2026-01-01}\n", "calendar.yaml:8:6: facts.x: missing required key 'source'"),
    ("  x: {value: 1, as_of: soon, source: s}\n", "calendar.yaml:8:24: facts.x.as_of: expected the date the value was true: YYYY-MM-DD, YYYY-MM (quoted) or a year, got 'soon'"),
    ("  x: {value: 1, as_of: 2026, source: s, max_age: forever}\n", "calendar.yaml:8:50: facts.x.max_age: expected an age such as 12 months, 1 year, 6 weeks or 90 days, got 'forever'"),
    ("  x: {value: {en: a}, as_of: 2026, source: s}\n", "calendar.yaml:8:14: facts.x.value: no value in km: give one per language the campaign posts in, e.g. {en: ..., km: ...}"),
    ("  x: {value: 1, as_of: 2026, source: s, sauce: t}\n", "calendar.yaml:8:41: facts.x: unknown key 'sauce' (did you mean 'source'?)"),
    ("  Bad-Name: {value: 1, as_of: 2026, source: s}\n", "calendar.yaml:8:3: facts.Bad-Name: a fact's name is lowercase letters, digits and '_', starting with a letter (templates write facts.<name>)"),
    ("  x: {value: null, as_of: 2026, source: s}\n", "calendar.yaml:8:14: facts.x.value: expected a number, text, date, a list of them, or one value per language ({en: ..., km: ...}), got nothing"),
])
def test_bad_facts_are_located_errors(tmp_path, fact, message):
    cal = make(tmp_path, facts="facts:\n" + fact, en="x\n", km="x\n")
    result = run("validate", "--calendar", str(cal), "--now", "2026-08-01T00:00")
    assert result.exit_code == 2
    assert message in result.stderr.splitlines(), result.stderr


def test_facts_from_a_file_the_calendar_names_and_a_missing_one(tmp_path):
    cal = make(tmp_path, facts="facts: figures.yaml\n")
    missing = run("validate", "--calendar", str(cal), "--now", "2026-08-01T00:00")
    assert missing.exit_code == 2
    assert "calendar.yaml:7:8: facts: file 'figures.yaml' not found (it is read from the calendar's folder): create it, or write the facts here" in missing.stderr
    (tmp_path / "figures.yaml").write_text(FACTS.split("\n", 1)[1].replace("\n  ", "\n").lstrip(" "), encoding="utf-8")
    posts, stderr = plan_json(cal)
    assert posts[0]["text"] == "112 States Parties as of 1 March 2026 (icblcmc.org)."
    assert "figures.yaml:1:1: warning: fact 'states_parties'" in stderr
    (tmp_path / "figures.yaml").write_text("states_parties: {value: 1, as_of: 2026}\n", encoding="utf-8")
    broken = run("validate", "--calendar", str(cal), "--now", "2026-08-01T00:00")
    assert "figures.yaml:1:17: facts.states_parties: missing required key 'source'" in broken.stderr


def test_the_facts_command_lists_age_today_and_the_posts_that_cite_each(tmp_path):
    cal = make(tmp_path)
    result = run("facts", "--calendar", str(cal), "--now", "2026-08-15T09:00", "--days", "30")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == "Test Campaign: 2 fact(s) on 2026-08-15; posts from 2026-08-15 to 2026-09-14"
    block = out.split("\nstates_parties: 112\n", 1)[1]
    assert block.splitlines()[:5] == [
        "  as of 2026-03-01, 5 months old today (max_age 6 months): fresh until 2026-09-01",
        "  source: icblcmc.org (defined at calendar.yaml:8:3)",
        "  cited by 4 post(s), stale in 2:",
        "    on-the-last-fresh-day/2026-09-01 (ccbl_x/en, ccbl_x/km)",
        "    the-day-after/2026-09-02 (ccbl_x/en, ccbl_x/km)  stale",
    ]
    assert "area: en: 1,697 km²; km: ១,៦៩៧ គ.ម²\n  as of 2025-03, 1 year 4 months old today (max_age 12 months): STALE since 2026-04-01" in out
    # --now moves "today"
    later = run("facts", "--calendar", str(cal), "--now", "2026-09-02T09:00", "--days", "30")
    assert "  as of 2026-03-01, 6 months old today (max_age 6 months): STALE since 2026-09-02" in later.stdout
    assert "cited by no post from 2026-09-02 to 2026-10-02 (templates: note/en.j2, note/km.j2)" not in later.stdout  # the-day-after is that day


def test_the_facts_command_as_json(tmp_path):
    cal = make(tmp_path)
    result = run("facts", "--calendar", str(cal), "--now", "2026-08-15T09:00", "--json")
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    sp = rows["states_parties"]
    assert (sp["value"], sp["as_of"], sp["covers_until"], sp["source"], sp["max_age"], sp["fresh_until"], sp["stale"], sp["defined_at"]) == \
           (112, "2026-03-01", "2026-03-01", "icblcmc.org", "6 months", "2026-09-01", False, "calendar.yaml:8:3")
    assert sp["templates"] == ["note/en.j2", "note/km.j2"]
    assert [(p["id"], p["stale"]) for p in sp["posts"]] == [
        ("on-the-last-fresh-day/2026-09-01/ccbl_x/en", False), ("on-the-last-fresh-day/2026-09-01/ccbl_x/km", False),
        ("the-day-after/2026-09-02/ccbl_x/en", True), ("the-day-after/2026-09-02/ccbl_x/km", True)]
    assert rows["area"]["value"] == {"en": "1,697 km²", "km": "១,៦៩៧ គ.ម²"} and rows["area"]["per_language"] is True
    assert rows["area"]["stale"] is True and rows["area"]["age"] == "1 year 4 months"


def test_a_fact_no_post_cites_names_the_templates_that_do(tmp_path):
    cal = make(tmp_path)
    result = run("facts", "--calendar", str(cal), "--now", "2027-01-01T09:00", "--days", "10")
    assert "  cited by no post from 2027-01-01 to 2027-01-11 (templates: note/en.j2, note/km.j2)" in result.stdout


# ---------------------------------------------------------------- the shipped calendar


def test_shipped_validate_in_june_2027_warns_about_every_stale_figure_with_its_source(shipped):
    import yaml

    facts = yaml.safe_load((shipped.parent / "facts.yaml").read_text(encoding="utf-8"))
    result = run("validate", "--calendar", str(shipped), "--now", "2027-06-01")
    assert result.exit_code == 0, result.stderr
    warned = {}
    for line in result.stderr.splitlines():
        m = re.match(r"shipped/facts\.yaml:\d+:1: warning: fact '(\w+)' \(as of [^)]+\) is stale in \S+ \([^)]*\): .*? old then, more than its max_age of 12 months; update its value and as_of from (.*)$", line)
        if m:
            warned[m.group(1)] = m.group(2)
    assert warned == {name: fact["source"] for name, fact in facts.items()}
    assert run("validate", "--calendar", str(shipped), "--now", "2027-06-01", "--strict").exit_code == 2


def test_shipped_posts_cite_their_figures_as_facts(shipped):
    result = run("plan", "--calendar", str(shipped), "--from", "2026-12-01", "--to", "2026-12-31", "--json", "--now", "2026-11-30T00:00")
    posts = {p["id"]: p for p in json.loads(result.stdout)}
    vote = posts["un-general-assembly-ccm-vote/2026-12-01/ccbl_facebook/en"]
    assert "it was absent from the vote in 2015, 2016, 2020 and 2021 and abstained in 2017" in vote["text"]
    assert set(vote["facts"]) >= {"un_vote_yes", "un_vote_no", "un_vote_abstain", "cambodia_un_absent", "cambodia_un_abstained"}
    deadline = posts["clearance-deadline-2030/2026-12-10/ccbl_facebook/km"]
    assert "គិតត្រឹមខែមីនា ឆ្នាំ២០២៥ ផ្ទៃដីប្រមាណ ១,៦៩៧ គីឡូម៉ែត្រការ៉េ" in deadline["text"]
    assert "ដើម្បីសម្រេចកាលកំណត់ឆ្នាំ២០៣០" in deadline["text"]
    # One edit updates every post that cites the figure.
    facts = shipped.parent / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("  value: 1697\n", "  value: 1650\n"), encoding="utf-8")
    again = {p["id"]: p for p in json.loads(run("plan", "--calendar", str(shipped), "--from", "2026-12-01", "--to", "2026-12-31", "--json",
                                                "--now", "2026-11-30T00:00").stdout)}
    changed = sorted(pid for pid in posts if posts[pid]["text"] != again[pid]["text"])
    assert changed == sorted(pid for pid in posts if "contaminated_km2" in posts[pid]["facts"]) != []
    assert "១,៦៥០ គីឡូម៉ែត្រការ៉េ" in again["clearance-deadline-2030/2026-12-10/ccbl_facebook/km"]["text"]


# ---------------------------------------------------------------- the snapshot cache


def test_editing_facts_yaml_invalidates_the_snapshot(tmp_path):
    from campaigner import cache

    cal = make(tmp_path, facts="facts: figures.yaml\n")
    figures = tmp_path / "figures.yaml"
    figures.write_text("states_parties: {value: 112, as_of: 2026-03-01, source: icblcmc.org}\narea: {value: x, as_of: 2026, source: s}\n", encoding="utf-8")
    first, _ = plan_json(cal)
    assert first[0]["text"].startswith("112 States Parties")
    folder = cache.directory()
    assert folder is not None and len(list(folder.glob("*.pickle"))) == 1
    figures.write_text("states_parties: {value: 113, as_of: 2026-09-01, source: icblcmc.org}\narea: {value: x, as_of: 2026, source: s}\n", encoding="utf-8")
    second, stderr = plan_json(cal)
    assert second[0]["text"] == "113 States Parties as of 1 September 2026 (icblcmc.org)."
    assert "states_parties" not in stderr  # fresh again: the stale check uses the new as_of


def test_a_warm_run_judges_freshness_without_rendering(tmp_path, monkeypatch):
    cal = make(tmp_path)
    cold = run("validate", "--calendar", str(cal), "--now", "2026-09-02T00:00")

    def refuse(*args, **kwargs):
        raise AssertionError("rendered although nothing changed")

    monkeypatch.setattr("campaigner.sandbox.environment", refuse)
    warm = run("validate", "--calendar", str(cal), "--now", "2026-09-02T00:00")
    assert (warm.exit_code, warm.stdout, warm.stderr) == (cold.exit_code, cold.stdout, cold.stderr)
    assert "is stale in the-day-after/2026-09-02" in warm.stderr


def test_the_readmes_facts_samples_are_what_validate_prints(shipped):
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("### Facts with their date and source", 1)[1]
    undefined = next(line for line in readme.splitlines() if line.startswith("templates/un-mine-awareness-day/x.en.j2:"))
    stale = next(line for line in readme.splitlines() if line.startswith("facts.yaml:") and ": warning: fact '" in line)
    result = run("validate", "--calendar", str(shipped), "--now", "2027-06-01")
    printed = [line.replace("shipped/", "", 1) for line in result.stderr.splitlines()]
    shown = stale.split("...")[0]  # the README cuts the long source short with "..."
    assert any(line.startswith(shown) for line in printed), stale
    template = shipped.parent / "templates" / "un-mine-awareness-day" / "x.en.j2"
    template.write_text(template.read_text(encoding="utf-8").replace("facts.contaminated_km2 | number", "facts.contaminated_kmm2 | number"), encoding="utf-8")
    broken = run("validate", "--calendar", str(shipped), "--now", "2027-06-01")
    assert broken.exit_code == 2
    assert undefined in [line.replace("shipped/", "", 1) for line in broken.stderr.splitlines()]
