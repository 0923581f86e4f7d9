"""eventd: watches a Ganeti master's job queue and publishes every opcode status change.

Runs on the Ganeti master without Django: stdlib, pika (through :mod:`bus`) and
inotify_simple only.
"""
