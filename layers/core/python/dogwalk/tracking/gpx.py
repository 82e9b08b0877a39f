"""The walk as GPX 1.1 (https://www.topografix.com/GPX/1/1/), pure: one track of the accepted
points with their times, and a waypoint per walk event that has a position (its `type` the
event's, its `name` the label the report card shows, its `desc` the note).

Built with ElementTree, which escapes every text (a note is user input). Coordinates are written
as Python's shortest round-trip repr, so a reader gets back exactly the stored doubles; times in
UTC with a `Z`, with their fraction of a second when they have one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, SubElement, tostring  # nosec B405 - builds a document, parses none

NAMESPACE = "http://www.topografix.com/GPX/1/1"
SCHEMA = "http://www.topografix.com/GPX/1/1/gpx.xsd"
# characters XML 1.0 cannot carry even escaped: U+FFFD instead (as on the report card)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LABELS = {"pee": "Pee", "poo": "Poo", "water": "Water", "food": "Food", "photo": "Photo", "note": "Note"}


@dataclass(frozen=True)
class Waypoint:
    type: str
    ts: datetime
    lat: float
    lon: float
    note: str | None = None


def time_text(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{utc.microsecond:06d}" if utc.microsecond else "") + "Z"


def _coordinates(parent: Element, tag: str, lat: float, lon: float) -> Element:
    return SubElement(parent, tag, lat=repr(float(lat)), lon=repr(float(lon)))


def document(
    name: str,
    started_at: datetime,
    times: Sequence[datetime],
    track: Sequence[tuple[float, float]],
    waypoints: Sequence[Waypoint],
) -> str:
    """The GPX document (UTF-8 text); the schema's order: metadata, waypoints, the track."""
    gpx = Element("gpx", version="1.1", creator="DogWalk", xmlns=NAMESPACE,
                  attrib={"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                          "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}"})  # fmt: skip
    metadata = SubElement(gpx, "metadata")
    SubElement(metadata, "name").text = _NOT_XML.sub("\ufffd", name)
    SubElement(metadata, "time").text = time_text(started_at)
    for mark in waypoints:
        wpt = _coordinates(gpx, "wpt", mark.lat, mark.lon)
        SubElement(wpt, "time").text = time_text(mark.ts)
        SubElement(wpt, "name").text = LABELS.get(mark.type, mark.type)
        if mark.note:
            SubElement(wpt, "desc").text = _NOT_XML.sub("\ufffd", mark.note)
        SubElement(wpt, "type").text = mark.type
    trk = SubElement(gpx, "trk")
    SubElement(trk, "name").text = _NOT_XML.sub("\ufffd", name)
    segment = SubElement(trk, "trkseg")
    for ts, (lat, lon) in zip(times, track, strict=True):
        SubElement(_coordinates(segment, "trkpt", lat, lon), "time").text = time_text(ts)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(gpx, encoding="unicode")
