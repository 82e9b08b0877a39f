"""Settings from the environment, parsed once per container.

Every setting has one name (the environment variable) and one default; `.env.example`
lists them all. In the cloud the CDK app sets them on each function.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = "local"
    database_url: str = "postgresql://dogwalk@127.0.0.1:54329/dogwalk"
    redis_url: str = "redis://127.0.0.1:63799/0"
    # how long a request may wait for PostgreSQL or Redis before it answers 503
    dependency_timeout_s: float = Field(default=3.0, gt=0)
    signing_key_secret_id: str = "dogwalk/local/jwt-signing-keys"  # noqa: S105 - a name, not a secret
    jwt_issuer: str = "https://api.dogwalk.local"
    jwt_audience: str = "dogwalk-apps"
    access_token_ttl_s: int = 900
    max_body_bytes: int = 256 * 1024
    # "powertools" adds Tracer subsegments (about 250 ms of cold start); X-Ray itself is on in the cloud
    tracing: str = "off"


_ENV = {  # nosec B105 - environment variable names, not secrets
    "stage": "DOGWALK_STAGE",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "dependency_timeout_s": "DOGWALK_DEPENDENCY_TIMEOUT_S",
    "signing_key_secret_id": "DOGWALK_SIGNING_KEY_SECRET_ID",
    "jwt_issuer": "DOGWALK_JWT_ISSUER",
    "jwt_audience": "DOGWALK_JWT_AUDIENCE",
    "access_token_ttl_s": "DOGWALK_ACCESS_TOKEN_TTL_S",
    "max_body_bytes": "DOGWALK_MAX_BODY_BYTES",
    "tracing": "DOGWALK_TRACING",
}


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.model_validate({field: os.environ[var] for field, var in _ENV.items() if var in os.environ})


def environment_names() -> dict[str, str]:
    """Setting name → environment variable, for the CDK app and the local platform."""
    return dict(_ENV)
