"""Append-only, hash-chained audit log of class reads, exports and model changes."""
