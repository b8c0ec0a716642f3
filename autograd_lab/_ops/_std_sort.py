"""The order of equal elements in PyTorch's unstable CPU sort: the C++ standard library's ``std::sort``.

``x.sort()`` (``stable=False``, the default) hands each row to ``std::sort`` from GNU's libstdc++, an
introsort: it splits the row around a median of three until pieces have 16 elements or fewer (switching
to heapsort if that goes too deep), then finishes with one insertion sort. It puts equal elements in an
order of its own, which ``x.sort().indices`` shows (``tensor([0, 1] * 9).sort()`` starts with index 2, not
0). ``order`` replays those steps on a row's ranks; only the comparisons decide anything, so replaying
them on the same keys gives the same permutation. Rows of 16 elements or fewer come out stable anyway.
``top`` does the same for ``topk``, which uses ``std::partial_sort`` (k small next to the row) or
``std::nth_element`` followed by ``std::sort`` of the first k - 1.
"""

from __future__ import annotations

THRESHOLD = 16  # libstdc++'s _S_threshold: pieces this small are left for the final insertion sort


def order(keys: list[int]) -> list[int]:
    """The positions of ``keys`` in the order ``std::sort`` puts them, comparing with ``<`` only."""
    a = list(range(len(keys)))
    _sort(a, keys, 0, len(a))
    return a


def top(keys: list[int], k: int, sorted: bool = True) -> list[int]:
    """The positions of the k smallest ``keys``, in the order topk's CPU kernel leaves them (1 <= k <= n)."""
    a, n = list(range(len(keys))), len(keys)
    if k * 64 <= n:  # std::partial_sort: a heap of the first k, the others pushed through it, then sorted
        _heap_select(a, keys, 0, k, n)
        _sort_heap(a, keys, 0, k)
    else:  # std::nth_element (introselect) for the k-th, then (sorted) std::sort of the k - 1 before it
        _introselect(a, keys, 0, k - 1, n, 2 * (n.bit_length() - 1))
        if sorted:
            _sort(a, keys, 0, k - 1)
    return a[:k]


def _sort(a: list[int], keys: list[int], first: int, last: int) -> None:
    """std::sort of a[first:last]."""
    n = last - first
    if n > 1:
        _introsort_loop(a, keys, first, last, 2 * (n.bit_length() - 1))
        _insertion_sort(a, keys, first, first + min(n, THRESHOLD))
        for i in range(first + THRESHOLD, last):  # (unguarded: the first 16 already hold the smallest element)
            _insert(a, keys, i, first)


def _introselect(a: list[int], keys: list[int], first: int, nth: int, last: int, depth: int) -> None:
    while last - first > 3:
        if depth == 0:
            _heap_select(a, keys, first, nth + 1, last)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _partition_around_median(a, keys, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, keys, first, last)


def _introsort_loop(a: list[int], keys: list[int], first: int, last: int, depth: int) -> None:
    while last - first > THRESHOLD:
        if depth == 0:
            _heap_sort(a, keys, first, last)
            return
        depth -= 1
        cut = _partition_around_median(a, keys, first, last)
        _introsort_loop(a, keys, cut, last, depth)
        last = cut


def _partition_around_median(a: list[int], keys: list[int], first: int, last: int) -> int:
    """Move the median of a[first + 1], a[mid], a[last - 1] to a[first], then partition the rest around it."""
    mid = first + (last - first) // 2
    x, y, z = first + 1, mid, last - 1
    kx, ky, kz = keys[a[x]], keys[a[y]], keys[a[z]]
    if kx < ky:
        median = y if ky < kz else z if kx < kz else x
    else:
        median = x if kx < kz else z if ky < kz else y
    a[first], a[median] = a[median], a[first]
    pivot = keys[a[first]]
    lo, hi = first + 1, last
    while True:
        while keys[a[lo]] < pivot:
            lo += 1
        hi -= 1
        while pivot < keys[a[hi]]:
            hi -= 1
        if lo >= hi:
            return lo
        a[lo], a[hi] = a[hi], a[lo]
        lo += 1


def _insertion_sort(a: list[int], keys: list[int], first: int, last: int) -> None:
    for i in range(first + 1, last):
        if keys[a[i]] < keys[a[first]]:  # the smallest so far goes to the front in one move
            a[first:i + 1] = [a[i]] + a[first:i]
        else:
            _insert(a, keys, i, first)


def _insert(a: list[int], keys: list[int], i: int, first: int) -> None:
    """Move a[i] left past the elements greater than it (something no greater stops it before ``first``)."""
    value, key = a[i], keys[a[i]]
    while key < keys[a[i - 1]]:
        a[i] = a[i - 1]
        i -= 1
    a[i] = value


def _heap_sort(a: list[int], keys: list[int], first: int, last: int) -> None:
    """libstdc++'s partial_sort of the whole piece: make_heap then sort_heap."""
    _heap_select(a, keys, first, last, last)
    _sort_heap(a, keys, first, last)


def _heap_select(a: list[int], keys: list[int], first: int, middle: int, last: int) -> None:
    """A max-heap of a[first:middle]; each later element smaller than its top replaces the top."""
    heap = a[first:middle]
    n = len(heap)
    for parent in range((n - 2) // 2, -1, -1):
        _sift(heap, keys, parent, n, heap[parent])
    for i in range(middle, last):
        if keys[a[i]] < keys[heap[0]]:
            value, a[i] = a[i], heap[0]
            _sift(heap, keys, 0, n, value)
    a[first:middle] = heap


def _sort_heap(a: list[int], keys: list[int], first: int, last: int) -> None:
    heap = a[first:last]
    for end in range(len(heap) - 1, 0, -1):
        value, heap[end] = heap[end], heap[0]
        _sift(heap, keys, 0, end, value)
    a[first:last] = heap


def _sift(heap: list[int], keys: list[int], hole: int, length: int, value: int) -> None:
    """libstdc++'s __adjust_heap: the hole goes down to a leaf along the larger children, then value goes up."""
    top, child = hole, hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if keys[heap[child]] < keys[heap[child - 1]]:
            child -= 1
        heap[hole], hole = heap[child], child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        heap[hole], hole = heap[child - 1], child - 1
    parent = (hole - 1) // 2
    while hole > top and keys[heap[parent]] < keys[value]:
        heap[hole], hole = heap[parent], parent
        parent = (hole - 1) // 2
    heap[hole] = value
