"""A simulated Ganeti master: RAPI over HTTPS plus job files in Ganeti's format.

Used by the embedded mode and by tests; the real Ganeti sandbox remains the proof
of compatibility (tests/contract runs the same scenarios against both).
"""

from simganeti.master import SimGaneti

__all__ = ["SimGaneti"]
