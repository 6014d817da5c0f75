"""
A model with sign constraints
=============================

``coef_bounds`` bounds the weights of a model. Here the breast cancer data
that ship with scikit-learn: 30 measurements of a tumour's cell nuclei (their
size, shape and texture), and whether the tumour is malignant. Every
measurement grows with the irregularity that pathologists read as a sign of
malignancy, so a model that explains itself to them should not say that a
larger or more irregular nucleus makes a tumour *less* likely to be
malignant. The free fit says so for several features: the measurements are
strongly correlated (radius, perimeter and area almost determine each
other), and the fit trades their weights against each other. Bounding every
weight below by zero forbids that, and the plot shows what it costs.
"""

# %%
# Two fits, with and without the bounds
# -------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier

data = load_breast_cancer(as_frame=True)
X = data.data
y = data.target.map({0: "malignant", 1: "benign"})

# Two classes: one row of weights, those of classes_[1] = "malignant" (the
# labels sort alphabetically). Standardised, each weight is per standard
# deviation of its feature.
free = make_pipeline(StandardScaler(), SoftmaxRegressionClassifier(C=1.0))
constrained = make_pipeline(
    StandardScaler(), SoftmaxRegressionClassifier(C=1.0, coef_bounds=(0.0, np.inf))
)
models = {"free": free, "weights >= 0": constrained}
for name, model in models.items():
    model.fit(X, y)
    scores = cross_validate(model, X, y, cv=10, scoring=("neg_log_loss", "accuracy"))
    weights = model[-1].coef_[0]
    print(
        f"{name:>13}: {np.sum(weights < 0):2d} negative and "
        f"{np.sum(weights == 0):2d} zero weights; 10-fold log-loss "
        f"{-scores['test_neg_log_loss'].mean():.4f}, accuracy "
        f"{scores['test_accuracy'].mean():.3f}"
    )

# %%
# The bounds cost little: the held-out log-loss and accuracy barely move,
# because the correlated measurements carry the same information. The
# constrained model keeps the features whose weights the data support with
# the right sign, and sets the others to exactly zero: a bound held at zero
# acts as a selection, as the L1 penalty's zeros do.
#
# The coefficients side by side
# -----------------------------
names = np.array(X.columns)
order = np.argsort(free[-1].coef_[0])
position = np.arange(len(names))
fig, ax = plt.subplots(figsize=(7, 8))
ax.barh(position + 0.2, free[-1].coef_[0][order], height=0.4, label="free")
ax.barh(
    position - 0.2,
    constrained[-1].coef_[0][order],
    height=0.4,
    label="weights >= 0",
)
ax.axvline(0.0, color="black", linewidth=0.8)
ax.set_yticks(position, names[order])
ax.set_xlabel('weight for "malignant" (per standard deviation)')
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# Reading a bounded model
# -----------------------
# With two classes the one row of weights is the log-odds of "malignant"
# against "benign", so a bound on it is a bound on a direction of effect. With
# three or more classes the probabilities depend only on the differences
# between the classes' weights of a feature, and a bound on each class's
# weight is a bound relative to zero, which the model does not see: read such
# a model through the differences (its contrasts, as
# :func:`~sksoftmax.inference` reports them), and bound one class, or all
# classes in the same way only where a penalty makes the level meaningful.
# The user guide's page on penalty factors and bounds says more.
