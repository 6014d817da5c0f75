"""The class-sum direction, which predictions cannot see, settled exactly.

Adding the same number to one feature's weight in every class leaves every
probability unchanged, so only the penalty decides where along that direction
the optimum lies. For an L2 penalty it is where the class sums are zero; for
the elastic net, where no common shift of a feature's K weights lowers the
penalty: with r the l1_ratio, the one-dimensional function

    s -> sum_k (1 - r) / 2 (w_k - s)^2 + r |w_k - s|

has its minimum at s = 0, that is, its subgradient at 0,

    -(1 - r) sum_k w_k - r sum_{w_k != 0} sign(w_k) + r [-1, 1] * #{w_k == 0},

contains 0. Both are checked by that formula, not against another fit.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification

from sksoftmax import SoftmaxRegressionClassifier


def scaled_weighted_problem(seed, n_classes=6):
    """Features scaled 1e-2..1e2, weighted rows: the case in which fits left
    class sums up to 1e-2 (on the standardised scale) before they were settled."""
    X, y = make_classification(
        n_samples=600,
        n_features=8,
        n_informative=6,
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    return X * np.logspace(-2, 2, 8), y, rng.uniform(0.5, 2.0, len(y))


def shift_subgradient_gap(coef, l1_ratio, zero=1e-12):
    """Per feature, the distance from 0 to the subgradient interval above (0
    where s = 0 is the best shift)."""
    nonzero = np.abs(coef) > zero
    smooth = (1 - l1_ratio) * coef.sum(axis=0) + l1_ratio * np.sign(coef).sum(axis=0)
    slack = l1_ratio * (~nonzero).sum(axis=0)
    return np.maximum(np.abs(smooth) - slack, 0.0)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("tol", [1e-4, 1e-8])
@pytest.mark.parametrize("sparse", [False, True])
def test_l2_class_sums_are_zero(seed, tol, sparse):
    X, y, sample_weight = scaled_weighted_problem(seed)
    if sparse:
        X = sp.csr_matrix(X)
    model = SoftmaxRegressionClassifier(C=1.0, tol=tol).fit(X, y, sample_weight)
    scale = np.abs(model.coef_).max()
    np.testing.assert_array_less(np.abs(model.coef_.sum(axis=0)), 1e-10 * scale)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("l1_ratio", [0.3, 0.8])
def test_elastic_net_class_shift_is_optimal(seed, l1_ratio):
    X, y, sample_weight = scaled_weighted_problem(seed)
    model = SoftmaxRegressionClassifier(C=0.5, l1_ratio=l1_ratio)
    model.fit(X, y, sample_weight)
    coef = model.coef_
    # Some features have weights at zero in some classes and not in others:
    # the check exercises both parts of the subgradient.
    assert ((coef == 0).any(axis=0) & (coef != 0).any(axis=0)).any()
    gap = shift_subgradient_gap(coef, l1_ratio)
    np.testing.assert_array_less(gap, 1e-8 * (1 + np.abs(coef).sum(axis=0)))


def test_the_subgradient_check_rejects_a_shifted_optimum():
    # The check above can fail: the same fit with one feature's weights
    # shifted by a common amount is refused.
    X, y, sample_weight = scaled_weighted_problem(0)
    model = SoftmaxRegressionClassifier(C=0.5, l1_ratio=0.3)
    coef = model.fit(X, y, sample_weight).coef_.copy()
    coef[:, 0] += 1e-3
    assert shift_subgradient_gap(coef, 0.3)[0] > 1e-4
