"""``python -m sksoftmax``: fit SoftmaxRegressionClassifier and LogisticRegression
side by side on a dataset shipped with scikit-learn or on a CSV table."""

import argparse
import csv
import sys
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from . import SoftmaxRegressionClassifier, __version__
from ._objective import SoftmaxObjective

DATASETS = {
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
}


def read_csv(path, target):
    """Numeric feature columns and the target column of a CSV file with a header."""
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark.
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(enumerate(csv.reader(f), start=1))
    except OSError as exc:
        raise ValueError(f"cannot read the CSV file {path!r}: {exc.strerror}") from exc
    if len(rows) < 2:
        raise ValueError(f"{path!r} needs a header row and at least one data row")
    header = rows[0][1]
    body = [(line, row) for line, row in rows[1:] if row]  # skip blank lines
    if target not in header:
        raise ValueError(f"{path!r} has no column {target!r}; its columns are {header}")
    t = header.index(target)
    features = [name for k, name in enumerate(header) if k != t]
    if not features:
        raise ValueError(f"{path!r} has no feature columns besides {target!r}")
    X = np.empty((len(body), len(features)))
    for i, (line, row) in enumerate(body):
        if len(row) != len(header):
            raise ValueError(
                f"{path!r} line {line} has {len(row)} fields, the header {len(header)}"
            )
        values = [v for k, v in enumerate(row) if k != t]
        for j, value in enumerate(values):
            try:
                X[i, j] = float(value)
            except ValueError:
                raise ValueError(
                    f"{path!r} line {line}: feature column {features[j]!r} holds "
                    f"{value!r}, which is not a number"
                ) from None
    y = np.array([row[t] for _, row in body])
    return X, y


def compare(X, y, C):
    """Fit both estimators; one dict of results per estimator."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    n_classes = len(np.unique(y_train))
    # With two classes the symmetric softmax model at C is the binary logistic
    # model at 2 C (see the estimator's Notes): compare the same model.
    lr_C = 2 * C if n_classes == 2 else C
    estimators = [
        ("SoftmaxRegressionClassifier", SoftmaxRegressionClassifier(C=C)),
        ('LogisticRegression("lbfgs")', LogisticRegression(C=lr_C)),
    ]
    codes = np.searchsorted(np.unique(y_train), y_train)
    objective = SoftmaxObjective(
        X_train,
        codes,
        np.ones(len(y_train)),
        n_classes,
        C=C,
        fit_intercept=True,
        precondition=False,
    )
    results = []
    for name, estimator in estimators:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        coef, intercept = estimator.coef_, estimator.intercept_
        if coef.shape[0] == 1:  # binary LogisticRegression: w = w_1 - w_0
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        results.append(
            {
                "estimator": name,
                "accuracy": accuracy_score(y_test, estimator.predict(X_test)),
                "log-loss": log_loss(
                    y_test, estimator.predict_proba(X_test), labels=estimator.classes_
                ),
                "objective": objective.value(coef, intercept),
                "iterations": int(np.max(estimator.n_iter_)),
                "converged": not any(
                    issubclass(w.category, ConvergenceWarning) for w in caught
                ),
                "fit time (s)": seconds,
            }
        )
    return results


def format_table(results):
    lines = [
        f"{'estimator':<30}{'accuracy':>10}{'log-loss':>10}{'objective':>20}"
        f"{'iterations':>12}{'converged':>11}{'fit time (s)':>14}"
    ]
    for r in results:
        lines.append(
            f"{r['estimator']:<30}{r['accuracy']:>10.4f}{r['log-loss']:>10.4f}"
            f"{r['objective']:>20.12f}{r['iterations']:>12d}"
            f"{'yes' if r['converged'] else 'no':>11}{r['fit time (s)']:>14.3f}"
        )
    return "\n".join(lines)


def main(argv=None):
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
    parser.add_argument("--C", type=float, default=1.0, help="C of both (default 1)")
    args = parser.parse_args(argv)
    if (args.csv is None) != (args.target is None):
        parser.error("--csv and --target go together")
    if args.csv and args.dataset:
        parser.error("give either --dataset or --csv, not both")
    if not args.C > 0:
        parser.error("--C must be positive")
    try:
        if args.csv:
            X, y = read_csv(args.csv, args.target)
            source = f"{args.csv} (target {args.target!r})"
        else:
            source = args.dataset or "digits"
            X, y = DATASETS[source](return_X_y=True)
        results = compare(X, y, args.C)
    except ValueError as exc:
        parser.exit(2, f"python -m sksoftmax: error: {exc}\n")
    print(
        f"sksoftmax {__version__}: {source}: {X.shape[0]} samples, {X.shape[1]} "
        f"features, {len(np.unique(y))} classes; C={args.C}, default settings"
    )
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
