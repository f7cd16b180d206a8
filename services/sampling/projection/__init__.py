"""The registry's entities and inspectors as sampling sees them, kept from
``registry.entities`` and ``registry.inspectors``."""
