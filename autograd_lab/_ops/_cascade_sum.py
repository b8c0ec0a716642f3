"""PyTorch's CPU float sum, in the same order, so float32 results match it bit for bit.

Floating-point addition is not associative: summing the same numbers in another order
changes the last bits. NumPy adds pairwise (blocks of 8, then halves); PyTorch's CPU
kernel (``cascade_sum`` in ATen's SumKernel.cpp) adds in a different order. After a few
hundred training steps the two drift apart in the printed losses, so this module follows
PyTorch's order. The recipe, from the inside out:

1. **sequential** — ``((0 + a) + b) + c ...``: plain left-to-right adds.
2. **cascade** (``multi_row_sum``) — add rows sequentially in blocks of ``step`` rows
   (``step`` = 16 for up to ~a million rows); the block sums are added sequentially in
   groups of ``step`` (level 1), those in groups of ``step`` (level 2), and level 3 takes
   the rest. Only numbers of similar size meet, which keeps the error small.
3. **row sum** — 4 interleaved accumulators (instruction-level parallelism): elements
   0, 4, 8, ... go to accumulator 0, elements 1, 5, 9, ... to accumulator 1, and so on,
   each one a cascade; the 0-3 leftover elements go to accumulator 0; then
   ``((acc0 + acc1) + acc2) + acc3``.
4. **vectors** — a contiguous row of at least 8 floats (4 doubles: one 32-byte AVX2
   register) is read as vectors: each of the 8 lanes is a row sum over its strided
   elements; the scalar tail is summed first, then the 8 lanes are added in order.

Which of these applies depends on the memory layout, exactly as in PyTorch's
TensorIterator: the dimensions are sorted (reduced ones first, then by stride) and merged
where memory allows, then the two innermost dimensions decide: a reduced contiguous
innermost dimension is summed with vectors (4), a contiguous kept dimension is summed
column by column (the columns in groups of 4 vectors with a cascade (2), the rest with a
row sum (3)), anything else with scalar row sums (or, for kept columns in groups of 4, a
cascade). Every step below is a vectorised NumPy operation: no Python loop runs per element.

Above 32768 elements PyTorch uses threads: a full sum is split into one chunk per thread
(each summed as above, then the chunks' sums are added), a partial sum gives each thread
its share of the kept columns. Here the thread count is PyTorch's default, the number of
CPUs this process may use, and the vectors are AVX2's (PyTorch's sum kernel on x86-64,
AVX512 machines included). NumPy's own ``np.sum`` agrees with all this only up to 4
elements. Integers add exactly in any order; this module is for float32 and float64.
"""

from __future__ import annotations

import math
import os

import numpy as np

from autograd_lab._ops import vector_math

VECTOR_BYTES = 32  # one AVX2 register: 8 float32 or 4 float64 lanes
GRAIN_SIZE = 32768  # PyTorch's internal::GRAIN_SIZE: below it, one thread does everything


def _threads() -> int:
    """PyTorch's default thread count: OMP_NUM_THREADS, else the CPUs this process may run on."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


THREADS = _threads()
vector_math.use_threads(THREADS)


def get_num_threads() -> int:
    """The threads PyTorch would split a large sum between (they decide its rounding, so we keep the count)."""
    return THREADS


def set_num_threads(n: int) -> None:
    """As ``torch.set_num_threads``: sums above 32768 elements, and MKL's matrix products, are then split as
    PyTorch's would be."""
    global THREADS
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    THREADS = n
    vector_math.use_threads(n)  # (MKL's matrix products split between that many threads, as PyTorch's)


def _ceil_log2(n: int) -> int:
    return 0 if n <= 1 else (n - 1).bit_length()


def sequential(a: np.ndarray) -> np.ndarray:
    """Left-to-right sums down the columns of a 2-d array: ((a[0] + a[1]) + a[2]) + ...

    NumPy's ``add.reduce`` over axis 0 of a C-contiguous array with two or more columns runs
    row after row (its pairwise summation only applies along the contiguous axis; a test checks
    this); a single column goes through ``add.accumulate``, which is sequential by definition.
    """
    if a.shape[0] <= 1:
        return a[0] if a.shape[0] else np.zeros(a.shape[1:], a.dtype)
    if a.shape[1] == 1:
        return np.add.accumulate(a[:, 0])[-1:]
    return np.add.reduce(np.ascontiguousarray(a), axis=0)


def _blocks(a: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Sequential sums of each complete block of ``step`` rows (one row each), and of the rows left over
    (None if there are none: adding their zero would change nothing)."""
    count, cols = a.shape[0] // step, a.shape[1]
    whole = a[:count * step].reshape(count, step, cols)
    if cols >= 2:  # (add.reduce over a middle axis also runs row after row when the last axis has 2 or more)
        sums = np.add.reduce(whole, axis=1)
    else:
        sums = sequential(whole[:, :, 0].T)[:, None] if count else a[:0]
    return sums, sequential(a[count * step:]) if count * step < a.shape[0] else None


def _plus(total: np.ndarray | None, more: np.ndarray | None) -> np.ndarray | None:
    return more if total is None else total if more is None else total + more


def cascade(a: np.ndarray) -> np.ndarray:
    """PyTorch's ``multi_row_sum`` down the columns: blocks of ``step`` rows, then three levels of groups."""
    step = 1 << max(4, _ceil_log2(a.shape[0]) // 4)
    if a.shape[0] < step:
        return sequential(a)
    sums, total = _blocks(a, step)  # total starts as the rows after the last complete block
    if sums.shape[0] >= step:  # (else no group is complete: the levels above add only zeros)
        for _ in range(2):  # levels 1 and 2: complete groups move up, the unfinished group is added to the total
            sums, unfinished = _blocks(sums, step)
            total = _plus(total, unfinished)
    return _plus(total, sequential(sums))  # level 3 keeps everything that reached it


def row_sum(a: np.ndarray) -> np.ndarray:
    """PyTorch's ``row_sum`` down the columns: 4 interleaved cascades (rows k, k+4, k+8, ... in the k-th),
    the leftover rows added to the first, then ``((acc0 + acc1) + acc2) + acc3``."""
    quads, cols = a.shape[0] // 4, a.shape[1]
    acc = cascade(a[:quads * 4].reshape(quads, 4 * cols)).reshape(4, cols)
    if quads * 4 < a.shape[0]:  # at most 3 leftover rows, added to acc0 before acc1
        acc = np.concatenate((acc[:1], a[quads * 4:], acc[1:]))
    return sequential(acc)


def _vector_rows(rows: np.ndarray, lanes: int) -> np.ndarray:
    """Each row of a 2-d array summed as the vectorised inner loop does (rows of at least ``lanes``):
    lane j sums elements j, j + lanes, ... with a row sum; then the scalar tail, then the lanes, in order."""
    count, n = rows.shape
    if count == 1:  # one row (a full sum): the same steps with fewer NumPy calls
        return _vector_sum(rows[0], lanes)[None]
    full = n // lanes * lanes
    vectors = rows[:, :full].reshape(count, n // lanes, lanes).transpose(1, 0, 2).reshape(n // lanes, count * lanes)
    lane_sums = row_sum(vectors).reshape(count, lanes)
    return sequential(np.concatenate((rows[:, full:], lane_sums), axis=1).T)


def _vector_sum(v: np.ndarray, lanes: int) -> np.ndarray:
    """``_vector_rows`` of a single contiguous row ``v`` (a full sum): the same order, with fewer NumPy calls."""
    count = v.shape[0] // lanes
    lane_sums = row_sum(v[:count * lanes].reshape(count, lanes))
    if count * lanes == v.shape[0]:  # no scalar tail: the lanes in order
        return np.add.accumulate(lane_sums)[-1:]
    return np.add.accumulate(np.concatenate((v[count * lanes:], lane_sums)))[-1:]


def _columns(block: np.ndarray, group: int) -> np.ndarray:
    """Sums down the columns of (rows, batch, columns), PyTorch's outer-sum loops: the first columns in
    groups of ``group`` with a cascade each, the rest with row sums. Returns (batch, columns)."""
    rows, batch, cols = block.shape
    split = cols // group * group
    parts = []
    if split:
        parts.append(cascade(block[:, :, :split].reshape(rows, -1)).reshape(batch, split))
    if split < cols:
        parts.append(row_sum(block[:, :, split:].reshape(rows, -1)).reshape(batch, cols - split))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _loop2d(x: np.ndarray, offset: int, dims: list[tuple[int, int, int]], outer: list[tuple[int, int, int]],
            lanes: int) -> np.ndarray:
    """The values one call of PyTorch's 2-d reduction loop stores, for every index of the ``outer`` dims.

    ``x`` is the input's memory as a 1-d array, ``offset`` where the call starts in it; ``dims`` are
    the two innermost iterator dims (size, input stride, output stride), strides in elements. The
    result has shape (outer dims, slowest first..., dims[1] size).
    """
    (size0, in0, _), (size1, in1, _) = dims
    item = x.itemsize
    batch = tuple(s for s, _, _ in reversed(outer))
    strides = tuple(st * item for _, st, _ in reversed(outer))
    count = math.prod(batch)
    view = np.lib.stride_tricks.as_strided
    if in0 == 1 and size0 >= lanes:  # contiguous reduced rows: vectors
        rows = view(x[offset:], batch + (size1, size0), strides + (in1 * item, item))
        return _vector_rows(rows.reshape(count * size1, size0), lanes).reshape(batch + (size1,))
    block = view(x[offset:], (size0,) + batch + (size1,), (in0 * item,) + strides + (in1 * item,))
    block = block.reshape(size0, count, size1)
    if in1 == 1 and size1 >= lanes:  # contiguous kept columns: groups of 4 vectors, then vectors, then scalars
        return _columns(block, 4 * lanes).reshape(batch + (size1,))
    if in0 < in1:
        return row_sum(block.reshape(size0, -1)).reshape(batch + (size1,))
    return _columns(block, 4).reshape(batch + (size1,))  # groups of 4 columns, then one column at a time


def _iterator(shape: tuple[int, ...], strides: tuple[int, ...], dims: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """TensorIterator's dims for the reduction, innermost first: (size, input stride, output stride), in elements.

    Reduced dims first (output stride 0), then by input stride; neighbours merge where memory allows.
    Dims of size 1 change nothing and are left out.
    """
    out_shape = [1 if d in dims else s for d, s in enumerate(shape)]
    out_strides, step = [0] * len(shape), 1
    for d in reversed(range(len(shape))):
        out_strides[d] = 0 if d in dims else step
        step *= out_shape[d]
    its = [(shape[d], strides[d], out_strides[d]) for d in reversed(range(len(shape))) if shape[d] != 1]

    def should_swap(a: tuple[int, int, int], b: tuple[int, int, int]) -> int:  # 1: a goes after b
        if (a[2] == 0) != (b[2] == 0):
            return 1 if b[2] == 0 else -1
        for s0, s1 in ((a[2], b[2]), (a[1], b[1])):  # the output's strides, then the input's
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if a[0] > b[0]:
                return 1
        return 0

    for i in range(1, len(its)):  # PyTorch's insertion sort, which tolerates ambiguous comparisons
        j = i
        for k in range(i - 1, -1, -1):
            c = should_swap(its[k], its[j])
            if c > 0:
                its[k], its[j] = its[j], its[k]
                j = k
            elif c < 0:
                break
    merged = its[:1]
    for size, ins, outs in its[1:]:
        s0, i0, o0 = merged[-1]
        if s0 * i0 == ins and s0 * o0 == outs:
            merged[-1] = (s0 * size, i0, o0)
        else:
            merged.append((size, ins, outs))
    return merged


def _range_sum(x: np.ndarray, its: list[tuple[int, int, int]], begin: int, end: int, lanes: int) -> np.ndarray:
    """One thread's share of a full reduction: the iterator's elements begin..end, visited as PyTorch's
    serial loop does (a partial first row, whole rows, a partial last row), each call's values added in order."""
    sizes = [s for s, _, _ in its] + [1]
    total = np.zeros((), x.dtype)
    linear = begin
    while linear < end:
        index, rest = [], linear
        for s in sizes[:-1]:
            index.append(rest % s)
            rest //= s
        offset = sum(i * st for i, (_, st, _) in zip(index, its))
        step0 = min(sizes[0] - index[0], end - linear)
        step1 = min(sizes[1] - index[1], (end - linear) // sizes[0]) if step0 == sizes[0] and len(its) > 1 else 1
        pair = [(step0, its[0][1], 0), (step1, its[1][1] if len(its) > 1 else 0, 0)]
        for value in _loop2d(x, offset, pair, [], lanes):
            total = total + value
        linear += step0 * step1
    return total


def _split_dim(its: list[tuple[int, int, int]]) -> int:
    """The dim PyTorch splits between threads when there are several outputs: the outermost kept dim
    with at least as many indices as threads, else the largest kept one."""
    best = len(its) - 1
    for d in range(len(its) - 1, -1, -1):
        if its[d][2] == 0:
            break
        if its[d][0] >= THREADS:
            return d
        if its[d][0] > its[best][0]:
            best = d
    return best


def _column_chunks(dim: tuple[int, int, int], per_128_bytes: int) -> list[tuple[int, int]]:
    """Each thread's columns: equal shares, rounded to 128 bytes when the columns are adjacent in memory."""
    cols, chunk = dim[0], -(-dim[0] // min(THREADS, dim[0]))
    chunks = []
    for begin in range(0, cols, chunk):
        end = min(cols, begin + chunk)
        if dim[1] == 1:
            begin -= begin % per_128_bytes
            end = end if end == cols else end - end % per_128_bytes
        if begin != end:
            chunks.append((begin, end))
    return chunks


def torch_sum(x: np.ndarray, dims: tuple[int, ...], keepdim: bool) -> np.ndarray:
    """``x.sum(dims, keepdim)`` of a float32/float64 array, added in PyTorch's CPU order."""
    item, ndim, count = x.itemsize, x.ndim, len(dims)
    if 0 < x.size < GRAIN_SIZE and count and x.flags.c_contiguous:  # the common layouts, without the iterator
        lanes, shape = VECTOR_BYTES // item, x.shape
        if dims[0] == ndim - count:  # the last dims: each row summed (a full sum is one row)
            rows = x.reshape(-1, math.prod(shape[ndim - count:]))
            out = _vector_rows(rows, lanes) if rows.shape[1] >= lanes else row_sum(rows.T)
            return (out + 0).reshape(shape[:ndim - count] + (1,) * count if keepdim else shape[:ndim - count])
        if dims[-1] == count - 1:  # the first dims: a sum of rows, column by column (one column: one row)
            kept = math.prod(shape[count:])
            if kept == 1:
                out = _vector_sum(x.reshape(-1), lanes) if x.size >= lanes else row_sum(x.reshape(-1, 1))
            else:
                out = _columns(x.reshape(-1, 1, kept), 4 * lanes if kept >= lanes else 4)
            return (out + 0).reshape((1,) * count + shape[count:] if keepdim else shape[count:])
    if any(s < 0 or s % item for s in x.strides):  # (never made by autograd_lab; PyTorch has no such views)
        x = np.ascontiguousarray(x)
    out_shape = tuple(1 if d in dims else s for d, s in enumerate(x.shape))
    final_shape = out_shape if keepdim else tuple(s for d, s in enumerate(x.shape) if d not in dims)
    lanes = VECTOR_BYTES // item
    its = _iterator(x.shape, tuple(s // item for s in x.strides), dims)
    extent = 1 + sum((n - 1) * s for n, s, _ in its) if x.size else 0
    memory = np.lib.stride_tricks.as_strided(x, (extent,), (item,))  # the input's elements, in memory order
    reduced = [d for d in its if d[2] == 0]
    if x.size == 0 or not reduced:  # nothing to add up: the output is 0 + x
        return (np.zeros(out_shape, x.dtype) + x.reshape(out_shape) if x.size else np.zeros(out_shape, x.dtype)
                ).reshape(final_shape)
    if len(reduced) == len(its) and x.size >= GRAIN_SIZE and THREADS > 1:  # one output, split between threads
        parts = min(THREADS, -(-x.size // GRAIN_SIZE))
        chunk = -(-x.size // parts)
        buffer = np.zeros(THREADS, x.dtype)
        for t in range(parts):
            buffer[t] = _range_sum(memory, its, t * chunk, min(x.size, (t + 1) * chunk), lanes)
        return (torch_sum(buffer, (0,), False) + 0).reshape(final_shape)
    pair = (its + [(1, 0, 0)])[:2]
    if x.size >= GRAIN_SIZE and THREADS > 1 and _split_dim(its) == 1:  # threads share the columns (dim 1)
        values = np.concatenate([_loop2d(memory, begin * pair[1][1], [pair[0], (end - begin, *pair[1][1:])], its[2:],
                                         lanes) for begin, end in _column_chunks(pair[1], 128 // item)], axis=-1)
    else:
        values = _loop2d(memory, 0, pair, its[2:], lanes)  # (outer dims slowest first..., size1)
    # each output element receives its values in the order the loop stores them: 0 + v0 + v1 + ...
    kinds = [d[2] == 0 for d in reversed(its[2:])] + [pair[1][2] == 0]
    kept = [i for i, r in enumerate(kinds) if not r]
    summed = [i for i, r in enumerate(kinds) if r]
    values = np.moveaxis(values, summed, range(len(kept), len(kinds)))
    kept_shape = values.shape[:len(kept)]
    values = sequential(values.reshape(math.prod(kept_shape), -1).T).reshape(kept_shape) + 0
    out = np.zeros(out_shape, x.dtype)
    kept_dims = [d for i, d in enumerate(list(reversed(its[2:])) + [pair[1]]) if i in kept]
    target = np.lib.stride_tricks.as_strided(out, tuple(d[0] for d in kept_dims), tuple(d[2] * item for d in kept_dims))
    target[...] = values
    return out.reshape(final_shape)


def add_up(x: np.ndarray, dims: tuple[int, ...], keepdim: bool) -> np.ndarray:
    """The sum over ``dims``: floats added in PyTorch's order (so results match it bit for bit), the rest with
    NumPy (integers and bools sum exactly, into int64)."""
    if x.dtype.kind == "f" and x.itemsize >= 4 and len(set(dims)) == len(dims):
        return torch_sum(x, tuple(sorted(dims)), keepdim)
    return np.sum(x, axis=dims, keepdims=keepdim, dtype=np.int64 if x.dtype.kind in "biu" else x.dtype)


def sum_to(x: np.ndarray, shape: tuple[int, ...], dims: tuple[int, ...]) -> np.ndarray:
    """``x`` summed over ``dims`` back to ``shape`` (PyTorch's at::sum_to, on arrays: nothing is recorded)."""
    return add_up(x, dims, True).reshape(shape)
