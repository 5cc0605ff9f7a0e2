"""`accounts check --dry-run`: the requests each account's check would send, with no network."""

from __future__ import annotations

import responses
from typer.testing import CliRunner

from campaigner.cli import app

runner = CliRunner()


def test_accounts_check_can_be_rehearsed(shipped, monkeypatch):
    monkeypatch.setenv("CAMPAIGNER_CCBL_X_BEARER_TOKEN", "bearer+Secret/Value=1")
    monkeypatch.setenv("CAMPAIGNER_CCBL_FACEBOOK_PAGE_TOKEN", "EAAB+page/Token=2")
    monkeypatch.setenv("CAMPAIGNER_CCBL_FACEBOOK_APP_TOKEN", "123|app+Secret/3=")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        result = runner.invoke(app, ["accounts", "check", "--calendar", str(shipped), "--dry-run"])
        assert len(rsps.calls) == 0
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "ccbl_x: would check" in lines and "    -> GET https://api.twitter.com/2/users/me {}" in lines
    assert "    -> GET https://graph.facebook.com/v24.0/me?fields=id,name {}" in lines
    assert any("debug_token?input_token=<CAMPAIGNER_CCBL_FACEBOOK_PAGE_TOKEN>" in line for line in lines)
    for secret in ("bearer+Secret", "EAAB+page", "app+Secret", "bearer%2BSecret"):
        assert secret not in result.output


def test_a_rehearsal_says_which_accounts_lack_credentials(shipped):
    result = runner.invoke(app, ["accounts", "check", "--calendar", str(shipped), "--dry-run", "--account", "ccbl_facebook"])
    assert result.exit_code == 0
    assert result.stdout.startswith("ccbl_facebook: credentials missing, it would not be checked: account ccbl_facebook: credentials missing: set CAMPAIGNER_CCBL_FACEBOOK_PAGE_TOKEN")
