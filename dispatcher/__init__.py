"""The dispatcher: consumes Ganeti events from the bus and applies them to the DB.

For each message: lock the row, apply it through the one state-transition
function (``logic.events``), commit, then ack. Several dispatchers may run at once.
"""
