"""``python -m benchmarks [--size tiny] [--out FILE]``: run every benchmark, print and write RESULTS.md."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from datetime import date
from importlib import metadata
from pathlib import Path

from benchmarks.harness import Row

MODULES = ["benchmarks.engine", "benchmarks.stepper", "benchmarks.grading"]


def _versions() -> str:
    import numpy
    import torch

    peers = []
    for name in ("mygrad", "micrograd", "autograd"):
        try:
            peers.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            peers.append(f"{name} (not installed: skipped)")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else "?"
    return (f"Python {platform.python_version()}, NumPy {numpy.__version__}, torch {torch.__version__} "
            f"(torch.set_num_threads(1), OMP/MKL/OpenBLAS threads = 1), {', '.join(peers)}; {cpu}, "
            f"{platform.system()} {platform.machine()}; {date.today().isoformat()}")


def _fmt(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def render(rows: list[Row]) -> str:
    lines = ["# Benchmark results", "", "Measured by `make bench` in one run: contenders interleaved, medians over "
             "repeats. Ratios are autograd_lab ÷ torch (lower is better for autograd_lab).", "", _versions(), "",
             "| workload | unit | autograd_lab | torch | ratio | peers | targets (DESIGN.md) |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        peers = ", ".join(f"{k} {_fmt(v)}" for k, v in row.times.items() if k not in ("autograd_lab", "torch"))
        ratio = row.ratio()
        targets = "; ".join(f"{what}: {'met' if met else '**not met**'}" for what, met in row.targets)
        lines.append(f"| {row.workload} | {row.unit} | {_fmt(row.times.get('autograd_lab', float('nan')))} | "
                     f"{_fmt(row.times['torch']) if 'torch' in row.times else ''} | "
                     f"{'' if ratio is None else f'{ratio:.2f}×'} | {peers} | {targets} |")
    notes = [f"- {row.workload}: {note}" for row in rows for note in row.notes]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", choices=["full", "tiny"], default="full", help="tiny: a smoke run, seconds")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    import torch

    import autograd_lab

    before = torch.get_num_threads(), autograd_lab.get_num_threads()
    torch.set_num_threads(1)  # (and autograd_lab splits its large sums as one-threaded torch does)
    autograd_lab.set_num_threads(1)
    try:
        return _run(args)
    finally:  # a caller in the same process (the smoke test) gets its threads back
        torch.set_num_threads(before[0])
        autograd_lab.set_num_threads(before[1])


def _run(args: argparse.Namespace) -> int:
    rows: list[Row] = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            print(f"({name} not present yet: skipped)", file=sys.stderr)
            continue
        for bench in module.BENCHMARKS:
            print(f"running {bench.__module__}.{bench.__name__} ...", file=sys.stderr, flush=True)
            rows.extend(bench(args.size))
    text = render(rows)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
