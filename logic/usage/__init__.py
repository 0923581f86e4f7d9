"""Usage for billing: the servers' state history and the vCPU/RAM/disk-hours computed from it."""
