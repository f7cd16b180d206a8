"""Registry service: the two directories (一单两库) — inspection objects and inspectors —
and the credit-relevant records collected about objects (信息归集)."""
