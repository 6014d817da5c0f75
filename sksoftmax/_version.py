"""The package's version, in a module of its own: fitted models stamp it when
they are pickled (:class:`sksoftmax._classifier.SoftmaxModelMixin`), reading it
when they are, and the package re-exports it."""

__version__ = "0.1.0"
