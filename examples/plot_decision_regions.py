"""
Decision regions and class probabilities
========================================

A three-class problem in two dimensions: the regions where each class is the
most probable, and the probability surface of the fitted model. The
boundaries of a softmax regression are straight lines (the net inputs are
linear in x), and the probabilities change smoothly across them.
"""

# %%
# Three overlapping clusters
# --------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs

from sksoftmax import SoftmaxRegressionClassifier

X, y = make_blobs(
    n_samples=450, centers=[[-2, 0], [2, 0], [0, 3]], cluster_std=1.3, random_state=0
)
clf = SoftmaxRegressionClassifier(C=1.0).fit(X, y)
print(f"training accuracy: {clf.score(X, y):.3f}")

# %%
# The most probable class, and how probable it is
# ------------------------------------------------
# The colour of each point of the plane is the most probable class; its
# intensity is that class's probability, from 1/3 (white, where the three
# classes are equally likely) to 1.
xx, yy = np.meshgrid(np.linspace(-6, 6, 300), np.linspace(-4.5, 7.5, 300))
grid = np.column_stack([xx.ravel(), yy.ravel()])
proba = clf.predict_proba(grid)
colours = np.array([[0.12, 0.47, 0.71], [1.0, 0.5, 0.05], [0.17, 0.63, 0.17]])
strength = ((proba.max(axis=1) - 1 / 3) / (2 / 3))[:, None]
image = 1 - strength * (1 - colours[proba.argmax(axis=1)])

fig, left = plt.subplots(figsize=(6.5, 5), constrained_layout=True)
left.imshow(
    image.reshape(*xx.shape, 3),
    origin="lower",
    extent=(xx.min(), xx.max(), yy.min(), yy.max()),
    aspect="auto",
)
left.contour(xx, yy, proba.argmax(axis=1).reshape(xx.shape), colors="k", linewidths=1)
for k in range(3):
    left.scatter(*X[y == k].T, s=12, color=colours[k], edgecolor="k", linewidth=0.3)
left.set_title("Most probable class (intensity: its probability)")
left.set_xlabel("$x_1$")
left.set_ylabel("$x_2$")
plt.show()

# %%
# The probability of one class
# ----------------------------
# The probability of class 2 (green) as a surface of contour lines: it rises
# from near 0 below the other two clusters to near 1 above them.
levels = np.linspace(0, 1, 11)
fig, right = plt.subplots(figsize=(6.5, 5), constrained_layout=True)
filled = right.contourf(
    xx, yy, proba[:, 2].reshape(xx.shape), levels=levels, cmap="Greens"
)
right.contour(
    xx, yy, proba[:, 2].reshape(xx.shape), levels=[0.5], colors="k", linewidths=1.5
)
right.scatter(*X.T, s=8, c="k", alpha=0.4)
fig.colorbar(filled, ax=right, label="P(class 2 | x)")
right.set_title("Probability of class 2 (black: 0.5)")
right.set_xlabel("$x_1$")
right.set_ylabel("$x_2$")
plt.show()
