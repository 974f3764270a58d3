"""LDAP authentication: a simple bind as the user, through ldap3.

The bind DN comes from a template such as ``uid={username},ou=people,dc=example,dc=org``; the username is
escaped for the DN. ldap3 is synchronous, so callers run `bind_as_user` in a thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ldap3 import BASE, NONE, Connection, Server
from ldap3.core.exceptions import LDAPException
from ldap3.utils.dn import escape_rdn

from gateway.core.enums import UserType
from gateway.core.errors import DirectoryUnavailable, reason_of

INVALID_CREDENTIALS = 49


@dataclass(frozen=True, slots=True)
class LdapConfig:
    url: str
    bind_dn_template: str
    user_type: UserType = UserType.DEV
    timeout_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    display_name: str
    email: str | None


def bind_as_user(config: LdapConfig, username: str, password: str) -> DirectoryUser | None:
    """Bind as the user; their directory entry when the password is right, None when it is not."""
    if not password:
        # An empty password is an unauthenticated bind, which servers accept: never treat it as a login.
        return None
    dn = config.bind_dn_template.format(username=escape_rdn(username))
    server = Server(config.url, connect_timeout=config.timeout_seconds, get_info=NONE)
    # ldap3 packs the receive timeout into a socket option that takes whole seconds.
    receive_timeout = max(1, math.ceil(config.timeout_seconds))
    connection = Connection(server, user=dn, password=password, receive_timeout=receive_timeout)
    try:
        if not connection.bind():
            if connection.result.get("result") == INVALID_CREDENTIALS:
                return None
            raise DirectoryUnavailable(f"the LDAP server refused the bind: {connection.result.get('description')}")
        connection.search(dn, "(objectClass=*)", BASE, attributes=["cn", "displayName", "mail"])
        entry = connection.entries[0] if connection.entries else None
    except LDAPException as exc:
        raise DirectoryUnavailable(f"cannot reach the LDAP server at {config.url}: {reason_of(exc)}") from None
    finally:
        connection.unbind()
    if entry is None:
        return DirectoryUser(display_name=username, email=None)
    attributes = entry.entry_attributes_as_dict
    name = (attributes.get("displayName") or attributes.get("cn") or [username])[0]
    mail = (attributes.get("mail") or [None])[0]
    return DirectoryUser(display_name=str(name), email=str(mail) if mail else None)
