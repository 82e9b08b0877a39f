"""Route geometry, pure: a local plane in metres around a route, Douglas-Peucker simplification
with a tolerance in metres, and fitting a route into a drawing with a scale bar.

A walk spans a few kilometres, so an equirectangular plane around the route's mean latitude is
within centimetres of the great-circle distances; it is what the tolerance and the drawing use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG), as `tracking.distance_m`

Position = tuple[float, float]  # (lat, lon) in degrees
XY = tuple[float, float]  # (east, north) in metres


@dataclass(frozen=True)
class Plane:
    """An equirectangular plane: metres east and north of (`lat0`, `lon0`), the east scaled by
    the cosine of `lat0`."""

    lat0: float
    lon0: float

    def xy(self, lat: float, lon: float) -> XY:
        east = (lon - self.lon0 + 180.0) % 360.0 - 180.0  # a walk across the antimeridian stays whole
        return (
            math.radians(east) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0)),
            math.radians(lat - self.lat0) * EARTH_RADIUS_M,
        )


def plane_around(positions: Sequence[Position]) -> Plane:
    """The plane at the positions' mean latitude, its origin's longitude that of the first one."""
    if not positions:
        return Plane(0.0, 0.0)
    return Plane(math.fsum(lat for lat, _ in positions) / len(positions), positions[0][1])


def project(positions: Sequence[Position]) -> list[XY]:
    plane = plane_around(positions)
    return [plane.xy(lat, lon) for lat, lon in positions]


def segment_distance(p: XY, a: XY, b: XY) -> float:
    """Distance from `p` to the segment a-b (to `a` itself when the segment is a point)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy))


def simplify_xy(points: Sequence[XY], tolerance_m: float) -> list[int]:
    """The indices Douglas-Peucker keeps: the ends, and each point farther than `tolerance_m`
    from the segment between the points kept around it. Every point left out lies within
    `tolerance_m` of the simplified line. Iterative (a 2-hour walk at 1 Hz is 7,200 points), with
    `segment_distance` inlined and squared: the scan is the whole cost."""
    count = len(points)
    if count <= 2:
        return list(range(count))
    xs, ys = [x for x, _ in points], [y for _, y in points]
    keep = [False] * count
    keep[0] = keep[-1] = True
    pending = [(0, count - 1)]
    limit = max(tolerance_m, 0.0) ** 2
    while pending:
        first, last = pending.pop()
        ax, ay = xs[first], ys[first]
        dx, dy = xs[last] - ax, ys[last] - ay
        length2 = dx * dx + dy * dy
        farthest, farthest2 = first, limit
        for index in range(first + 1, last):
            px, py = xs[index] - ax, ys[index] - ay
            t = 0.0 if length2 == 0.0 else (px * dx + py * dy) / length2
            t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
            ex, ey = px - t * dx, py - t * dy
            d2 = ex * ex + ey * ey
            if d2 > farthest2:
                farthest, farthest2 = index, d2
        if farthest > first:
            keep[farthest] = True
            pending.append((first, farthest))
            pending.append((farthest, last))
    return [index for index, kept in enumerate(keep) if kept]


def simplify(positions: Sequence[Position], tolerance_m: float) -> list[int]:
    """`simplify_xy` of positions in degrees, measured in their local plane."""
    return simplify_xy(project(positions), tolerance_m)


def nice_length(at_most_m: float) -> float:
    """The longest round length (1, 2 or 5 times a power of ten, in metres) not over `at_most_m`: a scale bar's."""
    if at_most_m <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(at_most_m))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= at_most_m * (1 + 1e-9))


@dataclass(frozen=True)
class Frame:
    """Where plane metres land in a drawing: north up, the aspect kept, the route centred."""

    scale: float  # drawing units per metre
    origin_x: float  # drawing x of 0 m east
    origin_y: float  # drawing y of 0 m north

    def place(self, point: XY) -> XY:
        return self.origin_x + point[0] * self.scale, self.origin_y - point[1] * self.scale


def fit(points: Sequence[XY], left: float, top: float, width: float, height: float, min_span_m: float = 100.0) -> Frame:
    """The frame that draws `points` as large as fits the box, centred; a route smaller than
    `min_span_m` (or a single point) is drawn at the scale of that span, not blown up."""
    if not points:
        return Frame(width / min_span_m, left + width / 2, top + height / 2)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    span_x, span_y = max(max(xs) - min(xs), min_span_m), max(max(ys) - min(ys), min_span_m)
    scale = min(width / span_x, height / span_y)
    centre_x, centre_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return Frame(scale, left + width / 2 - centre_x * scale, top + height / 2 + centre_y * scale)
