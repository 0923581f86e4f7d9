"""Ganeti post hooks that report what only a hook sees (NICs, IPs, MACs). Stdlib only."""
