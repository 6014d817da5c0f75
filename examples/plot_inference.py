"""
Coefficients with their confidence intervals
============================================

:func:`~sksoftmax.inference` gives the standard errors and intervals of a
fitted model's contrasts against a reference class. Here: party
identification in the American National Election Studies 1996 (7 classes,
from strong Democrat to strong Republican, the data that ship with
statsmodels) against five features, standardised so that each coefficient is
per standard deviation of its feature. The plot shows each feature's
coefficient for each class against "strong Democrat", with its 95% interval,
from the model-based and from a cluster-robust covariance.
"""

# %%
# The fit and the inference
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
import statsmodels.api as sm
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier, inference

data = sm.datasets.anes96.load_pandas()
X = StandardScaler().set_output(transform="pandas").fit_transform(data.exog)
y = data.endog.astype(int).map(
    dict(
        enumerate(
            ["strong D", "weak D", "indep D", "indep", "indep R", "weak R", "strong R"]
        )
    )
)
# Keep the parties' order (the labels sort alphabetically otherwise).
order = ["strong D", "weak D", "indep D", "indep", "indep R", "weak R", "strong R"]

# Unpenalised (C=np.inf) and to a tight tol: inference wants the maximum
# likelihood estimate, at its optimum.
clf = SoftmaxRegressionClassifier(C=np.inf, tol=1e-6).fit(X, y)
result = inference(clf, X, y, reference="strong D")
print(result)

# %%
# Robust intervals: respondents of one age decade may share more than the
# model says, so cluster on it.
clustered = inference(
    clf,
    X,
    y,
    reference="strong D",
    cov_type="cluster",
    groups=data.exog["age"] // 10,
)

# %%
# The coefficient plot
# --------------------
# One panel per feature; in each, the classes in the parties' order, each with
# its coefficient and its two intervals.
features = list(result.feature_names[:-1])
rows = [list(result.classes).index(label) for label in order[1:]]
fig, axes = plt.subplots(1, len(features), figsize=(13, 3.6), sharey=True)
positions = np.arange(len(rows))
for j, (ax, feature) in enumerate(zip(axes, features, strict=True)):
    for shift, res, label in [
        (-0.12, result, "nonrobust"),
        (0.12, clustered, "cluster (age decade)"),
    ]:
        bounds = res.conf_int()[rows, j]
        coef = res.params[rows, j]
        ax.errorbar(
            coef,
            positions + shift,
            xerr=[coef - bounds[:, 0], bounds[:, 1] - coef],
            fmt="o",
            capsize=3,
            label=label,
        )
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_title(feature)
    ax.set_xlabel("coefficient per SD")
axes[0].set_yticks(positions, order[1:])
axes[0].set_ylabel("class (vs strong D)")
axes[-1].legend(loc="lower right", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# Reading it
# ----------
# ``selfLR`` (self-placement on a liberal-conservative scale) moves the odds
# of every class against "strong D", increasingly towards the Republican end:
# an odds ratio per standard deviation of
print(f"{np.exp(result.params[rows[-1], features.index('selfLR')]):.1f}")
# %%
# for "strong R". The intervals of ``age`` and ``logpopul`` cross zero for
# several classes: their effects are not distinguished from none there. The
# cluster-robust intervals are wider for some coefficients and narrower for
# others: the model-based ones are not simply too optimistic.
