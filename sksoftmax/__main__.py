"""``python -m sksoftmax``: fit SoftmaxRegressionClassifier and LogisticRegression
side by side on a dataset shipped with scikit-learn or on a user's CSV table."""

import argparse
import csv
import math
import sys
import time
import warnings
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import log_softmax
from sklearn import datasets
from sklearn.base import ClassifierMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline

from . import SoftmaxRegressionClassifier, __version__
from ._cli_table import (
    LINE_SHARE,
    features_and_target,
    make_encoder,
    parse_size,
    read_table,
)

if TYPE_CHECKING:
    import pandas as pd

DATASETS = {
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
}
# A shell passes --sep '\t' as a backslash and a t.
SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t"}
# The most memory a table may take unless --max-memory says otherwise; the
# split, the encoding and the two fits need about five times the table besides
# (84 MiB of numbers: 430 MB more at the peak).
DEFAULT_MAX_MEMORY = "1G"
# The test part of the stratified split: compare() makes it, check_split() checks
# beforehand that every class can be on both sides.
TEST_SIZE = 0.25


def check_split(y: np.ndarray) -> None:
    """Raise ValueError where the stratified split cannot put every class on
    both sides, in words about the column rather than scikit-learn's."""
    n_samples = len(y)
    classes, counts = np.unique(y, return_counts=True)
    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError(f"the target holds {n_classes} class; at least 2 are needed")
    if counts.min() < 2:
        raise ValueError(
            f"{np.count_nonzero(counts < 2)} of the {n_classes} classes hold a single "
            "row; the stratified 75/25 split needs at least 2 rows of every class"
        )
    # train_test_split's sizes: the test part rounded up.
    n_test = math.ceil(TEST_SIZE * n_samples)
    if min(n_test, n_samples - n_test) < n_classes:
        raise ValueError(
            f"{n_samples} rows are too few for a stratified 75/25 split of "
            f"{n_classes} classes: each part needs a row of every class"
        )


def training_objective(
    classifier: ClassifierMixin, X: np.ndarray, y: np.ndarray, C: float
) -> float:
    """The objective both estimators minimise, at the fitted coefficients: the
    mean cross-entropy plus ``||coef_||^2 / (2 C n_samples)`` (for
    LogisticRegression, its ``C * sum of losses + ||coef_||^2 / 2`` divided by
    ``C * n_samples``). A one-row ``coef_`` is the binary model, class 0 its
    reference."""
    Z = X @ classifier.coef_.T + classifier.intercept_
    if Z.shape[1] == 1:
        Z = np.hstack([np.zeros_like(Z), Z])
    y_code = np.searchsorted(classifier.classes_, y)
    cross_entropy = -log_softmax(Z, axis=1)[np.arange(len(y)), y_code].mean()
    return cross_entropy + np.square(classifier.coef_).sum() / (2 * C * len(y))


def compare(
    X: "np.ndarray | pd.DataFrame",
    y: np.ndarray,
    C: float,
    encoder: "TransformerMixin | str" = "passthrough",
) -> tuple[list[dict], int]:
    """Fit both estimators after ``encoder``: one dict of results per estimator,
    and the number of features the estimators see."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=0, stratify=y
    )
    # The same model at the same C, for two classes as for more.
    estimators = [
        ("SoftmaxRegressionClassifier", SoftmaxRegressionClassifier(C=C)),
        ('LogisticRegression("lbfgs")', LogisticRegression(C=C)),
    ]
    results = []
    for name, estimator in estimators:
        pipeline: Pipeline = make_pipeline(encoder, estimator)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            pipeline.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        X_fitted = pipeline[:-1].transform(X_train)
        results.append(
            {
                "estimator": name,
                "accuracy": accuracy_score(y_test, pipeline.predict(X_test)),
                "log-loss": log_loss(
                    y_test, pipeline.predict_proba(X_test), labels=estimator.classes_
                ),
                "objective": training_objective(estimator, X_fitted, y_train, C),
                "iterations": int(np.max(estimator.n_iter_)),
                "converged": _convergence(caught),
                "fit time (s)": seconds,
            }
        )
    return results, X_fitted.shape[1]


def _convergence(caught: list[warnings.WarningMessage]) -> str:
    """The converged column: "yes" without a ConvergenceWarning, "separated"
    where one says the classes are separated in the data (an unpenalised fit:
    no optimum exists, whatever the tol), else "no"."""
    messages = [
        str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)
    ]
    if any("separated in the training data" in message for message in messages):
        return "separated"
    return "no" if messages else "yes"


def format_table(results: list[dict]) -> str:
    lines = [
        f"{'estimator':<30}{'accuracy':>10}{'log-loss':>10}{'objective':>20}"
        f"{'iterations':>12}{'converged':>11}{'fit time (s)':>14}"
    ]
    for r in results:
        lines.append(
            f"{r['estimator']:<30}{r['accuracy']:>10.4f}{r['log-loss']:>10.4f}"
            f"{r['objective']:>20.12f}{r['iterations']:>12d}"
            f"{r['converged']:>11}{r['fit time (s)']:>14.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sksoftmax",
        description=(
            "Fit SoftmaxRegressionClassifier and LogisticRegression side by side "
            "(75/25 stratified split) and print accuracy and log-loss on the test "
            "part, the training objective, iterations and fit time."
        ),
    )
    parser.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        help="dataset shipped with scikit-learn (default: digits)",
    )
    parser.add_argument("--csv", metavar="FILE", help="CSV table with a header row")
    parser.add_argument("--target", metavar="COLUMN", help="class column of --csv")
    csv_options = parser.add_argument_group("options of --csv (FILE - is stdin)")
    csv_options.add_argument(
        "--sep",
        metavar="CHAR",
        help="separator, one character or 'tab' (default: guessed by pandas "
        "from the header line)",
    )
    csv_options.add_argument(
        "--decimal", metavar="CHAR", default=".", help="decimal mark (default: .)"
    )
    csv_options.add_argument(
        "--missing",
        choices=["impute", "error"],
        default="impute",
        help="empty cells: impute them and leave out rows without a target, or "
        "refuse them (default: impute)",
    )
    csv_options.add_argument(
        "--max-memory",
        metavar="SIZE",
        type=parse_size,
        default=DEFAULT_MAX_MEMORY,
        help="the most the table may take in memory, such as 512M; a line may "
        f"take a {LINE_SHARE}th of it (default: {DEFAULT_MAX_MEMORY})",
    )
    parser.add_argument("--C", type=float, default=1.0, help="C of both (default 1)")
    args = parser.parse_args(argv)
    if (args.csv is None) != (args.target is None):
        parser.error("--csv and --target go together")
    if args.csv and args.dataset:
        parser.error("give either --dataset or --csv, not both")
    if not args.C > 0:
        parser.error("--C must be positive")
    sep = SEPARATOR_NAMES.get(args.sep, args.sep)
    if sep is not None and (len(sep) != 1 or sep in '"\r\n'):
        parser.error("--sep takes one character, not a quote or a line break")
    if args.decimal == sep:
        parser.error("--decimal and --sep must differ")
    if args.csv:
        try:
            import pandas  # noqa: F401
        except ImportError:
            parser.exit(
                2, f"{parser.prog}: error: --csv needs pandas: pip install pandas\n"
            )
    source = args.dataset or "digits"
    try:
        if args.csv:
            source = "<stdin>" if args.csv == "-" else args.csv
            X, y, notes = features_and_target(
                read_table(args.csv, sep, args.decimal, args.max_memory),
                args.target,
                args.missing,
            )
            check_split(y)
            results, n_features = compare(X, y, args.C, make_encoder())
            source += f" (target {args.target!r}{''.join('; ' + n for n in notes)})"
        else:
            X, y = DATASETS[source](return_X_y=True)
            results, n_features = compare(X, y, args.C)
    except OSError as exc:
        parser.exit(2, f"{parser.prog}: error: {source}: {exc.strerror}\n")
    except (ValueError, csv.Error) as exc:
        message = " ".join(str(exc).split())  # pandas' messages can end in \n
        parser.exit(2, f"{parser.prog}: error: {source}: {message}\n")
    print(
        f"sksoftmax {__version__}: {source}: {len(y)} samples, {n_features} "
        f"features, {len(np.unique(y))} classes; C={args.C}, default settings"
    )
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
