"""Settings from the environment, parsed once per container.

Every setting has one name (the environment variable) and one default; `.env.example`
lists them all. In the cloud the CDK app sets them on each function. A plain dataclass
rather than a pydantic model: this module is on every cold start's path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    database_url: str = "postgresql://dogwalk@127.0.0.1:54329/dogwalk"
    redis_url: str = "redis://127.0.0.1:63799/0"
    # the region whose RDS signs an IAM auth token as DATABASE_URL's password on every new connection
    # (the cloud: the RDS Proxy requires IAM auth); empty: the URL's own password, if any (local)
    database_iam_auth_region: str = ""
    # the database's master secret (`{"username", "password", ...}`): the restore validation connects to a
    # restore test's cluster with it (a restored cluster keeps the source's master user); empty: none
    database_secret_id: str = ""
    # the ElastiCache serverless cache whose IAM auth token is REDIS_URL's password on every new
    # connection (the cloud: the cache's user authenticates with IAM); empty: no token (local)
    redis_iam_auth_cache: str = ""
    # how long a request may wait for PostgreSQL or Redis before it answers 503
    dependency_timeout_s: float = 3.0
    # sign-ups (password or Apple/Google) from one address an hour; the local end-to-end platform,
    # whose every client is 127.0.0.1, raises it
    register_per_ip_per_hour: int = 10
    signing_key_secret_id: str = "dogwalk/local/jwt-signing-keys"  # noqa: S105 - a name, not a secret
    payments_secret_id: str = "dogwalk/local/payments"  # noqa: S105 - a name, not a secret
    # unset: Stripe's own API; the local platform and the tests point it at localstripe
    stripe_api_base: str = ""
    # the WebSocket API's connection-management endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage});
    # the local platform serves one; empty: nobody watches live, nothing is pushed
    websocket_management_url: str = ""
    # the SNS topic domain events are published to (the local platform makes one on moto); empty: kept in the outbox
    events_topic_arn: str = ""
    # the apps' web address: links in notifications (a walk's report card, a booking)
    app_base_url: str = "https://app.dogwalk.example"
    # the sender of notification emails (a verified SES identity; `make run` verifies it on moto)
    notifications_from_email: str = "DogWalk <notifications@dogwalk.example>"
    # the SNS platform applications push goes through (FCM HTTP v1; APNs token-based, APNS or APNS_SANDBOX);
    # `make run` makes both on moto; empty: devices are kept, push is skipped
    push_fcm_application_arn: str = ""
    push_apns_application_arn: str = ""
    jwt_issuer: str = "https://api.dogwalk.local"
    jwt_audience: str = "dogwalk-apps"
    access_token_ttl_s: int = 900
    max_body_bytes: int = 256 * 1024
    # the operator admin that every deploy makes sure of (created, or its password reset), when both are set
    admin_email: str = ""
    admin_password: str = field(default="", repr=False)
    # Sign in with Apple and Google: each provider's issuers and published keys, and our client ids (the
    # apps' bundle id, Services ID or OAuth client ids; comma-separated): an ID token's `aud` must be one
    # of them. No client id: that provider's tokens are refused.
    oidc_apple_issuers: str = "https://appleid.apple.com"
    oidc_apple_jwks_url: str = "https://appleid.apple.com/auth/keys"
    oidc_apple_client_ids: str = ""
    oidc_google_issuers: str = "https://accounts.google.com,accounts.google.com"
    oidc_google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    oidc_google_client_ids: str = ""
    # the local platform's stand-in providers: `<this>/<provider>` signs, `<this>/<provider>/jwks` holds
    # the keys; the local gateway names itself here. Trusted only while the stage is local.
    oidc_local_issuer: str = ""
    # the KMS key whose data keys seal the owners' home access (access instructions, lockbox code,
    # emergency contact): its ARN in the cloud; locally an alias that `make run` and the tests make on moto
    home_access_key_id: str = "alias/dogwalk/local/home-access"
    # where a walker's stock tracker app (OwnTracks, Overland) sends to (POST /v1/walkers/me/tracker answers
    # them): the HTTP URL (empty: the tracker endpoint on the host and stage the request came in on) and
    # the MQTT host and port (the cloud: the devices domain configuration's `domainName`; empty: MQTT not offered)
    tracker_http_url: str = ""
    tracker_mqtt_host: str = ""
    # AWS IoT custom authentication: port 443 with the TLS ALPN protocol `mqtt` (8883 is X.509 only)
    tracker_mqtt_port: int = 443
    # the S3 bucket of walk photos: uploads (presigned POST) under `walks/`, which the bucket notifies the
    # photo check of; the checked copies and thumbnails under `photos/` and `thumbnails/`
    photos_bucket: str = "dogwalk-local-walk-photos"
    # each page of GET /v1/auth/me/export stays under this many bytes (Lambda answers at most 6 MB)
    export_page_bytes: int = 2_000_000
    # "powertools" adds Tracer subsegments (about 250 ms of cold start); X-Ray itself is on in the cloud
    tracing: str = "off"

    def __post_init__(self) -> None:
        if self.dependency_timeout_s <= 0 or self.access_token_ttl_s <= 0 or self.max_body_bytes <= 0:
            raise ValueError("timeouts, token lifetime and body limit must be positive")
        if not 0 < self.export_page_bytes <= 5_000_000:  # headroom under Lambda's 6 MB for headers
            raise ValueError("the export's page must be between 1 byte and 5 MB")


# each setting's variable is DOGWALK_<NAME>, but for the two that every tool knows by these names
_UNPREFIXED = {"database_url": "DATABASE_URL", "redis_url": "REDIS_URL"}
_ENV = {item.name: _UNPREFIXED.get(item.name, f"DOGWALK_{item.name.upper()}") for item in fields(Settings)}
_TYPES = {"int": int, "float": float, "str": str}


@lru_cache(maxsize=1)
def settings() -> Settings:
    values = {}
    for setting in fields(Settings):
        raw = os.environ.get(_ENV[setting.name])
        if raw is not None:
            try:
                values[setting.name] = _TYPES[str(setting.type)](raw)
            except ValueError:
                raise ValueError(f"{_ENV[setting.name]}={raw!r} is not a valid {setting.type}") from None
    return Settings(**values)


def environment_names() -> dict[str, str]:
    """Setting name → environment variable, for the CDK app and the local platform."""
    return dict(_ENV)
