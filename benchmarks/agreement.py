"""Agreement of SoftmaxRegressionClassifier with LogisticRegression(solver="lbfgs").

Run: python benchmarks/agreement.py

Both estimators are fitted with tol=1e-10, max_iter=10000 on standardised iris,
wine and digits at several C. Printed per case: the relative difference of the
two objective values (each evaluated by the same direct formula) and the largest
absolute difference of the coefficients and intercepts after subtracting their
mean over classes (the softmax is invariant to it).
"""

import numpy as np
from scipy.special import log_softmax
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier


def objective(coef, intercept, X, y, C):
    log_p = log_softmax(X @ coef.T + intercept, axis=1)[np.arange(len(y)), y]
    return -log_p.mean() + np.sum(coef**2) / (2 * C * len(y))


def centered(a):
    return a - a.mean(axis=0)


def main():
    print(
        f"{'dataset':<8}{'C':>6}{'objective rel. diff':>22}{'coef diff':>12}"
        f"{'intercept diff':>16}"
    )
    worst = np.zeros(3)
    for name, load in [
        ("iris", load_iris),
        ("wine", load_wine),
        ("digits", load_digits),
    ]:
        X, y = load(return_X_y=True)
        X = StandardScaler().fit_transform(X)
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


if __name__ == "__main__":
    main()
