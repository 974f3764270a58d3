"""A real OpenLDAP server (Debian's slapd) on a loopback port, with its own database directory.

Configured non-interactively from a slapd.conf written here; its directory holds the people in `PEOPLE`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUFFIX = "dc=example,dc=org"
BIND_DN_TEMPLATE = "uid={username},ou=people," + SUFFIX
# uid -> (password, common name, mail)
PEOPLE = {
    "grace": ("grace-ldap-password", "Grace Hopper", "grace@example.org"),
    "alan": ("alan-ldap-password", "Alan Turing", "alan@example.org"),
}
SCHEMAS = ("core", "cosine", "inetorgperson")


@dataclass(frozen=True)
class LdapServer:
    url: str
    process: subprocess.Popen[bytes]


def slapd_available() -> bool:
    return all(shutil.which(tool) for tool in ("slapd", "slapadd", "slappasswd"))


def start_ldap_server(directory: Path) -> LdapServer:
    data = directory / "data"
    data.mkdir(parents=True)
    config = directory / "slapd.conf"
    config.write_text(
        "\n".join(
            [*(f"include /etc/ldap/schema/{schema}.schema" for schema in SCHEMAS),
             f"pidfile {directory / 'slapd.pid'}",
             "modulepath /usr/lib/ldap",
             "moduleload back_mdb",
             "database mdb",
             f'suffix "{SUFFIX}"',
             f'rootdn "cn=admin,{SUFFIX}"',
             f"directory {data}",
             "access to attrs=userPassword by anonymous auth by self read by * none",
             "access to * by self read by users read by anonymous auth",
             ""]
        )
    )  # fmt: skip
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
    ]
    for uid, (password, name, mail) in PEOPLE.items():
        hashed = subprocess.run(
            ["slappasswd", "-s", password], capture_output=True, text=True, check=True
        ).stdout.strip()
        entries.append(
            f"dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {name}\n"
            f"sn: {name.split()[-1]}\ndisplayName: {name}\nmail: {mail}\nuserPassword: {hashed}\n"
        )
    (directory / "base.ldif").write_text("\n".join(entries))
    subprocess.run(["slapadd", "-f", str(config), "-l", str(directory / "base.ldif")], capture_output=True, check=True)
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (directory / "slapd.log").open("wb")
    # -d 0 keeps slapd in the foreground, so the test owns the process and stops it.
    process = subprocess.Popen(["slapd", "-f", str(config), "-h", f"{url}/", "-d", "0"], stdout=log, stderr=log)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"slapd did not start: {(directory / 'slapd.log').read_text()}") from None
            time.sleep(0.1)
    return LdapServer(url=url, process=process)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
