"""The shipped calendar's posts, rendered: compared with checked-in texts, and free of the errors a fact check found.

tests/golden/shipped-2026.txt holds every post of 2026 as `campaigner plan` renders it. After a deliberate
change of content, regenerate it with `UPDATE_GOLDEN=1 pytest tests/test_shipped_content.py` and
read the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app

runner = CliRunner()
GOLDEN = Path(__file__).parent / "golden" / "shipped-2026.txt"


def rendered(calendar: Path, start: str = "2026-01-01", end: str = "2026-12-31") -> list[dict]:
    result = runner.invoke(app, ["plan", "--calendar", str(calendar), "--from", start, "--to", end, "--json", "--now", "2026-01-01T00:00"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def as_text(posts: list[dict]) -> str:
    return "".join(f"== {p['id']}  {p['due']}  {p['length']}/{p['limit']}\n{p['text']}\n\n" for p in posts)


def test_the_shipped_posts_are_the_checked_in_texts(shipped):
    text = as_text(rendered(shipped))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    assert text == expected, "the shipped posts changed: if on purpose, regenerate tests/golden (see this module's docstring)"


@pytest.fixture
def posts(shipped) -> dict[str, dict[str, str]]:
    """Texts by event, then by 'account/language', for every post of 2026 and 2027."""
    out: dict[str, dict[str, str]] = {}
    for p in rendered(shipped, "2026-01-01", "2027-12-31"):
        out.setdefault(p["event"], {})[f"{p['account']}/{p['language']}/{p['due'][:4]}"] = p["text"]
    return out


def test_none_of_the_fact_checked_errors_is_in_a_shipped_post(posts):
    every = [t for texts in posts.values() for t in texts.values()]
    # The example condemnation: not HRW (its statement does not report the cluster munition use), past tense,
    # with a real link, paired with the call for an impartial investigation of the mine allegations.
    condemnation = posts["condemn-cluster-munitions-border-2025"]
    assert not any("hrw.org" in t or "Human Rights Watch" in t for t in every)
    assert condemnation["ccbl_facebook/en/2026"].startswith("On 13 August 2025, CMAC reported the use of cluster munitions by Thai forces")
    for key, t in condemnation.items():
        assert "https://eacnews.asia/home/details/33397" in t
        assert ("impartial investigation of the allegations of new mine use along the border" in t) if key.endswith(("en/2026",)) \
            else "ការស៊ើបអង្កេតដោយមិនលម្អៀង" in t and "ដាក់គ្រាប់មីនថ្មី" in t
    assert "reports" not in condemnation["ccbl_x/en/2026"]
    # 4 April: 469 km² is mined, not all 1,697 km².
    assert not any("ផ្ទៃដីមានចម្ការមីន" in t for t in every)
    assert "មីន និងសំណល់ជាតិផ្ទុះ" in posts["international-mine-awareness-day"]["ccbl_x/km/2026"]
    # Women deminers: NPA's survey teams date from 2013; no "first programme" claim.
    for t in posts["women-deminers"].values():
        assert "2017" not in t and "២០១៧" not in t and "first mine action programme" not in t and "ដំបូងគេ" not in t
    assert "from 2013" in posts["women-deminers"]["ccbl_facebook/en/2026"]
    assert "២០១៣" in posts["women-deminers"]["ccbl_facebook/km/2026"]
    # The Khmer X posts of Mine Awareness Day and Disability Day: mines and other explosive remnants of war.
    for event in ("national-mine-awareness-day", "international-day-of-persons-with-disabilities"):
        for key, t in posts[event].items():
            if "/km/" in key:
                assert "ដោយមីន។" not in t and "សំណល់ជាតិផ្ទុះ" in t
    # The UN vote: 2016 among the absences; no "a yes vote costs nothing".
    vote = posts["un-general-assembly-ccm-vote"]
    assert "absent from the vote in 2015, 2016, 2020 and 2021" in vote["ccbl_facebook/en/2026"]
    assert "២០១៦" in vote["ccbl_facebook/km/2026"]
    assert not any("costs nothing" in t or "មិនធ្វើឱ្យកម្ពុជាបាត់បង់អ្វីទេ" in t for t in vote.values())
    # Vanuatu in Khmer, as RFI Khmer writes it.
    for key, t in posts["vanuatu-joins-ccm"].items():
        if "/km/" in key:
            assert "វ៉ានូអាទូ" in t and "Vanuatu" not in t
    assert not any("would wait for its neighbours" in t or "នឹងរង់ចាំប្រទេសជិតខាង" in t for t in every)


def praise(calendar: Path, country: str, *extra: str):
    return runner.invoke(app, ["praise", country, "--joined", "2026-11-20", "--calendar", str(calendar), "--now", "2026-11-30T10:00",
                               "--dry-run", "--json", *extra])


def test_accession_by_a_neighbour_says_cambodia_has_pointed_to_its_neighbours(shipped):
    result = praise(shipped, "Thailand", "--country-km", "ថៃ")
    assert result.exit_code == 0, result.output
    texts = {f"{p['account']}/{p['language']}": p["text"] for p in json.loads(result.stdout)["posts"]}
    assert "Cambodia has pointed to its neighbours when asked about joining." in texts["ccbl_facebook/en"]
    assert "Cambodia has pointed to its neighbours." in texts["ccbl_x/en"]
    assert "កម្ពុជាធ្លាប់លើកឡើងពីប្រទេសជិតខាង" in texts["ccbl_facebook/km"]
    assert "ប្រទេសថៃ" in texts["ccbl_facebook/km"] and "Thailand" not in texts["ccbl_facebook/km"] + texts["ccbl_x/km"]
    for t in texts.values():
        assert "would wait" not in t and "wait is over" not in t and "រង់ចាំ" not in t


def test_praise_without_country_km_writes_the_english_name_in_khmer_posts(shipped):
    result = praise(shipped, "Vanuatu")
    assert result.exit_code == 0, result.output
    km = [p["text"] for p in json.loads(result.stdout)["posts"] if p["language"] == "km"]
    assert km and all("Vanuatu" in t for t in km)


def condemn(calendar: Path, *extra: str):
    return runner.invoke(app, ["condemn", "--report", "https://monitor.example/2026/11/30/report", "--source", "Landmine Monitor",
                               "--calendar", str(calendar), "--now", "2026-11-30T10:00", "--dry-run", "--json", "--reviewer", "sokha", *extra])


def texts_of(result) -> dict[str, str]:
    assert result.exit_code == 0, result.output
    return {f"{p['account']}/{p['language']}": p["text"] for p in json.loads(result.stdout)["posts"]}


def test_condemn_alleged_says_alleged_in_every_language(shipped):
    alleged = texts_of(condemn(shipped, "--weapon", "landmines", "--alleged"))
    assert "Landmine Monitor reports the alleged use of landmines." in alleged["ccbl_facebook/en"]
    assert "alleged use of landmines" in alleged["ccbl_x/en"]
    assert "ការចោទប្រកាន់" in alleged["ccbl_facebook/km"] and "ការចោទប្រកាន់" in alleged["ccbl_x/km"]
    plain = texts_of(condemn(shipped, "--weapon", "landmines"))
    assert not any("alleged" in t or "ការចោទប្រកាន់" in t for t in plain.values())


def test_khmer_posts_give_where_and_by_in_khmer_or_else_as_written(shipped):
    english = texts_of(condemn(shipped, "--weapon", "cluster munitions", "--where", "in Kharkiv", "--by", "Russian forces"))
    for key in ("ccbl_facebook/km", "ccbl_x/km"):
        assert "in Kharkiv" in english[key] and "Russian forces" in english[key]  # not dropped silently
    khmer = texts_of(condemn(shipped, "--weapon", "cluster munitions", "--where", "in Kharkiv", "--by", "Russian forces",
                             "--where-km", "នៅទីក្រុងខាកៀវ", "--by-km", "កងទ័ពរុស្ស៊ី"))
    for key in ("ccbl_facebook/km", "ccbl_x/km"):
        assert "នៅទីក្រុងខាកៀវ" in khmer[key] and "កងទ័ពរុស្ស៊ី" in khmer[key]
        assert "Kharkiv" not in khmer[key] and "Russian" not in khmer[key]
    assert "by Russian forces in Kharkiv" in khmer["ccbl_facebook/en"]


def test_condemn_without_a_weapon_is_a_located_error_not_a_guess(shipped):
    result = runner.invoke(app, ["condemn", "--report", "https://monitor.example/r", "--source", "Landmine Monitor",
                                 "--calendar", str(shipped), "--now", "2026-11-30T10:00", "--dry-run"])
    assert result.exit_code == 2
    assert "templates/condemnation/" in result.stderr and "--weapon" in result.stderr
    assert "Traceback" not in result.output


def test_the_shipped_files_cite_public_sources_not_files_outside_the_repository():
    """The shipped calendar, facts and templates once cited shared/reference/CAMPAIGN-FACTS.md, a
    file of the team's that no user of the repository has (issue 11, item 10)."""
    root = Path(__file__).parent.parent
    shipped = [root / "calendar.yaml", root / "facts.yaml", *sorted((root / "templates").rglob("*.j2"))]
    cited = [f"{path.relative_to(root)}:{n}" for path in shipped
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if any(name in line for name in ("CAMPAIGN-FACTS", "KHMER.md", "PLATFORMS.md", "shared/reference"))]
    assert cited == []
