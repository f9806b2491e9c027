"""A stand-in OpenID Connect provider for the tests: a real HTTP(S) server on 127.0.0.1.

It serves a discovery document and a JWKS built from keys generated in the test,
and counts the requests it receives, so the tests can check what the service
fetches and how often.
"""

import datetime
import ipaddress
import json
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.algorithms import RSAAlgorithm

DISCOVERY_PATH = "/realms/test/.well-known/openid-configuration"
JWKS_PATH = "/realms/test/protocol/openid-connect/certs"


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls, key_id: str) -> Self:
        return cls(key_id, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def public_jwk(self, **members: str) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.key_id, "alg": "RS256", "use": "sig", **members}

    def sign(self, claims: dict[str, Any], key_id: str | None = None) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": key_id or self.key_id})


class OIDCProvider:
    """Serves DISCOVERY_PATH and JWKS_PATH; `jwks` may be changed while it runs."""

    def __init__(self, jwks: list[dict[str, Any]], tls: ssl.SSLContext | None = None) -> None:
        self.jwks = jwks
        self.requests: Counter[str] = Counter()
        # An outage: every request answered with 503 while this is true.
        self.failing = False
        # A slow provider: JWKS requests wait until `release` is set (it is, unless
        # a test clears it); `holding` is set once a JWKS request is waiting.
        self.release = threading.Event()
        self.release.set()
        self.holding = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._scheme = "http"
        if tls is not None:
            # The handshake happens in the request thread, so a client that
            # rejects the certificate cannot block the accepting loop.
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True, do_handshake_on_connect=False)
            self._scheme = "https"
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def configuration_url(self) -> str:
        return self.base_url + DISCOVERY_PATH

    @property
    def issuer(self) -> str:
        return self.base_url + "/realms/test"

    def document(self, path: str) -> dict[str, Any] | None:
        if path == DISCOVERY_PATH:
            return {"issuer": self.issuer, "jwks_uri": self.base_url + JWKS_PATH}
        if path == JWKS_PATH:
            return {"keys": self.jwks}
        return None

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving: connections are refused from now on (calling it again does nothing)."""
        self.release.set()  # no request stays held
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _handler_for(provider: OIDCProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.requests[self.path] += 1
            if self.path == JWKS_PATH and not provider.release.is_set():
                provider.holding.set()
                provider.release.wait(30)
            if provider.failing:
                self.send_error(503)
                return
            document = provider.document(self.path)
            if document is None:
                self.send_error(404)
                return
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    return Handler


def make_tls_files(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A private CA (written to ca.pem) and a server context whose certificate it signed for 127.0.0.1.

    The certificates carry the extensions that Python 3.13+'s strict X.509
    checks ask for, so they behave like a real private CA.
    """
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(hours=1))

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
    chain_file = directory / "server.pem"
    chain_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + server_certificate.public_bytes(serialization.Encoding.PEM)
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(chain_file)
    return ca_file, server_context


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
