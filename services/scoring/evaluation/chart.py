"""The problem-found rate per class as a picture: a bar chart for the terminal and,
on request, the same as a small self-contained SVG (no plotting library needed)."""

from __future__ import annotations

from html import escape

from services.scoring.evaluation.metrics import CLASSES, ClassRate

BAR = "█"
COLOURS = {"A": "#4c9a2a", "B": "#c9b22c", "C": "#e07b24", "D": "#c0392b"}


def text_bars(rates: dict[str, ClassRate], width: int = 40) -> list[str]:
    """One line per class, bars scaled to the highest rate."""
    top = max((r.rate for r in rates.values() if r.inspected), default=0.0) or 1.0
    lines = ["problem-found rate by class"]
    for c in CLASSES:
        r = rates[c]
        if not r.inspected:
            lines.append(f"  {c} {'':<{width}}   -     (none inspected)")
            continue
        bar = BAR * max(1, round(width * r.rate / top)) if r.problems else ""
        lines.append(
            f"  {c} {bar:<{width}} {100 * r.rate:5.1f}%  ({r.problems:,} of {r.inspected:,})"
        )
    return lines


def svg_bars(rates: dict[str, ClassRate], title: str) -> str:
    width, height, left, bottom, top_pad = 420, 260, 50, 40, 40
    plot_h = height - bottom - top_pad
    top = max((r.rate for r in rates.values() if r.inspected), default=0.0) or 1.0
    slot = (width - left - 20) / len(CLASSES)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        'stroke="#333"/>',
    ]
    for k, c in enumerate(CLASSES):
        r = rates[c]
        rate = r.rate if r.inspected else 0.0
        h = plot_h * rate / top
        x = left + k * slot + slot * 0.2
        y = height - bottom - h
        parts += [
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{h:.1f}" '
            f'fill="{COLOURS[c]}"/>',
            f'<text x="{x + slot * 0.3:.1f}" y="{y - 5:.1f}" text-anchor="middle">'
            f"{100 * rate:.1f}%</text>",
            f'<text x="{x + slot * 0.3:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{c} (n={r.inspected:,})</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
