"""``cyclades-manage user-disable USER...``."""

from logic.management.commands._set_enabled import command

Command = command(enabled=False)
