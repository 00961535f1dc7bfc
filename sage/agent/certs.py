"""`agent certs`: the certificates one agent and its connector need, and where each goes.

One CA signs both the agent's server certificate (for the host names the connector will use)
and the connector's client certificate; the agent trusts client certificates from that CA
(`client_ca`) and the connector trusts the agent through it (`ca_cert`). Keys are written
mode 0600. The CA's own key is not kept: issuing again means running this again and handing
out the new files.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path

from mlc_common.certs import Pki, write_pki


def split_hosts(hosts: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(DNS names, IP addresses) among the hosts named."""
    names, addresses = [], []
    for host in hosts:
        try:
            addresses.append(str(ipaddress.ip_address(host)))
        except ValueError:
            names.append(host)
    return tuple(names), tuple(addresses)


def write_agent_certs(directory: Path, hosts: Sequence[str], port: int = 8443) -> tuple[Pki, str]:
    """Write the files; return them and the lines to paste into agent.toml and the
    workspace file."""
    names, addresses = split_hosts(hosts)
    pki = write_pki(directory, dns_names=names, ip_addresses=addresses)
    folder = pki.directory.resolve()
    guide = "\n".join(
        [
            f"Wrote {folder}: ca.pem, server.pem, server.key (agent), client.pem, client.key "
            "(connector).",
            "",
            "On the Sage server, in agent.toml:",
            "  [server]",
            f'  cert = "file:{(folder / "server.pem").as_posix()}"',
            f'  key = "file:{(folder / "server.key").as_posix()}"',
            f'  client_ca = "file:{(folder / "ca.pem").as_posix()}"',
            "",
            "Copy client.pem, client.key and ca.pem to the connector; in its workspace file:",
            "  [sage]",
            f'  agent_url = "https://{hosts[0]}:{port}"',
            '  auth = "mtls"',
            '  client_cert = "file:/etc/ml-connector/client.pem"',
            '  client_key = "file:/etc/ml-connector/client.key"',
            '  ca_cert = "file:/etc/ml-connector/ca.pem"',
        ]
    )
    return pki, guide
