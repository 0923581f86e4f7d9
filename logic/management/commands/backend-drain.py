"""``cyclades-manage backend-drain NAME...``."""

from logic.management.commands._backend_flag import command

Command = command(
    what="drained", value=True, help_text="Drain backends: existing servers keep working, no new server goes there."
)
