"""The platform's real journeys under load (`make load`): owners search, quote, book with a card and
watch their bookings and walks; walkers accept, start, stream positions over HTTP and complete; both
log in now and then and refresh their tokens every few minutes of use, as the apps do.

Against the local platform by default (`make load`), or a stage: `make load HOST=https://api.<domain>`
with `DOGWALK_LOAD_ADMIN_TOKEN` (an admin's access token, to verify the load test's walkers; locally the
admin is made in the local database, as `python -m local simulate-walk` does). Every answer is checked
against what the contract allows for it: a 5xx, or a 4xx the journey does not expect, is a failure, and
any failure makes the run exit non-zero.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import HttpUser, between, events, task
from locust.env import Environment

PARK = (40.7812, -73.9665)
PASSWORD = f"load test {uuid.uuid4().hex}"
WALKERS = int(os.environ.get("DOGWALK_LOAD_WALKERS", "8"))
# walkers made for the run: (id, email); owners book them, walker users log in as them
_walkers: list[tuple[str, str]] = []
_next_walker = itertools.count()
_ready = threading.Event()


def _timezone_at_noon(now: datetime) -> str:
    """A zone where it is around midday now, so that walks starting soon sit inside the walkers' day."""
    offset = max(-12, min(12, now.hour - 12))
    return f"Etc/GMT{'+' if offset >= 0 else '-'}{abs(offset)}"


def _admin_token(host: str) -> str:
    given = os.environ.get("DOGWALK_LOAD_ADMIN_TOKEN")
    if given:
        return given
    if not _local(host):
        raise SystemExit("DOGWALK_LOAD_ADMIN_TOKEN is needed to verify the load test's walkers on a stage")
    from dogwalk.config import settings
    from local.platform import point_at_running_platform
    from local.simulator import _admin_token as local_admin

    point_at_running_platform()
    settings.cache_clear()
    return local_admin()


@events.test_start.add_listener
def make_walkers(environment: Environment, **_: Any) -> None:
    """Verified walkers around the park, working all day in a zone where it is noon now."""
    import requests

    host = (environment.host or "").rstrip("/")
    session = requests.Session()
    if _local(host):
        from_own_address(session)
    admin = {"Authorization": f"Bearer {_admin_token(host)}"}
    zone = _timezone_at_noon(datetime.now(UTC))
    for _ in range(WALKERS):
        email = f"load-walker-{uuid.uuid4().hex[:12]}@dogwalk.local"
        body = {"email": email, "password": PASSWORD, "role": "walker", "name": "Load Walker"}
        walker = session.post(f"{host}/v1/auth/register", json=body, timeout=30).json()
        auth = {"Authorization": f"Bearer {walker['access_token']}"}
        profile = {"bio": "Load test", "price_cents_per_30min": 2000, "max_dogs": 3, "timezone": zone,
                   "accepted_sizes": ["small", "medium", "large"],
                   "service_area": {"lat": PARK[0], "lon": PARK[1], "radius_km": 10.0}}  # fmt: skip
        requests.put(f"{host}/v1/walkers/me/profile", json=profile, headers=auth, timeout=30).raise_for_status()
        every_day = [{"weekday": day, "start": "06:00", "end": "18:00"} for day in range(7)]
        answer = requests.put(f"{host}/v1/walkers/me/availability", json={"weekly": every_day}, headers=auth,
                              timeout=30)  # fmt: skip
        answer.raise_for_status()
        documents = {"documents": [{"kind": "id_document", "reference": "load"}]}
        requests.post(f"{host}/v1/walkers/me/verification", json=documents, headers=auth, timeout=30).raise_for_status()
        requests.post(f"{host}/v1/admin/verifications/{walker['user']['id']}", json={"decision": "approve"},
                      headers=admin, timeout=30).raise_for_status()  # fmt: skip
        _walkers.append((walker["user"]["id"], email))
    _ready.set()


_addresses = itertools.count(random.randrange(1 << 20))  # noqa: S311  # nosec B311 - another run, other addresses


def _local(host: str) -> bool:
    return "127.0.0.1" in host or "localhost" in host


def from_own_address(session: Any) -> None:
    """Locally, each simulated phone talks from an address of its own (all of 127/8 is loopback;
    another run takes others), as real phones do, so that the per-IP limits (10 sign-ups an hour)
    count each user apart. A stage sees the load generator's one address: its sign-ups are limited as one client's."""
    from requests.adapters import HTTPAdapter

    number = next(_addresses)
    address = f"127.{1 + number // 65536 % 254}.{number // 256 % 256}.{number % 254 + 1}"

    class FromAddress(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["source_address"] = (address, 0)
            super().init_poolmanager(*args, **kwargs)

    session.mount("http://", FromAddress())


class Journey(HttpUser):
    abstract = True
    tokens: dict[str, str]
    refreshed_at = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _local(self.host or ""):
            from_own_address(self.client)

    def call(self, method: str, path: str, name: str, expected: tuple[int, ...] = (200,),
             extra_headers: dict[str, str] | None = None, **kwargs: Any) -> Any:  # fmt: skip
        """One request, named by its route; an answer outside `expected` is a failure."""
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}"} if getattr(self, "tokens", None) else {}
        headers.update(extra_headers or {})
        with self.client.request(method, path, name=name, headers=headers, catch_response=True, **kwargs) as answer:
            if answer.status_code not in expected:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                return None
            answer.success()
            return answer.json() if answer.content and answer.headers.get("Content-Type", "").endswith("json") else {}

    def log_in(self, email: str) -> None:
        self.tokens = {}
        answer = self.call("POST", "/v1/auth/login", "/v1/auth/login", json={"email": email, "password": PASSWORD})
        if answer:
            self.tokens = answer
            self.refreshed_at = time.monotonic()

    @task(1)
    def refresh(self) -> None:
        """The apps refresh their 15-minute access token before it runs out; here every minute of use."""
        if time.monotonic() - self.refreshed_at < 60:
            return
        answer = self.call("POST", "/v1/auth/refresh", "/v1/auth/refresh",
                           json={"refresh_token": self.tokens["refresh_token"]})  # fmt: skip
        if answer:
            self.tokens, self.refreshed_at = answer, time.monotonic()


class Owner(Journey):
    weight = 4
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        _ready.wait()
        email = f"load-owner-{uuid.uuid4().hex[:12]}@dogwalk.local"
        body = {"email": email, "password": PASSWORD, "role": "owner", "name": "Load Owner"}
        self.tokens = {}
        self.tokens = self.call("POST", "/v1/auth/register", "/v1/auth/register", (201,), json=body) or {}
        self.dog = self.call("POST", "/v1/dogs", "/v1/dogs", (201,),
                             json={"name": "Rex", "size": "medium", "vaccinated": True})  # fmt: skip
        self.card = self.call("POST", "/v1/payments/methods", "/v1/payments/methods", (201,),
                              json={"gateway_token": "pm_card_visa"})  # fmt: skip
        self.bookings: list[str] = []
        self.log_in(email)  # the app logs in again on its next launch

    def walk(self) -> dict[str, Any]:
        walker_id, _ = random.choice(_walkers)  # noqa: S311  # nosec B311 - load, not a secret
        start = datetime.now(UTC) + timedelta(minutes=random.randint(2, 12) * 5)  # noqa: S311  # nosec B311
        return {"walker_id": walker_id, "dog_ids": [self.dog["id"]], "duration_min": 30,
                "start": start.replace(second=0, microsecond=0).isoformat(),
                "pickup": {"lat": PARK[0], "lon": PARK[1], "address": "Great Lawn"}}  # fmt: skip

    @task(10)
    def search(self) -> None:
        when = (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0).isoformat()
        query = {"lat": PARK[0], "lon": PARK[1], "start": when, "duration_min": 30, "dog_ids": self.dog["id"]}
        self.call("GET", "/v1/walkers/search", "/v1/walkers/search", params=query)

    @task(4)
    def quote(self) -> None:
        # a walker may be booked at that time already (409) or no longer work then (422)
        self.call("POST", "/v1/bookings/quote", "/v1/bookings/quote", (200, 409, 422), json=self.walk())

    @task(2)
    def book(self) -> None:
        body = {**self.walk(), "payment_method_id": self.card["id"]}
        # the walker is booked at that time already (409), or no longer works then (422)
        answer = self.call("POST", "/v1/bookings", "/v1/bookings", (201, 409, 422), json=body,
                           extra_headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        if answer and answer.get("id"):
            self.bookings.append(answer["id"])

    @task(5)
    def watch(self) -> None:
        """The owner's app: the bookings list, one booking, and its walk when it is under way."""
        self.call("GET", "/v1/bookings", "/v1/bookings")
        if not self.bookings:
            return
        booking = self.call("GET", f"/v1/bookings/{self.bookings[-1]}", "/v1/bookings/{id}")
        walk = (booking or {}).get("walk") or {}
        if walk.get("id"):
            self.call("GET", f"/v1/walks/{walk['id']}", "/v1/walks/{id}")


class Walker(Journey):
    weight = 1
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        _ready.wait()
        _, email = _walkers[next(_next_walker) % len(_walkers)]
        self.log_in(email)

    @task(3)
    def answer_requests(self) -> None:
        requested = self.call("GET", "/v1/bookings", "/v1/bookings", params={"status": "requested"}) or {}
        for booking in requested.get("items", [])[:2]:
            # another walk of the same time accepted a moment ago: 409 booking_conflict
            self.call("POST", f"/v1/bookings/{booking['id']}/accept", "/v1/bookings/{id}/accept", (200, 409))

    @task(2)
    def walk_one(self) -> None:
        """Start the next accepted walk due, stream its points (10 posts of 10 points) and complete it."""
        accepted = self.call("GET", "/v1/bookings", "/v1/bookings", params={"status": "accepted"}) or {}
        now = datetime.now(UTC)
        due = [
            b for b in accepted.get("items", []) if datetime.fromisoformat(b["start"]) <= now + timedelta(minutes=15)
        ]
        if not due:
            return
        booking = due[0]
        started = self.call("POST", f"/v1/bookings/{booking['id']}/start", "/v1/bookings/{id}/start", (200, 409))
        walk = (started or {}).get("walk")
        if not walk:
            return
        tst = int(time.time())
        for batch in range(10):
            points = [{"_type": "location", "lat": PARK[0] + (batch * 10 + i) * 1e-5, "lon": PARK[1],
                       "tst": tst + batch * 10 + i, "acc": 5} for i in range(10)]  # fmt: skip
            self.call("POST", f"/v1/walks/{walk['id']}/locations", "/v1/walks/{id}/locations", (202,),
                      json={"_type": "batch", "points": points})  # fmt: skip
        self.call("POST", f"/v1/bookings/{booking['id']}/complete", "/v1/bookings/{id}/complete")
