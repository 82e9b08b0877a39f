"""The care service's functions: the owner's home and its access notes, the care a booked walker
reads around the walk, and the log of those reads."""

from __future__ import annotations

from dogwalk.declarations import DATABASE, HOME_ACCESS, OWNER, WALKER, Endpoint, Service

SERVICE = Service("care", tag="Care", uses=frozenset({DATABASE}))
# the functions that seal or open a home's access secrets (the home-access key's only users)
_HOME_ACCESS = frozenset({DATABASE, HOME_ACCESS})

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "put_home",
        method="PUT",
        path="/v1/owners/me/home",
        roles=OWNER,
        summary="Your home: address, access instructions, lockbox code, emergency contact, vet (secrets encrypted)",
        uses=_HOME_ACCESS,
    ),
    SERVICE.endpoint("get_home", path="/v1/owners/me/home", roles=OWNER, summary="Your home", uses=_HOME_ACCESS),
    SERVICE.endpoint(
        "list_home_access_log",
        path="/v1/owners/me/home/access-log",
        roles=OWNER,
        summary="Which walker read your home's access details, and when; newest first",
    ),
    SERVICE.endpoint(
        "get_booking_care",
        path="/v1/bookings/{booking_id}/care",
        roles=OWNER | WALKER,
        summary="The home and the dogs' care for a booking: its owner always; its walker from 24 h before "
        "the start until the end of an accepted or in-progress walk (each read logged)",
        uses=_HOME_ACCESS,
    ),
)
