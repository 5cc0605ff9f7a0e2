"""Synthetic calendars and templates, written to a folder the benchmark owns.

The scale calendars mimic a coalition's long-lived calendar: most events are one-off posts spread
over ten years (so most of them lie outside any one year's window), some are yearly
anniversaries, a few repeat monthly. Two accounts (X and a Facebook Page), two languages.
A year of such a calendar is about 1.5 posts per event: at 10,000 events, some 40 posts a day
over two accounts, more than a coalition publishes, so the figures err on the heavy side.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SCALE_NOW = "2026-07-01T08:00"  # local (Asia/Phnom_Penh); `plan --days 365` covers 2026-07-01 .. 2027-07-01
ONE_OFF_SPAN = (date(2020, 1, 1), date(2029, 12, 31))
# Out of every 50 events: 1 monthly, 9 yearly, 40 one-off.
MIX = {"monthly": 1, "yearly": 9, "none": 40}

TEMPLATES = {
    "_macros.j2": (
        '{% macro sign(lang) -%}\n'
        '{%- if lang == "km" %}យុទ្ធនាការ {{ campaign.name }}{% else %}{{ campaign.name }}{% endif -%}\n'
        '{%- endmacro %}\n'
    ),
    "anniversary/x.en.j2": (
        "{{ years | ordinal('en') }} anniversary of {{ vars.title }} ({{ event.date | longdate('en') }}). "
        "{{ vars.ask }}\n{{ campaign.hashtags | hashtags }}\n"
    ),
    "anniversary/x.km.j2": (
        "ខួបលើក{{ years | ordinal('km') }} នៃ {{ vars.title_km }} ({{ event.date | longdate('km') }})។\n"
        "{{ campaign.hashtags | hashtags }}\n"
    ),
    "anniversary/en.j2": (
        '{% from "_macros.j2" import sign with context %}'
        "Today is the {{ years | ordinal('en') }} anniversary of {{ vars.title }}, first marked on {{ event.date | longdate('en') }}.\n"
        "{{ vars.ask }}\n{% if event.link %}Read more: {{ event.link }}\n{% endif %}"
        "— {{ sign('en') }}\n{{ campaign.hashtags | hashtags }}\n"
    ),
    "anniversary/km.j2": (
        '{% from "_macros.j2" import sign with context %}'
        "ថ្ងៃនេះជាខួបលើក{{ years | ordinal('km') }} នៃ {{ vars.title_km }} ({{ event.date | longdate('km') }})។\n"
        "— {{ sign('km') }}\n{{ campaign.hashtags | hashtags }}\n"
    ),
    "story/en.j2": (
        "{{ vars.title }}: {{ vars.people | number('en') }} people in {{ vars.place }} can farm their land again "
        "since {{ date | longdate('en') }}.\n{% if event.link %}{{ event.link }}\n{% endif %}{{ campaign.hashtags | hashtags }}\n"
    ),
    "story/km.j2": (
        "{{ vars.title_km }}៖ ប្រជាជន {{ vars.people | number('km') }} នាក់នៅ {{ vars.place }} "
        "អាចធ្វើស្រែវិញ ចាប់ពី {{ date | longdate('km') }}។\n{{ campaign.hashtags | hashtags }}\n"
    ),
    "notice/en.j2": "{{ vars.title }} on {{ date | longdate('en') }}. {{ vars.ask }} #{{ account.platform }}\n",
    "notice/km.j2": "{{ vars.title_km }} នៅ {{ date | longdate('km') }}។ {{ campaign.hashtags | hashtags }}\n",
}

HEADER = """# A synthetic calendar written by `python -m benchmarks`.
campaign:
  name: Benchmark Coalition
  timezone: Asia/Phnom_Penh
  default_time: "09:00"
  languages: [km, en]
  hashtags: ["#MinefreeCambodia", "#BanClusterMunitions"]
  grace: 6h
"""

PLACES = ("Battambang", "Pailin", "Banteay Meanchey", "Oddar Meanchey", "Preah Vihear", "Pursat", "Siem Reap", "Kampong Thom")


def write_templates(folder: Path) -> None:
    """The templates every synthetic calendar uses (kinds anniversary, story, notice)."""
    for name, text in TEMPLATES.items():
        path = folder / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class ScaleCalendar:
    """A written scale calendar and its make-up."""

    path: Path
    events: int
    by_repeat: dict[str, int]


def scale_calendar(folder: Path, events: int, seed: int = 6) -> ScaleCalendar:
    """`events` events in the MIX (one-off dates over 2020-2029); a quarter on X only, a quarter on
    Facebook only, half on both."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    write_templates(folder)
    pattern = [r for r, n in MIX.items() for _ in range(n)]
    span = (ONE_OFF_SPAN[1] - ONE_OFF_SPAN[0]).days
    lines = [HEADER, "accounts:", '  bench_x: {platform: x, username: bench}', '  bench_fb: {platform: facebook, page_id: "100000000000001"}', "", "events:"]
    counts = {r: 0 for r in MIX}
    for i in range(events):
        repeat = pattern[i % len(pattern)]
        counts[repeat] += 1
        if repeat == "monthly":
            kind, day = "story", date(2024, 1, 1) + timedelta(days=rng.randrange(900))
        elif repeat == "yearly":
            kind, day = "anniversary", date(1990, 1, 1) + timedelta(days=rng.randrange(30 * 365))
        else:
            kind, day = rng.choice(("notice", "story", "notice")), ONE_OFF_SPAN[0] + timedelta(days=rng.randrange(span + 1))
        lines += [
            f"  - id: ev-{i:05d}",
            f"    kind: {kind}",
            f"    date: {day.isoformat()}",
            f'    time: "{7 + i % 12:02d}:{(i * 7) % 60:02d}"',
        ]
        if repeat != "none":
            lines.append(f"    repeat: {repeat}")
        where = rng.random()
        if where < 0.25:
            lines.append("    accounts: [bench_x]")
        elif where < 0.5:
            lines.append("    accounts: [bench_fb]")
        lines.append(f"    goal: {('universalization', 'clearance', 'survivors')[i % 3]}")
        if i % 5 == 0:
            lines.append(f"    link: https://example.org/news/{i}")
        lines += [
            "    vars:",
            f"      title: Item {i} of the campaign",
            f"      title_km: ព្រឹត្តិការណ៍ {i}",
            f"      people: {rng.randrange(100, 90000)}",
            f"      place: {rng.choice(PLACES)}",
            "      ask: Join the Convention on Cluster Munitions now.",
        ]
    path = folder / "calendar.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ScaleCalendar(path, events, counts)


def publishing_calendar(folder: Path, per_account: int, *, day: date = date(2026, 12, 3)) -> Path:
    """Three accounts on two platforms (two X, one Facebook Page), one language each, `per_account`
    posts each, due one a minute from 06:00 local on `day`: all due, none past grace at 09:00."""
    folder.mkdir(parents=True, exist_ok=True)
    write_templates(folder)
    lines = [
        HEADER.replace("languages: [km, en]", "languages: [en]"),
        "accounts:",
        "  bench_x1: {platform: x, username: bench_one}",
        "  bench_x2: {platform: x, username: bench_two}",
        '  bench_fb: {platform: facebook, page_id: "100000000000001"}',
        "",
        "events:",
    ]
    for i in range(per_account):
        minute = 6 * 60 + i
        lines.append(f'  - {{id: due-{i:04d}, kind: notice, date: {day.isoformat()}, time: "{minute // 60:02d}:{minute % 60:02d}", '
                     f"vars: {{title: Due post {i}, title_km: ប្រកាស {i}, ask: Please share.}}}}")
    path = folder / "calendar.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def contention_calendar(folder: Path, events: int, accounts: tuple[str, ...], *, day: date = date(2026, 12, 3)) -> Path:
    """`events` one-off events on every account (platform `fake`), one language, all due by 09:00 on `day`."""
    folder.mkdir(parents=True, exist_ok=True)
    write_templates(folder)
    lines = [HEADER.replace("languages: [km, en]", "languages: [en]"), "accounts:"]
    lines += [f"  {name}: {{platform: fake}}" for name in accounts]
    lines += ["", "events:"]
    for i in range(events):
        minute = 7 * 60 + i % 120
        lines.append(f'  - {{id: c-{i:04d}, kind: notice, date: {day.isoformat()}, time: "{minute // 60:02d}:{minute % 60:02d}", '
                     f"vars: {{title: Contended post {i}, title_km: ប្រកាស {i}, ask: Please share.}}}}")
    path = folder / "calendar.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
