"""SoftmaxRegressionClassifier against LogisticRegression(solver="lbfgs").

Run from the repository root (needs matplotlib: ``pip install -e ".[test]"``)::

    python benchmarks/bench_fit.py            # the full benchmark, ~30 min on 2 cores
    python benchmarks/bench_fit.py --quick    # small sizes, a smoke test

Both estimators minimise the same objective (mean weighted cross-entropy plus
``||W||^2 / (2 C S)``), so they are compared on the same data with the same C,
fitted alternately in one process:

- default settings: median fit time over ``--repeats`` runs, iterations, the
  final objective's relative gap to a reference optimum, and whether the fit
  converged (no ConvergenceWarning);
- tight settings (tol=1e-10): the time until the objective first comes within
  a relative gap of 1e-6 of the reference optimum, read from the objective at
  every L-BFGS-B iteration (a run stops there, or at ``--time-limit``);
- peak memory allocated during a default fit (tracemalloc sees NumPy's
  allocations), relative to the size of X;
- predict_proba on 1,000,000 x 100 with 10 classes: median time of each.

The reference optimum of each dataset comes from one long, tight run of the
preconditioned solver (tol=1e-12); its iteration count is reported. Results go
to ``--out``: ``fit.md`` (the tables) and ``fit.png`` (objective gap against
time of the tight runs).
"""

import argparse
import contextlib
import platform
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import scipy.optimize
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier
from sksoftmax._objective import SoftmaxObjective

TARGET_GAP = 1e-6
C = 1.0


# Datasets ----------------------------------------------------------------------


def softmax_labels(X, n_classes, rng, noise=1.0):
    """Labels drawn from a random softmax model (Gumbel-max sampling)."""
    weights = rng.normal(size=(n_classes, X.shape[1]))
    scores = np.asarray(X @ weights.T)
    scores *= 3.0 / scores.std()
    scores += noise * rng.gumbel(size=scores.shape)
    return scores.argmax(axis=1)


def digits(scale):
    return load_digits(return_X_y=True)


def dense_10(scale):
    return make_classification(
        n_samples=200_000 // scale,
        n_features=100,
        n_informative=30,
        n_classes=10,
        random_state=0,
    )


def dense_scaled(scale):
    X, y = make_classification(
        n_samples=100_000 // scale,
        n_features=50,
        n_informative=20,
        n_classes=7,
        random_state=1,
    )
    rng = np.random.default_rng(1)
    return X * rng.permutation(np.logspace(-3, 4, X.shape[1])), y


def dense_100(scale):
    return make_classification(
        n_samples=50_000 // scale,
        n_features=200,
        n_informative=50,
        n_classes=100,
        n_clusters_per_class=1,
        random_state=2,
    )


def sparse_20(scale):
    rng = np.random.default_rng(3)
    n_samples, n_features = 100_000 // scale, 50_000 // scale
    X = sp.random(
        n_samples,
        n_features,
        density=100 / 50_000,
        format="csr",
        random_state=rng,
        data_rvs=lambda k: rng.exponential(size=k),
    )
    return X, softmax_labels(X, 20, rng)


def many_classes(scale):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20_000 // scale, 100))
    n_classes = 1000 // min(scale, 10)
    return X, softmax_labels(X, n_classes, rng, noise=0.5)


DATASETS = {
    "digits (raw pixels)": digits,
    "dense 200k x 100, 10 classes": dense_10,
    "dense 100k x 50, 7 classes, scales 1e-3..1e4": dense_scaled,
    "dense 50k x 200, 100 classes": dense_100,
    "sparse CSR 100k x 50k, 100 nnz/row, 20 classes": sparse_20,
    "dense 20k x 100, 1000 classes": many_classes,
}


def nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


# Measuring a fit ---------------------------------------------------------------


class StopRun(Exception):
    """Raised from the L-BFGS-B callback to end a traced run."""


@contextlib.contextmanager
def lbfgs_trace(trace, f_star=None, time_limit=None, correction=None):
    """Record (time, objective) at every L-BFGS-B iteration of either estimator.

    Both call ``scipy.optimize.minimize`` with a function returning the
    objective and its gradient (the same objective for both). The wrapper
    remembers the last value, which L-BFGS-B computes at the accepted point of
    each iteration, and its callback records it; it ends the run with
    ``StopRun`` once the value is within TARGET_GAP of ``f_star`` or after
    ``time_limit`` seconds. (Only the trace of such a run is used.)

    ``correction(xk)``, if given, is subtracted from the value: the split L1
    objective of sksoftmax exceeds the objective of the model ``W = W+ - W-``
    wherever both parts are positive (see ``bench_elasticnet.py``).
    """
    original = scipy.optimize.minimize
    start = time.perf_counter()
    last = {}

    def record(xk):
        now = time.perf_counter() - start
        value = last["value"] - (correction(xk) if correction else 0.0)
        trace.append((now, value))
        if f_star is not None and value - f_star <= TARGET_GAP * abs(f_star):
            raise StopRun
        if time_limit is not None and now > time_limit:
            raise StopRun

    def minimize(fun, x0, *args, callback=None, **kwargs):
        assert callback is None, "the benchmark expects no callback of its own"

        def traced(x, *fun_args):
            value, grad = fun(x, *fun_args)
            last["value"] = float(value)
            return value, grad

        return original(traced, x0, *args, callback=record, **kwargs)

    scipy.optimize.minimize = minimize
    try:
        yield
    except StopRun:
        pass
    finally:
        scipy.optimize.minimize = original


def objective_value(objective, estimator):
    coef, intercept = estimator.coef_, estimator.intercept_
    return objective.value(coef.astype(np.float64), intercept.astype(np.float64))


def fit_once(estimator, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, int(np.max(estimator.n_iter_)), converged


def peak_memory(estimator, X, y):
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


ESTIMATORS = {
    "sksoftmax": lambda **kw: SoftmaxRegressionClassifier(C=C, **kw),
    "LogisticRegression": lambda **kw: LogisticRegression(C=C, **kw),
}


def run_dataset(name, X, y, args):
    n_classes = len(np.unique(y))
    objective = SoftmaxObjective(
        X,
        np.searchsorted(np.unique(y), y),
        np.ones(len(y)),
        n_classes,
        C=C,
        fit_intercept=True,
        precondition=False,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = SoftmaxRegressionClassifier(C=C, tol=1e-12, max_iter=20_000)
        reference.fit(X, y)
    f_star = objective_value(objective, reference)
    print(
        f"  reference optimum {f_star:.12g} in {reference.n_iter_} preconditioned "
        f"iterations ({time.perf_counter() - start:.1f} s)",
        flush=True,
    )

    result = {"reference iterations": reference.n_iter_, "X bytes": nbytes(X)}
    default = {key: [] for key in ESTIMATORS}
    for _ in range(args.repeats):
        for key, make in ESTIMATORS.items():
            estimator = make()
            seconds, n_iter, converged = fit_once(estimator, X, y)
            default[key].append(
                (seconds, n_iter, converged, objective_value(objective, estimator))
            )
    tight = {key: [] for key in ESTIMATORS}
    traces = {}
    for _ in range(args.tight_repeats):
        for key, make in ESTIMATORS.items():
            trace = []
            estimator = make(tol=1e-10, max_iter=1_000_000)
            # The trace's clock starts before fit: validation counts.
            with lbfgs_trace(trace, f_star, args.time_limit):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    estimator.fit(X, y)
            reached = [t for t, f in trace if f - f_star <= TARGET_GAP * abs(f_star)]
            length = trace[-1][0] if trace else 0.0
            tight[key].append((reached[0] if reached else np.inf, length))
            traces[key] = trace
    memory = {key: peak_memory(make(), X, y) for key, make in ESTIMATORS.items()}

    f_best = min([f_star] + [run[3] for runs in default.values() for run in runs])
    for key in ESTIMATORS:
        runs = default[key]
        result[key] = {
            "time": float(np.median([r[0] for r in runs])),
            "iterations": int(np.median([r[1] for r in runs])),
            "converged": all(r[2] for r in runs),
            "gap": max((r[3] - f_best) / abs(f_best) for r in runs),
            "time to 1e-6": float(np.median([run[0] for run in tight[key]])),
            "tight run length": float(np.median([run[1] for run in tight[key]])),
            "peak memory": memory[key],
        }
    result["traces"] = {
        key: [(t, (f - f_best) / abs(f_best)) for t, f in trace]
        for key, trace in traces.items()
    }
    return result


def bench_predict(args):
    n_rows = 1_000_000 // args.scale
    X, y = make_classification(
        n_samples=n_rows,
        n_features=100,
        n_informative=30,
        n_classes=10,
        random_state=5,
    )
    fitted = {}
    for key, make in ESTIMATORS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted[key] = make().fit(X[:50_000], y[:50_000])
    times = {key: [] for key in fitted}
    for _ in range(args.repeats):
        for key, estimator in fitted.items():
            start = time.perf_counter()
            estimator.predict_proba(X)
            times[key].append(time.perf_counter() - start)
    memory = {}
    for key, estimator in fitted.items():
        tracemalloc.start()
        proba = estimator.predict_proba(X)
        memory[key] = tracemalloc.get_traced_memory()[1] / proba.nbytes
        tracemalloc.stop()
    return n_rows, {key: float(np.median(t)) for key, t in times.items()}, memory


# Reporting ---------------------------------------------------------------------


def fmt_time(seconds):
    return "not reached" if not np.isfinite(seconds) else f"{seconds:.3g}"


def speedup(ours, theirs):
    """LogisticRegression's time to the target gap over sksoftmax's.

    A run that never reached the gap counts with the length of the run, so
    the speed-up is then a lower bound.
    """
    (t_ours, _), (t_theirs, run_theirs) = ours, theirs
    if not np.isfinite(t_ours):
        return "sksoftmax did not reach it"
    if not np.isfinite(t_theirs):
        return f"> {run_theirs / t_ours:.1f}"
    return f"{t_theirs / t_ours:.1f}"


def markdown(results, predict, args):
    ours, theirs = "sksoftmax", "LogisticRegression"
    lines = [
        f"Machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, sksoftmax "
        f"{sksoftmax.__version__}. Command: `python benchmarks/bench_fit.py"
        f"{' --quick' if args.quick else ''}`; C={C}; medians of {args.repeats} "
        f"default and {args.tight_repeats} tight run(s) per estimator; tight runs "
        f"stop at a gap of 1e-6 or after {args.time_limit:g} s.",
        "",
        "| dataset | estimator | fit time (s) | iterations | converged | "
        "objective gap | time to gap 1e-6 (s) | peak memory / X |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = []
    for name, r in results.items():
        for key in (ours, theirs):
            m = r[key]
            lines.append(
                f"| {name} | {key} | {m['time']:.3g} | {m['iterations']} | "
                f"{'yes' if m['converged'] else 'no'} | {m['gap']:.1e} | "
                f"{fmt_time(m['time to 1e-6'])} | "
                f"{m['peak memory'] / r['X bytes']:.3g} |"
            )
        a, b = r[ours], r[theirs]
        summary.append(
            (
                name,
                a["time"] / b["time"],
                speedup(*[(m["time to 1e-6"], m["tight run length"]) for m in (a, b)]),
                a["peak memory"] / b["peak memory"],
                a["gap"] <= b["gap"],
                r["reference iterations"],
            )
        )
    lines += [
        "",
        "Ratios (sksoftmax / LogisticRegression, except the speed-up):",
        "",
        "| dataset | fit time ratio (default) | speed-up to gap 1e-6 | "
        "peak memory ratio | gap <= LogisticRegression's | reference iterations |",
        "|---|---|---|---|---|---|",
    ]
    for name, t, gain, mem, gap_ok, ref_iter in summary:
        lines.append(
            f"| {name} | {t:.2f} | {gain} | {mem:.3f} | "
            f"{'yes' if gap_ok else 'no'} | {ref_iter} |"
        )
    times = [s[1] for s in summary]
    lines += [
        "",
        f"Median fit time ratio: {np.median(times):.2f}; largest: {max(times):.2f}.",
        "",
    ]
    n_rows, seconds, memory = predict
    lines += [
        f"predict_proba on {n_rows:,} x 100, 10 classes (median of {args.repeats}):",
        "",
        "| estimator | time (s) | rows per second | peak memory / output |",
        "|---|---|---|---|",
    ]
    for key in (ours, theirs):
        lines.append(
            f"| {key} | {seconds[key]:.3g} | {n_rows / seconds[key]:,.0f} | "
            f"{memory[key]:.2f} |"
        )
    lines.append(
        f"\nThroughput ratio sksoftmax / LogisticRegression: "
        f"{seconds[theirs] / seconds[ours]:.2f}"
    )
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    for ax, (name, r) in zip(axes.ravel(), results.items(), strict=False):
        for key, style in (("sksoftmax", "-"), ("LogisticRegression", "--")):
            trace = r["traces"][key]
            if trace:
                t, gap = zip(*trace, strict=True)
                ax.semilogy(t, np.maximum(gap, 1e-16), style, label=key)
        ax.axhline(TARGET_GAP, color="grey", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("relative objective gap")
        ax.legend(fontsize=8)
    fig.suptitle("Objective gap against time (tol=1e-10 runs)")
    fig.savefig(path, dpi=90)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--tight-repeats", type=int, default=None)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument(
        "--only", nargs="*", default=None, help="datasets whose name contains these"
    )
    args = parser.parse_args(argv)
    args.scale = 20 if args.quick else 1
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.tight_repeats = args.tight_repeats or (1 if args.quick else 2)
    args.time_limit = args.time_limit or (10.0 if args.quick else 120.0)

    results = {}
    for name, load in DATASETS.items():
        if args.only and not any(word in name for word in args.only):
            continue
        X, y = load(args.scale)
        print(f"{name}: {X.shape}, {len(np.unique(y))} classes", flush=True)
        results[name] = run_dataset(name, X, y, args)
    predict = bench_predict(args)
    text = markdown(results, predict, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fit.md").write_text(text)
    plot(results, out / "fit.png")
    print(text)


if __name__ == "__main__":
    main()
