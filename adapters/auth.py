"""Authentication (JWT bearer tokens) and authorisation (roles granting permissions).

A token says who (``sub``) and which role (``role``); what a role may do comes from
``ROLES`` on the server, never from the token, so adding claims to a token grants
nothing, and changing its role breaks its signature.

Permissions are ``resource:action`` strings (each command class names one in its
``permission`` ClassVar); roles grant them as fnmatch-style glob patterns.
``system:policy`` (the policy commands) is granted to no role but admin, through
``*``; the policy commands are not exposed over the API anyway.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import jwt
from jwt.algorithms import has_crypto

from adapters.settings import Settings
from domain.errors import DomainError

DEV_JWT_SECRET = "dev-only-change-me-not-for-production-use"
"""The default of ``Settings.jwt_secret``: public, for development only."""

MAX_TTL_SECONDS = 30 * 24 * 3600
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "role", "iss", "aud"]
VERIFIED_KEPT = 1024
"""Tokens whose signature and claims were verified, kept (with their expiry) so that a
client's next request with the same token is not verified again: PyJWT's decoding
costs about a fifth of a millisecond, a third of what the API adds to a mutation."""

_VIEWER = (
    "agent:read",
    "swarm:read",
    "task:read",
    "proposal:read",
    "expertise:read",
    "metrics:read",
    "events:read",
    "neural:read",
)

ROLES: dict[str, tuple[str, ...]] = {
    # Read-only: every read model, the metrics, the event log and the neural engine's
    # predictions and status.
    "viewer": _VIEWER,
    # Runs swarms: every agent, swarm, task and proposal command. Not projections,
    # the audit log, the neural engine, nor system:policy.
    "operator": (*_VIEWER, "agent:*", "swarm:*", "task:*", "proposal:*"),
    # Everything: projection:*, audit:read, neural:*, system:policy.
    "admin": ("*",),
}


class Unauthenticated(DomainError):
    """No valid token: missing, malformed, expired, not yet valid, badly signed,
    unsigned (alg none), for another issuer or audience, or of an unknown role.
    ``details["reason"]`` says which, as a stable word."""

    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    """A valid principal whose role does not grant the permission."""

    code = "FORBIDDEN"


class AuthConfigurationError(ValueError):
    """The JWT settings cannot work (a server misconfiguration, not a client error)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and what their role lets them do (glob patterns)."""

    subject: str
    role: str
    permissions: frozenset[str]
    jti: str | None = None

    def can(self, permission: str) -> bool:
        return any(fnmatchcase(permission, pattern) for pattern in self.permissions)


def role_names() -> str:
    return ", ".join(ROLES)


def principal_for(subject: str, role: str, jti: str | None = None) -> Principal:
    """The principal of a role, its permissions taken from ``ROLES``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {role_names()}")
    return Principal(subject=subject, role=role, permissions=frozenset(ROLES[role]), jti=jti)


def authorise(principal: Principal, permission: str) -> None:
    """Raise ``Forbidden`` unless the principal's role grants ``permission``."""
    if not principal.can(permission):
        raise Forbidden(
            f"role {principal.role!r} of {principal.subject!r} lacks permission {permission!r}",
            permission=permission,
            subject=principal.subject,
            role=principal.role,
        )


def jwt_secret_is_default(settings: Settings) -> bool:
    """True when tokens are signed with the public development secret (HS256 and
    ``jwt_secret`` left at its default): anyone can forge them; ``serve`` should warn."""
    return _algorithm(settings) == "HS256" and settings.jwt_secret == DEV_JWT_SECRET


def _pem(value: str) -> str:
    # A PEM in an environment variable often arrives with literal "\n".
    return value.replace("\\n", "\n").strip() + "\n"


def _algorithm(settings: Settings) -> str:
    if settings.jwt_public_key:
        if settings.jwt_algorithm not in ASYMMETRIC_ALGORITHMS:
            raise AuthConfigurationError(
                "SWARMLOG_JWT_PUBLIC_KEY is set: SWARMLOG_JWT_ALGORITHM must be RS256 or ES256"
            )
        return settings.jwt_algorithm
    if settings.jwt_algorithm != "HS256":
        raise AuthConfigurationError(
            f"SWARMLOG_JWT_ALGORITHM={settings.jwt_algorithm} needs SWARMLOG_JWT_PUBLIC_KEY "
            "(a PEM public key)"
        )
    return "HS256"


def _unauthenticated(reason: str, message: str) -> Unauthenticated:
    return Unauthenticated(message, reason=reason)


class TokenService:
    """Issues and verifies the API's JWTs.

    HS256 with ``jwt_secret`` by default; RS256 or ES256 when ``jwt_public_key`` is set
    (issuing then needs ``jwt_private_key``). Verification accepts exactly the configured
    algorithm, never ``none``.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.algorithm = _algorithm(settings)
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        if self.algorithm == "HS256":
            if not settings.jwt_secret:
                raise AuthConfigurationError("SWARMLOG_JWT_SECRET must not be empty")
            self._verify_key: str = settings.jwt_secret
            self._signing_key: str | None = settings.jwt_secret
        else:
            if not has_crypto:
                raise AuthConfigurationError(
                    f"{self.algorithm} tokens need the 'cryptography' package"
                )
            self._verify_key = _pem(settings.jwt_public_key or "")
            private = settings.jwt_private_key
            self._signing_key = _pem(private) if private else None

    def issue(self, subject: str, role: str, ttl_seconds: int | None = None) -> str:
        """A signed token for ``subject`` in ``role``, valid from now for ``ttl_seconds``
        (default ``jwt_ttl_seconds``; at most 30 days)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles: {role_names()}")
        if not subject:
            raise ValueError("subject must not be empty")
        ttl = self.settings.jwt_ttl_seconds if ttl_seconds is None else ttl_seconds
        if not 1 <= ttl <= MAX_TTL_SECONDS:
            raise ValueError(f"ttl must be 1 to {MAX_TTL_SECONDS} seconds, not {ttl}")
        if self._signing_key is None:
            raise AuthConfigurationError(
                f"issuing {self.algorithm} tokens needs SWARMLOG_JWT_PRIVATE_KEY "
                "(a PEM private key); this process can only verify them"
            )
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": subject,
            "role": role,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "iss": self.issuer,
            "aud": self.audience,
        }
        return jwt.encode(claims, self._signing_key, algorithm=self.algorithm)

    def verify(self, token: str | None) -> Principal:
        """The principal of a valid token; ``Unauthenticated`` saying why otherwise."""
        if token is None or not token.strip():
            raise _unauthenticated("missing", "no token: send 'Authorization: Bearer <token>'")
        token = token.strip()
        with self._lock:
            known = self._verified.get(token)
            if known is not None:
                principal, expires = known
                if time.time() < expires:
                    self._verified.move_to_end(token)
                    return principal
                del self._verified[token]
        if known is not None:
            raise _unauthenticated("expired", "token expired")
        principal, expires = self._decode(token)
        with self._lock:
            self._verified[token] = (principal, expires)
            if len(self._verified) > VERIFIED_KEPT:
                self._verified.popitem(last=False)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        """Verify ``token`` in full: the principal and the token's expiry (epoch seconds)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _unauthenticated("malformed", f"malformed token ({error})") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise _unauthenticated("alg_none", "unsigned token (alg none) refused")
        if alg != self.algorithm:
            raise _unauthenticated(
                "algorithm", f"token algorithm {alg} refused; this server accepts {self.algorithm}"
            )
        try:
            claims = jwt.decode(
                token,
                self._verify_key,
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthenticated("expired", "token expired") from None
        except jwt.ImmatureSignatureError:
            raise _unauthenticated("not_yet_valid", "token not yet valid (nbf/iat)") from None
        except jwt.InvalidSignatureError:
            raise _unauthenticated("bad_signature", "bad token signature") from None
        except jwt.InvalidAlgorithmError:
            raise _unauthenticated("algorithm", "token algorithm refused") from None
        except jwt.InvalidIssuerError:
            raise _unauthenticated(
                "wrong_issuer", f"wrong token issuer (expected {self.issuer!r})"
            ) from None
        except jwt.InvalidAudienceError:
            raise _unauthenticated(
                "wrong_audience", f"wrong token audience (expected {self.audience!r})"
            ) from None
        except jwt.MissingRequiredClaimError as error:
            raise _unauthenticated(
                "missing_claim", f"token lacks the {error.claim!r} claim"
            ) from None
        except jwt.InvalidTokenError as error:
            raise _unauthenticated("malformed", f"malformed token ({error})") from None
        subject, role, jti = claims["sub"], claims["role"], claims.get("jti")
        if not isinstance(subject, str) or not subject:
            raise _unauthenticated("malformed", "malformed token (sub must be a string)")
        if not isinstance(role, str) or role not in ROLES:
            raise _unauthenticated("unknown_role", f"unknown role {role!r} in token")
        return principal_for(subject, role, jti if isinstance(jti, str) else None), claims["exp"]

    def verify_authorization(self, header: str | None) -> Principal:
        """The principal of an HTTP ``Authorization: Bearer <token>`` header value."""
        if header is None or not header.strip():
            return self.verify(None)
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated("malformed", "Authorization header must be 'Bearer <token>'")
        return self.verify(token)
