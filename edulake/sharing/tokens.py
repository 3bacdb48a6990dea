"""Bearer tokens for districts (scope `district`, one district) and the commission (scope `city`).

A token is shown once, at creation: `edl_<id>_<secret>`. Only its SHA-256 is stored, in
$EDULAKE_HOME/secrets/sharing_tokens.json (0600), with scope, district, expiry and revocation. The id lets a
server find the record without comparing against every hash; the compare itself is constant-time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass

from edulake import permissions
from edulake.sharing import config

UTC = dt.UTC
PREFIX = "edl_"


class TokenError(Exception):
    """A token that is missing, malformed, unknown, revoked or expired; the message says which."""


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    scope: str  # "district" | "city"
    district: str | None
    sha256: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None = None

    @property
    def share(self) -> str:
        """The one Delta Sharing share this token sees."""
        return config.CITY_SHARE if self.scope == "city" else f"district_{self.district}"

    def sees(self, district: str) -> bool:
        return self.scope == "city" or self.district == district

    def status(self, now: dt.datetime | None = None) -> str:
        now = now or dt.datetime.now(UTC)
        if self.revoked_at:
            return "revoked"
        if self.expires_at and dt.datetime.fromisoformat(self.expires_at) <= now:
            return "expired"
        return "active"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _load() -> dict[str, Token]:
    path = config.tokens_file()
    if not path.exists():
        return {}
    return {t["id"]: Token(**t) for t in json.loads(path.read_text(encoding="utf-8"))}


def _save(tokens: dict[str, Token]) -> None:
    data = json.dumps([asdict(t) for t in tokens.values()], ensure_ascii=False, indent=1)
    permissions.write_private(config.tokens_file(), data)


def create(district: str | None, name: str = "", days: float | None = 365, city: bool = False) -> tuple[Token, str]:
    """A new token; returns (record, the clear token). The clear token is not stored anywhere."""
    from edulake.sharing import catalog

    if city == (district is not None):
        raise ValueError("give either a district code (--district) or the city scope (--city), not both")
    if district is not None and not catalog.DISTRICT.fullmatch(district):
        raise ValueError(f"malformed district code {district!r}: six digits (GB/T 2260), e.g. 110108")
    if district is not None:
        known = _current_districts()
        if district not in known:
            raise ValueError(f"{district} is not one of the 16 current districts: {', '.join(sorted(known))}")
    now = dt.datetime.now(UTC).replace(microsecond=0)
    tid = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    clear = f"{PREFIX}{tid}_{secret}"
    token = Token(tid, name or (f"区{district}" if district else "市教委"), "city" if city else "district", district,
                  _hash(clear), now.isoformat(), (now + dt.timedelta(days=days)).isoformat() if days else None)
    tokens = _load()
    tokens[tid] = token
    _save(tokens)
    return token, clear


def _current_districts() -> set[str]:
    """The 16 current districts, from the standard's code list (GB/T 2260)."""
    from edulake import standard

    return {r["code"] for r in standard.load().codes("district").rows if r["status"] == "current"}


def listing() -> list[Token]:
    return sorted(_load().values(), key=lambda t: (t.created_at, t.id))


def revoke(token_id: str | None = None, district: str | None = None) -> list[Token]:
    """Revoke one token by id, or every active token of a district; returns the tokens revoked."""
    if (token_id is None) == (district is None):
        raise ValueError("give a token id or --district")
    tokens = _load()
    now = dt.datetime.now(UTC).replace(microsecond=0).isoformat()
    hit = [t for t in tokens.values()
           if (t.id == token_id if token_id else t.district == district) and not t.revoked_at]
    if token_id and not hit:
        raise ValueError(f"no active token with id {token_id!r}")
    for t in hit:
        tokens[t.id] = Token(**{**asdict(t), "revoked_at": now})
    _save(tokens)
    return hit


class Verifier:
    """Checks bearer tokens against the token file; re-reads it when it changes (issue/revoke while serving)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._tokens: dict[str, Token] = {}

    def _current(self) -> dict[str, Token]:
        path = config.tokens_file()
        try:
            st = os.stat(path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                self._tokens = _load() if stamp else {}
                self._stamp = stamp
        return self._tokens

    def by_id(self, token_id: str) -> Token | None:
        return self._current().get(token_id)

    def identify(self, authorization: str | None) -> Token | None:
        """The token record a header genuinely names (hash checked), active or not: the audit's `who` for
        refused requests, e.g. with an expired or revoked token."""
        clear = (authorization or "").partition(" ")[2].strip()
        parts = clear.split("_")
        token = self._current().get(parts[1]) if len(parts) >= 3 and clear.startswith(PREFIX) else None
        return token if token and hmac.compare_digest(token.sha256, _hash(clear)) else None

    def verify(self, authorization: str | None) -> Token:
        if not authorization:
            raise TokenError("missing bearer token: send 'Authorization: Bearer edl_…'")
        scheme, _, clear = authorization.partition(" ")
        clear = clear.strip()
        if scheme.lower() != "bearer" or not clear:
            raise TokenError("malformed Authorization header: expected 'Bearer <token>'")
        parts = clear.split("_")
        if len(parts) < 3 or not clear.startswith(PREFIX):
            raise TokenError("malformed token: expected edl_<id>_<secret>")
        token = self._current().get(parts[1])
        if token is None or not hmac.compare_digest(token.sha256, _hash(clear)):
            raise TokenError("unknown token")
        status = token.status()
        if status != "active":
            raise TokenError(f"token {token.id} is {status}")
        return token
