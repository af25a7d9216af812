"""The records store (SQLAlchemy): question log, feedback, yearly targets, console users, self-check counters."""
