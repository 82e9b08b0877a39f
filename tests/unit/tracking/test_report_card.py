"""The report card's SVG: any names at all (markup, quotes, control characters) come out as text
in a document that parses; the day in the walker's timezone; the numbers as the tiles show them;
a long route drawn with a few hundred points; an empty walk says there is no route."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dogwalk.tracking import report_card

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


def card(**changes: object) -> report_card.Card:
    fields: dict[str, object] = {
        "dog_names": ["Biscuit"],
        "walker_name": "Alex Morgan",
        "timezone": "America/New_York",
        "started_at": START,
        "ended_at": START + timedelta(minutes=42),
        "under_way": False,
        "distance_m": 2345.6,
        "duration_s": 42 * 60,
        "pace_min_per_km": 17.91,
        "events": {"pee": 2, "poo": 1, "water": 0, "photo": 0, "note": 0},
        "points": 3,
        "route": [(40.7560, -73.9860), (40.7570, -73.9850), (40.7580, -73.9860)],
        "marks": [("pee", (40.7565, -73.9855)), ("poo", None)],
    }
    fields.update(changes)
    return report_card.Card(**fields)  # type: ignore[arg-type]


def parsed(document: str) -> ET.Element:
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(document)  # noqa: S314 - the renderer's own output
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def title(root: ET.Element) -> str:
    return "".join(root.find(f"{SVG}title").itertext())  # type: ignore[union-attr]


@given(st.lists(st.text(max_size=100), min_size=1, max_size=4), st.text(min_size=1, max_size=200))
def test_any_names_come_out_as_text_of_a_document_that_parses(dogs: list[str], walker: str) -> None:
    root = parsed(report_card.render(card(dog_names=dogs, walker_name=walker)))

    assert title(root) == report_card.clean(f"Walk report: {report_card.names_text(dogs)}, walked by {walker}")
    assert {element.tag.removeprefix(SVG) for element in root.iter()} <= {
        "svg", "title", "desc", "rect", "text", "g", "line", "polyline", "circle", "path", "defs", "clipPath",
    }  # fmt: skip


def test_markup_in_a_name_is_escaped_not_interpreted() -> None:
    nasty = '<script>alert(1)</script> & "Rex"'

    document = report_card.render(card(dog_names=[nasty], walker_name="</text><text>x"))

    assert "<script" not in document and "</text><text>x" not in document
    assert nasty in texts(parsed(document))


def test_control_characters_xml_cannot_hold_are_replaced() -> None:
    root = parsed(report_card.render(card(dog_names=["Rex\x1b[31m\x00"])))

    assert "Rex\ufffd[31m\ufffd" in texts(root)


def test_the_day_and_times_are_the_walkers_own() -> None:
    summer = texts(parsed(report_card.render(card())))
    tokyo = texts(parsed(report_card.render(card(timezone="Asia/Tokyo", under_way=True, ended_at=None))))

    assert "Wednesday 1 July 2026 · 09:00\u201309:42 EDT" in summer
    assert "Wednesday 1 July 2026 · 22:00\u2013now JST" in tokyo
    assert "Wednesday 1 July 2026 · 13:00\u201313:42 UTC" in texts(parsed(report_card.render(card(timezone="Nowhere"))))


def test_the_tiles_show_kilometres_minutes_and_the_pace_per_kilometre() -> None:
    shown = texts(parsed(report_card.render(card())))

    assert {"2.35", "km", "42", "min", "17:55", "min/km", "Pee 2", "Poo 1", "Start", "End"} <= set(shown)
    assert "Water 0" not in shown


def test_durations_and_paces_read_as_people_write_them() -> None:
    assert report_card.duration_parts(59) == ("0", "min")
    assert report_card.duration_parts(42 * 60 + 59) == ("42", "min")
    assert report_card.duration_parts(3600 + 5 * 60) == ("1:05", "h")
    assert report_card.pace_text(12.5) == "12:30"
    assert report_card.pace_text(9.999) == "10:00"
    assert report_card.pace_text(None) == report_card.pace_text(math.inf) == "\u2013"


def test_a_long_walk_is_drawn_with_a_few_hundred_points() -> None:
    route = [(40.75 + i * 1e-5, -73.98 + 3e-4 * math.sin(i / 60)) for i in range(7200)]

    root = parsed(report_card.render(card(route=route, points=7200)))

    polylines = list(root.iter(f"{SVG}polyline"))
    assert len(polylines) == 2
    assert len(polylines[0].get("points", "").split()) < 500


def test_a_walk_without_points_says_there_is_no_route() -> None:
    under_way = texts(parsed(report_card.render(card(route=[], marks=[], under_way=True, ended_at=None))))
    ended = texts(parsed(report_card.render(card(route=[], marks=[]))))

    assert "No route yet" in under_way and "UNDER WAY" in under_way and "Now" not in under_way
    assert "No route recorded" in ended and "Start" not in ended


# --- the walker's note and the photos (issue 16) ------------------------------------------------


@given(st.text(min_size=1, max_size=1000))
def test_any_note_comes_out_as_wrapped_text_of_a_document_that_parses(note: str) -> None:
    root = parsed(report_card.render(card(note=note)))

    lines = report_card.wrapped(note, report_card.INNER - 36, report_card.NOTE_SIZE, report_card.NOTE_LINES)
    assert len(lines) <= report_card.NOTE_LINES
    written = texts(root)
    if lines:
        start = written.index("NOTE FROM ALEX MORGAN") + 1
        assert written[start : start + len(lines)] == lines
    assert not list(root.iter(f"{SVG}script"))


def test_a_note_wraps_at_words_and_a_long_one_is_cut_with_an_ellipsis() -> None:
    short = report_card.wrapped("one two three four five six", 100, 10, 3)  # 17 characters a line
    assert short == ["one two three", "four five six"]
    long = report_card.wrapped("word " * 200, 100, 10, 3)
    assert len(long) == 3 and long[-1].endswith("…") and all(len(line) <= 17 for line in long)
    assert report_card.wrapped("x" * 40, 100, 10, 5) == ["x" * 17, "x" * 17, "x" * 6]  # a word wider than a line
    assert report_card.wrapped(" \n\t ", 100, 10, 3) == []


def test_up_to_four_photos_are_embedded_as_data_and_nothing_else_is() -> None:
    jpeg = "data:image/jpeg;base64,/9j/4AAQSkZJRg=="
    photos = [jpeg] * 5 + ["https://tracker.example/pixel.png", "javascript:alert(1)"]

    root = parsed(report_card.render(card(photos=photos)))

    hrefs = [image.get("href") for image in root.iter(f"{SVG}image")]
    assert hrefs == [jpeg] * 4
    without = parsed(report_card.render(card()))
    assert not list(without.iter(f"{SVG}image")) and "NOTE FROM" not in " ".join(texts(without))
    assert float(root.get("height", 0)) > float(without.get("height", 0))  # the row of photos takes room
