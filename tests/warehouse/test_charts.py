"""The stats charts' colours: sports of one family are told apart at a glance."""

from __future__ import annotations

import re

import pytest

from warehouse.charts import lines, sport_color


def _lab(hex_color: str) -> tuple[float, float, float]:
    """sRGB hex to CIE L*a*b* (D65)."""
    rgb = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb]
    xyz = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def delta_e(one: str, other: str) -> float:
    return sum((a - b) ** 2 for a, b in zip(_lab(one), _lab(other), strict=True)) ** 0.5


@pytest.mark.parametrize(("one", "other"), [
    ("Ride", "GravelRide"), ("Ride", "MountainBikeRide"), ("GravelRide", "MountainBikeRide"), ("Ride", "EBikeRide"),
    ("Ride", "VirtualRide"), ("Run", "TrailRun"), ("Run", "VirtualRun"), ("Walk", "Hike"), ("Hike", "TrailRun"),
])
def test_sports_of_one_family_have_clearly_different_colours(one, other):
    # A CIE76 difference of 40 is far beyond "noticeable" (about 2.3): two different colours, not two shades.
    assert delta_e(sport_color(one), sport_color(other)) > 40


def test_year_labels_that_would_overlap_are_spread_with_a_leader_line():
    flat = [float(v) for v in range(12)]
    svg = str(lines(["m"] * 12, [("2019", flat), ("2018", flat), ("2013", flat)]))

    ys = sorted(float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)" class="legend"', svg))
    assert len(ys) == 3
    assert all(b - a >= 14 for a, b in zip(ys, ys[1:], strict=False))
    assert svg.count("<line x1=") >= 2 + 5  # grid lines plus the leaders of the two labels moved
