"""The database side of the node agent: a node's taps -> policies and NAT; change notifications.

:func:`snapshot` finds each tap's port by the MAC Ganeti gave the NIC (MACs are
unique across ports). A tap whose MAC no port has (a NIC this cloud did not
make) is quarantined: pinned to its MAC and the IP Ganeti gave it, with no
rules, so it reaches nobody and nobody reaches it. Floating IPs associated with
a fixed IP of one of the node's ports become DNAT/SNAT entries.

Every change that can alter a node's rules (ports, their fixed IPs and groups,
rules, floating IPs) sends ``NOTIFY cyclades_netagent`` inside its transaction:
PostgreSQL delivers it at commit (once per transaction, nothing on rollback),
and :class:`Listener` wakes the agent.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Sequence

from django.db import connections
from django.db.models.signals import m2m_changed, post_delete, post_save

from logic.models import BackendNetwork, FloatingIP, IPAllocation, Port, SecurityGroup, SecurityGroupRule
from logic.neutron import firewall
from netagent.agent import Snapshot
from netagent.rules import Nat, NicPolicy
from netagent.taps import Tap

CHANNEL = "cyclades_netagent"
log = logging.getLogger("cyclades.netagent")


def snapshot(taps: Sequence[Tap], *, backend: str | None = None, bridge_prefix: str = "") -> Snapshot:
    """What the database says of ``taps``; with ``backend`` and ``bridge_prefix``, also the per-network
    bridges of the networks connected on that cluster (a rebooted node makes them again before a start needs them)."""
    by_mac = {t.mac: t for t in taps}
    ports = list(Port.objects.filter(mac__in=list(by_mac)).prefetch_related("fixed_ips", "security_groups"))
    known = {p.mac for p in ports}
    nics = firewall.policies(ports, lambda p: by_mac[p.mac].iface)
    nics += [
        NicPolicy(iface=t.iface, mac=t.mac, ipv4=(t.ip,) if t.ip and "." in t.ip else ()) for t in taps if t.mac not in known
    ]
    link_of = {p.pk: by_mac[p.mac].link for p in ports}
    fips = FloatingIP.objects.filter(port__in=ports, fixed_ip_address__isnull=False).values_list(
        "floating_ip_address", "fixed_ip_address", "port_id"
    )
    nat = [Nat(floating, fixed, link_of[port_id]) for floating, fixed, port_id in fips if "." in fixed]
    bridges = []
    if backend and bridge_prefix:
        bridges = sorted(
            set(
                BackendNetwork.objects.filter(backend__name=backend, network__ganeti_link__startswith=bridge_prefix).values_list(
                    "network__ganeti_link", flat=True
                )
            )
        )
    return Snapshot(nics=nics, groups=firewall.remote_groups(ports), nat=nat, bridges=bridges)


def _notify(sender, using: str = "default", **kwargs) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")


def connect_signals() -> None:
    for model in (Port, IPAllocation, SecurityGroup, SecurityGroupRule, FloatingIP):
        post_save.connect(_notify, sender=model, dispatch_uid=f"netagent-save-{model.__name__}")
        post_delete.connect(_notify, sender=model, dispatch_uid=f"netagent-delete-{model.__name__}")
    m2m_changed.connect(_notify, sender=Port.security_groups.through, dispatch_uid="netagent-port-groups")


class Listener:
    """``LISTEN cyclades_netagent`` on a connection of its own; ``wait(timeout)`` is True when the cloud changed."""

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self.conn = None

    def _connect(self):
        import psycopg2

        s = connections[self.using].settings_dict
        conn = psycopg2.connect(
            dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"] or None, port=s["PORT"] or None
        )
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        return conn

    def wait(self, timeout: float) -> bool:
        import psycopg2

        try:
            if self.conn is None:
                self.conn = self._connect()
                return True  # (re)connected: whatever happened meanwhile was missed, so sync
            if select.select([self.conn], [], [], timeout)[0]:
                self.conn.poll()
            changed = bool(self.conn.notifies)
            self.conn.notifies.clear()
            return changed
        except psycopg2.Error as exc:
            log.warning("lost the notification connection (%s); reconnecting", exc)
            self.close()
            return True

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
