"""``cyclades-manage backend-undrain NAME...``."""

from logic.management.commands._backend_flag import command

Command = command(what="drained", value=False, help_text="Undrain backends: new servers may be placed there again.")
