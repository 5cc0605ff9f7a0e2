"""`campaigner watch` against feeds served by a local HTTP server: drafts once, waits for approval, then posts once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from campaigner import rapid
from campaigner.cli import app
from campaigner.watch import Matcher, strip_html
from tests.conftest import ROOT
from tests.fake_platform import sends
from tests.childenv import child_env

runner = CliRunner()

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Monitor</title><link>https://monitor.example/</link><description>News</description>
<item><title>&lt;b&gt;New cluster munition attacks&lt;/b&gt; reported in the north</title><link>https://monitor.example/2026/11/cluster</link>
  <guid>monitor-1</guid><pubDate>Sun, 29 Nov 2026 10:00:00 GMT</pubDate>
  <description>&lt;p&gt;Dozens of &lt;em&gt;submunitions&lt;/em&gt; found.&lt;/p&gt;</description></item>
<item><title>Annual budget report</title><link>https://monitor.example/2026/11/budget</link><guid>monitor-2</guid>
  <description>Nothing about weapons.</description></item>
<item><title>ព័ត៌មានថ្មីពីព្រំដែន</title><link>https://monitor.example/2026/11/km</link><guid>monitor-3</guid>
  <description>មានការប្រើប្រាស់គ្រាប់បែក\u200bចង្កោមនៅតំបន់ព្រំដែន</description></item>
<item><title>Template {{ 7*7 }} and {% raw %} in a LANDMINE story</title><link>https://monitor.example/2026/11/inject</link><guid>monitor-4</guid></item>
<item><title>Old landmine report</title><link>https://monitor.example/2020/old</link><guid>monitor-5</guid>
  <pubDate>Mon, 06 Jan 2020 10:00:00 GMT</pubDate></item>
<item><title>Court determines the case</title><link>https://monitor.example/2026/11/court</link><guid>monitor-6</guid></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:wire</id><updated>2026-11-30T01:00:00Z</updated>
<entry><title type="html">Landmines laid near &lt;i&gt;the border&lt;/i&gt;</title><link href="https://wire.example/landmines"/>
  <id>urn:wire:1</id><updated>2026-11-30T01:00:00Z</updated><summary>Witnesses describe new mines.</summary></entry>
<entry><title>Weather</title><link href="https://wire.example/weather"/><id>urn:wire:2</id><updated>2026-11-30T01:00:00Z</updated></entry>
</feed>
"""
ATOM_MODIFIED = "Mon, 30 Nov 2026 01:00:00 GMT"
RSS_DRAFTS = {"https://monitor.example/2026/11/cluster", "https://monitor.example/2026/11/km", "https://monitor.example/2026/11/inject"}
ALL_DRAFTS = RSS_DRAFTS | {"https://wire.example/landmines"}


class FeedServer:
    """Serves feeds on 127.0.0.1 and records every request (path, headers, status)."""

    def __init__(self) -> None:
        self.etag = '"rss-v1"'
        self.log: list[tuple[str, dict, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                status, headers, body = server.respond(self.path, self.headers)
                server.log.append((self.path, dict(self.headers), status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if self.path == "/trickle":  # a server that never stops, one byte every tenth of a second
                    self.send_header("Content-Length", str(len(RSS.encode())))
                    self.end_headers()
                    for byte in RSS.encode()[:200]:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.1)
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # the slow feed's client is gone: not an error here
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def respond(self, path: str, headers) -> tuple[int, dict, bytes]:
        if path == "/rss":
            if headers.get("If-None-Match") == self.etag:
                return 304, {"ETag": self.etag}, b""
            return 200, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": self.etag}, RSS.encode()
        if path == "/atom":
            if headers.get("If-Modified-Since") == ATOM_MODIFIED:
                return 304, {}, b""
            return 200, {"Content-Type": "application/atom+xml", "Last-Modified": ATOM_MODIFIED}, ATOM.encode()
        if path == "/broken":
            return 200, {"Content-Type": "application/rss+xml"}, b"this is not xml at all <<<>>>"
        if path == "/html":
            return 200, {"Content-Type": "text/html"}, b"<html><body>Our new website!</body></html>"
        if path == "/slow":
            time.sleep(2)  # longer than the test's --timeout
            return 200, {"Content-Type": "application/rss+xml"}, RSS.encode()
        if path == "/trickle":
            return 200, {"Content-Type": "application/rss+xml"}, b""  # the body follows, a byte at a time (see do_GET)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def statuses(self, path: str) -> list[int]:
        return [status for p, _, status in self.log if p == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FeedServer()
    yield s
    s.close()


@pytest.fixture
def cal(fixture_calendar, tmp_path, monkeypatch, server):
    import tests.fake_platform  # noqa: F401

    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    path = fixture_calendar("rapid")
    set_feeds(path, server, GOOD_FEEDS)
    return path


GOOD_FEEDS = [("Landmine Monitor", "/rss", ["cluster munition", "landmine", "គ្រាប់បែកចង្កោម", "mine"]), ("Wire", "/atom", ["landmine"])]


def set_feeds(path: Path, server: FeedServer, feeds: list[tuple[str, str, list[str]]]) -> None:
    """Write the calendar's feeds: section (always the last one) with these feeds, in this order."""
    text = path.read_text(encoding="utf-8").split("feeds:\n")[0]
    lines = ["feeds:"] + [f"  - {{name: {name}, url: \"{server.url}{route}\", keywords: [{', '.join(kw)}]}}" for name, route, kw in feeds]
    path.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")


def watch(cal: Path, now: str, *extra: str):
    return runner.invoke(app, ["watch", "--calendar", str(cal), "--now", now, "--timeout", "0.5", *extra])


def drafts(cal: Path) -> list[dict]:
    path = cal.parent / "rapid.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["events"] if path.exists() else []


# ---------------------------------------------------------------- matching and cleaning


def test_keywords_match_whole_word_starts_and_khmer_anywhere():
    m = Matcher(["cluster munition", "landmine", "គ្រាប់បែកចង្កោម", "មីន", "mine"])
    assert m.match("New CLUSTER   munitions found") == "cluster munition"
    assert m.match("Landmines laid") == "landmine"
    assert m.match("Court determines the case") is None  # 'mine' inside a word is not 'mine'
    assert m.match("Minefield mapped") == "mine"
    assert m.match("មានការប្រើប្រាស់គ្រាប់បែកចង្កោមនៅ") == "គ្រាប់បែកចង្កោម"  # no spaces between Khmer words
    assert m.match("គ្រាប់បែក\u200bចង្កោម") == "គ្រាប់បែកចង្កោម"  # zero-width spaces do not hide a match
    assert m.match("ដាក់គ្រាប់មីនថ្មី") == "មីន"
    assert m.match("nothing here", "") is None


def test_strip_html_leaves_plain_text():
    assert strip_html("<p>Dozens of <em>submunitions</em>&nbsp;found.<script>alert(1)</script></p>") == "Dozens of submunitions found."
    assert strip_html("A\x00B\nC") == "A B C"
    assert strip_html(None) == ""


# ---------------------------------------------------------------- runs


def test_each_matching_item_becomes_exactly_one_draft_across_runs(cal, server):
    first = watch(cal, "2026-11-30T14:00")
    assert first.exit_code == 0, first.output
    events = drafts(cal)
    assert {e["link"] for e in events} == ALL_DRAFTS
    assert first.stdout.count("drafted condemn-2026-11-30-") == 4
    for e in events:
        assert e["draft"] is True and e["kind"] == "condemnation" and "approved_by" not in e
        assert e["vars"]["report"] == e["link"]
    by_link = {e["link"]: e for e in events}
    cluster = by_link["https://monitor.example/2026/11/cluster"]
    assert cluster["id"] == f"condemn-2026-11-30-landmine-monitor-{rapid.short_hash(cluster['link'])}"
    assert cluster["vars"] == {"source": "Landmine Monitor", "report": "https://monitor.example/2026/11/cluster",
                               "title": "New cluster munition attacks reported in the north", "published": date(2026, 11, 29),
                               "weapon": "cluster munitions", "alleged": "until approved"}
    assert by_link["https://wire.example/landmines"]["vars"]["weapon"] == "landmines"  # from the keyword it matched, never a default
    assert by_link["https://wire.example/landmines"]["vars"]["title"] == "Landmines laid near the border"
    assert (cluster["date"], cluster["time"]) == (date(2026, 11, 30), "14:00")  # due when drafted

    second = watch(cal, "2026-11-30T14:10")
    assert second.exit_code == 0 and second.stdout == "" and second.stderr == ""  # cron: silent when nothing is new
    assert server.statuses("/rss") == [200, 304] and server.statuses("/atom") == [200, 304]
    rss_headers = [h for p, h, _ in server.log if p == "/rss"]
    assert rss_headers[1]["If-None-Match"] == '"rss-v1"'
    assert rss_headers[0]["User-Agent"].startswith("campaigner/")

    server.etag = '"rss-v2"'  # the feed changes its validator but not its items: the ledger still knows them
    third = watch(cal, "2026-11-30T14:20", "-v")
    assert third.exit_code == 0
    assert server.statuses("/rss") == [200, 304, 200]
    assert "Landmine Monitor: ok; 6 item(s), 4 matched, 0 new, 4 seen before" in third.stdout
    assert "Wire: not modified" in third.stdout
    assert len(drafts(cal)) == 4


def test_feed_text_is_data_never_template(cal):
    assert watch(cal, "2026-11-30T14:00").exit_code == 0
    plan = runner.invoke(app, ["plan", "--calendar", str(cal), "--now", "2026-11-30T08:00", "--days", "1", "--json"])
    assert plan.exit_code == 0, plan.output
    texts = [p["text"] for p in json.loads(plan.stdout) if "monitor.example/2026/11/inject" in p["text"]]
    assert len(texts) == 3  # alpha km + en, beta en
    for text in texts:
        assert "Template {{ 7*7 }} and {% raw %} in a LANDMINE story" in text and "49" not in text


def test_one_broken_feed_does_not_stop_the_others(cal, server):
    # The broken feeds come first: the good ones after them must still be read.
    set_feeds(cal, server, [("Broken", "/broken", ["mine"]), ("Slow", "/slow", ["mine"]), ("Gone", "/gone", ["mine"]),
                            ("Redesigned", "/html", ["mine"])] + GOOD_FEEDS)
    started = time.monotonic()
    result = watch(cal, "2026-11-30T14:00")
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    err = result.stderr
    assert "feed Broken: not a readable RSS or Atom feed" in err
    assert "feed Slow: timed out after 0.5s" in err
    assert "feed Gone: HTTP 404" in err
    assert "feed Redesigned: not a readable RSS or Atom feed: text/html" in err
    assert {e["link"] for e in drafts(cal)} == ALL_DRAFTS  # the good feeds still drafted everything
    from campaigner.cache import load
    from campaigner.ledger import campaign_key, default_url, open_ledger

    ledger = open_ledger(default_url(cal), readonly=True, campaign=campaign_key(load(cal)[0].campaign)).feeds
    assert ledger.feed_state("Broken") == (None, None) and ledger.feed_state("Landmine Monitor")[0] == '"rss-v1"'
    ledger.close()


def test_old_items_are_not_drafted(cal):
    assert watch(cal, "2026-11-30T14:00", "--max-age", "30").exit_code == 0
    assert "https://monitor.example/2020/old" not in {e["link"] for e in drafts(cal)}


def test_a_draft_waits_for_approval_then_goes_out_exactly_once(cal, tmp_path):
    assert watch(cal, "2026-11-30T14:00").exit_code == 0
    eid = next(e["id"] for e in drafts(cal) if e["link"] == "https://wire.example/landmines")
    for minute in ("14:05", "16:00"):
        held = runner.invoke(app, ["post", "--calendar", str(cal), "--now", f"2026-11-30T{minute}"])
        assert held.exit_code == 0, held.output
    assert sends(tmp_path / "sent.jsonl") == []

    path = cal.parent / "rapid.yaml"
    before = path.read_bytes().decode()
    ok = runner.invoke(app, ["approve", eid, "--by", "dara", "--calendar", str(cal), "--now", "2026-11-30T21:30"])
    assert ok.exit_code == 0, ok.output
    after = path.read_bytes().decode()
    # Every entry but the approved one is byte for byte the same; in it, only the expected lines changed.
    old_blocks, new_blocks = before.split("\n\n"), after.split("\n\n")
    assert len(old_blocks) == len(new_blocks)
    changed = [(o, n) for o, n in zip(old_blocks, new_blocks) if o != n]
    assert len(changed) == 1 and f"id: {eid}" in changed[0][0]
    old, new = changed[0]
    assert old.replace('time: "14:00"', 'time: "21:30"').replace("    draft: true\n", "").rstrip("\n") + "\n" == \
        new.replace("    approved_by: dara\n    approved_at: '2026-11-30T21:30:00+07:00'\n", "").rstrip("\n") + "\n"

    runner.invoke(app, ["post", "--calendar", str(cal), "--now", "2026-11-30T21:35"])
    runner.invoke(app, ["post", "--calendar", str(cal), "--now", "2026-11-30T21:40"])
    keys = [s["key"] for s in sends(tmp_path / "sent.jsonl")]
    assert sorted(keys) == [f"{eid}/2026-11-30/alpha/en", f"{eid}/2026-11-30/alpha/km", f"{eid}/2026-11-30/beta/en"]
    # Watching again does not re-draft what was approved and published.
    assert watch(cal, "2026-11-30T22:00").stdout == ""
    assert len(drafts(cal)) == 4


def test_an_item_already_condemned_by_hand_is_not_drafted(cal):
    done = runner.invoke(app, ["condemn", "--report", "https://wire.example/landmines", "--source", "Wire", "--calendar", str(cal),
                               "--now", "2026-11-30T13:00"])
    assert done.exit_code == 0, done.output
    assert watch(cal, "2026-11-30T14:00").exit_code == 0
    links = [e["link"] for e in drafts(cal)]
    assert links.count("https://wire.example/landmines") == 1 and len(links) == 4


def test_overlapping_watch_runs_draft_each_item_once(cal, tmp_path):
    env = child_env()
    env.update(CAMPAIGNER_PLUGINS="tests.fake_platform", PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-m", "campaigner", "watch", "--calendar", str(cal), "--now", "2026-11-30T14:00"],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    links = [e["link"] for e in drafts(cal)]
    assert sorted(links) == sorted(ALL_DRAFTS)
    assert sum(out.count("drafted ") for out, _ in outs) == 4


def test_no_feeds_is_quiet(fixture_calendar):
    path = fixture_calendar("rapid")
    quiet = runner.invoke(app, ["watch", "--calendar", str(path)])
    assert quiet.exit_code == 0 and quiet.stdout == ""
    assert "no feeds" in runner.invoke(app, ["watch", "--calendar", str(path), "-v"]).stdout


def test_json_output(cal):
    result = watch(cal, "2026-11-30T14:00", "--json")
    rows = {r["feed"]: r for r in json.loads(result.stdout)}
    assert rows["Wire"]["status"] == "ok" and rows["Wire"]["drafted"][0]["link"] == "https://wire.example/landmines"
    assert rows["Landmine Monitor"]["matched"] == 4 and len(rows["Landmine Monitor"]["drafted"]) == 3


def test_plan_and_validate_do_not_import_feedparser(fixture_calendar):
    path = fixture_calendar("rapid")
    code = ("import sys; from typer.testing import CliRunner; from campaigner.cli import app; "
            f"r = CliRunner().invoke(app, ['plan', '--calendar', {str(path)!r}, '--now', '2026-11-30T08:00']); "
            f"v = CliRunner().invoke(app, ['validate', '--calendar', {str(path)!r}]); "
            "print(r.exit_code, v.exit_code, 'feedparser' in sys.modules, 'smtplib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=child_env(PYTHONPATH=str(ROOT), CAMPAIGNER_PLUGINS="tests.fake_platform"))
    assert out.stdout.split() == ["0", "0", "False", "False"], out.stderr


def test_the_timeout_bounds_the_whole_fetch_of_a_trickling_feed(cal, server):
    set_feeds(cal, server, [("Trickle", "/trickle", ["mine"])])
    started = time.monotonic()
    result = runner.invoke(app, ["watch", "--calendar", str(cal), "--now", "2026-11-30T14:00", "--timeout", "1"])
    took = time.monotonic() - started
    assert "feed Trickle: timed out after 1s" in result.stderr and result.exit_code == 1
    assert took < 3, f"watch --timeout 1 ran {took:.1f} s against a trickling feed"


# ---------------------------------------------------------------- the weapon and "alleged" in the shipped templates


def test_weapon_comes_from_the_matched_keywords_never_a_default():
    from campaigner.watch import weapon_of

    assert weapon_of(["landmine"]) == "landmines"
    assert weapon_of(["antipersonnel mine", "mine"]) == "landmines"
    assert weapon_of(["cluster munition"]) == "cluster munitions"
    assert weapon_of(["គ្រាប់បែកចង្កោម"]) == "cluster munitions"
    assert weapon_of(["ដាក់គ្រាប់មីនថ្មី"]) == "landmines"
    assert weapon_of(["cluster munition", "landmine"]) == "landmines and cluster munitions"
    assert weapon_of(["explosive weapons"]) is None


BOTH = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Both</title><link>https://both.example/</link><description>News</description>
<item><title>Landmines and cluster munitions found after the fighting</title><link>https://both.example/both</link><guid>both-1</guid></item>
<item><title>Explosive weapons used in towns</title><link>https://both.example/explosive</link><guid>both-2</guid></item>
</channel></rss>
"""


def test_feed_drafts_name_the_weapon_they_matched_and_say_alleged_until_approved(shipped, server):
    respond = server.respond
    server.respond = lambda path, headers: (200, {"Content-Type": "application/rss+xml"}, BOTH.encode()) if path == "/both" \
        else respond(path, headers)
    text = shipped.read_text(encoding="utf-8")
    shipped.write_text(text + f"""
feeds:
  - {{name: Landmine Monitor, url: "{server.url}/rss", keywords: [cluster munition, landmine, គ្រាប់បែកចង្កោម]}}
  - {{name: Wire, url: "{server.url}/atom", keywords: [landmine]}}
  - {{name: Both, url: "{server.url}/both", keywords: [cluster munition, landmine, explosive weapons]}}
""", encoding="utf-8")
    result = watch(shipped, "2026-11-30T14:00")
    assert result.exit_code == 1  # the item naming no weapon is reported, not drafted with a guessed one
    assert "'Explosive weapons used in towns' matched 'explosive weapons', which name no weapon" in result.stderr
    by_link = {e["link"]: e for e in drafts(shipped)}
    assert "https://both.example/explosive" not in by_link
    assert by_link["https://wire.example/landmines"]["vars"]["weapon"] == "landmines"
    assert by_link["https://monitor.example/2026/11/cluster"]["vars"]["weapon"] == "cluster munitions"
    assert by_link["https://monitor.example/2026/11/km"]["vars"]["weapon"] == "cluster munitions"
    assert by_link["https://both.example/both"]["vars"]["weapon"] == "landmines and cluster munitions"

    def texts(link: str) -> dict[str, str]:
        plan = runner.invoke(app, ["plan", "--calendar", str(shipped), "--now", "2026-11-30T08:00", "--days", "1", "--json"])
        assert plan.exit_code == 0, plan.output
        return {f"{p['account']}/{p['language']}": p["text"] for p in json.loads(plan.stdout) if link in p["text"]}

    mines = texts("https://wire.example/landmines")
    assert set(mines) == {"ccbl_x/en", "ccbl_x/km", "ccbl_facebook/en", "ccbl_facebook/km"}
    assert "On 30 November 2026, Wire reported the alleged use of landmines." in mines["ccbl_facebook/en"]
    assert "Wire reported the alleged use of landmines." in mines["ccbl_x/en"]
    assert "ការចោទប្រកាន់" in mines["ccbl_facebook/km"] and "គ្រាប់មីន" in mines["ccbl_facebook/km"]
    for t in mines.values():
        assert "cluster munitions" not in t.lower() and "ចង្កោម" not in t
    both = texts("https://both.example/both")
    assert "alleged use of landmines and cluster munitions" in both["ccbl_facebook/en"]
    assert "គ្រាប់មីន និងគ្រាប់បែកចង្កោម" in both["ccbl_facebook/km"]
    assert "anti-personnel mines" in both["ccbl_facebook/en"] and "Convention on Cluster Munitions" in both["ccbl_facebook/en"]

    eid = by_link["https://wire.example/landmines"]["id"]
    ok = runner.invoke(app, ["approve", eid, "--by", "dara", "--calendar", str(shipped), "--now", "2026-11-30T14:30"])
    assert ok.exit_code == 0, ok.output
    approved = texts("https://wire.example/landmines")
    assert "Wire reported the use of landmines." in approved["ccbl_facebook/en"]  # a person read it: no longer "alleged"
    assert not any("alleged" in t or "ការចោទប្រកាន់" in t for t in approved.values())
