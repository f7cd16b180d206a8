"""Regional and industry risk analysis (区域性、行业性风险研判)."""
