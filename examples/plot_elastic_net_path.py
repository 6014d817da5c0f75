"""
Elastic-net coefficient paths
=============================

With ``l1_ratio`` between 0 and 1 the penalty mixes the L1 and L2 norms. As
``C`` grows the penalty weakens and weights leave zero one after another;
L-BFGS-B with the split of each weight into a positive and a negative part
puts the others exactly at zero. The fits along the path are warm-started from
the previous one.
"""

# %%
# The path on the standardised wine data
# --------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier

X, y = load_wine(return_X_y=True)
X = StandardScaler().fit_transform(X)
Cs = np.logspace(-2.5, 1, 30)
model = SoftmaxRegressionClassifier(l1_ratio=0.5, warm_start=True, max_iter=2000)
coefs = []
for C in Cs:
    model.set_params(C=C).fit(X, y)
    coefs.append(model.coef_.copy())
coefs = np.array(coefs)  # (n_Cs, n_classes, n_features)

# %%
# Each line is one weight; one colour per class
# ---------------------------------------------
fig, (top, bottom) = plt.subplots(
    2,
    1,
    figsize=(7.5, 6.5),
    sharex=True,
    constrained_layout=True,
    gridspec_kw={"height_ratios": [3, 1]},
)
for k, colour in enumerate(["tab:blue", "tab:orange", "tab:green"]):
    top.semilogx(Cs, coefs[:, k, :], color=colour, linewidth=1)
    top.plot([], [], color=colour, label=f"class {k}")
top.axhline(0, color="k", linewidth=0.5)
top.set_ylabel("weight")
top.set_title("Wine, l1_ratio=0.5: the weights against C")
top.legend()
bottom.semilogx(Cs, (coefs != 0).sum(axis=(1, 2)), "k.-")
bottom.set_xlabel("C")
bottom.set_ylabel("non-zero weights")
bottom.set_ylim(0, coefs[0].size + 2)
plt.show()
