"""
Convergence on unscaled data
============================

Both estimators minimise the same objective. On raw features, whose scales
differ widely, ``LogisticRegression``'s L-BFGS progresses slowly, while
sksoftmax's preconditioned L-BFGS-B is much less affected by the scales. This example
plots the objective gap (the objective minus the lowest objective either
reached, relative to it) against fit time, on the raw pixel intensities (0 to
16) of the digits data.
"""

# %%
# The objective, from its definition
# ----------------------------------
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import log_softmax
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sksoftmax import SoftmaxRegressionClassifier

X, y = load_digits(return_X_y=True)
C = 1.0


def objective(model):
    """Mean cross-entropy + ||W||^2 / (2 C n)."""
    Z = X @ model.coef_.T + model.intercept_
    cross_entropy = -log_softmax(Z, axis=1)[np.arange(len(y)), y]
    return cross_entropy.mean() + (model.coef_**2).sum() / (2 * C * len(y))


# %%
# Fits stopped after 1, 2, 4, ... iterations
# ------------------------------------------
# L-BFGS is deterministic, so the fit stopped after k iterations is the first
# k iterations of a longer one: timing fits of growing ``max_iter`` traces the
# objective against time.
def trace(make):
    times, values = [], []
    for max_iter in 2 ** np.arange(0, 10):
        model = make(int(max_iter))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X, y)
            times.append(time.perf_counter() - start)
        values.append(objective(model))
    return np.array(times), np.array(values)


ours = trace(lambda k: SoftmaxRegressionClassifier(C=C, tol=1e-10, max_iter=k))
theirs = trace(lambda k: LogisticRegression(C=C, tol=1e-10, max_iter=k))
# The reference optimum: a long, tight fit (tol=1e-12 is below the rounding
# of the gradient, so it runs until the objective stops falling, and warns),
# and whatever either trace reached.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    reference = SoftmaxRegressionClassifier(C=C, tol=1e-12, max_iter=20_000)
    reference.fit(X, y)
lowest = min(objective(reference), ours[1].min(), theirs[1].min())

fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
for (times, values), label in ((ours, "sksoftmax"), (theirs, "LogisticRegression")):
    gap = np.maximum((values - lowest) / lowest, 1e-16)
    ax.loglog(times, gap, "o-", label=label)
ax.set_xlabel("fit time (s)")
ax.set_ylabel("relative objective gap")
ax.set_title("Digits, raw pixels, C=1: fits stopped after 1, 2, 4, ... 512 iterations")
ax.legend()
plt.show()

# %%
# After 128 iterations the gaps differ by more than an order of magnitude, and
# sksoftmax's took a fraction of the time:
for (times, values), label in ((ours, "sksoftmax"), (theirs, "LogisticRegression")):
    print(
        f"{label}, 128 iterations: gap {(values[7] - lowest) / lowest:.1e} "
        f"in {times[7]:.2f} s"
    )

# %%
# At the default settings (``tol=1e-4``, ``max_iter=100``) sksoftmax converges
# on these raw pixels, and its stop is honest: it comes only when the gradient
# is small in units of the curvature at the final point and the objective has
# stopped falling. ``LogisticRegression`` reaches ``max_iter`` and warns.
for make, label in (
    (SoftmaxRegressionClassifier, "sksoftmax"),
    (LogisticRegression, "LogisticRegression"),
):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model = make(C=C).fit(X, y)
    print(
        f"{label}, default fit: {int(np.max(model.n_iter_))} iterations, "
        f"converged: {'no' if caught else 'yes'}, "
        f"gap {(objective(model) - lowest) / lowest:.1e}"
    )
