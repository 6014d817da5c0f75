"""
Tuning C with a grid search
===========================

``C`` sets the strength of the penalty: small values give simple models that
underfit, large values models that fit the training folds closely. A
``GridSearchCV`` over ``C`` in a pipeline with a scaler picks the value with the
best cross-validated accuracy; the plot shows the training and validation
scores along the grid.
"""

# %%
# The search
# ----------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipeline = make_pipeline(StandardScaler(), SoftmaxRegressionClassifier())
Cs = np.logspace(-4, 2, 13)
search = GridSearchCV(
    pipeline,
    {"softmaxregressionclassifier__C": Cs},
    cv=5,
    return_train_score=True,
).fit(X_train, y_train)
best_C = search.best_params_["softmaxregressionclassifier__C"]
print(f"best C: {best_C:.3g}; test accuracy: {search.score(X_test, y_test):.3f}")

# %%
# Scores along the grid
# ---------------------
results = search.cv_results_
fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
for kind, colour in (("train", "tab:blue"), ("test", "tab:orange")):
    mean = results[f"mean_{kind}_score"]
    std = results[f"std_{kind}_score"]
    label = "training folds" if kind == "train" else "validation folds"
    ax.semilogx(Cs, mean, "o-", color=colour, label=label)
    ax.fill_between(Cs, mean - std, mean + std, color=colour, alpha=0.2)
ax.axvline(best_C, color="k", linestyle=":", label=f"best C = {best_C:.3g}")
ax.set_xlabel("C")
ax.set_ylabel("accuracy (mean ± std over 5 folds)")
ax.set_title("Digits: cross-validated accuracy against C")
ax.legend()
plt.show()
