"""SnapStart's hooks: registered with the runtime's library, and every restored copy of one
snapshot draws its own random numbers."""

from __future__ import annotations

import random

import snapshot_restore_py

from dogwalk.adapters import snapstart


def test_both_hooks_are_registered_when_a_handler_loads_the_layer() -> None:
    import dogwalk.adapters.observability  # noqa: F401 - what every handler imports

    assert snapstart.after_restore in [func for func, _, _ in snapshot_restore_py.get_after_restore()]
    assert snapstart.before_snapshot in [func for func, _, _ in snapshot_restore_py.get_before_snapshot()]


def test_copies_restored_from_one_snapshot_draw_different_numbers() -> None:
    drawn = []
    for _ in range(2):
        random.seed(20261207)  # the state both copies inherit from the snapshot
        snapstart.after_restore()
        drawn.append([random.random() for _ in range(4)])
    random.seed(20261207)
    without_hook = [random.random() for _ in range(4)]

    assert drawn[0] != drawn[1]
    assert without_hook not in drawn
