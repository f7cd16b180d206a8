"""RFC 3797's key and picks: the RFC's own worked example, its canonical form, and the
Fenwick tree against the plain list the RFC describes."""

from __future__ import annotations

from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.sampling.draws.rfc3797 import (
    MAX_PICKS,
    SourceError,
    canonical_key,
    derive_key,
    pick_value,
    picks,
)

RFC_SOURCES = [["9319"], ["2", "5", "12", "8", "10"], ["9", "18", "26", "34", "41", "45"]]


def test_the_rfcs_worked_example() -> None:
    """RFC 3797 §6: a pool of 25, sixteen picks."""
    key = canonical_key(RFC_SOURCES)
    assert key == "9319./2.5.8.10.12./9.18.26.34.41.45./"
    drawn = [p + 1 for p in islice(picks(key, 25), 16)]  # the RFC counts from 1
    assert drawn == [17, 7, 2, 16, 25, 23, 8, 24, 19, 13, 22, 5, 18, 9, 1, 4]


def test_canonical_form_of_values() -> None:
    assert canonical_key([["007", "12.50", 3]]) == "3.7.12.5./"
    assert canonical_key([["10", "9"], ["0"]]) == "9.10./0./"
    for bad in ([["-1"]], [["x"]], [[]], [], [["inf"]]):
        with pytest.raises(SourceError):
            canonical_key(bad)  # type: ignore[arg-type]


def naive_picks(key: str, n: int, k: int) -> list[int]:
    """The RFC's description, literally: remove the chosen one from a list."""
    pool = list(range(n))
    return [pool.pop(pick_value(key, i) % len(pool)) for i in range(min(k, n))]


@given(st.text(min_size=1, max_size=20), st.integers(0, 400), st.integers(0, 400))
def test_the_tree_picks_what_the_list_picks(key: str, n: int, k: int) -> None:
    assert list(islice(picks(key, n), k)) == naive_picks(key, n, k)


@given(st.text(min_size=1, max_size=20), st.integers(1, 300))
def test_more_picks_never_change_earlier_ones_and_exhaust_the_pool(key: str, n: int) -> None:
    every = list(picks(key, n))
    assert sorted(every) == list(range(n))
    for k in (1, n // 2, n):
        assert list(islice(picks(key, n), k)) == every[:k]


def test_sub_keys_differ_by_label_and_the_counter_is_bounded() -> None:
    key = canonical_key(RFC_SOURCES)
    assert derive_key(key, "stratum:A") != derive_key(key, "stratum:B")
    assert derive_key(key, "control") == derive_key(key, "control")
    with pytest.raises(ValueError):
        pick_value(key, MAX_PICKS)
