"""Tokens and roles: issuing, verifying, every refusal, and who may do what."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from typer.testing import CliRunner

import application.commands
from adapters import auth as auth_module
from adapters.auth import (
    DEV_JWT_SECRET,
    ROLES,
    AuthConfigurationError,
    Forbidden,
    Principal,
    TokenService,
    Unauthenticated,
    authorise,
    jwt_secret_is_default,
    principal_for,
)
from adapters.settings import Settings
from api.cli import app
from application.commands.base import Command

SECRET = "test-secret-that-is-long-enough-for-hs256!"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"jwt_secret": SECRET, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def service() -> TokenService:
    return TokenService(settings())


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": "someone",
        "role": "operator",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "token-1",
        "iss": "swarmlog",
        "aud": "swarmlog-api",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def craft(key: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, algorithm="HS256")


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def refusal(service: TokenService, token: str | None) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        service.verify(token)
    assert caught.value.code == "UNAUTHENTICATED"
    return caught.value


# -- issuing and verifying -----------------------------------------------------------


@pytest.mark.parametrize("role", list(ROLES))
def test_a_token_issued_for_each_role_verifies_to_that_role_and_its_permissions(
    service: TokenService, role: str
) -> None:
    principal = service.verify(service.issue("alice", role))

    assert principal.subject == "alice"
    assert principal.role == role
    assert principal.permissions == frozenset(ROLES[role])
    assert principal.jti


def test_an_issued_token_carries_every_standard_claim(service: TokenService) -> None:
    token = service.issue("alice", "viewer", ttl_seconds=120)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], audience="swarmlog-api")

    assert set(payload) == {"sub", "role", "iat", "nbf", "exp", "jti", "iss", "aud"}
    assert payload["exp"] - payload["iat"] == 120
    assert payload["iss"] == "swarmlog"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_issuing_for_an_unknown_role_is_refused(service: TokenService) -> None:
    with pytest.raises(ValueError, match="viewer, operator, admin"):
        service.issue("alice", "root")


def test_a_bearer_authorization_header_verifies(service: TokenService) -> None:
    token = service.issue("alice", "admin")

    assert service.verify_authorization(f"Bearer {token}").role == "admin"
    assert refusal_of_header(service, f"Basic {token}") == "malformed"
    assert refusal_of_header(service, None) == "missing"


def refusal_of_header(service: TokenService, header: str | None) -> str:
    with pytest.raises(Unauthenticated) as caught:
        service.verify_authorization(header)
    return str(caught.value.details["reason"])


# -- every refusal -------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "   "])
def test_no_token_is_refused_as_missing(service: TokenService, token: str | None) -> None:
    assert refusal(service, token).details["reason"] == "missing"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "not-a.jwt", "eyJhbGciOi.x.y"])
def test_a_garbage_token_is_refused_as_malformed(service: TokenService, token: str) -> None:
    assert refusal(service, token).details["reason"] == "malformed"


def test_an_expired_token_is_refused(service: TokenService) -> None:
    past = int(time.time()) - 3600
    token = craft(iat=past, nbf=past, exp=past + 60)

    error = refusal(service, token)
    assert error.details["reason"] == "expired"
    assert "expired" in error.message


def counting_decodes(service: TokenService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens ``service`` verifies in full (decodes), in order, from now on."""
    decoded: list[str] = []
    decode = service._decode

    def counted(token: str) -> tuple[Principal, float]:
        decoded.append(token)
        return decode(token)

    monkeypatch.setattr(service, "_decode", counted)
    return decoded


def test_a_token_verified_once_is_refused_once_it_has_expired(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verified token is kept so as not to be decoded again, but never past its expiry."""
    decoded = counting_decodes(service, monkeypatch)
    expires = int(time.time()) + 600
    token = craft(exp=expires)
    assert service.verify(token) == service.verify(token)
    assert decoded == [token]

    monkeypatch.setattr(auth_module.time, "time", lambda: expires + 1.0)
    assert refusal(service, token).details["reason"] == "expired"


def test_the_kept_verifications_are_bounded(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = counting_decodes(service, monkeypatch)
    tokens = [craft(jti=f"token-{i}") for i in range(auth_module.VERIFIED_KEPT + 5)]
    for token in tokens:
        service.verify(token)
    service.verify(tokens[-1])  # still kept
    service.verify(tokens[0])  # let go of: decoded again
    assert decoded == [*tokens, tokens[0]]


def test_a_token_not_yet_valid_is_refused(service: TokenService) -> None:
    token = craft(nbf=int(time.time()) + 600, exp=int(time.time()) + 1200)

    error = refusal(service, token)
    assert error.details["reason"] == "not_yet_valid"
    assert "not yet valid" in error.message


def test_a_token_whose_role_was_edited_keeps_a_signature_that_no_longer_matches(
    service: TokenService,
) -> None:
    header, _payload, signature = service.issue("mallory", "viewer").split(".")
    forged_payload = b64url(claims(sub="mallory", role="admin"))
    tampered = f"{header}.{forged_payload}.{signature}"

    assert refusal(service, tampered).details["reason"] == "bad_signature"


def test_an_unsigned_alg_none_token_is_refused(service: TokenService) -> None:
    unsigned = f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims(role='admin'))}."

    error = refusal(service, unsigned)
    assert error.details["reason"] == "alg_none"
    assert "alg none" in error.message


def test_a_token_of_another_algorithm_is_refused(service: TokenService) -> None:
    token = jwt.encode(claims(), SECRET * 2, algorithm="HS512")

    assert refusal(service, token).details["reason"] == "algorithm"


def test_a_token_signed_with_a_wrong_secret_is_refused(service: TokenService) -> None:
    token = craft(key="another-secret-that-is-also-long-enough!!")

    assert refusal(service, token).details["reason"] == "bad_signature"


def test_a_token_for_another_issuer_is_refused(service: TokenService) -> None:
    error = refusal(service, craft(iss="someone-else"))
    assert error.details["reason"] == "wrong_issuer"


def test_a_token_for_another_audience_is_refused(service: TokenService) -> None:
    error = refusal(service, craft(aud="another-api"))
    assert error.details["reason"] == "wrong_audience"


def test_a_token_of_an_unknown_role_is_refused(service: TokenService) -> None:
    error = refusal(service, craft(role="root"))
    assert error.details["reason"] == "unknown_role"
    assert "root" in error.message


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "sub", "role", "iss", "aud"])
def test_a_token_missing_a_required_claim_is_refused(service: TokenService, claim: str) -> None:
    token = craft(**{claim: None})

    error = refusal(service, token)
    assert error.details["reason"] == "missing_claim"
    assert claim in error.message


def test_permissions_added_as_a_claim_grant_nothing(service: TokenService) -> None:
    token = craft(role="viewer", permissions=["*"], scope="admin")

    principal = service.verify(token)
    assert principal.role == "viewer"
    assert principal.permissions == frozenset(ROLES["viewer"])
    assert not principal.can("task:create")
    assert not principal.can("projection:rebuild")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_issued_by_another_deployment_with_the_default_secret_is_refused(
    service: TokenService,
) -> None:
    assert refusal(service, craft(key=DEV_JWT_SECRET)).details["reason"] == "bad_signature"


# -- configuration -------------------------------------------------------------------


def test_the_development_secret_is_detected_so_serve_can_warn() -> None:
    assert jwt_secret_is_default(Settings(_env_file=None))  # type: ignore[call-arg]
    assert not jwt_secret_is_default(settings())


def test_an_asymmetric_algorithm_without_a_public_key_is_a_configuration_error() -> None:
    with pytest.raises(AuthConfigurationError, match="JWT_PUBLIC_KEY"):
        TokenService(settings(jwt_algorithm="RS256"))


def test_a_public_key_with_hs256_is_a_configuration_error() -> None:
    with pytest.raises(AuthConfigurationError, match="RS256 or ES256"):
        TokenService(settings(jwt_public_key="-----BEGIN PUBLIC KEY-----"))


def test_rs256_tokens_round_trip_and_need_the_private_key_to_be_issued() -> None:
    pytest.importorskip(
        "cryptography", reason="the 'cryptography' package (needed by PyJWT for RS256) is absent"
    )
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    signer = TokenService(
        settings(jwt_algorithm="RS256", jwt_public_key=public, jwt_private_key=private)
    )
    verifier = TokenService(settings(jwt_algorithm="RS256", jwt_public_key=public))

    token = signer.issue("alice", "operator")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert verifier.verify(token).role == "operator"
    with pytest.raises(AuthConfigurationError, match="JWT_PRIVATE_KEY"):
        verifier.issue("alice", "operator")
    # The public key used as an HMAC secret (algorithm confusion) is refused.
    confused = jwt.encode(claims(), "x" * 64, algorithm="HS256")
    assert refusal(verifier, confused).details["reason"] == "algorithm"


# -- who may do what -----------------------------------------------------------------


def command_permissions() -> set[str]:
    assert application.commands  # every command module imported
    found: set[str] = set()
    pending = list(Command.__subclasses__())
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if kind.permission:
            found.add(kind.permission)
    return found


VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
EXPECTED: dict[str, set[str]] = {
    # every command's permission
    "agent:spawn": {OPERATOR, ADMIN},
    "agent:transition": {OPERATOR, ADMIN},
    "agent:pause": {OPERATOR, ADMIN},
    "agent:resume": {OPERATOR, ADMIN},
    "agent:terminate": {OPERATOR, ADMIN},
    "swarm:init": {OPERATOR, ADMIN},
    "swarm:join": {OPERATOR, ADMIN},
    "swarm:leave": {OPERATOR, ADMIN},
    "swarm:scale": {OPERATOR, ADMIN},
    "swarm:optimize": {OPERATOR, ADMIN},
    "swarm:shutdown": {OPERATOR, ADMIN},
    "swarm:strategy": {OPERATOR, ADMIN},
    "task:create": {OPERATOR, ADMIN},
    "task:assign": {OPERATOR, ADMIN},
    "task:start": {OPERATOR, ADMIN},
    "task:progress": {OPERATOR, ADMIN},
    "task:complete": {OPERATOR, ADMIN},
    "task:fail": {OPERATOR, ADMIN},
    "task:retry": {OPERATOR, ADMIN},
    "task:cancel": {OPERATOR, ADMIN},
    "task:timeout": {OPERATOR, ADMIN},
    "proposal:create": {OPERATOR, ADMIN},
    "proposal:vote": {OPERATOR, ADMIN},
    "proposal:close": {OPERATOR, ADMIN},
    "system:policy": {ADMIN},
    # administration
    "projection:rebuild": {ADMIN},
    "projection:reset": {ADMIN},
    "audit:read": {ADMIN},
    "neural:train": {ADMIN},
    "neural:activate": {ADMIN},
    "neural:export": {ADMIN},
    "neural:import": {ADMIN},
    # reading
    "agent:read": {VIEWER, OPERATOR, ADMIN},
    "swarm:read": {VIEWER, OPERATOR, ADMIN},
    "task:read": {VIEWER, OPERATOR, ADMIN},
    "proposal:read": {VIEWER, OPERATOR, ADMIN},
    "expertise:read": {VIEWER, OPERATOR, ADMIN},
    "metrics:read": {VIEWER, OPERATOR, ADMIN},
    "events:read": {VIEWER, OPERATOR, ADMIN},
    "neural:read": {VIEWER, OPERATOR, ADMIN},
}
READS = {permission for permission, roles in EXPECTED.items() if VIEWER in roles}


def test_the_matrix_covers_the_permission_of_every_command() -> None:
    assert command_permissions() <= set(EXPECTED)


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("permission", list(EXPECTED))
def test_each_role_is_allowed_exactly_its_permissions(role: str, permission: str) -> None:
    principal = principal_for("someone", role)
    allowed = role in EXPECTED[permission]

    assert principal.can(permission) is allowed
    if allowed:
        authorise(principal, permission)
    else:
        with pytest.raises(Forbidden) as caught:
            authorise(principal, permission)
        assert caught.value.code == "FORBIDDEN"
        assert permission in caught.value.message
        assert caught.value.details["permission"] == permission


def test_a_viewer_is_denied_every_mutation() -> None:
    viewer = principal_for("someone", "viewer")

    assert not any(viewer.can(permission) for permission in command_permissions())
    assert all(viewer.can(permission) for permission in READS)


def test_an_operator_may_neither_rebuild_projections_nor_issue_policy_commands() -> None:
    operator = principal_for("someone", "operator")

    assert not operator.can("projection:rebuild")
    assert not operator.can("system:policy")
    assert not operator.can("audit:read")


def test_no_role_but_admin_is_granted_system_policy_by_any_pattern() -> None:
    for role, patterns in ROLES.items():
        principal = Principal("someone", role, frozenset(patterns))
        assert principal.can("system:policy") is (role == "admin")


def test_a_glob_in_the_asked_permission_does_not_widen_a_grant() -> None:
    viewer = principal_for("someone", "viewer")

    assert not viewer.can("*")
    assert not viewer.can("task:*")


# -- the command line ----------------------------------------------------------------


def test_the_token_command_prints_only_a_token_that_verifies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWARMLOG_JWT_SECRET", SECRET)
    result = CliRunner().invoke(app, ["token", "--role", "operator", "--subject", "ci"])

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "\n" not in token
    principal = TokenService(settings()).verify(token)
    assert (principal.subject, principal.role) == ("ci", "operator")


def test_the_token_command_refuses_an_unknown_role_listing_the_roles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWARMLOG_JWT_SECRET", SECRET)
    result = CliRunner().invoke(app, ["token", "--role", "root"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown role" in result.stderr
    for role in ROLES:
        assert role in result.stderr
