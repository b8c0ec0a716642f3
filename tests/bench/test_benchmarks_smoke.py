"""Every benchmark runs (at tiny sizes) so none rots; timings are never asserted here."""

from __future__ import annotations

from pathlib import Path

from benchmarks.__main__ import main


def test_every_benchmark_runs_and_writes_a_results_table(tmp_path: Path):
    import torch

    import autograd_lab

    threads = torch.get_num_threads(), autograd_lab.get_num_threads()
    out = tmp_path / "RESULTS.md"
    assert main(["--size", "tiny", "--out", str(out)]) == 0
    # the run is one-threaded, and gives the process its threads back (later tests compare sums split by them)
    assert (torch.get_num_threads(), autograd_lab.get_num_threads()) == threads
    text = out.read_text()
    for workload in ("`y = y * c`", "MLP training step", "matmul", "Hessian-vector product", "import",
                     "GraphStepper", "grade one submission"):
        assert workload in text
    assert text.count("\n| ") >= 13  # header + one row per workload and variant
