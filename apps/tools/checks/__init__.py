"""Sandboxed network checks an agent may run: an HTTP probe, a DNS lookup, a TLS certificate
check. Pure functions over the network: the caller passes the tenant's allow-list; nothing
here touches the database or runs a process.

The address rule every connection follows is in ``address_policy``."""
