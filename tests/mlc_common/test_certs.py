"""The private PKI: files, permissions, reuse, and the broken variants TLS tests rely on."""

from __future__ import annotations

import ipaddress
import stat
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509

from mlc_common.certs import write_pki
from tests.fixtures.simulator import client_ssl_context


def load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_write_pki_writes_a_chained_set_with_private_keys_0600(tmp_path):
    pki = write_pki(tmp_path / "pki")
    ca, server, client = load(pki.ca_cert), load(pki.server_cert), load(pki.client_cert)
    server.verify_directly_issued_by(ca)
    client.verify_directly_issued_by(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert (
        client.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "ml-connector"
    )
    for key in (pki.server_key, pki.client_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_valid_files_are_reused_and_broken_ones_replaced(tmp_path):
    pki = write_pki(tmp_path)
    written = [pki.ca_cert.read_bytes()]
    assert write_pki(tmp_path) == pki
    written.append(pki.ca_cert.read_bytes())
    pki.server_key.write_text("garbage")
    write_pki(tmp_path)
    written.append(pki.ca_cert.read_bytes())
    write_pki(tmp_path, now=datetime.now(UTC) + timedelta(days=900))  # server cert expired
    written.append(pki.ca_cert.read_bytes())
    write_pki(tmp_path, dns_names=("sage01.corp.example",))  # other host name
    written.append(pki.ca_cert.read_bytes())
    assert written[0] == written[1]
    assert len(set(written)) == 4


def test_broken_variants(tmp_path):
    expired = write_pki(tmp_path / "expired", server_expired=True)
    assert load(expired.server_cert).not_valid_after_utc < datetime.now(UTC)
    stranger = write_pki(tmp_path / "other", server_from_other_ca=True)
    with pytest.raises(ValueError):
        load(stranger.server_cert).verify_directly_issued_by(load(stranger.ca_cert))
    load(stranger.server_cert).verify_directly_issued_by(load(tmp_path / "other" / "other-ca.pem"))
    load(stranger.client_cert).verify_directly_issued_by(load(stranger.ca_cert))


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"server_expired": True}, "certificate has expired"),
        ({"server_from_other_ca": True}, "unable to get local issuer certificate"),
        ({"dns_names": ("sage01.corp.example",), "ip_addresses": ()}, "Hostname mismatch"),
    ],
)
async def test_a_client_refuses_each_broken_server_certificate(
    start_simulator, tmp_path, options, reason
):
    pki = write_pki(tmp_path, **options)
    server = await start_simulator(pki=pki)
    async with httpx.AsyncClient(verify=client_ssl_context(pki)) as client:
        with pytest.raises(httpx.ConnectError, match=reason):
            await client.get(f"{server.base_url}/v1/health")
