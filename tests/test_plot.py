"""The displays draw what the result says: each point at its estimate, each
bar from the interval computed here from ``params`` and ``bse`` (the normal
quantile), on the rows of the features named."""

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import norm
from sklearn.datasets import make_classification

from sksoftmax import (
    CoefficientDisplay,
    MarginalEffectsDisplay,
    SoftmaxRegressionClassifier,
    inference,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)


@pytest.fixture(scope="module")
def result():
    X, y = make_classification(
        n_samples=300,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )
    model = SoftmaxRegressionClassifier(C=np.inf, tol=1e-8).fit(X, y)
    return inference(model, X, y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn(display):
    """Per class: the points' x and y, and each bar's two x ends and its y."""
    out = []
    for container in display.errorbars_:
        line, _, (bars,) = container.lines
        segments = np.array(bars.get_segments())
        out.append(
            (line.get_xdata(), line.get_ydata(), segments[:, :, 0], segments[:, 0, 1])
        )
    return out


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_coefficients_and_their_intervals_are_drawn(result, alpha):
    display = CoefficientDisplay.from_result(result, alpha=alpha)
    q = norm.ppf(1 - alpha / 2)
    n_features = 4  # the intercept left out
    assert len(display.errorbars_) == 2
    positions = None
    for k, (x, y, ends, bar_y) in enumerate(drawn(display)):
        coef = result.params[k, :n_features]
        se = result.bse[k, :n_features]
        assert_allclose(x, coef)
        assert_allclose(ends[:, 0], coef - q * se)
        assert_allclose(ends[:, 1], coef + q * se)
        assert_allclose(bar_y, y)
        if positions is None:
            positions = y
        else:
            # The classes sit side by side within each feature's row.
            assert np.all(y < positions) and np.all(positions - y < 1)
    labels = [tick.get_text() for tick in display.ax_.get_yticklabels()]
    assert labels == ["x0", "x1", "x2", "x3"]
    assert display.figure_ is display.ax_.figure
    assert str(result.reference) in display.ax_.get_xlabel()


def test_odds_ratios_are_exponentiated_on_a_log_axis(result):
    display = CoefficientDisplay.from_result(
        result, odds_ratio=True, features=["x2", "intercept"]
    )
    q = norm.ppf(0.975)
    columns = [2, 4]
    for k, (x, _, ends, _) in enumerate(drawn(display)):
        coef, se = result.params[k, columns], result.bse[k, columns]
        assert_allclose(x, np.exp(coef))
        assert_allclose(ends, np.exp(np.column_stack([coef - q * se, coef + q * se])))
    assert display.ax_.get_xscale() == "log"
    labels = [tick.get_text() for tick in display.ax_.get_yticklabels()]
    assert labels == ["x2", "intercept"]


def test_a_display_draws_on_the_axes_given_and_again_on_others(result):
    fig, (left, right) = plt.subplots(1, 2)
    display = CoefficientDisplay.from_result(result, ax=left)
    assert display.ax_ is left and display.figure_ is fig
    display.plot(ax=right)
    assert display.ax_ is right
    assert len(right.lines) > 0


@pytest.mark.parametrize("method", ["dydx", "eyex"])
def test_marginal_effects_are_drawn_for_every_class(result, method):
    margeff = result.get_margeff(method=method)
    display = MarginalEffectsDisplay.from_result(margeff, features=["x1", "x3"])
    q = norm.ppf(0.975)
    assert len(display.errorbars_) == 3
    for k, (x, _, ends, _) in enumerate(drawn(display)):
        effect = margeff.margeff[[1, 3], k]
        se = margeff.margeff_se[[1, 3], k]
        assert_allclose(x, effect)
        assert_allclose(ends[:, 0], effect - q * se)
        assert_allclose(ends[:, 1], effect + q * se)
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert legend == [str(label) for label in margeff.classes]
    assert method in display.ax_.get_xlabel()


def test_wrong_inputs_are_named(result):
    with pytest.raises(TypeError, match="InferenceResult"):
        CoefficientDisplay.from_result(result.get_margeff())
    with pytest.raises(TypeError, match="MarginalEffects"):
        MarginalEffectsDisplay.from_result(result)
    with pytest.raises(ValueError, match=r"\['age'\] are not among"):
        CoefficientDisplay.from_result(result, features=["x0", "age"])
    with pytest.raises(ValueError, match="shape"):
        CoefficientDisplay(
            np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 2)), ["a", "b"], [1, 2]
        )
