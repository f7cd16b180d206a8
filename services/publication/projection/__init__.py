"""The registry's entities as publication sees them, kept from ``registry.entities``.
Internal data: nothing here is served on the public API."""
