"""Synthetic-data generator: realistic Shanxi populations of inspection objects, their
credit-relevant records and the inspectors, in the registry import format, with the
hidden true risk beside them for evaluating the classification."""

from services.registry.generator.generate import REFERENCE_DATE, generate

__all__ = ["REFERENCE_DATE", "generate"]
