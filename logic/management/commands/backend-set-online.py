"""``cyclades-manage backend-set-online NAME...`` (the same as ``backend-set-offline --online``)."""

from logic.management.commands._backend_flag import command

Command = command(what="offline", value=False, help_text="Mark backends online again (RAPI calls resume).")
