"""The operator's side of the logic layer: inventory, suspensions, node roles (used by the admin API and commands)."""
