"""Warnings of sksoftmax."""

from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning

__all__ = ["InconsistentVersionWarning"]


class InconsistentVersionWarning(_SklearnVersionWarning):
    """A model is loaded by another version of sksoftmax than saved it.

    Fitted sksoftmax models stamp the package's version when they are pickled
    (by ``pickle``, ``joblib`` or ``skops``), and warn with this when the
    version that loads them differs: the model may then not work as it did,
    or give other results. A subclass of scikit-learn's
    ``InconsistentVersionWarning``, so that one filter catches both (its
    ``*_sklearn_version`` attributes hold sksoftmax's versions here).

    Parameters
    ----------
    estimator_name : str
        The class of the loaded model.
    current_version : str
        The version of sksoftmax that loads it.
    saved_version : str or None
        The version that saved it, or None for a model saved before versions
        were stamped.

    Attributes
    ----------
    saved_version : str or None
        The version of sksoftmax that saved the model (None: unknown).
    current_version : str
        The version that loads it.
    """

    def __init__(
        self, *, estimator_name: str, current_version: str, saved_version: str | None
    ) -> None:
        super().__init__(
            estimator_name=estimator_name,
            current_sklearn_version=current_version,
            original_sklearn_version=saved_version,
        )
        self.saved_version = saved_version
        self.current_version = current_version

    def __str__(self) -> str:
        saved = (
            f"sksoftmax {self.saved_version}"
            if self.saved_version is not None
            else "a version of sksoftmax that did not record itself"
        )
        return (
            f"Loading a {self.estimator_name} saved by {saved} with sksoftmax "
            f"{self.current_version}: it may not work as it did, or give other "
            "results. Refit it with this version, or load it with the one that "
            "saved it."
        )
