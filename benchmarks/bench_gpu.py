"""SoftmaxRegressionClassifier against LogisticRegression on PyTorch tensors.

Run from the repository root, on a machine with a CUDA GPU and PyTorch::

    python benchmarks/bench_gpu.py                      # on CUDA
    python benchmarks/bench_gpu.py --quick --device cpu # small sizes, a smoke test

Both estimators fit with scikit-learn's ``array_api_dispatch`` on, on tensors
that live on ``--device``: LogisticRegression (lbfgs) and SoftmaxRegression-
Classifier, default settings, the same C (both minimise the mean cross-entropy
plus ``||W||^2 / (2 C n)``). The data are Gaussian features and labels drawn
from a random softmax model (Gumbel-max sampling), generated on the device:
1,000,000 x 256 with 10 classes and 500,000 x 512 with 100 classes, each in
float32 and float64, at C=1 and C=100.

Each pair of fits is preceded by a warm-up fit of each on 10,000 rows, then
the two are fitted alternately ``--repeats`` times; the table shows the
fastest time of each (``torch.cuda.synchronize`` around each fit), its
iterations, whether it warned that it did not converge, and the objective of
its coefficients, computed from the formula in float64 on the device. The
objectives are compared as the relative excess of each over the lower of the
two.

The two estimators stop by different rules at the same ``tol``, so two more
columns for sksoftmax: the seconds it spent in L-BFGS-B (its evaluations on
the device included; the rest is checking and encoding the data and the
preconditioning statistics) with its number of evaluations, both read from
the solver's callback (``_fit(..., callback=...)``: ``elapsed`` and
``n_evaluations`` of the last iteration's step), and the time of
the shortest sksoftmax fit (fewest ``max_iter``, found by bisection) whose
objective is at most LogisticRegression's.
"""

import argparse
import os
import platform
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before SciPy is imported

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from sksoftmax import SoftmaxRegressionClassifier, to_numpy  # noqa: E402


def make_data(n_samples, n_features, n_classes, device, seed=0):
    """Gaussian float64 features and labels sampled from a softmax model."""
    generator = torch.Generator(device=device).manual_seed(seed)
    X = torch.randn(
        n_samples, n_features, dtype=torch.float64, device=device, generator=generator
    )
    weights = torch.randn(
        n_features, n_classes, dtype=torch.float64, device=device, generator=generator
    ) * (3.0 / n_features**0.5)
    uniform = torch.rand(
        n_samples, n_classes, dtype=torch.float64, device=device, generator=generator
    )
    gumbel = -torch.log(-torch.log(uniform))
    y = torch.argmax(X @ weights + gumbel, dim=1)
    return X, y


def objective(coef, intercept, X, y, C):
    """Mean cross-entropy + ||W||^2 / (2 C n), in float64, from the formula."""
    W = torch.as_tensor(coef, dtype=torch.float64, device=X.device)
    b = torch.as_tensor(intercept, dtype=torch.float64, device=X.device)
    Z = X @ W.T + b
    cross_entropy = torch.logsumexp(Z, dim=1) - Z.gather(1, y[:, None])[:, 0]
    return float(cross_entropy.mean() + (W * W).sum() / (2 * C * X.shape[0]))


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_fit(estimator, X, y, callback=None):
    """Seconds of the fit (synchronised) and whether it warned; with a
    ``callback``, sksoftmax is fitted through ``_fit`` with it."""
    synchronize(X.device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        if callback is None:
            estimator.fit(X, y)
        else:
            estimator._fit(X, y, callback=callback)
        synchronize(X.device)
        seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, warned


def in_solver(steps):
    """The "in L-BFGS-B" cell of a sksoftmax fit from its solver steps:
    seconds from the solver's start to its last iteration, and evaluations."""
    if not steps:
        return "-"
    return f"{steps[-1].elapsed:.3f}, {steps[-1].n_evaluations}"


def coefficients(estimator):
    """coef_ and intercept_ of a fitted estimator, as float64 NumPy arrays."""
    if isinstance(estimator, SoftmaxRegressionClassifier):
        estimator = to_numpy(estimator)
        return estimator.coef_, estimator.intercept_
    coef, intercept = estimator.coef_, estimator.intercept_
    return (
        np.asarray(coef.cpu() if hasattr(coef, "cpu") else coef, dtype=np.float64),
        np.asarray(
            intercept.cpu() if hasattr(intercept, "cpu") else intercept,
            dtype=np.float64,
        ),
    )


def time_to_objective(target, X, X64, y, C, max_iter):
    """Seconds of the shortest sksoftmax fit whose objective is <= target,
    and its max_iter; None if even ``max_iter`` does not get there. L-BFGS-B
    is deterministic, so a fit with fewer iterations is a prefix of one with
    more, and the objective falls with max_iter: bisection finds the least."""

    def run(k):
        estimator = SoftmaxRegressionClassifier(C=C, max_iter=k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds, _ = timed_fit(estimator, X, y)
        return seconds, objective(*coefficients(estimator), X64, y, C)

    low, high = 0, max_iter
    best = None
    while high - low > 1 or best is None:
        middle = (low + high + 1) // 2 if high - low > 1 else high
        seconds, value = run(middle)
        if value <= target:
            high, best = middle, (seconds, middle)
        elif middle == high:
            return None
        else:
            low = middle
    return best


def n_iter(estimator):
    value = estimator.n_iter_
    value = value.cpu() if hasattr(value, "cpu") else value
    return int(np.max(np.asarray(value)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=None, help="folder for gpu.md")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    sizes = (
        [(20_000, 16, 4), (10_000, 32, 20)]
        if args.quick
        else [(1_000_000, 256, 10), (500_000, 512, 100)]
    )
    card = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    ) + f" ({platform.node()})"
    lines = [
        f"Device: {card}; PyTorch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}. Fastest of {args.repeats} fits of each.",
        "",
        "| data | dtype | C | estimator | fit (s) | iterations | converged | "
        "objective | excess over the lower | in L-BFGS-B (s), evaluations | "
        "to LR's objective (s), max_iter |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for n_samples, n_features, n_classes in sizes:
        X64, y = make_data(n_samples, n_features, n_classes, device)
        name = f"{n_samples:,} x {n_features}, {n_classes} classes"
        for dtype in (torch.float32, torch.float64):
            X = X64.to(dtype)
            for C in (1.0, 100.0):
                estimators = {
                    "LogisticRegression": lambda C=C: LogisticRegression(C=C),
                    "sksoftmax": lambda C=C: SoftmaxRegressionClassifier(C=C),
                }
                results = {}
                with sklearn.config_context(array_api_dispatch=True):
                    for make in estimators.values():  # warm-up on a slice
                        timed_fit(make(), X[:10_000], y[:10_000])
                    for _ in range(args.repeats):
                        for label, make in estimators.items():
                            estimator = make()
                            # sksoftmax's solver steps; LogisticRegression has
                            # no callback and is fitted as it is.
                            steps = []
                            callback = steps.append if label == "sksoftmax" else None
                            seconds, warned = timed_fit(estimator, X, y, callback)
                            best = results.get(label)
                            if best is None or seconds < best[0]:
                                results[label] = (seconds, warned, estimator, steps)
                    values = {
                        label: objective(*coefficients(est), X64, y, C)
                        for label, (_, _, est, _) in results.items()
                    }
                    reach = time_to_objective(
                        values["LogisticRegression"],
                        X,
                        X64,
                        y,
                        C,
                        n_iter(results["sksoftmax"][2]),
                    )
                lowest = min(values.values())
                for label, (seconds, warned, estimator, steps) in results.items():
                    extra = "| - | - |"
                    if label == "sksoftmax":
                        extra = f"| {in_solver(steps)} | " + (
                            "not reached |"
                            if reach is None
                            else f"{reach[0]:.3f}, {reach[1]} |"
                        )
                    lines.append(
                        f"| {name} | {str(dtype).replace('torch.', '')} | {C:g} | "
                        f"{label} | {seconds:.3f} | {n_iter(estimator)} | "
                        f"{'no' if warned else 'yes'} | {values[label]:.10f} | "
                        f"{(values[label] - lowest) / lowest:.1e} " + extra
                    )
                ratios.append(
                    results["sksoftmax"][0] / results["LogisticRegression"][0]
                )
                print(lines[-2], lines[-1], sep="\n", flush=True)
        del X64, y
    lines += [
        "",
        "Fit-time ratios sksoftmax / LogisticRegression: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f" (median {np.median(ratios):.2f}).",
    ]
    report = "\n".join(lines)
    print("\n" + report)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "gpu.md"), "w") as file:
            file.write(report + "\n")


if __name__ == "__main__":
    main()
