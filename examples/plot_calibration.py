"""
Reliability of the predicted probabilities
==========================================

A reliability (calibration) diagram: among the samples to which the model
gives a probability near p for a class, what fraction belongs to that class?
For a well-specified model the answer is p, and the curve follows the
diagonal. Here the data come from a softmax model, so the fitted model is well
specified; a model with too weak a penalty on few samples is overconfident,
and label smoothing pulls its probabilities back.
"""

# %%
# Data drawn from a softmax model
# -------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import calibration_curve

from sksoftmax import SoftmaxRegressionClassifier

rng = np.random.default_rng(0)
n_features, n_classes = 20, 4
true_weights = rng.normal(scale=0.6, size=(n_classes, n_features))


def draw(n_samples):
    X = rng.normal(size=(n_samples, n_features))
    logits = X @ true_weights.T
    gumbel = rng.gumbel(size=logits.shape)  # argmax of logits + Gumbel: softmax
    return X, (logits + gumbel).argmax(axis=1)


X_train, y_train = draw(300)
X_test, y_test = draw(20_000)

models = {
    "C=0.1": SoftmaxRegressionClassifier(C=0.1),
    "C=inf (no penalty)": SoftmaxRegressionClassifier(C=np.inf, max_iter=1000),
    "C=inf, label_smoothing=0.1": SoftmaxRegressionClassifier(
        C=np.inf, label_smoothing=0.1, max_iter=1000
    ),
}

# %%
# One curve per model, all classes together
# -----------------------------------------
# Each class's probabilities are checked against its indicator (one against
# the rest), and the points of the four classes are pooled.
fig, ax = plt.subplots(figsize=(6.5, 5.5), constrained_layout=True)
ax.plot([0, 1], [0, 1], "k:", label="perfectly reliable")
for name, model in models.items():
    proba = model.fit(X_train, y_train).predict_proba(X_test)
    truth = (y_test[:, None] == model.classes_).ravel()
    observed, predicted = calibration_curve(
        truth, proba.ravel(), n_bins=10, strategy="quantile"
    )
    log_loss = -np.log(proba[np.arange(len(y_test)), y_test]).mean()
    ax.plot(predicted, observed, "o-", label=f"{name} (test log-loss {log_loss:.3f})")
ax.set_xlabel("mean predicted probability")
ax.set_ylabel("fraction of samples of the class")
ax.set_title("Reliability diagram, 300 training samples")
ax.legend(loc="upper left")
plt.show()
