"""Sign in with Apple and Google: an ID token from the provider, verified here, for our token pair.

Verification (PyJWT), every check refusing with 401 `invalid_token`:
- the issuer must be one of the provider's (settings) and the algorithm the one it signs with,
  pinned: RS256 for Apple and Google, ES256 for the local platform's stand-in; never `none`, never
  an HMAC made with a public key;
- the key is the provider's published one of the token's `kid`, from its JWKS, cached per container
  for an hour; an unknown `kid` (a key rotated in) makes the container read the JWKS again, at most
  every 10 seconds;
- the audience is one of our client ids (settings); `exp` (30 s of skew), `iat` and `sub` are
  required;
- the nonce: when the app sends one, the token must carry it, either as it is (Google echoes it) or
  as its SHA-256 in hex (Apple's native flow hashes it); a token carrying one needs it sent. Each
  sign-in is single use: its nonce (or, without one, the token itself) is marked used in Redis
  (SET NX, until the token expires) when the sign-in succeeds, so a replay is refused; Redis down
  fails closed (503).

The account (`sign_in`, one transaction): a linked identity signs in to its user (200); else an
account with the token's email is linked, only when the provider says the email is verified (else
409 `email_not_verified`: anyone can claim an address at a provider that does not check it);
else a new account with the requested role (owner by default, never admin) and no password (201).
An account with TOTP on needs its code here too, as at login. Apple gives the user's name only on
the first sign-in, to the app, which passes it as `name`; its private-relay addresses
(`@privaterelay.appleid.com`) are real addresses and kept as the account's email.

The local platform's providers (`local/identity_providers.py`) are trusted only while the stage is
local and `oidc_local_issuer` names them; with any other stage their tokens are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
import psycopg
import redis

from dogwalk.adapters import cache, db, ratelimit
from dogwalk.adapters.observability import logger
from dogwalk.adapters.ratelimit import REGISTER_PER_IP
from dogwalk.auth import sessions, totp
from dogwalk.auth.accounts import SELF_SERVICE_ROLES, Tokens, _count_attempt, _tokens, _uncount
from dogwalk.auth.users import get_user
from dogwalk.config import settings
from dogwalk.errors import Conflict, Forbidden, NotFound, Unauthorized, Unavailable
from dogwalk.events import outbox

PROVIDERS = ("apple", "google")
PROVIDER_ALGORITHMS = ("RS256",)  # what Apple and Google sign ID tokens with
LOCAL_ALGORITHMS = ("ES256",)  # the local platform's stand-in providers
LOCAL_AUDIENCE = "dogwalk-local"  # the client id the local providers issue for
LEEWAY_S = 30
KEYS_CACHE_S = 3600
# an unknown kid may be a key the provider rotated in; read its JWKS again, not often
REFRESH_AFTER_S = 10
FALLBACK_NAME = "DogWalk user"


@dataclass(frozen=True)
class Issuer:
    """Who may sign a provider's ID tokens, with what, and for whom."""

    provider: str
    issuers: tuple[str, ...]
    jwks_url: str
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class Identity:
    """What a verified ID token says of the person."""

    provider: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    replay_key: str  # what marks this sign-in used
    expires_at: int


def _listed(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def issuers_of(provider: str) -> list[Issuer]:
    """The issuers trusted for `provider`: the provider itself once a client id is set, and the local
    platform's stand-in only while the stage is local."""
    current = settings()
    if provider == "apple":
        issuers, url, clients = current.oidc_apple_issuers, current.oidc_apple_jwks_url, current.oidc_apple_client_ids
    else:
        issuers, url, clients = (
            current.oidc_google_issuers,
            current.oidc_google_jwks_url,
            current.oidc_google_client_ids,
        )
    trusted = []
    if _listed(clients):
        trusted.append(Issuer(provider, _listed(issuers), url, _listed(clients), PROVIDER_ALGORITHMS))
    if current.stage == "local" and current.oidc_local_issuer:
        base = current.oidc_local_issuer.rstrip("/")
        local = (LOCAL_AUDIENCE, *_listed(clients))
        trusted.append(Issuer(provider, (f"{base}/{provider}",), f"{base}/{provider}/jwks", local, LOCAL_ALGORITHMS))
    return trusted


def _invalid(detail: str) -> Unauthorized:
    return Unauthorized(detail, code="invalid_token")


# --- the providers' keys ------------------------------------------------------------------------

_keys: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}


def forget_keys() -> None:
    """Drop the cached JWKS (tests; a container's cache is otherwise its own)."""
    _keys.clear()


def _fetch(url: str) -> dict[str, jwt.PyJWK]:
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise Unavailable("The identity provider's keys must be read over HTTPS.")
    try:
        with urllib.request.urlopen(url, timeout=settings().dependency_timeout_s) as answer:  # noqa: S310  # nosec B310 - scheme checked above
            document = json.loads(answer.read())
    except (OSError, ValueError) as exc:
        logger.warning("could not read an identity provider's keys", extra={"url": url})
        raise Unavailable("The identity provider cannot be reached; try again shortly.") from exc
    found: dict[str, jwt.PyJWK] = {}
    for item in document.get("keys", []) if isinstance(document, dict) else []:
        try:
            key = jwt.PyJWK(item)
        except jwt.PyJWTError:  # a key of a kind we do not use (e.g. an encryption key)
            continue
        if key.key_id:
            found[key.key_id] = key
    return found


def _keys_of(url: str, *, refresh: bool = False) -> dict[str, jwt.PyJWK]:
    now = time.monotonic()
    cached = _keys.get(url)
    age = now - cached[0] if cached is not None else None
    if cached is None or age is None or age > KEYS_CACHE_S or (refresh and age > REFRESH_AFTER_S):
        _keys[url] = (now, _fetch(url))
    return _keys[url][1]


def _key(issuer: Issuer, kid: Any) -> jwt.PyJWK | None:
    if not isinstance(kid, str) or not kid:
        return None
    key = _keys_of(issuer.jwks_url).get(kid)
    if key is None:
        key = _keys_of(issuer.jwks_url, refresh=True).get(kid)
    return key


# --- verification -------------------------------------------------------------------------------


def verify(provider: str, id_token: str, nonce: str | None, *, now: float | None = None) -> Identity:
    """The identity a provider's ID token vouches for; `Unauthorized` `invalid_token` for anything
    amiss (see the module's docstring). Nothing is marked used yet: `sign_in` does, on success."""
    if provider not in PROVIDERS:
        raise NotFound("No such identity provider.")
    trusted = issuers_of(provider)
    if not trusted:
        raise _invalid(f"Sign in with {provider.title()} is not set up here.")
    try:
        header = jwt.get_unverified_header(id_token)
        claimed_issuer = jwt.decode(id_token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as exc:
        raise _invalid("The ID token is malformed.") from exc
    issuer = next((each for each in trusted if claimed_issuer in each.issuers), None)
    if issuer is None:
        raise _invalid(f"The ID token is not from {provider.title()}.")
    algorithm = header.get("alg")
    if algorithm not in issuer.algorithms:
        raise _invalid("The ID token is not signed with the provider's algorithm.")
    key = _key(issuer, header.get("kid"))
    if key is None:
        raise _invalid("The ID token's key is unknown.")
    if key.algorithm_name != algorithm:
        raise _invalid("The ID token is not signed with the provider's algorithm.")
    try:
        claims = jwt.decode(
            id_token,
            key.key,
            algorithms=[algorithm],
            audience=list(issuer.audiences),
            issuer=list(issuer.issuers),
            leeway=LEEWAY_S,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise _invalid("The ID token is invalid or expired.") from exc
    moment = time.time() if now is None else now
    if int(claims["iat"]) > moment + LEEWAY_S:
        raise _invalid("The ID token is not valid yet.")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= 255:
        raise _invalid("The ID token names no subject.")
    marker = _check_nonce(claims.get("nonce"), nonce) or hashlib.sha256(id_token.encode()).hexdigest()
    email = claims.get("email")
    return Identity(
        provider=provider,
        issuer=str(claims["iss"]),
        subject=subject,
        email=email.strip().lower() if isinstance(email, str) and "@" in email else None,
        email_verified=_true(claims.get("email_verified")),
        name=_name_of(claims),
        replay_key=hashlib.sha256(f"{claims['iss']}|{marker}".encode()).hexdigest(),
        expires_at=int(claims["exp"]),
    )


def _check_nonce(claimed: Any, sent: str | None) -> str | None:
    """The nonce the token carries, when it matches the one sent (as it is, or its SHA-256 hex)."""
    if claimed is None and sent is None:
        return None
    if claimed is None:
        raise _invalid("The ID token carries no nonce.")
    if sent is None:
        raise _invalid("Send the nonce the sign-in was started with.")
    hashed = hashlib.sha256(sent.encode()).hexdigest()
    if not isinstance(claimed, str) or not (hmac.compare_digest(claimed, sent) or hmac.compare_digest(claimed, hashed)):
        raise _invalid("The ID token's nonce does not match.")
    return claimed


def _true(value: Any) -> bool:
    """Apple sends booleans as the strings "true" and "false"; Google as booleans."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _name_of(claims: dict[str, Any]) -> str | None:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(part for part in parts if isinstance(part, str) and part.strip())
    return name.strip()[:200] or None


def _spend(identity: Identity) -> None:
    """Mark the sign-in used (until its token expires); a second use is refused."""
    ttl = max(1, identity.expires_at - int(time.time()) + LEEWAY_S)
    try:
        first = cache.client().set(f"oidc-used:{identity.replay_key}", "1", nx=True, ex=ttl)
    except redis.RedisError as exc:
        raise Unavailable("Sign-in is unavailable; try again shortly.") from exc
    if not first:
        raise _invalid("This ID token (or its nonce) was already used; sign in again.")


# --- the account --------------------------------------------------------------------------------


def sign_in(
    provider: str,
    id_token: str,
    nonce: str | None,
    *,
    role: str = "owner",
    name: str | None = None,
    totp_code: str | None = None,
    source_ip: str | None = None,
) -> tuple[Tokens, bool]:
    """A token pair for the identity's account, and whether the account was made now."""
    if role not in SELF_SERVICE_ROLES:
        raise Forbidden("Admins cannot register.")
    identity = verify(provider, id_token, nonce)
    try:
        return _sign_in(identity, role, name, totp_code, source_ip)
    except psycopg.errors.UniqueViolation:  # a concurrent first sign-in made the account or the link
        return _sign_in(identity, role, name, totp_code, source_ip)


_ACCOUNT = "u.id::text AS id, u.email::text AS email, u.suspended_at, u.mfa_enabled, u.totp_secret"


def _sign_in(
    identity: Identity, role: str, name: str | None, totp_code: str | None, source_ip: str | None
) -> tuple[Tokens, bool]:
    created = False
    with db.transaction() as conn:
        account = conn.execute(
            f"SELECT {_ACCOUNT} FROM oidc_identities i JOIN users u ON u.id = i.user_id"  # noqa: S608  # nosec B608
            " WHERE i.provider = %s AND i.subject = %s AND u.deleted_at IS NULL",
            (identity.provider, identity.subject),
        ).fetchone()
        if account is not None:
            conn.execute(
                "UPDATE oidc_identities SET last_used_at = now() WHERE provider = %s AND subject = %s",
                (identity.provider, identity.subject),
            )
        else:
            if identity.email is None:
                raise _invalid("The ID token carries no email address.")
            account = conn.execute(
                f"SELECT {_ACCOUNT} FROM users u WHERE u.email = %s AND u.deleted_at IS NULL",  # noqa: S608  # nosec B608
                (identity.email,),
            ).fetchone()
            if account is None:
                if source_ip is not None:
                    ratelimit.hit(REGISTER_PER_IP, source_ip)
                account = _new_account(conn, identity, role, name)
                created = True
            elif not identity.email_verified:
                raise Conflict(
                    "An account with this email exists, and the provider has not verified the email:"
                    " log in with your password, or verify the email at the provider first.",
                    code="email_not_verified",
                )
            _link(conn, identity, account["id"])
        if account["suspended_at"] is not None:
            raise Forbidden("This account is suspended.", code="account_suspended")
        if account["mfa_enabled"]:
            _second_factor(conn, account, totp_code, source_ip)
        _spend(identity)
        refresh_token = sessions.start_family(conn, account["id"])
    return _tokens(get_user(account["id"]), refresh_token), created


def _new_account(conn: db.Connection, identity: Identity, role: str, name: str | None) -> dict[str, Any]:
    user_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO users (id, email, role, name, password_hash, email_verified_at)"
        " VALUES (%s, %s, %s, %s, NULL, CASE WHEN %s THEN now() END)",
        (user_id, identity.email, role, (name or identity.name or FALLBACK_NAME)[:200], identity.email_verified),
    )
    if not identity.email_verified:
        outbox.record(conn, "account.verification_requested", user_id, role, {})
    # as the SELECT of an account reads it: a new account has no second factor yet
    return {"id": user_id, "email": identity.email, "suspended_at": None, "mfa_enabled": False}


def _link(conn: db.Connection, identity: Identity, user_id: str) -> None:
    conn.execute(
        "INSERT INTO oidc_identities (provider, subject, user_id, email) VALUES (%s, %s, %s, %s)",
        (identity.provider, identity.subject, user_id, identity.email),
    )
    if identity.email_verified:  # the provider vouches for the address the account has
        conn.execute(
            "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = %s AND email = %s",
            (user_id, identity.email),
        )


def _second_factor(conn: db.Connection, account: dict[str, Any], code: str | None, source_ip: str | None) -> None:
    """TOTP on the account applies to every way in; its guesses count as login failures do."""
    if not code:
        raise Unauthorized("Enter the code from your authenticator app.", code="mfa_required")
    counted = _count_attempt(account["email"].lower(), source_ip)
    if not totp.verify_login_code(conn, account["id"], account["totp_secret"], code):
        raise Unauthorized("The code is wrong or was already used.", code="invalid_mfa_code")
    _uncount(counted)


def linked_user(identity: Identity) -> str | None:
    """The user the identity is linked to (deletion's re-authentication of a password-less account)."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT user_id::text AS id FROM oidc_identities WHERE provider = %s AND subject = %s",
            (identity.provider, identity.subject),
        ).fetchone()
    return row["id"] if row else None


def spend(identity: Identity) -> None:
    """Mark a verified sign-in used outside `sign_in` (deletion's re-authentication)."""
    _spend(identity)
