"""The messages service's functions: conversations between an owner and a walker, their messages,
reads and blocks."""

from __future__ import annotations

from dogwalk.declarations import CACHE, DATABASE, Endpoint, Service

SERVICE = Service("messages", tag="Messages", uses=frozenset({DATABASE, CACHE}))

ENDPOINTS: tuple[Endpoint, ...] = ()
