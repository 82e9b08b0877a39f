"""The marketplace's functions: owners' dogs, walkers' profiles, availability and verification,
and the search that matches them."""

from __future__ import annotations

from dogwalk.declarations import ADMIN, ANY_USER, CACHE, DATABASE, EVENTS, OWNER, WALKER, Endpoint, Service

SERVICE = Service("marketplace", tag="Walkers", uses=frozenset({DATABASE, CACHE}))

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "create_dog", method="POST", path="/v1/dogs", status_code=201, roles=OWNER, summary="Add a dog", tag="Dogs"
    ),
    SERVICE.endpoint("list_dogs", path="/v1/dogs", roles=OWNER, summary="Your dogs", tag="Dogs"),
    SERVICE.endpoint("get_dog", path="/v1/dogs/{dog_id}", roles=OWNER, summary="One of your dogs", tag="Dogs"),
    SERVICE.endpoint(
        "update_dog", method="PATCH", path="/v1/dogs/{dog_id}", roles=OWNER, summary="Change a dog", tag="Dogs"
    ),
    SERVICE.endpoint(
        "delete_dog",
        method="DELETE",
        path="/v1/dogs/{dog_id}",
        status_code=204,
        roles=OWNER,
        summary="Remove a dog (not while it has an accepted walk coming)",
        tag="Dogs",
    ),
    SERVICE.endpoint(
        "put_walker_profile",
        method="PUT",
        path="/v1/walkers/me/profile",
        roles=WALKER,
        summary="Your walker profile: price, service area, sizes, timezone",
    ),
    SERVICE.endpoint(
        "put_availability",
        method="PUT",
        path="/v1/walkers/me/availability",
        roles=WALKER,
        summary="Your weekly windows, in your local time",
    ),
    SERVICE.endpoint(
        "add_time_off",
        method="POST",
        path="/v1/walkers/me/time-off",
        status_code=201,
        roles=WALKER,
        summary="A time off range",
    ),
    SERVICE.endpoint(
        "submit_verification",
        method="POST",
        path="/v1/walkers/me/verification",
        status_code=202,
        roles=WALKER,
        summary="Documents for verification; an admin decides",
    ),
    SERVICE.endpoint(
        "search_walkers",
        path="/v1/walkers/search",
        roles=OWNER,
        summary="Walkers who can take these dogs at this place and time, with a quote",
        memory_mb=512,
    ),
    SERVICE.endpoint(
        "get_walker", path="/v1/walkers/{walker_id}", roles=ANY_USER, summary="A verified walker's public profile"
    ),
    SERVICE.endpoint(
        "list_verifications",
        path="/v1/admin/verifications",
        roles=ADMIN,
        summary="Walkers by verification state (pending first in line)",
        tag="Admin",
    ),
    SERVICE.endpoint(
        "decide_verification",
        method="POST",
        path="/v1/admin/verifications/{walker_id}",
        roles=ADMIN,
        summary="Approve or reject a pending walker; recorded and notified",
        tag="Admin",
        uses=frozenset({DATABASE, CACHE, EVENTS}),
    ),
)
