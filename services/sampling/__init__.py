"""Sampling service: the item list, plans and tasks, verifiable draws of objects and
inspectors (RFC 3797), assignments and results."""
