"""
Analytics on a DataFrame, as with LogisticRegression
====================================================

Code written for ``LogisticRegression`` runs unchanged with
:class:`~sksoftmax.SoftmaxRegressionClassifier`: a ``ColumnTransformer``
that one-hot encodes the categorical columns and scales the numeric ones,
string labels, sample weights (passed to ``fit`` directly, or routed through
the pipeline with scikit-learn's metadata routing), a coefficient table
labelled by feature name, and ``predict_proba`` columns that follow
``classes_``. Both estimators fit the same model, for two classes as for
more, so the tables agree.
"""

# %%
# A customer table
# ----------------
# Synthetic subscription data: a plan and a region (categorical), the tenure
# and the monthly spend (numeric), and what the customer did next, as strings.
# Survey weights make some customers count more than others.
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sksoftmax import SoftmaxRegressionClassifier

rng = np.random.default_rng(0)
n = 2000
table = pd.DataFrame(
    {
        "plan": rng.choice(["basic", "plus", "premium"], size=n, p=[0.5, 0.3, 0.2]),
        "region": rng.choice(["north", "south", "east", "west"], size=n),
        "tenure_months": rng.gamma(2.0, 12.0, size=n).round(),
        "monthly_spend": rng.lognormal(3.5, 0.4, size=n).round(2),
    }
)
plan_effect = table["plan"].map({"basic": 0.8, "plus": 0.0, "premium": -0.6})
score_leave = plan_effect - 0.04 * table["tenure_months"] + rng.normal(0, 1, n)
score_downgrade = 0.02 * (table["monthly_spend"] - 35) + rng.normal(0, 1, n)
outcome = np.select(
    [score_leave > 0.3, score_downgrade > 0.5], ["leave", "downgrade"], "stay"
)
survey_weight = rng.uniform(0.5, 2.0, size=n)
table.head()

# %%
# The same pipeline, two estimators
# ---------------------------------
# One ``ColumnTransformer``; the classifier is the only line that changes.


def pipeline(classifier, scaler=None):
    columns = ColumnTransformer(
        [
            ("categories", OneHotEncoder(), ["plan", "region"]),
            ("numbers", scaler or StandardScaler(), ["tenure_months", "monthly_spend"]),
        ]
    )
    return make_pipeline(columns, classifier)


ours = pipeline(SoftmaxRegressionClassifier(C=1.0))
theirs = pipeline(LogisticRegression(C=1.0, tol=1e-8, max_iter=1000))
ours.fit(table, outcome, softmaxregressionclassifier__sample_weight=survey_weight)
theirs.fit(table, outcome, logisticregression__sample_weight=survey_weight)
print("classes:", ours.classes_)

# %%
# A coefficient table
# -------------------
# ``coef_`` has one row per class, in the order of ``classes_``; the feature
# names come from the ``ColumnTransformer``.
names = ours[:-1].get_feature_names_out()
coefficients = pd.DataFrame(ours[-1].coef_.T, index=names, columns=ours.classes_)
coefficients.round(3)

# %%
# ``LogisticRegression``'s table, fitted to ``tol=1e-8``, is the same up to
# what the default ``tol=1e-4`` of ours leaves (a relative objective gap below
# 1e-3, see :ref:`fitting`):
difference = np.abs(ours[-1].coef_ - theirs[-1].coef_).max()
print(f"largest difference from LogisticRegression's coefficients: {difference:.1e}")

# %%
# Probabilities that line up with ``classes_``
# --------------------------------------------
# Column k of ``predict_proba`` is the probability of ``classes_[k]``: a
# DataFrame labelled by the classes reads without guessing.
proba = pd.DataFrame(ours.predict_proba(table.head()), columns=ours.classes_)
proba.round(3)

# %%
# Two classes: the binary model
# -----------------------------
# With two classes ``coef_`` has one row, the weights of ``classes_[1]``
# against ``classes_[0]``, as in ``LogisticRegression`` (at the same ``C``),
# so the everyday one-liner below reads the same in both.
left = np.where(outcome == "leave", "leave", "kept")
binary = pipeline(SoftmaxRegressionClassifier(C=1.0)).fit(table, left)
binary_theirs = pipeline(LogisticRegression(C=1.0, tol=1e-8, max_iter=1000))
binary_theirs.fit(table, left)
weights = pd.Series(binary[-1].coef_[0], index=names, name=binary.classes_[1])
print(binary[-1].coef_.shape, "difference:", end=" ")
print(f"{np.abs(binary[-1].coef_ - binary_theirs[-1].coef_).max():.1e}")
weights.sort_values().round(3)

# %%
# Sample weights through metadata routing
# ---------------------------------------
# With metadata routing on, the estimator asks for ``sample_weight`` once and
# every meta-estimator (a pipeline, a grid search, cross-validation) passes it
# on; the scaler, which also takes weights, says that it does not want them
# (its statistics stay unweighted, as above). The model is the one fitted
# above.
import sklearn  # noqa: E402

with sklearn.config_context(enable_metadata_routing=True):
    routed = pipeline(
        SoftmaxRegressionClassifier(C=1.0).set_fit_request(sample_weight=True),
        scaler=StandardScaler().set_fit_request(sample_weight=False),
    )
    routed.fit(table, outcome, sample_weight=survey_weight)
print("same model:", np.allclose(routed[-1].coef_, ours[-1].coef_, atol=1e-10))
