"""Engine workloads: per-op overhead, an MLP training step, a large matmul, a Hessian-vector product, import time.

Each ``bench_*`` function takes a ``size`` ("full" for RESULTS.md, "tiny" for the smoke test)
and returns rows. Peers that are not installed are skipped with a note, never faked.
"""

from __future__ import annotations

import importlib
import itertools
import os
import statistics
import subprocess
import sys
from collections.abc import Callable

import numpy as np

from benchmarks.harness import Row, median_times

SIZES = {"full": {"chain": 200, "repeats": 41, "mlp_repeats": 41, "matmul": 512, "import_repeats": 9},
         "tiny": {"chain": 5, "repeats": 2, "mlp_repeats": 2, "matmul": 8, "import_repeats": 1}}


def _optional(name: str) -> object | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _chain(module: object, n: int, c: object, backward: bool) -> Callable[[], None]:
    """``y = y * c`` n times on shape (10,), then (optionally) backward: the per-op overhead."""
    def run() -> None:
        x = module.ones(10, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * c
        if backward:
            y.sum().backward()
    return run


def _peer_chains(n: int, backward: bool) -> dict[str, Callable[[], None]]:
    """The same chain in MyGrad (tensor (10,)), HIPS autograd (array (10,)) and micrograd (one scalar)."""
    runs: dict[str, Callable[[], None]] = {}
    mygrad = _optional("mygrad")
    if mygrad is not None:
        def run_mygrad() -> None:
            x = mygrad.tensor(np.ones(10, np.float32))
            y = x
            for _ in range(n):
                y = y * 1.0001
            if backward:
                y.sum().backward()
        runs["MyGrad"] = run_mygrad
    hips = _optional("autograd")
    if hips is not None and backward:
        def chain(x: np.ndarray) -> np.ndarray:
            y = x
            for _ in range(n):
                y = y * 1.0001
            return y.sum()
        gradient = hips.grad(chain)
        runs["HIPS autograd"] = lambda: gradient(np.ones(10, np.float32))
    micrograd = _optional("micrograd.engine")
    if micrograd is not None:
        def run_micrograd() -> None:
            y = x = micrograd.Value(1.0)
            for _ in range(n):
                y = y * 1.0001
            if backward:
                y.backward()
            del x
        runs["micrograd (scalar)"] = run_micrograd
    return runs


def bench_per_op(size: str) -> list[Row]:
    """Per-op overhead, with ``c`` a Python float (DESIGN's figure for torch) and ``c`` a tensor."""
    import torch

    import autograd_lab

    n, repeats = SIZES[size]["chain"], SIZES[size]["repeats"]
    rows = []
    for backward in (False, True):
        for c_kind in ("python float", "tensor (10,)"):
            make_c = (lambda m: 1.0001) if c_kind == "python float" else (lambda m: m.ones(10) * 1.0001)
            contenders = {"autograd_lab": _chain(autograd_lab, n, make_c(autograd_lab), backward),
                          "torch": _chain(torch, n, make_c(torch), backward)}
            if c_kind == "python float":
                contenders.update(_peer_chains(n, backward))
            times = {k: v * 1e6 for k, v in median_times(contenders, repeats, per_call=n).items()}
            what = "forward+backward" if backward else "forward only"
            row = Row(f"chain of {n} `y = y * c`, shape (10,), c a {c_kind}: {what}", "µs/op", times)
            if backward:
                row.against("≤ 1.5× torch", 1.5)
                row.against("≥ 2× faster than MyGrad", 2, peer="MyGrad")
            rows.append(row)
    return rows


def _mlp_step(module: object, layers: list, x: object, y: object, opt: object) -> Callable[[], None]:
    def run() -> None:
        opt.zero_grad()
        h = x
        for i, layer in enumerate(layers):
            h = layer(h)
            if i < len(layers) - 1:
                h = h.relu()
        module.nn.functional.mse_loss(h, y).backward()
        opt.step()
    return run


def _mygrad_mlp_step(mygrad: object, sizes: list[int], x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """The same MLP step written with MyGrad's tensors (it has no optimizer: plain SGD by hand)."""
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        params.append(mygrad.tensor(rng.uniform(-1, 1, (fan_in, fan_out)).astype(np.float32) / np.sqrt(fan_in)))
        params.append(mygrad.tensor(np.zeros(fan_out, np.float32)))

    def run() -> None:
        h = mygrad.tensor(x, constant=True)
        for i in range(0, len(params), 2):
            h = mygrad.matmul(h, params[i]) + params[i + 1]
            if i < len(params) - 2:
                h = mygrad.maximum(h, 0)
        loss = mygrad.mean((h - y) ** 2)
        loss.backward()
        for p in params:
            p.data -= 0.01 * p.grad
    return run


def bench_mlp(size: str) -> list[Row]:
    """One training step: batch 64, two hidden layers of 128, MSE, SGD."""
    import torch

    import autograd_lab

    sizes = [32, 128, 128, 1] if size == "full" else [4, 8, 8, 1]
    batch = 64 if size == "full" else 4
    contenders = {}
    for name, module in (("autograd_lab", autograd_lab), ("torch", torch)):
        module.manual_seed(0)
        layers = [module.nn.Linear(a, b) for a, b in itertools.pairwise(sizes)]
        params = [p for layer in layers for p in layer.parameters()]
        x, y = module.randn(batch, sizes[0]), module.randn(batch, 1)
        contenders[name] = _mlp_step(module, layers, x, y, module.optim.SGD(params, lr=0.01))
    mygrad = _optional("mygrad")
    if mygrad is not None:
        rng = np.random.default_rng(0)
        contenders["MyGrad"] = _mygrad_mlp_step(mygrad, sizes, rng.standard_normal((batch, sizes[0]), np.float32),
                                                rng.standard_normal((batch, 1), np.float32))
    times = {k: v * 1e3 for k, v in median_times(contenders, SIZES[size]["mlp_repeats"]).items()}
    row = Row(f"MLP training step: batch {batch}, layers {sizes}, MSE, SGD", "ms/step", times)
    row.against("≤ 1.2× torch", 1.2)
    row.against("≥ 2× faster than MyGrad", 2, peer="MyGrad")
    return [row]


def bench_matmul(size: str) -> list[Row]:
    """A large op is BLAS-bound: the engine's overhead disappears, both should be close."""
    import torch

    import autograd_lab

    n = SIZES[size]["matmul"]
    contenders = {}
    for name, module in (("autograd_lab", autograd_lab), ("torch", torch)):
        module.manual_seed(0)
        a = module.randn(n, n, requires_grad=True)
        b = module.randn(n, n, requires_grad=True)
        contenders[name] = lambda a=a, b=b: (a @ b).sum().backward()
    times = {k: v * 1e3 for k, v in median_times(contenders, SIZES[size]["repeats"] // 2 + 1).items()}
    return [Row(f"{n}×{n} matmul, forward+backward", "ms", times, notes=["both call BLAS (one thread)"])]


def _hvp(module: object, size: str) -> Callable[[], None]:
    """Hessian-vector product of a small tanh network's loss with respect to its first layer's weights."""
    module.manual_seed(0)
    width = 32 if size == "full" else 4
    w1 = module.randn(width, width, requires_grad=True)
    w2 = module.randn(width, 1, requires_grad=True)
    x = module.randn(16, width)
    v = module.randn(width, width)

    def run() -> None:
        loss = ((x @ w1).tanh() @ w2).pow(2).mean()
        (g,) = module.autograd.grad(loss, w1, create_graph=True)
        (g * v).sum().backward()
    return run


def bench_hvp(size: str) -> list[Row]:
    import torch

    import autograd_lab

    contenders = {"autograd_lab": _hvp(autograd_lab, size), "torch": _hvp(torch, size)}
    times = {k: v * 1e3 for k, v in median_times(contenders, SIZES[size]["repeats"]).items()}
    return [Row("Hessian-vector product (double backward) of a small tanh network", "ms", times)]


def _import_seconds(module: str, env: dict[str, str] | None = None) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(result.stdout.strip())


def bench_import(size: str) -> list[Row]:
    """``import autograd_lab`` in a fresh interpreter (its NumPy import included) vs ``import torch``.

    As a user's second import: a first, untimed import writes the bytecode cache (even where
    PYTHONDONTWRITEBYTECODE is set, which would otherwise make every run compile the sources again).
    """
    repeats = SIZES[size]["import_repeats"]
    writes_cache = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    modules = ("autograd_lab", "torch")
    for module in modules:
        _import_seconds(module, writes_cache)
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(repeats):  # interleaved, as the other benchmarks' contenders
        for module in modules:
            samples[module].append(_import_seconds(module))
    times = {module: statistics.median(values) for module, values in samples.items()}
    row = Row("import, fresh interpreter", "s", times, targets=[("≤ 0.15 s", times["autograd_lab"] <= 0.15)])
    return [row]


BENCHMARKS = [bench_per_op, bench_mlp, bench_matmul, bench_hvp, bench_import]
