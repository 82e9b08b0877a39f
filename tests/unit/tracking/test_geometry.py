"""Route geometry: Douglas-Peucker keeps the ends and a subsequence of the route, leaves out only
points within the tolerance of the simplified line, keeps every point of a curve at tolerance 0,
keeps less as the tolerance grows, and runs without recursion on any walk; the local plane agrees
with great-circle distances; scale bars are round; a drawing fits its box."""

from __future__ import annotations

import inspect
import itertools
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dogwalk.tracking import geometry, ingest

coordinates = st.floats(min_value=-5000, max_value=5000, allow_nan=False)
tracks = st.lists(st.tuples(coordinates, coordinates), max_size=60)
tolerances = st.floats(min_value=0, max_value=500, allow_nan=False)


def within_tolerance(points: list[geometry.XY], kept: list[int], tolerance: float) -> bool:
    """Every point left out lies within `tolerance` of the segment between the kept points around it."""
    return all(
        geometry.segment_distance(points[i], points[first], points[last]) <= tolerance + 1e-9
        for first, last in itertools.pairwise(kept)
        for i in range(first + 1, last)
    )


@given(tracks, tolerances)
def test_the_simplified_route_is_an_ordered_subset_with_both_ends(points: list[geometry.XY], tolerance: float) -> None:
    kept = geometry.simplify_xy(points, tolerance)

    assert kept == sorted(set(kept))
    assert set(kept) <= set(range(len(points)))
    if points:
        assert kept[0] == 0 and kept[-1] == len(points) - 1
    if len(points) <= 2:
        assert kept == list(range(len(points)))


@given(tracks, tolerances)
def test_every_point_left_out_is_within_the_tolerance_of_the_simplified_line(
    points: list[geometry.XY], tolerance: float
) -> None:
    assert within_tolerance(points, geometry.simplify_xy(points, tolerance), tolerance)


@given(tracks, tolerances, tolerances)
def test_a_larger_tolerance_keeps_a_subset(points: list[geometry.XY], one: float, other: float) -> None:
    low, high = sorted((one, other))

    assert set(geometry.simplify_xy(points, high)) <= set(geometry.simplify_xy(points, low))


@given(st.lists(st.integers(min_value=0, max_value=720), min_size=3, max_size=80, unique=True), st.floats(5, 5000))
def test_tolerance_zero_keeps_every_point_of_a_curve(steps: list[int], radius: float) -> None:
    # on a circle no three points are collinear: each is off the chord of its neighbours
    angles = [step * 1.9 * math.pi / 720 for step in sorted(steps)]
    points = [(radius * math.cos(a), radius * math.sin(a)) for a in angles]

    assert geometry.simplify_xy(points, 0) == list(range(len(points)))


def test_points_on_a_straight_line_and_repeated_points_simplify_to_the_ends() -> None:
    line = [(i * 1.5, i * 2.0) for i in range(100)]
    standing = [(3.0, 4.0)] * 50  # a walker waiting at a crossing

    assert geometry.simplify_xy(line, 1e-6) == [0, 99]
    assert geometry.simplify_xy(standing, 0) == [0, 49]


def test_a_loop_back_home_keeps_its_far_side() -> None:
    # the ends coincide: distances are to the point, not to a line through it
    loop = [(100 * math.sin(2 * math.pi * i / 40), 100 - 100 * math.cos(2 * math.pi * i / 40)) for i in range(41)]

    kept = geometry.simplify_xy(loop, 150)

    assert kept == [0, 20, 40]  # the farthest point, 200 m away, is more than 150 m from home


@contextmanager
def recursion_limit(headroom: int) -> Iterator[None]:
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def test_a_route_that_would_recurse_a_thousand_deep_simplifies_without_recursion() -> None:
    # an outward spiral: the farthest point from each chord is the one before its end, so a
    # recursive Douglas-Peucker would nest about n/2 deep, past Python's default limit of 1,000
    points = [(1.045**i * math.cos(i), 1.045**i * math.sin(i)) for i in range(2400)]

    with recursion_limit(headroom=30):
        kept = geometry.simplify_xy(points, 0)

    assert kept == list(range(2400))


def test_positions_are_simplified_in_metres() -> None:
    # east along a parallel, 6.9 m a step, with a 3 m bump in the middle (2.7e-5 degrees north)
    positions = [(51.5, -0.1 + i * 1e-4) for i in range(21)]
    positions[10] = (51.5 + 3 / 111_195, positions[10][1])

    assert geometry.simplify(positions, 3.1) == [0, 20]
    assert geometry.simplify(positions, 2.9) == [0, 10, 20]
    # the bump's neighbours are 2.7 m off the lines to its top
    assert geometry.simplify(positions, 2.6) == [0, 9, 10, 11, 20]


@given(
    st.floats(min_value=-70, max_value=70),
    st.floats(min_value=-180, max_value=180),
    st.floats(min_value=-0.03, max_value=0.03),
    st.floats(min_value=-0.03, max_value=0.03),
)
def test_the_local_plane_agrees_with_great_circle_distances_over_a_walk(
    lat: float, lon: float, dlat: float, dlon: float
) -> None:
    a, b = (lat, lon), (lat + dlat, (lon + dlon + 180) % 360 - 180)
    (ax, ay), (bx, by) = geometry.project([a, b])

    planar = math.hypot(bx - ax, by - ay)

    assert planar == pytest.approx(ingest.distance_m(*a, *b), rel=2e-3, abs=0.05)


def test_a_walk_across_the_antimeridian_stays_whole() -> None:
    (ax, _), (bx, _) = geometry.project([(-16.8, 179.9999), (-16.8, -179.9999)])  # Taveuni, Fiji

    assert abs(bx - ax) == pytest.approx(ingest.distance_m(-16.8, 179.9999, -16.8, -179.9999), rel=1e-3)


@given(st.floats(min_value=0.01, max_value=1e7))
def test_a_scale_bar_is_a_round_length_of_more_than_a_third_of_the_room(room: float) -> None:
    length = geometry.nice_length(room)

    assert length <= room * (1 + 1e-9)
    assert length > room / 2.5
    mantissa = length / 10 ** math.floor(math.log10(length) + 1e-9)
    assert min(abs(mantissa - step) for step in (1, 2, 5)) < 1e-6


@given(st.lists(st.tuples(coordinates, coordinates), min_size=1, max_size=40))
def test_a_fitted_route_fills_its_box_centred_with_the_aspect_kept(points: list[geometry.XY]) -> None:
    frame = geometry.fit(points, 10, 20, 300, 200)
    placed = [frame.place(p) for p in points]

    xs, ys = [x for x, _ in placed], [y for _, y in placed]
    assert min(xs) >= 10 - 1e-6 and max(xs) <= 310 + 1e-6
    assert min(ys) >= 20 - 1e-6 and max(ys) <= 220 + 1e-6
    assert (min(xs) + max(xs)) / 2 == pytest.approx(160) and (min(ys) + max(ys)) / 2 == pytest.approx(120)
    # one scale for both axes (north is up: y grows downwards)
    if len(points) >= 2:
        (x0, y0), (x1, y1) = points[0], points[-1]
        (px0, py0), (px1, py1) = placed[0], placed[-1]
        assert px1 - px0 == pytest.approx((x1 - x0) * frame.scale, abs=1e-6)
        assert py0 - py1 == pytest.approx((y1 - y0) * frame.scale, abs=1e-6)
