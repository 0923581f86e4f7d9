"""Business rules and the data model. Views call into here; nothing else changes state."""
