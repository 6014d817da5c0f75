"""The benchmark script runs and reports both estimators (no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_fit.py"


def test_benchmark_quick_run_writes_table_and_plot(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--only",
            "digits",
            "sparse",
            "--time-limit",
            "5",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
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
    script = SCRIPT.with_name("bench_elasticnet.py")
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--time-limit", "2"]
        + ["--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "elasticnet.md").read_text()
    for row in (
        "| dense 200k x 100, 10 classes | 0.2 | 0.5 |",
        "| dense 200k x 100, 10 classes | 20 | 0.5 |",
        "| sparse CSR 100k x 50k, 100 nnz/row, 20 classes | 2 | 0.5 |",
    ):
        assert row in table
    assert "saga runs (epochs: seconds, gap)" in table
