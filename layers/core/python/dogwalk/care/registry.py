"""The care service's functions: the owner's home and its access notes, the care a booked walker
reads around the walk, and the log of those reads."""

from __future__ import annotations

from dogwalk.declarations import DATABASE, Endpoint, Service

SERVICE = Service("care", tag="Care", uses=frozenset({DATABASE}))

ENDPOINTS: tuple[Endpoint, ...] = ()
