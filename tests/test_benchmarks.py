"""The benchmark scripts: their measuring helpers, and quick runs whose tables
are parsed and checked for consistency (no timing is asserted)."""

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits, make_classification

from sksoftmax import SoftmaxRegressionClassifier

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
FIT_DATASETS = ("digits (raw pixels)", "sparse CSR 100k x 50k, 100 nnz/row, 20 classes")


@pytest.fixture
def bench_fit(monkeypatch):
    """benchmarks/bench_fit.py as a module (the scripts import each other by
    their directory)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_fit

    return bench_fit


def run_quick(script, *args):
    """Run a benchmark script with --quick; its standard output, or a failure
    with its stderr."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def table(text, header_start):
    """The rows of the Markdown table whose header starts with
    ``header_start``, each a list of its cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def half_unit(cell):
    """Half a unit in the last place of a number as printed ("0.143", "30",
    "5.2e-03"): how far the printed value may be from the value."""
    mantissa, _, exponent = cell.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def ratio_shown_is_consistent(shown, numerator, denominator):
    """Whether the printed ratio ``shown`` can be the ratio of the values
    printed as ``numerator`` and ``denominator``, given the rounding of all
    three (cells as printed, possibly with a leading "> ")."""
    shown = shown.removeprefix("> ")
    a, da = float(numerator), half_unit(numerator)
    b, db = float(denominator), half_unit(denominator)
    low, high = (a - da) / (b + db), (a + da) / max(b - db, 1e-300)
    return low - half_unit(shown) <= float(shown) <= high + half_unit(shown)


# The measuring helpers ------------------------------------------------------------


def fake_fits(least, seconds_per_iteration=0.01, stops_at=None):
    """``fit_at`` of a deterministic fake solver: its model is within the gap
    from iteration ``least`` on; it stops by itself at ``stops_at``."""
    calls = []

    def fit_at(k):
        calls.append(k)
        n_iter = k if stops_at is None else min(k, stops_at)
        return n_iter * seconds_per_iteration, float(n_iter >= least), n_iter

    return fit_at, calls


@pytest.mark.parametrize("least", [1, 2, 7, 100, 1000])
@pytest.mark.parametrize("refine", [0, 2, 5])
def test_refit_to_gap_brackets_the_least_max_iter(bench_fit, least, refine):
    fit_at, calls = fake_fits(least)
    search = bench_fit.refit_to_gap(fit_at, bool, time_limit=1e9, refine=refine)
    assert search.below < least <= search.reached_at
    # Doubling to [2^j, 2^(j+1)], then `refine` bisection fits at most, each
    # halving the bracket (whose width 2^j is below `least`).
    assert len(calls) <= int(np.ceil(np.log2(least))) + 1 + refine
    assert search.reached_at - search.below <= max(1, np.ceil(least / 2**refine))
    assert search.time == pytest.approx(0.01 * search.reached_at)
    assert search.bound == pytest.approx(0.01 * search.below)
    assert [k for k, _, _ in search.fits] == sorted(set(calls))


def test_refit_to_gap_starts_from_a_known_bracket(bench_fit):
    fit_at, calls = fake_fits(least=37)
    search = bench_fit.refit_to_gap(fit_at, bool, 1e9, first=40, refine=10)
    assert calls[0] == 40
    assert (search.below, search.reached_at) == (36, 37)


def test_refit_to_gap_respects_the_time_limit(bench_fit):
    # 1 s per iteration, a 100 s limit: no fit beyond 100 iterations.
    fit_at, calls = fake_fits(least=1000, seconds_per_iteration=1.0)
    search = bench_fit.refit_to_gap(fit_at, bool, time_limit=100.0)
    assert search.reached_at is None and search.time == np.inf
    assert max(calls) == 100 and search.below == 100
    assert search.bound == pytest.approx(100.0)


def test_refit_to_gap_stops_when_the_solver_stops_by_itself(bench_fit):
    fit_at, calls = fake_fits(least=1000, stops_at=20)
    search = bench_fit.refit_to_gap(fit_at, bool, time_limit=1e9)
    assert search.reached_at is None
    assert calls == [1, 2, 4, 8, 16, 32]


def test_traced_fit_stops_at_the_target_and_truncated_fits_follow_the_trace(
    bench_fit,
):
    """The premise of refit_to_gap: the fit with max_iter=k ends at the k-th
    iterate of the long run, whose objective the callback reported."""
    # Two classes and 1,100 features: a model above the size that Newton
    # steps finish (1,024 parameters) and with one row (nothing to shift
    # across classes after the fit), so that the fit is L-BFGS-B's alone,
    # whose truncation at max_iter=k is the premise.
    X, y = make_classification(400, 1100, n_informative=20, random_state=0)
    data = bench_fit.InMemoryData(X, y, np.ones(len(y)))
    objective = bench_fit.SoftmaxObjective(
        data, 2, bench_fit.FitSettings(C=1.0), precondition=False
    )

    def make(max_iter=1_000_000):
        return SoftmaxRegressionClassifier(tol=1e-10, max_iter=max_iter)

    full = bench_fit.traced_fit(make(), X, y, lambda f: False, time_limit=1e9)
    target = full[29][2]
    before = time.perf_counter()
    trace = bench_fit.traced_fit(make(), X, y, lambda f: f <= target, 1e9)
    call = time.perf_counter() - before
    assert [k for _, k, _ in trace] == list(range(1, 31))
    # Seconds since the call began (the fit's checks included), not per
    # iteration: the 30th iteration's count the 29 before it, and all lie
    # within the call.
    seconds = [t for t, _, _ in trace]
    assert 0 < seconds[0] < seconds[-1] <= call
    assert_allclose([f for _, _, f in trace], [f for _, _, f in full[:30]])

    fit_at = bench_fit.truncated_fits(make, X, y, objective)
    for k in (1, 7, 30):
        seconds, value, n_iter = fit_at(k)
        assert n_iter == k and seconds > 0
        assert_allclose(value, full[k - 1][2], rtol=1e-12)


def test_traced_fit_stops_at_the_time_limit(bench_fit):
    X, y = load_digits(return_X_y=True)
    estimator = SoftmaxRegressionClassifier(tol=1e-10, max_iter=1000)
    trace = bench_fit.traced_fit(estimator, X, y, lambda f: False, time_limit=0.0)
    assert len(trace) == 1
    assert not hasattr(estimator, "coef_")


# Quick runs of the scripts ------------------------------------------------------


@pytest.mark.slow
def test_benchmark_quick_run_writes_consistent_tables_and_plot(tmp_path):
    run_quick(
        "bench_fit.py",
        *[
            "--only",
            "digits",
            "sparse CSR",
            "--time-limit",
            "5",
            "--out",
            str(tmp_path),
        ],
    )
    text = (tmp_path / "fit.md").read_text()
    rows = table(text, "| dataset | estimator | fit time (s) |")
    assert [row[:2] for row in rows] == [
        [name, key]
        for name in FIT_DATASETS
        for key in ("sksoftmax", "LogisticRegression")
    ]
    cells = {}
    for name, key, fit, n_iter, converged, gap, to_gap, iters, memory in rows:
        assert float(fit) > 0 and int(n_iter) >= 1 and converged in ("yes", "no")
        if key == "LogisticRegression":
            # The fastest of the solvers timed to the gap, named.
            to_gap, solver = re.fullmatch(r"(.*) \((\S+)\)", to_gap).groups()
            assert solver in ("lbfgs", "newton-cg", "newton-cholesky")
        assert float(gap) >= 0 and float(memory) > 0
        if key == "sksoftmax":
            # The callback stops the run there: the quick datasets get there
            # in well under a second.
            assert float(to_gap) > 0 and int(iters) >= 1
        elif to_gap == "not reached":
            assert re.fullmatch(r"> \d+", iters)
        else:
            below, above = re.fullmatch(r"\((\d+), (\d+)\]", iters).groups()
            assert float(to_gap) > 0 and int(below) < int(above)
        cells[name, key] = {"fit": fit, "to gap": to_gap, "memory": memory, "gap": gap}

    ratios = table(text, "| dataset | fit time ratio (default) |")
    assert [row[0] for row in ratios] == list(FIT_DATASETS)
    for name, fit_ratio, speedup, memory_ratio, gap_ok, _ in ratios:
        ours, theirs = cells[name, "sksoftmax"], cells[name, "LogisticRegression"]
        assert ratio_shown_is_consistent(fit_ratio, ours["fit"], theirs["fit"])
        assert ratio_shown_is_consistent(memory_ratio, ours["memory"], theirs["memory"])
        if theirs["to gap"] == "not reached":
            # A lower bound, from LogisticRegression's longest fit (not shown).
            assert re.fullmatch(r"> \d+\.\d", speedup)
        else:
            assert ratio_shown_is_consistent(speedup, theirs["to gap"], ours["to gap"])
        assert gap_ok == ("yes" if float(ours["gap"]) <= float(theirs["gap"]) else "no")
    predict = table(text, "| estimator | time (s) | rows per second |")
    assert [row[0] for row in predict] == ["sksoftmax", "LogisticRegression"]
    throughput = re.search(r"Throughput ratio .*: ([\d.]+)", text)[1]
    assert ratio_shown_is_consistent(throughput, predict[1][1], predict[0][1])
    assert (tmp_path / "fit.png").stat().st_size > 10_000


@pytest.mark.slow
def test_elastic_net_benchmark_quick_run_writes_consistent_table(tmp_path):
    run_quick("bench_elasticnet.py", "--time-limit", "2", "--out", str(tmp_path))
    text = (tmp_path / "elasticnet.md").read_text()
    dense, sparse = "dense 200k x 100, 10 classes", FIT_DATASETS[1]
    settings = [(dense, "0.2"), (dense, "2"), (dense, "20"), (sparse, "2")]
    rows = table(text, "| dataset | C | l1_ratio |")
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (name, C, "0.5") for name, C in settings
    ]
    for _, _, _, ours, iters, saga, speedup, zeros, differ in rows:
        if ours == "not reached":
            assert speedup == "sksoftmax did not reach it"
            continue
        below, above = map(int, re.fullmatch(r"\((\d+), (\d+)\]", iters).groups())
        assert below < above
        bound = re.fullmatch(r"not reached \(best gap (\S+) after (\S+) s\)", saga)
        if bound:
            assert float(bound[1]) > 1e-6 and speedup.startswith("> ")
            assert ratio_shown_is_consistent(speedup, bound[2], ours)
        else:
            assert ratio_shown_is_consistent(speedup, saga, ours)
        for share in re.findall(r"([\d.]+)%", zeros):
            assert 0 <= float(share) <= 100
        assert re.fullmatch(r"\d+ weights", differ)
    saga_runs = re.findall(r"^- (.*), C=(\S+): (.*)$", text, flags=re.MULTILINE)
    assert [(name, C) for name, C, _ in saga_runs] == settings
    for _, _, runs in saga_runs:
        epochs = [int(e) for e in re.findall(r"(?:^|, )(\d+): ", runs)]
        assert epochs == [2**i for i in range(len(epochs))]
    defaults = table(text, "| dataset | C | fit time (s) | iterations |")
    assert [(row[0], row[1]) for row in defaults] == settings
    for _, _, seconds, n_iter, converged, gap, ref_iter in defaults:
        assert float(seconds) > 0 and 1 <= int(n_iter) <= 100
        assert converged in ("yes", "no") and float(gap) >= 0 and int(ref_iter) >= 1


@pytest.mark.slow
def test_dask_benchmark_quick_run_reports_both_fits(tmp_path):
    pytest.importorskip("distributed", reason="the Dask benchmark needs the extra")
    output = run_quick("bench_dask.py", "--output", str(tmp_path / "dask.md"))
    assert "| fit | total (s) |" in (tmp_path / "dask.md").read_text()
    rows = table(output, "| fit | total (s) |")
    assert [row[0] for row in rows] == ["Dask, 4 workers", "in memory, one process"]
    # Evaluations and seconds from the first iteration to the last, each fit's.
    measured = re.findall(
        r"(\d+) evaluations after the first iteration took (\S+) s", output
    )
    assert len(measured) == len(rows) == 2
    for row, (evaluations, seconds) in zip(rows, measured, strict=True):
        _, total, n_iter, n_evaluations, per_iteration, per_evaluation = row
        assert int(n_evaluations) >= int(n_iter) >= 2
        assert 0 < int(evaluations) < int(n_evaluations)
        # Those seconds are part of the fit's total, and over those
        # evaluations they are the seconds per evaluation.
        assert float(seconds) <= float(total) + half_unit(total)
        assert abs(float(per_evaluation) - float(seconds) / int(evaluations)) <= (
            half_unit(per_evaluation) + half_unit(seconds) / int(evaluations)
        )
        # They are also the n_iter - 1 iterations after the first, of which
        # half or more take the median or longer: the median is at most twice
        # their mean.
        mean = (float(seconds) + half_unit(seconds)) / (int(n_iter) - 1)
        assert float(per_iteration) - half_unit(per_iteration) <= 2 * mean
    ratio = re.search(r"Time ratio Dask / in memory: ([\d.]+) \(total\)", output)[1]
    assert ratio_shown_is_consistent(ratio, rows[0][1], rows[1][1])
    per_evaluation, total_bytes, evaluations = re.search(
        r"per evaluation: ([\d,]+), measured as the total bytes .*\(([\d,]+)\) over "
        r"the evaluations in between \((\d+)\)",
        output,
    ).groups()
    total_bytes, evaluations = int(total_bytes.replace(",", "")), int(evaluations)
    assert evaluations == int(measured[0][0]) and total_bytes > 0
    assert abs(int(per_evaluation.replace(",", "")) - total_bytes / evaluations) <= 1
    difference = float(re.search(r"between the two fits: (\S+)\.$", output.strip())[1])
    assert difference < 1e-4


@pytest.mark.slow
def test_gpu_benchmark_quick_run_on_the_cpu(tmp_path):
    pytest.importorskip("torch", reason="the GPU benchmark needs PyTorch")
    run_quick(
        "bench_gpu.py", "--device", "cpu", "--repeats", "1", "--out", str(tmp_path)
    )
    text = (tmp_path / "gpu.md").read_text()
    rows = table(text, "| data | dtype | C | estimator |")
    expected = [
        (data, dtype, C, estimator)
        for data in ("20,000 x 16, 4 classes", "10,000 x 32, 20 classes")
        for dtype in ("float32", "float64")
        for C in ("1", "100")
        for estimator in ("LogisticRegression", "sksoftmax")
    ]
    assert [tuple(row[:4]) for row in rows] == expected
    fit_ratios = []  # (sksoftmax's fit time, LogisticRegression's), as printed
    for theirs, ours in zip(rows[::2], rows[1::2], strict=True):
        # The excess of each objective over the lower of the two, relative:
        # zero for the lower one, and the other's from the objectives shown
        # (to their 10 decimals).
        objectives = [float(theirs[7]), float(ours[7])]
        excess = [theirs[8], ours[8]]
        lower = min(objectives)
        assert min(float(cell) for cell in excess) == 0
        for value, cell in zip(objectives, excess, strict=True):
            if float(cell) == 0:
                assert value - lower <= 1e-10
            else:
                assert float(cell) == pytest.approx(
                    (value - lower) / lower, abs=half_unit(cell) + 1e-10 / lower
                )
        assert theirs[9:] == ["-", "-"]
        seconds, n_iter = float(ours[4]), int(ours[5])
        in_solver, evaluations = ours[9].split(", ")
        # The solver's time is part of the fit's; it evaluates at least once
        # per iteration.
        assert 0 < float(in_solver) <= seconds and int(evaluations) >= n_iter
        if ours[10] != "not reached":
            reach_seconds, max_iter = ours[10].split(", ")
            assert float(reach_seconds) > 0 and 1 <= int(max_iter) <= n_iter
        fit_ratios.append((ours[4], theirs[4]))
    shown = re.search(r"LogisticRegression: (.*) \(median", text)[1].split(", ")
    assert len(shown) == len(fit_ratios)
    for ratio, (ours, theirs) in zip(shown, fit_ratios, strict=True):
        assert ratio_shown_is_consistent(ratio, ours, theirs)


@pytest.mark.slow
def test_cv_benchmark_quick_run_writes_consistent_tables(tmp_path):
    run_quick("bench_cv.py", "--out", str(tmp_path))
    text = (tmp_path / "cv.md").read_text()
    rows = table(text, "| dataset | SoftmaxRegressionCV (s)")
    assert len(rows) == 4
    ratios_lr, ratios_grid = [], []
    for _, ours, lr, lr_ratio, grid, grid_ratio, chosen, warned in rows:
        assert ratio_shown_is_consistent(lr_ratio, lr, ours)
        assert ratio_shown_is_consistent(grid_ratio, grid, ours)
        ratios_lr.append(float(lr) / float(ours))
        ratios_grid.append(float(grid) / float(ours))
        assert len(chosen.split(" / ")) == 3
        assert all(0 <= int(n) <= 51 for n in warned.split(" / "))
    medians = re.search(
        r"LogisticRegressionCV / ours (\S+), GridSearchCV / ours (\S+)\.", text
    )
    assert abs(float(medians[1]) - np.median(ratios_lr)) <= 0.05 + 0.01 * float(
        medians[1]
    )
    assert abs(float(medians[2]) - np.median(ratios_grid)) <= 0.05 + 0.01 * float(
        medians[2]
    )
    agreement = table(text, "| dataset | tol | same C |")
    assert [row[1] for row in agreement].count("1e-8") == 2
    for _, tol, same, difference in agreement:
        assert same in ("yes", "no")
        if tol == "1e-8":
            # At a tight tol the path's fits and the cold ones are the same
            # optima: the same choice, the same scores.
            assert same == "yes" and float(difference) < 1e-6
    elastic = table(text, "| search | time (s) | ratio |")
    assert [row[0] for row in elastic] == [
        "SoftmaxRegressionCV",
        "LogisticRegressionCV(saga)",
    ]
    assert ratio_shown_is_consistent(elastic[1][2], elastic[1][1], elastic[0][1])


@pytest.mark.slow
def test_inference_benchmark_quick_run_writes_consistent_table(tmp_path):
    run_quick("bench_inference.py", "--out", str(tmp_path))
    text = (tmp_path / "inference.md").read_text()
    rows = table(text, "| dataset | cov_type |")
    assert [row[1] for row in rows] == ["nonrobust", "HC0", "cluster"] * 2
    ratios = []
    for _, _, fit, inferred, ours, theirs, shown, coef, se, warned in rows:
        assert float(ours) == pytest.approx(float(fit) + float(inferred), abs=0.011)
        assert ratio_shown_is_consistent(shown, theirs, ours)
        ratios.append(float(shown))
        # Both at their optimum: the same coefficients and standard errors.
        assert float(coef) < 1e-2 and float(se) < 1e-4
        assert warned == "0"
    # The summary line is of the unrounded ratios, the column of rounded ones.
    summary = re.search(r"Smallest ratio: (\S+); median (\S+)\.", text)
    assert float(summary[1]) == pytest.approx(min(ratios), abs=0.051)
    assert float(summary[2]) == pytest.approx(np.median(ratios), abs=0.051)


def test_margeff_benchmark_quick_run_writes_consistent_table(tmp_path):
    run_quick("bench_margeff.py", "--out", str(tmp_path))
    text = (tmp_path / "margeff.md").read_text()
    rows = table(text, "| rows |")
    assert [row[0] for row in rows] == ["500", "1,000"]
    shown_ratios = []
    for _, ours, theirs, shown, _, _, difference in rows:
        assert ratio_shown_is_consistent(shown, theirs, ours)
        shown_ratios.append(float(shown))
        # The same standard errors: the delta method with exact Jacobians
        # (ours) and central differences (statsmodels').
        assert float(difference) < 1e-6
    # Rounding keeps the order: the smallest ratio, rounded as the cells
    # are, is the smallest cell (the cells' times are rounded too, so a
    # ratio recomputed from them can differ from it by more than a half).
    summary = re.search(r"Smallest ratio: (\S+)\.", text)
    assert float(summary[1]) == min(shown_ratios)


def test_onnx_benchmark_quick_run_writes_consistent_table(tmp_path):
    pytest.importorskip("skl2onnx", reason="the ONNX benchmark needs the onnx extra")
    pytest.importorskip("onnxruntime")
    run_quick("bench_onnx.py", "--out", str(tmp_path))
    text = (tmp_path / "onnx.md").read_text()
    rows = table(text, "| dtype |")
    assert [row[0] for row in rows] == ["float32", "float64"]
    for dtype, ours, theirs, shown, difference in rows:
        assert ratio_shown_is_consistent(shown, theirs, ours)
        # The graph computes the model's probabilities.
        assert float(difference) < (1e-5 if dtype == "float32" else 1e-10)
