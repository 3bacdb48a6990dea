"""Signed file URLs. The Delta Sharing client fetches data files without its bearer token, so each URL
carries who it was issued to, when it expires, and an HMAC over both and the file — like a presigned S3 URL.

A URL names a file by an opaque id, never by a path; the server maps ids to the files of the current snapshot.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from edulake.sharing import config


class SignatureError(Exception):
    """Not a URL this server issued (altered, or malformed)."""


class ExpiredError(SignatureError):
    """A URL this server issued, past its expiry."""


def _mac(table: str, file_id: str, token_id: str, expires: int) -> str:
    msg = f"{table}\n{file_id}\n{token_id}\n{expires}".encode()
    return hmac.new(config.url_signing_key(), msg, hashlib.sha256).hexdigest()


def query_string(table: str, file_id: str, token_id: str, ttl: int = config.FILE_URL_TTL_S,
                 now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + ttl)
    return urlencode({"tok": token_id, "exp": expires, "sig": _mac(table, file_id, token_id, expires)})


def check(table: str, file_id: str, token_id: str, expires: str, sig: str) -> None:
    """Raise SignatureError naming what is wrong (tampered, or expired)."""
    try:
        exp = int(expires)
    except (TypeError, ValueError):
        raise SignatureError("malformed exp: an integer (seconds since the epoch)") from None
    if not hmac.compare_digest(_mac(table, file_id, token_id, exp), sig or ""):
        raise SignatureError("bad signature: the URL was altered or was not issued by this server")
    if exp < time.time():
        raise ExpiredError("the file URL has expired: query the table again for fresh URLs")
