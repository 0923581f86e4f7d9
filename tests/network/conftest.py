"""Fixtures shared by the network tests: the netns lab (a bridge namespace) of the anti-spoofing test."""

from tests.network.test_antispoof_netns import lab  # noqa: F401  (a fixture: pytest finds it here)
