"""
From a DataFrame to marginal effects, predictions with bands and joint tests
============================================================================

An analyst's path through a multinomial model, on the American National
Election Studies 1996 data that ship with statsmodels: party identification
(7 classes) against the respondent's left-right self-placement, age, income
and education, a categorical column one-hot encoded in the pipeline.

- The unpenalised fit's :func:`~sksoftmax.inference` refuses: the lowest
  education category has no respondent in two of the classes, so those
  classes are separated and their maximum likelihood estimates do not exist.
- Firth's bias-reduced fit (``firth=True``) is finite there, and
  :func:`~sksoftmax.inference` describes it: the summary, the coefficients as
  odds ratios (:class:`~sksoftmax.CoefficientDisplay`), the marginal effects
  on each class's probability (:class:`~sksoftmax.MarginalEffectsDisplay`),
  predicted probabilities with confidence bands
  (:meth:`~sksoftmax.InferenceResult.get_prediction`), and each feature's
  joint test across the classes
  (:meth:`~sksoftmax.InferenceResult.wald_test_terms`).
"""

# %%
# The data and the pipeline
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sksoftmax import (
    CoefficientDisplay,
    MarginalEffectsDisplay,
    SoftmaxRegressionClassifier,
    inference,
)

parties = ["strong D", "weak D", "indep D", "indep", "indep R", "weak R", "strong R"]
data = sm.datasets.anes96.load_pandas().data
table = pd.DataFrame(
    {
        "selfLR": data["selfLR"],
        "age": data["age"],
        "income": data["income"],
        "educ": data["educ"].astype(int).map(lambda level: f"level {level}"),
    }
)
party = data["PID"].astype(int).map(dict(enumerate(parties)))

columns = ColumnTransformer(
    [
        ("num", StandardScaler(), ["selfLR", "age", "income"]),
        # drop="first": the lowest level is the baseline of the others.
        ("educ", OneHotEncoder(drop="first", sparse_output=False), ["educ"]),
    ]
).set_output(transform="pandas")


def model(**params):
    return make_pipeline(
        columns, SoftmaxRegressionClassifier(C=np.inf, tol=1e-8, **params)
    )


# %%
# Maximum likelihood: separated
# -----------------------------
# The fit warns that the classes are separated, and inference refuses, naming
# the classes and the education levels involved (found by a linear program).
import warnings  # noqa: E402

from sklearn.exceptions import ConvergenceWarning  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    plain = model().fit(table, party)
try:
    inference(plain, table, party, reference="strong D")
except ValueError as error:
    print(str(error)[:400], "...")

# %%
# Firth's fit, and its summary
# ----------------------------
firth = model(firth=True).fit(table, party)
result = inference(firth, table, party, reference="strong D")
print(result.cov_description)
result.summary().round(3).head(12)

# %%
# Odds ratios
# -----------
# Each feature's factor on the odds of each class against "strong D", with its
# 95% interval, on a log scale.
display = CoefficientDisplay.from_result(
    result, odds_ratio=True, features=["num__selfLR", "num__age", "num__income"]
)
display.figure_.set_size_inches(7, 6)
display.figure_.tight_layout()

# %%
# Marginal effects
# ----------------
# The average change in each class's probability per standard deviation of
# a feature (``dydx``, averaged over the respondents), every class included.
margeff = result.get_margeff()
display = MarginalEffectsDisplay.from_result(
    margeff, features=["num__selfLR", "num__income"]
)
display.figure_.set_size_inches(7, 5)
display.figure_.tight_layout()

# %%
# Predicted probabilities with bands
# ----------------------------------
# A respondent of median age and income and education level 4, across the
# left-right scale: each class's probability with its 95% confidence band
# (built on the log-odds scale, so it stays within [0, 1]). ``get_prediction``
# takes rows of the original table and runs them through the pipeline.
grid = pd.DataFrame(
    {
        "selfLR": np.linspace(1, 7, 25),
        "age": table["age"].median(),
        "income": table["income"].median(),
        "educ": "level 4",
    }
)
prediction = result.get_prediction(grid)
bands = prediction.conf_int()
classes = [result.reference, *result.classes]
fig, ax = plt.subplots(figsize=(7, 4.5))
for k, label in enumerate(classes):
    ax.plot(grid["selfLR"], prediction.predicted[:, k], label=label)
    ax.fill_between(grid["selfLR"], bands[:, k, 0], bands[:, k, 1], alpha=0.2)
ax.set_xlabel("left-right self-placement (1 = extremely liberal)")
ax.set_ylabel("predicted probability")
ax.legend(fontsize="small", ncol=2)
fig.tight_layout()

# %%
# Joint tests
# -----------
# A feature's effect is 6 coefficients, one per class against the reference:
# each row tests them together (chi-squared with 6 degrees of freedom).
result.wald_test_terms().round(3)
