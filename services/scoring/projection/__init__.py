"""The registry's entities as scoring sees them, kept from ``registry.entities``."""
