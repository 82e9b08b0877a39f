"""What every deploy runs before new code takes traffic (the CDK app's custom resource; `make run`
at start): the SQL migrations, the signing key, and the operator admin when the settings name one.

A secondary region's cluster of the global database is read-only: the primary region's deploy
migrates, and the schema reaches this region by replication."""

from __future__ import annotations

from dataclasses import dataclass

from dogwalk.adapters import db, migrations
from dogwalk.adapters.observability import logger
from dogwalk.auth import accounts, signing_keys
from dogwalk.config import settings


@dataclass(frozen=True)
class Deployed:
    applied: list[str]
    read_only: bool


def deploy() -> Deployed:
    with db.connect(autocommit=True) as conn:
        read_only = conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        applied = [] if read_only else migrations.apply(conn)
    signing_keys.ensure_signing_key()
    if read_only:
        logger.info("read-only database (a secondary region): migrations left to the primary region")
        return Deployed(applied=[], read_only=True)
    config = settings()
    if config.admin_email and config.admin_password:
        accounts.ensure_operator_admin(config.admin_email, config.admin_password)
        logger.info("operator admin ensured")
    logger.info("migrations applied", extra={"applied": applied})
    return Deployed(applied=applied, read_only=False)
