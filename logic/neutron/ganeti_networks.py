"""Networks on Ganeti: a network becomes a Ganeti network on each cluster that hosts one of its ports.

Lazily: the first job that puts a NIC on the network on a cluster first submits
``OP_NETWORK_ADD`` and one ``OP_NETWORK_CONNECT`` per node group (each
depending on the add), and the NIC's job depends on the connects, so Ganeti
runs them in order and a failed connect fails the create instead of
half-wiring it. While those jobs may still be running, later users depend on
them too; once they are seen to have succeeded the copy is ACTIVE and nothing
more is asked of Ganeti.

Our database decides the addresses: every NIC is created with its port's IP,
which Ganeti then reserves in its pool (the mirror). A network without an
IPv4 subnet has no Ganeti network (Ganeti needs a range): its NICs sit on the
link directly. Networks an operator mapped to a Ganeti network by hand
(``ganeti_network`` set, no copy recorded) are left as they are.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction

from logic.errors import ConflictError
from logic.models import Backend, BackendNetwork, Network, Port, Subnet
from logic.rapi import JobFailed, RapiClient, RapiError, RapiNotFound, RapiUnavailable

log = logging.getLogger(__name__)

#: How long the first use of a network on a cluster waits for its add and connect jobs.
SETTLE_SECONDS = 20
CONNECT_RETRIES = 3
_DONE = "success"
_FAILED = ("error", "canceled", "canceling")


def ganeti_name(network: Network) -> str:
    """``<prefix>-net-<uuid>``: the Ganeti network of an API network."""
    return f"{settings.CYCLADES['GANETI_PREFIX']}-net-{network.pk}"


def nic_name(port: Port) -> str:
    return f"{settings.CYCLADES['GANETI_PREFIX']}-nic-{port.pk}"


def operator_managed(network: Network) -> bool:
    return bool(network.ganeti_network) and not network.backend_networks.exists()


def needs_ganeti_network(network: Network) -> bool:
    """Whether NICs on ``network`` join a Ganeti network we manage (it has an IPv4 subnet)."""
    return not operator_managed(network) and Subnet.objects.filter(network=network, ip_version=4).exists()


def _subnets(network: Network) -> tuple[Subnet | None, Subnet | None]:
    subnets = list(Subnet.objects.filter(network=network).order_by("created_at"))
    v4 = next((s for s in subnets if s.ip_version == 4), None)
    v6 = next((s for s in subnets if s.ip_version == 6), None)
    return v4, v6


def _copy(network: Network, backend: Backend) -> BackendNetwork:
    """The (locked) copy of ``network`` on ``backend``, created on first use."""
    for _ in range(2):
        found = BackendNetwork.objects.select_for_update().filter(network=network, backend=backend).first()
        if found is not None:
            return found
        try:
            with transaction.atomic():
                return BackendNetwork.objects.create(network=network, backend=backend, ganeti_name=ganeti_name(network))
        except IntegrityError:
            continue  # made meanwhile: lock that one
    raise RuntimeError(f"could not record network {network.pk} on backend {backend.pk}")


def _status(client: RapiClient, job_id: int | None) -> str | None:
    if job_id is None:
        return None
    try:
        return client.get_job(job_id).get("status")
    except RapiNotFound:
        return None  # archived: it ended long ago


def _exists(client: RapiClient, name: str) -> bool:
    try:
        client.get_network(name)
        return True
    except RapiNotFound:
        return False


def ensure(network: Network, backend: Backend, client: RapiClient) -> list[int]:
    """Make ``network`` usable on ``backend``; returns the job ids a job using it must depend on.

    Must run inside the caller's transaction (the copy row is locked until it commits).
    """
    if not needs_ganeti_network(network):
        return []
    v4, v6 = _subnets(network)
    copy = _copy(network, backend)
    if copy.state == BackendNetwork.State.ACTIVE:
        return []
    depends: list[int] = []
    add_status = _status(client, copy.add_job_id)
    if copy.add_job_id is None or add_status in _FAILED or (add_status is None and not _exists(client, copy.ganeti_name)):
        copy.add_job_id = client.create_network(
            copy.ganeti_name,
            v4.cidr,
            gateway=v4.gateway_ip,
            network6=v6.cidr if v6 else None,
            gateway6=v6.gateway_ip if v6 else None,
            mac_prefix=network.mac_prefix or settings.CYCLADES["NETWORK_MAC_PREFIX"],
            tags=[f"{settings.CYCLADES['GANETI_PREFIX']}:network:{network.pk}"],
        )
        copy.connect_jobs = {}
        add_status = "queued"
    if add_status != _DONE and add_status is not None:
        depends.append(copy.add_job_id)
    link = network.ganeti_link or settings.CYCLADES["NETWORK_LINK"]
    after_add = list(depends)
    jobs = dict(copy.connect_jobs)
    submitted = []
    for group in client.list_groups():
        status = _status(client, jobs.get(group)) if group in jobs else None
        if group not in jobs or status in _FAILED:
            jobs[group] = _connect(client, copy.ganeti_name, group, network.ganeti_mode, link, after_add)
            submitted.append(group)
            status = "queued"
        if status != _DONE and status is not None:
            depends.append(jobs[group])
    if submitted:
        depends = _settle(client, copy, jobs, network.ganeti_mode, link, depends)
    copy.connect_jobs = jobs
    copy.state = BackendNetwork.State.PENDING if depends else BackendNetwork.State.ACTIVE
    copy.save()
    if not network.ganeti_network:
        Network.objects.filter(pk=network.pk).update(ganeti_network=copy.ganeti_name)
        network.ganeti_network = copy.ganeti_name
    log.info("network %s on %s: depends on jobs %s", copy.ganeti_name, backend.name, depends)
    return depends


def _settle(client: RapiClient, copy: BackendNetwork, jobs: dict, mode: str, link: str, depends: list[int]) -> list[int]:
    """Wait (briefly) for the new add/connect jobs; resubmit a connect Ganeti asks to retry.

    On a busy cluster OP_NETWORK_CONNECT fails with "Instances in node group ...
    changed since locks were acquired; retry the operation" when instances come
    and go meanwhile. A create depending on it would fail with it, so the first
    use of a network on a cluster waits up to ``SETTLE_SECONDS`` for its jobs and
    retries such connects; jobs still running then are left for the NIC's job to
    depend on. Returns the job ids still to depend on.
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    pending = list(depends)
    for job in list(pending):
        group = next((g for g, j in jobs.items() if j == job), None)
        for attempt in range(CONNECT_RETRIES + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return pending
            try:
                client.wait_for_job(job, timeout=remaining)
                pending.remove(job)
                break
            except RapiUnavailable:
                return pending  # still running: depend on it
            except JobFailed as exc:
                if group is None or "retry the operation" not in str(exc) or attempt == CONNECT_RETRIES:
                    raise ConflictError(
                        f"Ganeti network {copy.ganeti_name} could not be set up on {copy.backend.name}: {exc}"
                    ) from None
                log.info("connect of %s to %s must be retried: %s", copy.ganeti_name, group, exc)
                pending.remove(job)
                job = jobs[group] = _connect(client, copy.ganeti_name, group, mode, link, [])
                pending.append(job)
    return pending


def _connect(client: RapiClient, name: str, group: str, mode: str, link: str, depends: list[int]) -> int:
    return client.connect_network(name, group, mode=mode, link=link, depends=list(depends))


def nic_spec(port: Port) -> dict:
    """The Ganeti NIC of a port: its MAC, its IPv4 address, on its Ganeti network (or its link)."""
    network = port.network
    v4 = next((a.ip_address for a in port.fixed_ips.all() if ":" not in a.ip_address), None)
    spec: dict = {"mac": port.mac, "name": nic_name(port)}
    if network.ganeti_network:
        spec["network"] = network.ganeti_network
    else:  # on the link directly (networks registered without one use the cluster's default NIC link)
        spec["mode"] = network.ganeti_mode
        if network.ganeti_link:
            spec["link"] = network.ganeti_link
    if v4 is not None:
        spec["ip"] = v4
    elif network.ganeti_network and not Subnet.objects.filter(network=network, ip_version=4).exists():
        spec["ip"] = "pool"  # an operator's Ganeti network we hold no pool for: Ganeti picks, the events tell us
    return spec


def host_nic_spec(port: Port) -> dict:
    """The NIC of a port on a libvirt host (no Ganeti network there): its MAC and IPv4 address on the
    network's link (a bridge on the host; none: the host's libvirt network), naming the API network."""
    network = port.network
    v4 = next((a.ip_address for a in port.fixed_ips.all() if ":" not in a.ip_address), None)
    spec: dict = {"mac": port.mac, "name": nic_name(port), "mode": network.ganeti_mode, "network_id": str(network.pk)}
    if network.ganeti_link:
        spec["link"] = network.ganeti_link
    if v4 is not None:
        spec["ip"] = v4
    return spec


def forget(network: Network, backend: Backend, client: RapiClient) -> list[int]:
    """Disconnect and remove the network from ``backend`` (when its last port is gone); returns the job ids.

    A disconnect Ganeti asks to retry (instances of the group changed meanwhile) is retried,
    as for connects; what still fails is left for ``reconcile-networks`` to report (an orphan).
    """
    copy = BackendNetwork.objects.filter(network=network, backend=backend).first()
    if copy is None:
        return []
    jobs = []
    try:
        for group in copy.connect_jobs:
            jobs.append(_retrying(client, lambda group=group: client.disconnect_network(copy.ganeti_name, group)))
        jobs.append(client.remove_network(copy.ganeti_name, depends=jobs))
    except (RapiError, ConflictError) as exc:
        log.warning("could not remove network %s from %s: %s", copy.ganeti_name, backend.name, exc)
        return jobs
    copy.delete()
    return jobs


def _retrying(client: RapiClient, submit) -> int:
    """Submit a job and wait (up to ``SETTLE_SECONDS``) for it, resubmitting when Ganeti asks to retry."""
    deadline = time.monotonic() + SETTLE_SECONDS
    for attempt in range(CONNECT_RETRIES + 1):
        job = submit()
        try:
            client.wait_for_job(job, timeout=max(deadline - time.monotonic(), 1))
            return job
        except RapiUnavailable:
            return job  # still running: what follows depends on it
        except JobFailed as exc:
            if "retry the operation" not in str(exc) or attempt == CONNECT_RETRIES:
                raise
    raise AssertionError("unreachable")
