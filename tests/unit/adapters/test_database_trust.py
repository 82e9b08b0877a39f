"""The certificate authorities the layer carries for PostgreSQL's TLS in the cloud: OpenSSL loads every
one of them, each is a certificate authority valid today, and they cover what the stack connects to
(RDS Proxy's ACM certificates chain to Amazon Trust Services' roots; Aurora's own endpoints, which
the restore validation reaches, to Amazon RDS's authorities of each of the stack's regions)."""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from dogwalk.adapters import db
from tests.conftest import REPO

CONTEXT = json.loads((REPO / "cdk.json").read_text())["context"]


def names(bundle: Path) -> list[str]:
    return [
        str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
        for certificate in x509.load_pem_x509_certificates(bundle.read_bytes())
    ]


@pytest.mark.parametrize("bundle", [db.RDS_PROXY_TRUST, db.RDS_TRUST], ids=["rds-proxy", "rds"])
def test_each_certificate_of_a_bundle_is_an_authority_valid_today_that_openssl_loads(bundle: Path) -> None:
    certificates = x509.load_pem_x509_certificates(bundle.read_bytes())
    now = datetime.now(UTC)

    assert certificates
    for certificate in certificates:
        assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc, certificate.subject
    context = ssl.create_default_context(cafile=str(bundle))  # libpq reads it with the same OpenSSL
    assert context.cert_store_stats()["x509_ca"] == len(certificates)


def test_rds_proxys_bundle_holds_amazon_trust_services_roots() -> None:
    assert {f"Amazon Root CA {n}" for n in range(1, 5)} <= set(names(db.RDS_PROXY_TRUST))


@pytest.mark.parametrize("region", [CONTEXT["primary_region"], CONTEXT["secondary_region"]])
def test_the_rds_bundle_holds_every_authority_of_the_stacks_regions(region: str) -> None:
    expected = {f"Amazon RDS {region} Root CA {kind} G1" for kind in ("RSA2048", "RSA4096", "ECC384")}
    assert expected <= set(names(db.RDS_TRUST))
