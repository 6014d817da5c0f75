"""The README's Python examples run as written, and do what they say; its install
lines, and those of the docs, name extras that exist."""

import re
import sys
import warnings
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose
from reference import newton_optimum, objective
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None


def run_python_blocks(text):
    """Run each ```python block of ``text`` in a namespace of its own; the
    namespaces and the warnings raised."""
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "the README has no Python example"
    namespaces = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for block in blocks:
            namespaces.append({})
            exec(compile(block, str(README), "exec"), namespaces[-1])
    return namespaces, caught


def test_readme_quickstart_does_what_it_says():
    namespaces, caught = run_python_blocks(README.read_text())
    namespace = next(n for n in namespaces if "lasso" in n)  # the quickstart
    X_train, y_train = namespace["X_train"], namespace["y_train"]
    X_test, y_test = namespace["X_test"], namespace["y_test"]
    # "Raw pixels, unscaled: the fit converges within the default max_iter": no
    # warning, and the model is near the optimum that Newton's method finds.
    clf = namespace["clf"]
    assert clf.max_iter == 100 and clf.n_iter_[0] <= 100
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    sample_weight = np.ones(len(y_train))
    weights, intercept = newton_optimum(
        clf.coef_, clf.intercept_, X_train, y_train, sample_weight, C=1.0
    )
    optimum = objective(weights, intercept, X_train, y_train, sample_weight, 1.0)
    reached = objective(clf.coef_, clf.intercept_, X_train, y_train, sample_weight, 1.0)
    # (At the optimum, the two may differ by the objective's rounding.)
    assert -1e-12 <= (reached - optimum) / optimum < 1e-3
    # proba: one row per test sample, rows sum to one, argmax is the prediction.
    proba = namespace["proba"]
    assert proba.shape == (len(y_test), 10)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X_test)).all()
    # The tuned pipeline chooses the C that GridSearchCV over the classifier
    # chooses, on the same folds and scoring; its score is the negated
    # log-loss, as the comment says, computed here by scikit-learn.
    tuned = namespace["tuned"]
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), SoftmaxRegressionClassifier()),
        {"softmaxregressionclassifier__C": tuned[-1].Cs_},
        cv=5,
        scoring="neg_log_loss",
    ).fit(X_train, y_train)
    assert tuned[-1].C_ == grid.best_params_["softmaxregressionclassifier__C"]
    assert tuned[-1].scores_.shape == (5, 10)
    assert_allclose(
        tuned.score(X_test, y_test),
        -log_loss(y_test, tuned.predict_proba(X_test)),
        rtol=1e-12,
    )
    # The L1 example is sparse, as it says, and still predicts well.
    coef = namespace["coef"]
    assert 0.2 < np.mean(coef == 0) < 1.0
    assert namespace["lasso"].score(X_test, y_test) > 0.9


def pyproject_extras():
    text = (ROOT / "pyproject.toml").read_text()
    if tomllib is not None:
        return set(tomllib.loads(text)["project"]["optional-dependencies"])
    section = text.split("[project.optional-dependencies]")[1].split("\n[")[0]
    return set(re.findall(r"^([\w-]+) = \[", section, flags=re.MULTILINE))


def install_targets(text):
    """The arguments of each ``pip install`` in ``text``, options left out."""
    for line in re.findall(r"pip install ([^\n`|&;#]*)", text):
        for word in line.split():
            if not word.startswith("-"):
                yield word.strip("\"'")


def test_install_lines_work_as_written():
    """sksoftmax is not on PyPI: every install of it is from a checkout or a
    built wheel, with extras that pyproject.toml defines."""
    extras = pyproject_extras()
    pages = [README, *sorted((ROOT / "docs").glob("*.rst"))]
    checked = 0
    for page in pages:
        for target in install_targets(page.read_text()):
            assert not target.lower().startswith("sksoftmax"), (
                f"{page.name}: pip install {target}, but sksoftmax is not on PyPI"
            )
            if target.startswith((".", "dist/")):
                checked += 1
                named = re.findall(r"\[([^\]]*)\]", target)
                for extra in ",".join(named).split(","):
                    assert not extra or extra in extras, (
                        f"{page.name}: pip install {target}: no extra {extra!r}"
                    )
    assert checked >= 5  # the README's and the docs' install lines were read
