"""X (Twitter) API v2 through tweepy 4.17: posts, threads, images with alt text."""

from __future__ import annotations

from campaigner.adapters.base import Adapter
from campaigner.textlimits import X_MAX_LENGTH


class XAdapter(Adapter):
    """Publishes to one X account with OAuth 1.0a user context or an OAuth 2 user token."""

    platform = "x"
    max_length = X_MAX_LENGTH
    counts = "x-weighted"
    max_images = 4
    supports_threads = True
    credential_sets = (("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_SECRET"), ("BEARER_TOKEN",))
    account_options = ("username",)
