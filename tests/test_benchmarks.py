"""The benchmark scripts run and report both estimators (no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_quick(script, *args):
    """Run a benchmark script with --quick; its standard output, or a failure
    with its stderr."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_benchmark_quick_run_writes_table_and_plot(tmp_path):
    run_quick(
        "bench_fit.py",
        *["--only", "digits", "sparse", "--time-limit", "5", "--out", str(tmp_path)],
    )
    table = (tmp_path / "fit.md").read_text()
    for row in (
        "| digits (raw pixels) | sksoftmax |",
        "| digits (raw pixels) | LogisticRegression |",
        "| sparse CSR 100k x 50k, 100 nnz/row, 20 classes | sksoftmax |",
    ):
        assert row in table
    assert "Throughput ratio sksoftmax / LogisticRegression" in table
    assert (tmp_path / "fit.png").stat().st_size > 10_000


def test_elastic_net_benchmark_quick_run_writes_table(tmp_path):
    run_quick("bench_elasticnet.py", "--time-limit", "2", "--out", str(tmp_path))
    table = (tmp_path / "elasticnet.md").read_text()
    for row in (
        "| dense 200k x 100, 10 classes | 0.2 | 0.5 |",
        "| dense 200k x 100, 10 classes | 20 | 0.5 |",
        "| sparse CSR 100k x 50k, 100 nnz/row, 20 classes | 2 | 0.5 |",
    ):
        assert row in table
    assert "saga runs (epochs: seconds, gap)" in table


def test_dask_benchmark_quick_run_reports_both_fits():
    pytest.importorskip("distributed", reason="the Dask benchmark needs the extra")
    output = run_quick("bench_dask.py")
    assert "| Dask, 4 workers |" in output
    assert "| in memory, one process |" in output
    assert "Time ratio Dask / in memory" in output


def test_gpu_benchmark_quick_run_on_the_cpu(tmp_path):
    pytest.importorskip("torch", reason="the GPU benchmark needs PyTorch")
    run_quick(
        "bench_gpu.py", "--device", "cpu", "--repeats", "1", "--out", str(tmp_path)
    )
    table = (tmp_path / "gpu.md").read_text()
    for dtype in ("float32", "float64"):
        for C in ("1", "100"):
            for estimator in ("LogisticRegression", "sksoftmax"):
                assert f"| 20,000 x 16, 4 classes | {dtype} | {C} | {estimator} |" in (
                    table
                )
    assert "Fit-time ratios sksoftmax / LogisticRegression" in table
