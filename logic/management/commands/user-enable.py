"""``cyclades-manage user-enable USER...``."""

from logic.management.commands._set_enabled import command

Command = command(enabled=True)
