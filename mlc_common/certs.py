"""A small private PKI for the simulated agent, the demo and TLS tests.

Real customers run their own CA; the simulator needs one it can write on the spot: a CA, a
server certificate for the agent and a client certificate for ml-connector. The options for
broken certificates (expired, signed by another CA, wrong host name) exist so tests can prove
the client refuses each with a clear error. Keys are ECDSA P-256: quick to make, accepted
everywhere TLS 1.2+ is.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_DNS_NAMES = ("localhost",)
DEFAULT_IP_ADDRESSES = ("127.0.0.1",)
DEFAULT_CLIENT_NAME = "ml-connector"


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate with its private key (a CA is one of these too)."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True, slots=True)
class Pki:
    """Where `write_pki` put each file; the CA is the one that signed the client certificate."""

    directory: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def in_directory(cls, directory: Path | str) -> Pki:
        """The file names `write_pki` uses in `directory` (whether or not they exist yet)."""
        directory = Path(directory)
        return cls(
            directory=directory,
            ca_cert=directory / "ca.pem",
            server_cert=directory / "server.pem",
            server_key=directory / "server.key",
            client_cert=directory / "client.pem",
            client_key=directory / "client.key",
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ml-connector simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def make_ca(
    common_name: str = "ml-connector simulator CA",
    *,
    now: datetime | None = None,
    valid_for: timedelta = timedelta(days=3650),
) -> Issued:
    """A self-signed CA able to sign server and client certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now(now) - timedelta(hours=1)
    name = _name(common_name)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate, key)


def _issue(
    ca: Issued,
    common_name: str,
    *,
    usage: x509.ObjectIdentifier,
    san: Sequence[x509.GeneralName],
    not_before: datetime,
    not_after: datetime,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def issue_server_cert(
    ca: Issued,
    *,
    dns_names: Sequence[str] = DEFAULT_DNS_NAMES,
    ip_addresses: Sequence[str] = DEFAULT_IP_ADDRESSES,
    expired: bool = False,
    now: datetime | None = None,
    valid_for: timedelta = timedelta(days=825),
) -> Issued:
    """The agent's certificate; `expired=True` makes one that ended yesterday."""
    current = _now(now)
    if expired:
        not_before, not_after = current - timedelta(days=60), current - timedelta(days=1)
    else:
        not_before, not_after = current - timedelta(hours=1), current + valid_for
    san: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    san += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    common_name = dns_names[0] if dns_names else ip_addresses[0]
    return _issue(
        ca,
        common_name,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        san=san,
        not_before=not_before,
        not_after=not_after,
    )


def issue_client_cert(
    ca: Issued,
    common_name: str = DEFAULT_CLIENT_NAME,
    *,
    now: datetime | None = None,
    valid_for: timedelta = timedelta(days=825),
) -> Issued:
    """ml-connector's certificate; the simulator tells clients apart by `common_name`."""
    current = _now(now)
    return _issue(
        ca,
        common_name,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        san=(),
        not_before=current - timedelta(hours=1),
        not_after=current + valid_for,
    )


def write_pem(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write PEM bytes; private keys get mode 0600 from the moment the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(path, 0o600)
    else:
        path.write_bytes(data)


def _signed_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _current(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc


def _reusable(
    pki: Pki, dns_names: Sequence[str], ip_addresses: Sequence[str], now: datetime
) -> bool:
    """True when the files exist, parse, chain to ca.pem, are current and name the same hosts."""
    try:
        ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
        server = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
        client = x509.load_pem_x509_certificate(pki.client_cert.read_bytes())
        server_key = serialization.load_pem_private_key(pki.server_key.read_bytes(), None)
        client_key = serialization.load_pem_private_key(pki.client_key.read_bytes(), None)
        san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, x509.ExtensionNotFound):
        return False
    wanted_dns = set(dns_names)
    wanted_ips = {ipaddress.ip_address(ip) for ip in ip_addresses}
    return (
        all(_current(cert, now) for cert in (ca, server, client))
        and _signed_by(server, ca)
        and _signed_by(client, ca)
        and server_key.public_key() == server.public_key()
        and client_key.public_key() == client.public_key()
        and set(san.get_values_for_type(x509.DNSName)) == wanted_dns
        and set(san.get_values_for_type(x509.IPAddress)) == wanted_ips
    )


def write_pki(
    directory: Path | str,
    *,
    dns_names: Sequence[str] = DEFAULT_DNS_NAMES,
    ip_addresses: Sequence[str] = DEFAULT_IP_ADDRESSES,
    client_name: str = DEFAULT_CLIENT_NAME,
    server_expired: bool = False,
    server_from_other_ca: bool = False,
    now: datetime | None = None,
) -> Pki:
    """Write ca.pem, server.pem/.key and client.pem/.key into `directory`, return the paths.

    Valid files already there (current, chained to ca.pem, same host names) are kept, so a
    demo restarted with the same directory keeps working with certificates already handed out.
    The failure options always write fresh files: `server_from_other_ca` signs the server
    certificate with a CA that is not in ca.pem (it is saved as other-ca.pem).
    """
    pki = Pki.in_directory(directory)
    current = _now(now)
    broken = server_expired or server_from_other_ca
    if not broken and _reusable(pki, dns_names, ip_addresses, current):
        return pki
    ca = make_ca(now=current)
    server_ca = ca
    if server_from_other_ca:
        server_ca = make_ca("another CA", now=current)
        write_pem(pki.directory / "other-ca.pem", server_ca.cert_pem)
    server = issue_server_cert(
        server_ca,
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        expired=server_expired,
        now=current,
    )
    client = issue_client_cert(ca, client_name, now=current)
    write_pem(pki.ca_cert, ca.cert_pem)
    write_pem(pki.server_cert, server.cert_pem)
    write_pem(pki.server_key, server.key_pem, private=True)
    write_pem(pki.client_cert, client.cert_pem)
    write_pem(pki.client_key, client.key_pem, private=True)
    return pki
