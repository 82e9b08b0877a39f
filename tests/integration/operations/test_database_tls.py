"""PostgreSQL over TLS as the cloud connects (sslmode=verify-full against the layer's authorities).

The embedded PostgreSQL is built without TLS, so TLS is terminated in front of it, the way RDS Proxy
does in front of Aurora: a listener here answers PostgreSQL's SSLRequest, completes the handshake
with a certificate from an authority made in the test (for `localhost` only), then relays the plain
protocol to the session's server. On that: our connection verifies the chain and the name and
speaks TLS 1.3, and the layer's RDS authorities refuse a server they did not sign."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dogwalk.adapters import db
from tests.conftest import Dependencies, _forget_configuration

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104  # PostgreSQL's protocol: the first message's code


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey]
                 | None = None, *, dns: str | None = None) -> x509.Certificate:  # fmt: skip
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signer = issuer or (name, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@dataclass
class TlsTerminator:
    """TLS in front of a plain PostgreSQL server; the protocol version of each handshake made."""

    upstream: tuple[str, int]
    context: ssl.SSLContext
    versions: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            _, code = struct.unpack("!ii", _exactly(client, 8))
            if code == GSSENC_REQUEST:  # no GSSAPI encryption here: the client asks for TLS next
                client.sendall(b"N")
                _, code = struct.unpack("!ii", _exactly(client, 8))
            if code != SSL_REQUEST:
                client.close()
                return
            client.sendall(b"S")
            tls = self.context.wrap_socket(client, server_side=True)
        except (OSError, ssl.SSLError, ConnectionError):  # a client that refused our certificate
            client.close()
            return
        self.versions.append(tls.version())
        server = socket.create_connection(self.upstream)
        threading.Thread(target=_pump, args=(server, tls), daemon=True).start()
        _pump(tls, server)

    def close(self) -> None:
        self.listener.close()


@dataclass(frozen=True)
class TlsServer:
    terminator: TlsTerminator
    credentials: dict[str, str]  # user, password, dbname of the server behind
    authority: Path  # the PEM of the authority that signed the certificate

    def url(self, host: str, **tls: str) -> str:
        return make_conninfo(**self.credentials, host=host, port=str(self.terminator.port), **tls)


@pytest.fixture(scope="module")
def tls_server(dependencies: Dependencies, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    root = tmp_path_factory.mktemp("tls")
    authority_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    authority = _certificate("dogwalk test authority", authority_key)
    server = _certificate("localhost", server_key, (authority.subject, authority_key), dns="localhost")
    (root / "authority.pem").write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    (root / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (root / "server.key").write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # what the client agrees to is what is measured
    context.load_cert_chain(root / "server.pem", root / "server.key")
    behind = conninfo_to_dict(dependencies.database_url)
    terminator = TlsTerminator((str(behind["host"]), int(str(behind["port"]))), context)
    credentials = {key: str(behind[key]) for key in ("user", "password", "dbname") if behind.get(key)}
    try:
        yield TlsServer(terminator, credentials, root / "authority.pem")
    finally:
        terminator.close()


def test_our_connection_verifies_the_servers_chain_and_name_and_speaks_tls_1_3(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", tls_server.url("localhost", sslmode="verify-full",
                                                      sslrootcert=str(tls_server.authority)))  # fmt: skip
    _forget_configuration()
    try:
        with db.transaction() as conn:
            assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
            assert conn.pgconn.ssl_in_use
    finally:
        db.reset()

    assert tls_server.terminator.versions[-1] == "TLSv1.3"


@pytest.mark.parametrize("trust", [db.RDS_PROXY_TRUST, db.RDS_TRUST], ids=["rds-proxy", "rds"])
def test_the_layers_rds_authorities_refuse_a_server_they_did_not_sign(tls_server: TlsServer, trust: Path) -> None:
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(tls_server.url("localhost", sslmode="verify-full", sslrootcert=str(trust)), connect_timeout=5)


def test_verify_full_refuses_a_certificate_made_out_to_another_name(tls_server: TlsServer) -> None:
    authority = str(tls_server.authority)
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        psycopg.connect(tls_server.url("127.0.0.1", sslmode="verify-full", sslrootcert=authority), connect_timeout=5)
    # the chain alone (verify-ca) would have let it through
    with psycopg.connect(tls_server.url("127.0.0.1", sslmode="verify-ca", sslrootcert=authority)) as conn:
        assert conn.pgconn.ssl_in_use
