"""Scoring service: indicator models, A/B/C/D credit-risk classification, early warning
and analysis, fed by the registry's entities and records."""
