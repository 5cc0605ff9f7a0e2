"""Facebook Pages through facebook-sdk 3.1 on a current Graph API version."""

from __future__ import annotations

from campaigner.adapters.base import Adapter


class FacebookAdapter(Adapter):
    """Publishes to one Facebook Page with a Page access token."""

    platform = "facebook"
    max_length = 63206
    counts = "chars"
    max_images = 10
    supports_threads = False
    credential_sets = (("PAGE_TOKEN",),)
    account_options = ("page_id", "graph_version")
    required_options = ("page_id",)
