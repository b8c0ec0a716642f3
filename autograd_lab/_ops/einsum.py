"""einsum and tensordot, built from permutes, views, sums and batched matrix products as ATen builds them.

``torch.einsum("ij,jk->ik", a, b)`` gives every operand one dimension per letter of the equation (the
output's letters first, then the summed ones), by taking diagonals, adding size-1 dimensions and permuting;
then it multiplies the operands pairwise, left to right, each pair as one ``bmm``. The nodes recorded
(``PermuteBackward0``, ``ViewBackward0``, ``BmmBackward0``, ...) and the order the products are summed in
are PyTorch's, so the values and the gradients are its own to the bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from autograd_lab._ops.matmul import bmm, mm
from autograd_lab._tensor import Tensor, wrap_dim

_LETTERS = 26
_ELLIPSIS = 2 * _LETTERS  # ("..." among the labels: A-Z are 0-25, a-z 26-51)


def _label(character: str) -> int:
    return ord(character) - ord("A") if character.isupper() else ord(character) - ord("a") + _LETTERS


def _letter(label: int) -> str:
    return chr(label + ord("A")) if label < _LETTERS else chr(label - _LETTERS + ord("a"))


def _parse_inputs(lhs: str, count: int) -> list[list[int]]:
    """Each operand's labels (with _ELLIPSIS where "..." stands), with PyTorch's errors."""
    labels: list[list[int]] = [[]]
    i = 0
    while i < len(lhs):
        c = lhs[i]
        if c == ".":
            if _ELLIPSIS in labels[-1]:
                raise RuntimeError(f"einsum(): found '.' for operand {len(labels) - 1} for which an ellipsis was "
                                   "already found")
            if lhs[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand {len(labels) - 1} that is not part of any "
                                   "ellipsis")
            labels[-1].append(_ELLIPSIS)
            i += 2
        elif c == ",":
            labels.append([])
            if len(labels) > count:
                raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
        elif c != " ":
            if not (c.isascii() and c.isalpha()):
                raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, "
                                   "subscripts must be in [a-zA-Z]")
            labels[-1].append(_label(c))
        i += 1
    if len(labels) != count:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return labels


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over the letters of ``equation`` that are not in its output ("ij,jk->ik": a matrix
    product). Without "->", the output is the letters seen once, in alphabetical order (capitals first)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    lhs, arrow, rhs = equation.partition("->")
    labels = _parse_inputs(lhs, len(operands))
    counts = [0] * _ELLIPSIS
    ellipsis_dims = 0
    for i, (t, own) in enumerate(zip(operands, labels)):
        named = len(own) - (_ELLIPSIS in own)
        for label in own:
            if label != _ELLIPSIS:
                counts[label] += 1
        if _ELLIPSIS in own:
            ellipsis_dims = max(ellipsis_dims, t.ndim - named)
        if _ELLIPSIS in own and named > t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is more than the "
                               f"number of dimensions ({t.ndim}) for operand {i}")
        if _ELLIPSIS not in own and named != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({t.ndim}) for operand {i} and no ellipsis was given")

    # Where each label's dimension goes: the output's first (in its order), then the summed ones.
    position = [-1] * _ELLIPSIS
    ellipsis_at, out_dims = 0, 0
    ellipsis_in_output = not arrow
    if not arrow:  # implicit output: "..." then the labels seen once
        out_dims = ellipsis_dims
        for label in range(_ELLIPSIS):
            if counts[label] == 1:
                position[label], out_dims = out_dims, out_dims + 1
    else:
        i = 0
        while i < len(rhs):
            c = rhs[i]
            if c == ".":
                if ellipsis_in_output:
                    raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
                if rhs[i:i + 3] != "...":
                    raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
                ellipsis_at, out_dims, ellipsis_in_output = out_dims, out_dims + ellipsis_dims, True
                i += 2
            elif c != " ":
                if not (c.isascii() and c.isalpha()):
                    raise RuntimeError(f"einsum(): invalid subscript given at index {len(lhs) + 2 + i} in the "
                                       "equation string, subscripts must be in [a-zA-Z]")
                label = _label(c)
                if counts[label] == 0 or position[label] != -1:
                    raise RuntimeError(f"einsum(): output subscript {c} " + (
                        "appears more than once in the output" if position[label] != -1 else
                        "does not appear in the equation for any input operand"))
                position[label], out_dims = out_dims, out_dims + 1
            i += 1
    total = out_dims
    if not ellipsis_in_output:
        ellipsis_at, total = total, total + ellipsis_dims
    for label in range(_ELLIPSIS):
        if counts[label] and position[label] == -1:
            position[label], total = total, total + 1

    ops, nontrivial = _aligned(operands, labels, position, ellipsis_at, ellipsis_dims, total)
    # Multiply left to right; a summed dimension goes as soon as no operand left to multiply has it.
    ops = list(ops)
    while len(ops) > 1:
        a, b = ops.pop(0), ops.pop(0)
        summed, only_a, only_b = [], [], []
        for d in range(out_dims, total):
            if a.shape[d] != 1 and b.shape[d] != 1:
                nontrivial[d] -= 1
                if nontrivial[d] == 1:
                    summed.append(d)
                    nontrivial[d] = 0
            elif nontrivial[d] == 1:
                if a.shape[d] != 1:
                    only_a.append(d)
                    nontrivial[d] = 0
                elif b.shape[d] != 1:
                    only_b.append(d)
                    nontrivial[d] = 0
        a = a.sum(only_a, True) if only_a else a
        b = b.sum(only_b, True) if only_b else b
        ops.insert(0, _product_summed(a, b, summed))
    if total == out_dims:
        return ops[0]
    if len(operands) > 1:  # the summed dims are all 1 by now
        return ops[0].view(tuple(ops[0].shape[:out_dims]))
    return ops[0].sum(tuple(range(out_dims, total)))


def _aligned(operands: Sequence[Tensor], labels: list[list[int]], position: list[int], ellipsis_at: int,
             ellipsis_dims: int, total: int) -> tuple[list[Tensor], list[int]]:
    """Each operand with one dimension per label in ``position``'s order (diagonals for repeated labels, size-1
    dims for missing ones), and for each dimension how many operands have it larger than 1."""
    sizes = [1] * _ELLIPSIS
    ellipsis_sizes = [1] * ellipsis_dims
    nontrivial = [0] * total
    ops = []
    for i, (op, own) in enumerate(zip(operands, labels)):
        permutation = [-1] * total
        dim = 0
        for label in own:
            if label == _ELLIPSIS:
                covered = op.ndim - (len(own) - 1)
                for j in range(ellipsis_dims - covered, ellipsis_dims):
                    if op.shape[dim] != 1:
                        if ellipsis_sizes[j] not in (1, op.shape[dim]):
                            raise RuntimeError(f"einsum(): dimension {dim} covered by ellipsis in operand {i}has size "
                                               f"{op.shape[dim]} which does not broadcast with previously seen "
                                               f"ellipsis with size {ellipsis_sizes[j]} for the respective dimension")
                        ellipsis_sizes[j] = op.shape[dim]
                        nontrivial[ellipsis_at + j] += 1
                    permutation[ellipsis_at + j] = dim
                    dim += 1
            elif permutation[position[label]] == -1:
                if op.shape[dim] != 1:
                    if sizes[label] not in (1, op.shape[dim]):
                        raise RuntimeError(f"einsum(): subscript {_letter(label)} has size {op.shape[dim]} for operand "
                                           f"{i} which does not broadcast with previously seen size {sizes[label]}")
                    sizes[label] = op.shape[dim]
                    nontrivial[position[label]] += 1
                permutation[position[label]] = dim
                dim += 1
            else:  # a repeated label: its diagonal, where the first one was
                first = permutation[position[label]]
                if op.shape[dim] != op.shape[first]:
                    raise RuntimeError(f"einsum(): subscript {_letter(label)} is repeated for operand {i} but the "
                                       f"sizes don't match, {op.shape[dim]} != {op.shape[first]}")
                op = op.diagonal(0, first, dim).movedim(-1, first)
        for j, p in enumerate(permutation):
            if p == -1:
                op = op.unsqueeze(dim)
                permutation[j], dim = dim, dim + 1
        ops.append(op.permute(permutation))
    return ops, nontrivial


def _product_summed(left: Tensor, right: Tensor, summed: list[int]) -> Tensor:
    """(left * right).sum(summed, keepdim=True), as one bmm: both permuted to (shared, own, summed) and
    flattened to matrices, the product viewed back and permuted to the original order of dimensions."""
    if not summed:
        return left * right
    shared, left_only, right_only = [], [], []
    for d in range(left.ndim):
        in_left, in_right = left.shape[d] != 1, right.shape[d] != 1
        if d in summed:
            if in_left and in_right and left.shape[d] != right.shape[d]:
                raise RuntimeError("non-broadcast dimensions must match")
            if in_left and not in_right:
                left = left.sum(d, True)
            elif in_right and not in_left:
                right = right.sum(d, True)
        elif in_left and in_right:
            shared.append(d)
        elif in_left:
            left_only.append(d)
        else:
            right_only.append(d)
    size = lambda t, dims: math.prod(t.shape[d] for d in dims)  # noqa: E731
    out_shape = ([left.shape[d] for d in shared] + [left.shape[d] for d in left_only] + [1] * len(summed)
                 + [right.shape[d] for d in right_only])
    order = shared + left_only + summed + right_only
    back = [order.index(d) for d in range(len(order))]
    a = left.permute(shared + left_only + summed + right_only).reshape(
        size(left, shared), size(left, left_only), size(left, summed))
    b = right.permute(shared + summed + right_only + left_only).reshape(
        size(left, shared), size(left, summed), size(right, right_only))
    return bmm(a, b).view(out_shape).permute(back)


def tensordot(a: Tensor, b: Tensor, dims: int | Sequence[Any] = 2, out: Any = None) -> Tensor:
    """Sum of products over a's dims ``dims[0]`` and b's ``dims[1]`` (an int n: a's last n with b's first n):
    both permuted and flattened to matrices, one ``mm``, the product reshaped. When every dim is summed, a
    ``dot`` of the two flattened, or, if flattening one would copy it, the sum of their product (PyTorch 2.13)."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        first, second = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        first, second = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(first) != len(second):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    first, second = [wrap_dim(d, a.ndim) for d in first], [wrap_dim(d, b.ndim) for d in second]
    for listed in (first, second):
        repeated = [d for d in listed if listed.count(d) > 1]
        if repeated:
            raise RuntimeError(f"dim {repeated[0]} appears multiple times in the list of dims")
    contracted = 1
    for d1, d2 in zip(first, second):
        s1, s2 = a.shape[d1], b.shape[d2]
        if s2 == 1:  # (a dim of size 1 on one side: summed on the other side right away)
            a = a.sum(d1, True)
        elif s1 == 1:
            b = b.sum(d2, True)
        elif s1 != s2:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {s1} in dim {d1} and second "
                               f"has size {s2} in dim {d2}")
        else:
            contracted *= s1
    kept_a = [d for d in range(a.ndim) if d not in first]
    kept_b = [d for d in range(b.ndim) if d not in second]
    sizes = [a.shape[d] for d in kept_a] + [b.shape[d] for d in kept_b]
    left, right = a.permute(kept_a + first), b.permute(second + kept_b)
    if not kept_a and not kept_b:  # everything summed
        if left.is_contiguous() and right.is_contiguous():
            return left.flatten().dot(right.flatten()).view(sizes)
        return (left.squeeze() * right.squeeze()).sum().view(sizes)
    left = left.reshape(math.prod(a.shape[d] for d in kept_a), contracted)
    right = right.reshape(contracted, math.prod(b.shape[d] for d in kept_b))
    return mm(left, right).reshape(sizes)
