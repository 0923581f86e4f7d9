"""Cyclades: an OpenStack-compatible compute cloud on Ganeti clusters.

This package is the Django project (settings, URLs, WSGI) and the entry points
of every process. Settings are described and loaded by :mod:`cyclades.conf`.
"""

__version__ = "0.1.0"
