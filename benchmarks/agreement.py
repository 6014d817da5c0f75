"""Agreement of SoftmaxRegressionClassifier with LogisticRegression.

Run: python benchmarks/agreement.py

L2 penalty: both estimators are fitted with tol=1e-10, max_iter=10000 on
standardised iris, wine and digits at several C, LogisticRegression with its
default lbfgs solver. Printed per case: the relative difference of the two
objective values (each evaluated by the same direct formula) and the largest
absolute difference of the coefficients and intercepts after subtracting their
mean over classes (the softmax is invariant to it).

Elastic net (l1_ratio 0.5 and 1): against LogisticRegression(solver="saga"),
the only scikit-learn solver for a multinomial L1 penalty, at tol=1e-10 on iris
and wine and tol=1e-8 on the digits (thousands of epochs already). Printed:
the objectives' relative difference, the largest coefficient difference, the
number of exact zeros of each model and of weights on which the zero sets
(|coef| <= 1e-6) differ.
"""

import numpy as np
import sklearn
from scipy.special import log_softmax
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from sksoftmax import SoftmaxRegressionClassifier

LOADERS = {"iris": load_iris, "wine": load_wine, "digits": load_digits}


def objective(coef, intercept, X, y, C, l1_ratio=0.0):
    log_p = log_softmax(X @ coef.T + intercept, axis=1)[np.arange(len(y)), y]
    penalty = l1_ratio * np.abs(coef).sum() + (1 - l1_ratio) / 2 * np.sum(coef**2)
    return -log_p.mean() + penalty / (C * len(y))


def centered(a):
    return a - a.mean(axis=0)


def standardised(name):
    X, y = LOADERS[name](return_X_y=True)
    return StandardScaler().fit_transform(X), y


def l2_agreement():
    print(
        f"{'dataset':<8}{'C':>6}{'objective rel. diff':>22}{'coef diff':>12}"
        f"{'intercept diff':>16}"
    )
    worst = np.zeros(3)
    for name in LOADERS:
        X, y = standardised(name)
        for C in [0.01, 0.1, 1.0]:
            ours = SoftmaxRegressionClassifier(C=C, tol=1e-10, max_iter=10000).fit(X, y)
            theirs = LogisticRegression(C=C, tol=1e-10, max_iter=10000).fit(X, y)
            f_ours = objective(ours.coef_, ours.intercept_, X, y, C)
            f_theirs = objective(theirs.coef_, theirs.intercept_, X, y, C)
            row = np.array(
                [
                    abs(f_ours - f_theirs) / f_theirs,
                    np.abs(centered(ours.coef_) - centered(theirs.coef_)).max(),
                    np.abs(
                        centered(ours.intercept_) - centered(theirs.intercept_)
                    ).max(),
                ]
            )
            worst = np.maximum(worst, row)
            print(f"{name:<8}{C:>6}{row[0]:>22.2e}{row[1]:>12.2e}{row[2]:>16.2e}")
    print(f"{'largest':<14}{worst[0]:>22.2e}{worst[1]:>12.2e}{worst[2]:>16.2e}")


def saga(C, l1_ratio, tol, max_iter=100_000):
    """LogisticRegression(solver="saga") with the elastic net of ``l1_ratio``."""
    params = dict(solver="saga", C=C, l1_ratio=l1_ratio, tol=tol, max_iter=max_iter)
    if parse_version(sklearn.__version__) < parse_version("1.8"):
        params["penalty"] = "elasticnet"  # l1_ratio needs it before 1.8
    return LogisticRegression(**params)


def elastic_net_agreement():
    print(
        f"\n{'dataset':<8}{'C':>6}{'l1_ratio':>10}{'objective rel. diff':>22}"
        f"{'coef diff':>12}{'zeros (ours/saga)':>20}{'zero sets differ':>18}"
    )
    worst = np.zeros(3)
    cases = [("iris", C, 1e-10) for C in (0.1, 1.0)]
    cases += [("wine", C, 1e-10) for C in (0.1, 1.0)]
    cases += [("digits", 0.01, 1e-8), ("digits", 0.1, 1e-8)]
    for name, C, saga_tol in cases:
        X, y = standardised(name)
        for r in (0.5, 1.0):
            ours = SoftmaxRegressionClassifier(
                C=C, l1_ratio=r, tol=1e-10, max_iter=10000
            ).fit(X, y)
            theirs = saga(C, r, saga_tol).fit(X, y)
            f_ours = objective(ours.coef_, ours.intercept_, X, y, C, r)
            f_theirs = objective(theirs.coef_, theirs.intercept_, X, y, C, r)
            differ = np.sum(
                (np.abs(ours.coef_) > 1e-6) != (np.abs(theirs.coef_) > 1e-6)
            )
            row = np.array(
                [
                    abs(f_ours - f_theirs) / f_theirs,
                    np.abs(ours.coef_ - theirs.coef_).max(),
                    differ,
                ]
            )
            worst = np.maximum(worst, row)
            zeros = f"{np.sum(ours.coef_ == 0)}/{np.sum(theirs.coef_ == 0)}"
            print(
                f"{name:<8}{C:>6}{r:>10}{row[0]:>22.2e}{row[1]:>12.2e}{zeros:>20}"
                f"{differ:>18}"
            )
    print(
        f"{'largest':<24}{worst[0]:>22.2e}{worst[1]:>12.2e}{'':>20}{int(worst[2]):>18}"
    )


if __name__ == "__main__":
    l2_agreement()
    elastic_net_agreement()
