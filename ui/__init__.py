"""The browser UI: a jQuery single-page app over the public APIs (see ui/views.py)."""
