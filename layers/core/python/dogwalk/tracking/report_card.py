"""The walk report card as SVG, pure: the route drawn to scale with its start, end (or where the
walk is now) and events, a scale bar, and the numbers owners look for: distance, duration, pace.

Dog and walker names are user input: the document is built with ElementTree, which escapes every
text and attribute, never by pasting strings into markup.

The card is 600 units wide: shown across a phone (about 360 px) its smallest text is still 9 px
and its body text 11 to 13 px.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring  # nosec B405 - builds a document, parses none
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dogwalk.tracking import geometry

WIDTH = 600  # the height follows from the legend's rows
MARGIN = 32
INNER = WIDTH - 2 * MARGIN
MAP_TOP, MAP_HEIGHT = 212, 440
FONT = "Inter, 'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans', sans-serif"
INK, MUTED, FAINT, LINE = "#111827", "#4b5563", "#6b7280", "#e5e7eb"
PAPER, GRID = "#eef3ef", "#dbe5de"
ROUTE, START, END = "#2563eb", "#16a34a", "#dc2626"
EVENT_COLOURS = {"pee": "#eab308", "poo": "#92400e", "water": "#0891b2", "food": "#ea580c", "photo": "#7c3aed",
                 "note": "#db2777"}  # fmt: skip
EVENT_LABELS = {"pee": "Pee", "poo": "Poo", "water": "Water", "food": "Food", "photo": "Photo", "note": "Note"}
NOTE_SIZE, NOTE_LINES = 16, 8  # the walker's note: wrapped, at most this many lines (then cut)
MAX_PHOTOS = 4
# average advance of a glyph, in ems: enough to keep text inside the card in common sans fonts
REGULAR_EM, BOLD_EM = 0.56, 0.62
LEGEND_SIZE = 16
DASH = "\u2013"  # en dash: a range of times, or no value
# characters XML 1.0 cannot carry even escaped (control characters other than tab and newlines)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAKS = re.compile("[\t\n\r]")  # a parser would turn \r into \n; SVG shows each as a space


@dataclass(frozen=True)
class Card:
    """What the card shows; `route` in time order, `marks` as (event type, position or None)."""

    dog_names: list[str]
    walker_name: str
    timezone: str
    started_at: datetime
    ended_at: datetime | None
    under_way: bool
    distance_m: float
    duration_s: int
    pace_min_per_km: float | None
    events: dict[str, int]
    points: int
    route: Sequence[geometry.Position] = field(default_factory=list)
    marks: Sequence[tuple[str, geometry.Position | None]] = field(default_factory=list)
    note: str | None = None  # the walker's, user input
    # thumbnails as data: URIs (`data:image/jpeg;base64,...`): the card never makes its viewer fetch anything
    photos: Sequence[str] = field(default_factory=list)


def distance_km(metres: float) -> str:
    return f"{metres / 1000:.2f}"


def duration_parts(seconds: int) -> tuple[str, str]:
    """The duration as the card's tile shows it: minutes under an hour, else hours:minutes."""
    hours, rest = divmod(max(0, seconds), 3600)
    return (f"{hours}:{rest // 60:02d}", "h") if hours else (str(rest // 60), "min")


def pace_text(min_per_km: float | None) -> str:
    """Minutes and seconds per kilometre, as walkers and runners read a pace."""
    if min_per_km is None or not math.isfinite(min_per_km) or min_per_km >= 600:
        return DASH
    minutes, seconds = divmod(round(min_per_km * 60), 60)
    return f"{minutes}:{seconds:02d}"


def clean(text: str) -> str:
    """User text as XML holds it: tabs and line breaks become spaces (as SVG would show them),
    characters XML cannot carry become U+FFFD."""
    return _NOT_XML.sub("\ufffd", _LINE_BREAKS.sub(" ", text))


def names_text(names: Sequence[str]) -> str:
    if not names:
        return "Your walk"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} & {names[-1]}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when_text(card: Card) -> str:
    """The day and the times of the walk in the walker's timezone."""
    zone = _zone(card.timezone)
    start = card.started_at.astimezone(zone)
    end = "now" if card.under_way or card.ended_at is None else f"{card.ended_at.astimezone(zone):%H:%M}"
    return f"{start:%A} {start.day} {start:%B %Y} · {start:%H:%M}{DASH}{end} {start:%Z}"


def summary_text(card: Card) -> str:
    """The numbers in one sentence: the card's description for screen readers."""
    duration, unit = duration_parts(card.duration_s)
    return (
        f"{distance_km(card.distance_m)} km in {duration} {unit}, pace {pace_text(card.pace_min_per_km)} min/km; "
        + ", ".join(f"{EVENT_LABELS[kind].lower()} {n}" for kind, n in card.events.items())
    )


def _fitted(text: str, width: float, size: float, *, em: float = REGULAR_EM, smallest: float = 0) -> tuple[str, float]:
    """The text and a font size at which it fits `width`: shrunk down to `smallest`, then cut."""
    if not text or width / (em * len(text)) >= size:
        return text, size
    fits = width / (em * len(text))
    if smallest and fits >= smallest:
        return text, math.floor(fits * 10) / 10
    size = smallest or size
    room = max(1, int(width / (em * size)) - 1)
    return text[:room].rstrip() + "…", size


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(
    parent: Element, x: float, y: float, text: str, size: float, attrib: dict[str, str] | None = None, **extra: str
) -> Element:
    element = SubElement(parent, "text", {"font-size": _n(size), **(attrib or {})}, x=_n(x), y=_n(y), **extra)
    element.text = clean(text)
    return element


def _circle(parent: Element, at: geometry.XY, radius: float, **attributes: str) -> None:
    SubElement(parent, "circle", {key.replace("_", "-"): value for key, value in attributes.items()},
               cx=_n(at[0]), cy=_n(at[1]), r=_n(radius))  # fmt: skip


def _header(svg: Element, card: Card) -> None:
    _text(svg, MARGIN, 64, "WALK REPORT", 16, fill=FAINT, attrib={"font-weight": "700", "letter-spacing": "2.4"})
    badge, colour = ("UNDER WAY", ROUTE) if card.under_way else ("COMPLETED", START)
    badge_width = len(badge) * 10 + 32
    SubElement(svg, "rect", x=_n(WIDTH - MARGIN - badge_width), y="42", width=_n(badge_width), height="30",
               rx="15", fill=colour, attrib={"fill-opacity": "0.12"})  # fmt: skip
    _text(svg, WIDTH - MARGIN - badge_width / 2, 62, badge, 14, fill=colour,
          attrib={"font-weight": "700", "letter-spacing": "1.4", "text-anchor": "middle"})  # fmt: skip
    names, size = _fitted(names_text(card.dog_names), INNER, 40, em=BOLD_EM, smallest=24)
    _text(svg, MARGIN, 116, names, size, fill=INK, attrib={"font-weight": "800"})
    walker, size = _fitted(f"Walked by {card.walker_name}", INNER, 22)
    _text(svg, MARGIN, 154, walker, size, fill=MUTED)
    when, size = _fitted(when_text(card), INNER, 19, smallest=15)
    _text(svg, MARGIN, 184, when, size, fill=FAINT)


def _map(svg: Element, card: Card) -> None:
    left, top, width, height = MARGIN, MAP_TOP, INNER, MAP_HEIGHT
    clip = SubElement(SubElement(svg, "defs"), "clipPath", id="map")
    SubElement(clip, "rect", x=_n(left), y=_n(top), width=_n(width), height=_n(height), rx="22")
    SubElement(svg, "rect", x=_n(left), y=_n(top), width=_n(width), height=_n(height), rx="22", fill=PAPER)
    panel = SubElement(svg, "g", attrib={"clip-path": "url(#map)"})
    if not card.route:
        headline, line = (
            ("No route yet", "It appears once the walker's phone sends positions.")
            if card.under_way
            else ("No route recorded", "The walker's phone sent no positions on this walk.")
        )
        middle = {"text-anchor": "middle"}
        _text(panel, WIDTH / 2, top + height / 2 - 4, headline, 28, fill=MUTED, attrib={**middle, "font-weight": "700"})
        _text(panel, WIDTH / 2, top + height / 2 + 30, line, 17, fill=FAINT, attrib=middle)
        return
    plane = geometry.plane_around(card.route)
    track = [plane.xy(lat, lon) for lat, lon in card.route]
    padding = 48
    frame = geometry.fit(track, left + padding, top + padding, width - 2 * padding, height - 2 * padding)
    _grid(panel, frame, left, top, width, height)
    # a unit of detail is all the eye can see (and GPS jitter is less): 7,200 points draw in a few hundred
    drawn = [frame.place(track[i]) for i in geometry.simplify_xy(track, 1.0 / frame.scale)]
    if len(drawn) >= 2:
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in drawn)
        rounded = {"fill": "none", "stroke-linecap": "round", "stroke-linejoin": "round"}
        SubElement(panel, "polyline", points=points, stroke="#ffffff", attrib={**rounded, "stroke-width": "10"})
        SubElement(panel, "polyline", points=points, stroke=ROUTE, attrib={**rounded, "stroke-width": "5"})
    for kind, position in card.marks:
        if position is not None:
            at = frame.place(plane.xy(*position))
            _circle(panel, at, 7.5, fill=EVENT_COLOURS.get(kind, FAINT), stroke="#ffffff", stroke_width="3")
    # the start as a ring: the end of a walk back home shows inside it rather than under it
    _circle(panel, drawn[0], 14, fill="#ffffff")
    _circle(panel, drawn[0], 10, fill="#ffffff", stroke=START, stroke_width="5")
    if card.under_way:
        _circle(panel, drawn[-1], 17, fill=ROUTE, fill_opacity="0.2")
    _circle(panel, drawn[-1], 7.5, fill=ROUTE if card.under_way else END, stroke="#ffffff", stroke_width="3")
    _scale_bar(svg, frame, left + 16, top + height - 16)
    _north(svg, left + width - 36, top + 40)


def _grid(panel: Element, frame: geometry.Frame, left: float, top: float, width: float, height: float) -> None:
    """Faint lines a round number of metres apart: the map's paper, and a second scale."""
    step = geometry.nice_length(width / frame.scale / 5) * frame.scale
    if step < 12:
        return
    grid = SubElement(panel, "g", stroke=GRID, attrib={"stroke-width": "1.5"})
    x = frame.origin_x + math.floor((left - frame.origin_x) / step) * step
    while x <= left + width:
        SubElement(grid, "line", x1=_n(x), y1=_n(top), x2=_n(x), y2=_n(top + height))
        x += step
    y = frame.origin_y + math.floor((top - frame.origin_y) / step) * step
    while y <= top + height:
        SubElement(grid, "line", x1=_n(left), y1=_n(y), x2=_n(left + width), y2=_n(y))
        y += step


def length_text(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def _scale_bar(svg: Element, frame: geometry.Frame, left: float, bottom: float) -> None:
    metres = geometry.nice_length(140 / frame.scale)
    length = metres * frame.scale
    SubElement(svg, "rect", x=_n(left), y=_n(bottom - 48), width=_n(max(length, 44) + 26), height="48", rx="10",
               fill="#ffffff", attrib={"fill-opacity": "0.92"})  # fmt: skip
    x0, x1, y = left + 13, left + 13 + length, bottom - 13
    bar = SubElement(svg, "g", stroke=INK, attrib={"stroke-width": "2.5", "stroke-linecap": "square"})
    SubElement(bar, "line", x1=_n(x0), y1=_n(y), x2=_n(x1), y2=_n(y))
    for x in (x0, x1):
        SubElement(bar, "line", x1=_n(x), y1=_n(y - 7), x2=_n(x), y2=_n(y))
    _text(svg, x0, bottom - 27, length_text(metres), 15, fill=INK, attrib={"font-weight": "600"})


def _north(svg: Element, x: float, y: float) -> None:
    _circle(svg, (x, y), 19, fill="#ffffff", fill_opacity="0.92")
    SubElement(svg, "path", d=f"M{_n(x)} {_n(y - 12)} L{_n(x + 6.5)} {_n(y + 3)} L{_n(x - 6.5)} {_n(y + 3)} Z",
               fill=INK)  # fmt: skip
    _text(svg, x, y + 14, "N", 10, fill=INK, attrib={"font-weight": "700", "text-anchor": "middle"})


def _legend(svg: Element, card: Card) -> float:
    """What the markers are (with no route, none are drawn) and the events with how many of each,
    in as many rows as they take; the bottom of the last row."""
    items = [("start", "Start"), ("now", "Now") if card.under_way else ("end", "End")] if card.route else []
    items += [(kind, f"{EVENT_LABELS[kind]} {n}") for kind, n in card.events.items() if n > 0]
    x, y = float(MARGIN + 8), MAP_TOP + MAP_HEIGHT + 34
    for kind, label in items:
        advance = 14 + len(label) * LEGEND_SIZE * 0.6 + 22  # a wide font's advance: never overlap
        if x + advance - 22 > WIDTH - MARGIN:
            x, y = MARGIN + 8, y + 30
        if kind == "start":
            _circle(svg, (x, y - 6), 6, fill="#ffffff", stroke=START, stroke_width="4")
        else:
            _circle(svg, (x, y - 6), 7, fill={"now": ROUTE, "end": END}.get(kind) or EVENT_COLOURS[kind])
        _text(svg, x + 14, y, label, LEGEND_SIZE, fill=MUTED)
        x += advance
    return y + 8 if items else y - 30


def wrapped(text: str, width: float, size: float, lines: int) -> list[str]:
    """`text` in lines that fit `width` at `size`, words kept whole (unless one alone is too long);
    at most `lines`, the last cut with an ellipsis when the text goes on."""
    room = max(8, int(width / (REGULAR_EM * size)))
    out: list[str] = []
    current = ""
    for word in clean(text).split():
        while len(word) > room:  # a word wider than the line: cut it
            if current:
                out.append(current)
                current = ""
            out.append(word[:room])
            word = word[room:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > room:
            out.append(current)
            current = word
        else:
            current = candidate
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: room - 1].rstrip() + "…"
    return out


def _note(svg: Element, card: Card, top: float) -> float:
    """The walker's note, quoted, from `top`; the bottom of the block (`top` when there is none)."""
    lines = wrapped(card.note or "", INNER - 36, NOTE_SIZE, NOTE_LINES)
    if not lines:
        return top
    height = 56 + len(lines) * NOTE_SIZE * 1.4
    SubElement(svg, "rect", x=_n(MARGIN), y=_n(top), width=_n(INNER), height=_n(height), rx="16", fill="#fdf2f8")
    label, size = _fitted(f"NOTE FROM {card.walker_name.upper()}", INNER - 36, 14, em=BOLD_EM)
    _text(svg, MARGIN + 18, top + 30, label, size, fill=EVENT_COLOURS["note"],
          attrib={"font-weight": "700", "letter-spacing": "1.4"})  # fmt: skip
    for index, line in enumerate(lines):
        _text(svg, MARGIN + 18, top + 58 + index * NOTE_SIZE * 1.4, line, NOTE_SIZE, fill=INK)
    return top + height + 24


def _photos(svg: Element, card: Card, top: float) -> float:
    """Up to 4 thumbnails in a row from `top`, cropped square with rounded corners; their bottom."""
    shown = [uri for uri in card.photos if uri.startswith(("data:image/jpeg;base64,", "data:image/png;base64,"))]
    if not shown:
        return top
    gap = 12
    side = (INNER - (MAX_PHOTOS - 1) * gap) / MAX_PHOTOS
    defs = SubElement(svg, "defs")
    for index, uri in enumerate(shown[:MAX_PHOTOS]):
        x = MARGIN + index * (side + gap)
        clip = SubElement(defs, "clipPath", id=f"photo{index}")
        SubElement(clip, "rect", x=_n(x), y=_n(top), width=_n(side), height=_n(side), rx="14")
        SubElement(svg, "image", href=uri, x=_n(x), y=_n(top), width=_n(side), height=_n(side),
                   preserveAspectRatio="xMidYMid slice", attrib={"clip-path": f"url(#photo{index})"})  # fmt: skip
    return top + side + 24


def _stats(svg: Element, card: Card, top: float) -> float:
    """The three tiles from `top`, and a footer; the card's height."""
    gap, height = 12, 118
    width = (INNER - 2 * gap) / 3
    duration, unit = duration_parts(card.duration_s)
    tiles = [
        ("DISTANCE", distance_km(card.distance_m), "km"),
        ("DURATION", duration, f"{unit} so far" if card.under_way else unit),
        ("PACE", pace_text(card.pace_min_per_km), "min/km"),
    ]
    for index, (label, value, caption) in enumerate(tiles):
        x = MARGIN + index * (width + gap)
        SubElement(svg, "rect", x=_n(x), y=_n(top), width=_n(width), height=_n(height), rx="16", fill="#f9fafb",
                   stroke=LINE, attrib={"stroke-width": "1.5"})  # fmt: skip
        _text(svg, x + 18, top + 32, label, 14, fill=FAINT, attrib={"font-weight": "700", "letter-spacing": "1.4"})
        shown, size = _fitted(value, width - 36, 36, em=BOLD_EM, smallest=20)
        _text(svg, x + 18, top + 78, shown, size, fill=INK, attrib={"font-weight": "800"})
        _text(svg, x + 18, top + 102, caption, 16, fill=FAINT)
    logged = sum(card.events.values())
    footer = f"{card.points} GPS points · {logged} event{'' if logged == 1 else 's'} logged"
    _text(svg, MARGIN, top + height + 42, footer, 15, fill=FAINT)
    return top + height + 68


def render(card: Card) -> str:
    """The card as a standalone SVG document (UTF-8)."""
    svg = Element("svg", xmlns="http://www.w3.org/2000/svg", width=str(WIDTH), attrib={"font-family": FONT})
    SubElement(svg, "title").text = clean(f"Walk report: {names_text(card.dog_names)}, walked by {card.walker_name}")
    SubElement(svg, "desc").text = clean(f"{when_text(card)}. {summary_text(card)}.")
    paper = SubElement(svg, "rect", x="1", y="1", width=str(WIDTH - 2), rx="28", fill="#ffffff", stroke=LINE,
                       attrib={"stroke-width": "2"})  # fmt: skip
    _header(svg, card)
    _map(svg, card)
    extras = _photos(svg, card, _note(svg, card, _legend(svg, card) + 24))
    height = _stats(svg, card, top=extras)
    svg.set("height", _n(height))
    svg.set("viewBox", f"0 0 {WIDTH} {_n(height)}")
    paper.set("height", _n(height - 2))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(svg, encoding="unicode")
