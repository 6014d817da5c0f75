"""Scoring: onnxruntime on the ONNX graph of a fitted model against the
model's own predict_proba.

Run from the repository root::

    python benchmarks/bench_onnx.py            # 1,000,000 x 100, the full run
    python benchmarks/bench_onnx.py --quick    # 20,000 x 100, a smoke test

A model with 10 classes is fitted on 50,000 rows (float32 and float64, from
the same data), exported with ``skl2onnx.to_onnx`` after ``import
sksoftmax.onnx`` (``zipmap=False``: the probabilities as one tensor, as
``predict_proba`` returns them), and both score all the rows:
``predict_proba(X)`` and ``InferenceSession.run`` with onnxruntime's default
threads, after a warm-up on 1,000 rows, three times each, in turn; the median
of each scorer's three times is reported (a first call over the full table
also pays for touching its output's fresh memory, for either scorer). The
table gives the times, their ratio (one run on a shared machine: the ratio is
the claim, not the absolute times) and the largest difference of the
probabilities.
"""

import os
import platform
import time

import numpy as np
import onnxruntime
import skl2onnx
import sklearn
from bench_fit import command_line, results_parser, softmax_labels, write_results
from skl2onnx import to_onnx

import sksoftmax
import sksoftmax.onnx  # noqa: F401  (registers the converters)
from sksoftmax import SoftmaxRegressionClassifier

N_FEATURES = 100
N_CLASSES = 10
#: Rows the model is fitted on (the scoring, not the fit, is measured).
N_FIT = 50_000
#: Rows of the warm-up call of each scorer.
N_WARM_UP = 1_000
#: Timed calls of each scorer on all the rows (the median is reported).
N_REPEATS = 3


def data(n_samples):
    """Gaussian features; labels of the first N_FIT rows from a softmax model."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, N_FEATURES))
    y = softmax_labels(X[:N_FIT], N_CLASSES, rng)
    return X, y


def timed(scorers, X):
    """Each scorer's result on X and the median of its N_REPEATS times,
    the scorers called in turn."""
    times = {name: [] for name in scorers}
    results = {}
    for function in scorers.values():
        function(X[:N_WARM_UP])
    for _ in range(N_REPEATS):
        for name, function in scorers.items():
            start = time.perf_counter()
            results[name] = function(X)
            times[name].append(time.perf_counter() - start)
    return results, {name: float(np.median(t)) for name, t in times.items()}


def run(X, y, dtype):
    X = X.astype(dtype)
    model = SoftmaxRegressionClassifier(C=1.0).fit(X[: len(y)], y)
    onx = to_onnx(model, X[:1], options={"zipmap": False})
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )

    def score_onnx(rows):
        return session.run(["probabilities"], {"X": rows})[0]

    results, times = timed({"ours": model.predict_proba, "onnx": score_onnx}, X)
    return {
        "dtype": np.dtype(dtype).name,
        **times,
        "difference": float(np.max(np.abs(results["ours"] - results["onnx"]))),
    }


def markdown(rows, n_samples, args):
    lines = [
        "# Scoring with onnxruntime against predict_proba",
        "",
        f"Command: `{args.command}`",
        "",
        f"{n_samples:,} rows x {N_FEATURES} features, {N_CLASSES} classes; "
        f"model fitted on {min(N_FIT, n_samples):,} rows. "
        f"sksoftmax {sksoftmax.__version__}, scikit-learn {sklearn.__version__}, "
        f"skl2onnx {skl2onnx.__version__}, "
        f"onnxruntime {onnxruntime.__version__}, NumPy {np.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; the median of {N_REPEATS} calls each, "
        "after a warm-up.",
        "",
        "| dtype | predict_proba (s) | onnxruntime (s) | onnxruntime / "
        "predict_proba | max abs difference |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['dtype']} | {row['ours']:.3f} | {row['onnx']:.3f} | "
            f"{row['onnx'] / row['ours']:.2f} | {row['difference']:.1e} |"
        )
    lines.append("")
    lines.append(
        "A ratio above 1 means that onnxruntime took longer than predict_proba."
    )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = results_parser(__doc__.splitlines()[0], "onnx.md")
    args = parser.parse_args(argv)
    args.command = command_line(argv, "bench_onnx.py")
    n_samples = 20_000 if args.quick else 1_000_000
    X, y = data(n_samples)
    rows = [run(X, y, dtype) for dtype in (np.float32, np.float64)]
    write_results(markdown(rows, n_samples, args), args.out, "onnx.md")


if __name__ == "__main__":
    main()
