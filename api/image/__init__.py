"""image API."""
