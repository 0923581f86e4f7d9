"""compute API."""
