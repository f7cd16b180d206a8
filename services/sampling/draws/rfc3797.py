"""IETF RFC 3797 ("Publicly Verifiable Nominations Committee (NomCom) Random Selection"):
the key from public random sources, and picks from a pool by MD5.

- ``canonical_key``: each source's values as decimal numbers, sorted, each followed by a
  period, the source closed by a slash (RFC 3797 §4), e.g. sources ``9319``,
  ``2 5 12 8 10`` and ``9 18 26 34 41 45`` give ``9319./2.5.8.10.12./9.18.26.34.41.45./``.
- ``picks``: the i-th pick (i from 0) hashes the key between two copies of i as a 16-bit
  big-endian integer, reads the MD5 digest as an unsigned 128-bit big-endian integer, and
  takes the remaining candidate at position ``digest mod remaining`` (RFC 3797 §5, which
  counts from 1: ``digest mod remaining + 1``). A pick only depends on the key and the
  picks before it, so asking for more picks never changes the earlier ones.

Finding the k-th remaining candidate uses a Fenwick tree over the pool, O(log N) per pick:
removing from a Python list is O(N) per pick, hours for a million candidates. The RFC's
16-bit counter allows 65,536 picks per key; a larger sample takes sub-keys
(``derive_key``), as the sampling service does per stratum anyway."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation

MAX_PICKS = 1 << 16  # the RFC's counter is two octets


class SourceError(ValueError):
    """A random source's value is not a number the RFC can use."""


def canonical_number(value: str | int | Decimal) -> str:
    """A source value in the RFC's form: decimal digits, no leading zeros or sign, no
    trailing fractional zeros (``007`` → ``7``, ``12.50`` → ``12.5``)."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise SourceError(f"not a number: {value!r}") from exc
    if not number.is_finite() or number < 0:
        raise SourceError(f"not a non-negative number: {value!r}")
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def canonical_source(values: Sequence[str | int | Decimal]) -> str:
    """One source: its values sorted numerically, each followed by a period, then ``/``."""
    if not values:
        raise SourceError("a source needs at least one value")
    numbers = sorted((Decimal(canonical_number(v)), canonical_number(v)) for v in values)
    return "".join(f"{text}." for _, text in numbers) + "/"


def canonical_key(sources: Sequence[Sequence[str | int | Decimal]]) -> str:
    """The RFC's key string of ``sources``, in the order they were announced."""
    if not sources:
        raise SourceError("at least one random source is needed")
    return "".join(canonical_source(s) for s in sources)


def derive_key(key: str, label: str) -> str:
    """A sub-key for one use of the draw (a stratum, the control sample, the inspector
    matching): the SHA-256 of ``key``, a slash and ``label``, in hex. Independent picks
    per use, each recomputable from the key and the published label."""
    return hashlib.sha256(f"{key}/{label}".encode()).hexdigest()


def pick_value(key: str, i: int) -> int:
    """The RFC's 128-bit value of pick ``i`` (from 0) of ``key``."""
    if not 0 <= i < MAX_PICKS:
        raise ValueError(f"pick {i} is beyond the RFC's {MAX_PICKS} picks per key")
    counter = i.to_bytes(2, "big")
    return int.from_bytes(hashlib.md5(counter + key.encode() + counter).digest(), "big")


class _Remaining:
    """The pool's positions still in it, with the k-th found in O(log N) (a Fenwick
    tree of 1s, searched by binary lifting)."""

    def __init__(self, n: int) -> None:
        self.n = n
        # tree[i] = number of positions in (i - lowbit(i), i], all present at the start
        self.tree = [0] * (n + 1)
        for i in range(1, n + 1):
            self.tree[i] += 1
            j = i + (i & -i)
            if j <= n:
                self.tree[j] += self.tree[i]
        self.left = n
        self.top = 1 << max(n.bit_length() - 1, 0)

    def take(self, k: int) -> int:
        """Remove and return the 0-based position of the k-th (0-based) remaining one."""
        pos, rest, step = 0, k + 1, self.top
        while step:
            nxt = pos + step
            if nxt <= self.n and self.tree[nxt] < rest:
                pos = nxt
                rest -= self.tree[nxt]
            step >>= 1
        found = pos + 1  # 1-based
        i = found
        while i <= self.n:
            self.tree[i] -= 1
            i += i & -i
        self.left -= 1
        return found - 1


def picks(key: str, pool_size: int) -> Iterator[int]:
    """0-based positions in the pool, in the order drawn, until the pool is empty (or the
    RFC's 65,536 picks). Stop early by taking only as many as needed."""
    if pool_size < 0:
        raise ValueError("a pool cannot have a negative size")
    remaining = _Remaining(pool_size)
    for i in range(min(pool_size, MAX_PICKS)):
        yield remaining.take(pick_value(key, i) % remaining.left)
