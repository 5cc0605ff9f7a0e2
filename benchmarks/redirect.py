"""CAMPAIGNER_PLUGINS=benchmarks.redirect: the real adapters, with their HTTP sent to a local server.

`campaigner.runtime.adapter_factory` is the one seam for the outside world; this plugin replaces it
with one that gives every account's adapter a requests.Session whose transport rewrites
https://api.twitter.com, api.x.com and graph.facebook.com to BENCH_API_BASE
(http://127.0.0.1:PORT/<host>/<path>) and refuses any other host. tweepy, facebook-sdk, OAuth
signing, the ledger and the publishing engine all run unchanged.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from campaigner import runtime

HOSTS = ("api.twitter.com", "api.x.com", "graph.facebook.com")

def redirected_session(base: str) -> Any:
    """A requests.Session that sends the platforms' hosts to `base` and nothing anywhere else."""
    import requests
    from requests.adapters import HTTPAdapter

    class Redirect(HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:
            parts = urlsplit(request.url)
            if parts.hostname not in HOSTS:
                raise requests.exceptions.ConnectionError(f"benchmark: refusing to reach {parts.hostname}")
            request.url = f"{base}/{parts.hostname}{parts.path}" + (f"?{parts.query}" if parts.query else "")
            return super().send(request, **kwargs)

    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and 127.0.0.1
    session.mount("https://", Redirect())
    session.mount("http://", Redirect())
    return session


def adapter_factory(calendar: Any, account: str, *, credentials: bool = True) -> Any:
    """Like the default factory, with a redirected session per account (one account, one thread)."""
    return runtime.build_adapter(calendar, account, credentials=credentials, http=redirected_session(os.environ["BENCH_API_BASE"]))


runtime.adapter_factory = adapter_factory
