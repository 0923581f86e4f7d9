"""identity API."""
