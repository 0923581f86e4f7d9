"""VNC authentication proxy (arrives with the VNC console issue)."""
