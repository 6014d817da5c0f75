"""
Choosing C along a warm-started path
====================================

:class:`~sksoftmax.SoftmaxRegressionCV` fits every C of a grid on every fold,
each fit starting where the fits at the smaller Cs predict it, and keeps the
C with the best mean score (the log-loss by default). Its ``scores_`` hold the
score of every fold at every C: the plot shows their mean, with a band of one
standard error of that mean, and the "one standard error" rule's choice, the
smallest C whose mean score is within one standard error of the best (a
simpler model that the folds cannot tell from the best one).
"""

# %%
# The search
# ----------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionCV

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipeline = make_pipeline(StandardScaler(), SoftmaxRegressionCV(Cs=15, cv=5))
pipeline.fit(X_train, y_train)
search = pipeline[-1]
print(f"best C: {search.C_:.3g}; test log-loss: {-pipeline.score(X_test, y_test):.4f}")

# %%
# The cross-validation curve
# --------------------------
# ``scores_`` has one row per fold and one column per C (with ``l1_ratios``
# it would have an l1_ratio axis between them). The scores are negated
# log-losses: higher is better.
log_loss = -search.scores_
mean = log_loss.mean(axis=0)
standard_error = log_loss.std(axis=0, ddof=1) / np.sqrt(log_loss.shape[0])
best = np.argmin(mean)
one_se_C = search.Cs_[np.flatnonzero(mean <= mean[best] + standard_error[best])[0]]

fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
ax.semilogx(search.Cs_, mean, "o-", color="tab:orange", label="mean over 5 folds")
ax.fill_between(
    search.Cs_,
    mean - standard_error,
    mean + standard_error,
    color="tab:orange",
    alpha=0.25,
    label="± one standard error",
)
ax.axvline(search.C_, color="k", linestyle=":", label=f"best C = {search.C_:.3g}")
ax.axvline(
    one_se_C, color="tab:blue", linestyle="--", label=f"one-SE C = {one_se_C:.3g}"
)
ax.set_yscale("log")
ax.set_xlabel("C")
ax.set_ylabel("validation log-loss")
ax.set_title("Digits: cross-validated log-loss against C")
ax.legend()
plt.show()

# %%
# What the path saved
# -------------------
# ``n_iter_`` holds the L-BFGS-B iterations of each fold's fit at each C. Each
# fit starts from the prediction of the fits before it, so the largest Cs,
# the slowest to fit from scratch, take few iterations.
print("iterations per C, summed over the folds:", search.n_iter_.sum(axis=0))
