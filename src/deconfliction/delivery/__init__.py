"""Durable delivery: the per-party outbox of events, and what wakes the streams."""
