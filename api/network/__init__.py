"""network API."""
