"""The README's Python examples run as written, and do what they say."""

import re
from pathlib import Path

import numpy as np
import statsmodels.api as sm
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "the README has no Python example"
    namespaces = []
    for block in blocks:
        namespaces.append({})
        exec(compile(block, str(README), "exec"), namespaces[-1])
    namespace = next(n for n in namespaces if "lasso" in n)  # the quickstart
    X_train, y_train = namespace["X_train"], namespace["y_train"]
    X_test, y_test = namespace["X_test"], namespace["y_test"]
    # The search picks the C of the best mean score over the same 5 folds,
    # recomputed here one C at a time.
    key = "softmaxregressionclassifier__C"
    scores = {
        C: cross_val_score(
            make_pipeline(StandardScaler(), SoftmaxRegressionClassifier(C=C)),
            X_train,
            y_train,
        ).mean()
        for C in (0.01, 0.1, 1, 10)
    }
    assert namespace["search"].best_params_[key] == max(scores, key=scores.get)
    # proba: one row per test sample, rows sum to one, argmax is the prediction.
    proba, clf = namespace["proba"], namespace["clf"]
    assert proba.shape == (len(y_test), 10)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X_test)).all()
    # The L1 example is sparse, as it says, and still predicts well.
    coef = namespace["coef"]
    assert 0.2 < np.mean(coef == 0) < 1.0
    assert namespace["lasso"].score(X_test, y_test) > 0.9
    # The tuning example chooses the C that GridSearchCV over the classifier
    # chooses, on the same folds and scoring.
    tuning = next(n for n in namespaces if "tuned" in n)
    tuned = tuning["tuned"]
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), SoftmaxRegressionClassifier()),
        {"softmaxregressionclassifier__C": tuned[-1].Cs_},
        cv=5,
        scoring="neg_log_loss",
    ).fit(tuning["X"], tuning["y"])
    assert tuned[-1].C_ == grid.best_params_["softmaxregressionclassifier__C"]
    assert tuned[-1].scores_.shape == (5, 10)
    # The inference example: statsmodels' MNLogit on the same data and the
    # same covariance, refitted here by Newton's method.
    inferred = next(n for n in namespaces if "table" in n)
    data = inferred["data"]
    theirs = sm.MNLogit(inferred["y"], sm.add_constant(data.exog, prepend=False)).fit(
        method="newton", disp=0, cov_type="HC0"
    )
    assert_allclose(
        inferred["table"]["std err"], theirs.bse.T.to_numpy().ravel(), rtol=1e-4
    )
    assert "Log-likelihood" in capsys.readouterr().out
