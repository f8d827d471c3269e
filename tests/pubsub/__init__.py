"""Durable delivery and Pub/Sub input, tested against the real Pub/Sub emulator."""
