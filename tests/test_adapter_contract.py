"""Every registered adapter through one table of outcomes, against faked HTTP with the real clients.

Each platform's documented answers live in tests/platform_fakes.py (`CONTRACTS`); this module holds
the table of what each outcome must become, so that a new adapter is held to the same rules.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import responses

from campaigner import adapters, textlimits
from campaigner.adapters.base import Adapter, MediaItem, Message, Receipt
from campaigner.credentials import env_name
from campaigner.errors import Ambiguous, Permanent, PublishFailure, Transient
from tests.platform_fakes import CONTRACTS, assert_no_secret, write_png

# What each outcome of a create request must become, unless a platform's contract says otherwise.
TABLE: dict[str, type] = {
    "success": Receipt,
    "401": Permanent,
    "403": Permanent,
    "429 with a retry time": Transient,
    "429 without a retry time": Transient,
    # A 5xx or a timeout after the create request was sent: the platform may have created the post
    # before failing, so it is unknown, unless the platform deduplicates (its contract overrides).
    "5xx": Ambiguous,
    "refused": Transient,  # connection refused: nothing was sent
    "timeout after sending": Ambiguous,
    "malformed": Ambiguous,  # a 2xx the adapter cannot read: the post may be out
}


def shipped_platforms() -> list[str]:
    """Platforms registered by campaigner itself (tests and plugins register their own)."""
    return [p for p in adapters.platforms() if adapters.adapter_class(p).__module__.startswith("campaigner.")]


def test_every_shipped_adapter_has_a_contract():
    assert sorted(CONTRACTS) == shipped_platforms()


def _outcome(platform: str, outcome: str) -> type:
    return CONTRACTS[platform].overrides.get(outcome, TABLE[outcome])


CASES = [(p, o) for p in sorted(CONTRACTS) for o in TABLE]


@pytest.mark.parametrize("platform, outcome", CASES, ids=[f"{p}-{o}" for p, o in CASES])
def test_outcome(platform, outcome):
    contract = CONTRACTS[platform]
    adapter = contract.adapter()
    message = Message(text="Cluster munitions kill civilians for decades.", idempotency_key=f"contract/2026-12-03/{contract.account}/en")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        contract.prepare(rsps)
        contract.answer(rsps, outcome)
        expected = _outcome(platform, outcome)
        if expected is Receipt:
            receipt = adapter.publish(message)
            assert receipt.remote_id and receipt.url.startswith(contract.url_prefix)
            return
        with pytest.raises(PublishFailure) as caught:
            adapter.publish(message)
        created = [c for c in rsps.calls if contract.is_create(c.request)]
    failure = caught.value
    assert type(failure) is expected, failure.message
    assert len(created) == 1  # one create request, never a silent retry inside the adapter
    assert contract.account in failure.message
    assert_no_secret(failure.message, contract.credentials.values())
    if outcome == "401":
        assert any(env_name(contract.account, key) in failure.message for key in contract.credentials), failure.message
    if outcome == "429 with a retry time":
        assert failure.retry_after is not None
        assert abs(failure.retry_after - contract.retry_at()) < timedelta(seconds=30)
    if outcome == "429 without a retry time":
        assert failure.retry_after is None


@pytest.mark.parametrize("platform", sorted(CONTRACTS))
def test_a_refusal_that_quotes_the_secret_back_is_redacted(platform):
    contract = CONTRACTS[platform]
    secret = next(iter(contract.credentials.values()))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        contract.prepare(rsps)
        contract.answer_with(rsps, contract.echoing(secret))
        with pytest.raises(PublishFailure) as caught:
            contract.adapter().publish(Message(text="hello", idempotency_key="contract/echo"))
    assert_no_secret(caught.value.message, contract.credentials.values())


@pytest.mark.parametrize("platform", sorted(CONTRACTS))
def test_describe_carries_no_secret_and_sends_nothing(platform, tmp_path):
    contract = CONTRACTS[platform]
    adapter = contract.adapter()
    image = MediaItem(write_png(tmp_path / "deminers.png"), "Two deminers kneel in a cleared field")
    messages = [
        Message(text="ការដកមីន https://ccbl.example/report", idempotency_key="k1", link="https://ccbl.example/report"),
        Message(text="With a photo", idempotency_key="k2", media=(image,)),
        Message(text="With two photos", idempotency_key="k3", media=(image, image)),
        Message(text="A reply", idempotency_key="k4", reply_to="1866000000000000001"),
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        wire = [w for m in messages for w in adapter.describe(m)]
        assert len(rsps.calls) == 0, [c.request.url for c in rsps.calls]
    assert wire and all(w.method in ("GET", "POST", "PUT") and w.url.startswith("https://") for w in wire)
    assert_no_secret("\n".join(str(w) for w in wire), contract.credentials.values())


@pytest.mark.parametrize("platform", sorted(CONTRACTS))
def test_capabilities_are_declared_and_readable_without_an_sdk(platform):
    cls: type[Adapter] = adapters.adapter_class(platform)
    assert cls.platform == platform and cls.label
    assert cls.max_length > 0 and (cls.caption_length is None or 0 < cls.caption_length <= cls.max_length)
    assert callable(cls.counts) or cls.counts in textlimits.RULES
    assert cls.measure("ab", {}) == 2 and cls.text_limit({}) == cls.max_length
    assert cls.max_images >= 0 and all(t.startswith("image/") for t in cls.image_types)
    assert cls.max_images == 0 or cls.image_types
    assert all(limit.posts > 0 and limit.window > timedelta(0) for limit in cls.rate_limits)
    assert (cls.price("hello", {}) is None) is (cls.pricing is None)
    assert not cls.idempotent or cls.idempotency_window is None or cls.idempotency_window > timedelta(0)
    assert cls.credential_sets and all(cls.credential_sets)


def test_x_prices_follow_the_accounts_pricing():
    cls = adapters.adapter_class("x")
    assert cls.price("no link", {}) == 0.015 and cls.price("see https://ccbl.example", {}) == 0.20
    assert cls.price("see www.ccbl.example", {"pricing": {"post_with_url": 0.5}}) == 0.5
    assert cls.price("plain", {"pricing": {"post": 0.01}}) == 0.01


def test_a_png_is_an_image_every_platform_with_images_accepts(tmp_path):
    assert all("image/png" in adapters.adapter_class(p).image_types for p in CONTRACTS if adapters.adapter_class(p).max_images)
    assert Path(write_png(tmp_path / "p.png")).stat().st_size < 1000


def test_no_module_outside_the_adapters_branches_on_a_platform():
    """A new platform is one module in adapters/: nothing else compares against a platform's name."""
    import ast

    root = Path(__file__).resolve().parents[1] / "campaigner"
    names = set(shipped_platforms())
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(root / "adapters"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                constants = [n for n in [node.left, *node.comparators] if isinstance(n, ast.Constant)]
                constants += [e for n in [node.left, *node.comparators] if isinstance(n, (ast.Tuple, ast.Set, ast.List)) for e in n.elts if isinstance(e, ast.Constant)]
                if any(c.value in names for c in constants):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
