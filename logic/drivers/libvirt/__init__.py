"""The libvirt driver: plain libvirt/QEMU hosts as backends (kind ``libvirt``).

* :mod:`.connections`: one libvirt connection per URI and process, and libvirt's event loop;
* :mod:`.templates`: domain XML rendered from (operator-overridable) templates and validated;
* :mod:`.jobs`: the operations of :mod:`logic.ganeti_jobs`, done through libvirt;
* :mod:`.messages`: what happened, as messages of the event contract;
* :mod:`.lifecycle`: libvirt's domain lifecycle events published on the bus.
"""
