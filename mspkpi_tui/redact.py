"""Credentials inside URLs never reach a message, a log or the database.

A PSA URL (``https://user:pass@host``) or a database URL with a password can end up in
an exception's text (a failed connection names it); every sink that shows or stores
such text passes it through `redact` first.
"""

from __future__ import annotations

import re

# [scheme://]user:password@host: keep the user, hide the password. The scheme is optional
# because HTTP libraries name the host as netloc ("talking to user:pass@host:443").
_URL_PASSWORD = re.compile(
    r"(?P<head>(?:\b[a-zA-Z][a-zA-Z0-9+.\-]*://)?[^\s:/@'\"]*):(?P<password>[^\s@/'\"]+)@(?=[\w\[])"
)
# libpq's key=value form: password=secret
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<password>'[^']*'|\S+)", re.IGNORECASE)
HIDDEN = "***"


def redact(text: str) -> str:
    """`text` with every password inside a URL (or a password=... pair) replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{HIDDEN}@", text)
    return _KEYWORD_PASSWORD.sub(lambda m: f"{m['head']}{HIDDEN}", text)


def url_has_password(url: str) -> bool:
    return redact(url) != url
