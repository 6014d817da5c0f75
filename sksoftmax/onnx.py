"""ONNX export through skl2onnx: ``import sksoftmax.onnx`` registers the
estimators with skl2onnx, after which ``skl2onnx.to_onnx`` converts a fitted
:class:`~sksoftmax.SoftmaxRegressionClassifier` or
:class:`~sksoftmax.SoftmaxRegressionCV`, alone or inside a ``Pipeline``.

The graph computes what ``predict`` and ``predict_proba`` compute::

    Z = X @ coef^T + intercept            (one row per class; with two
                                           classes a zero row for classes_[0])
    P = exp(Z - max(Z)) / sum(exp(Z - max(Z)))       (row by row)
    label = classes_[argmax(Z)]

The softmax subtracts each row's largest net input before the exponential,
so that it stays finite however large the net inputs are, as
``predict_proba`` does. The graph runs in the input's type: a float32 input
(``FloatTensorType``) gives a float32 graph, whose probabilities agree with
``predict_proba`` to about 1e-7 (the tests ask for 1e-5); a float64 input
(``DoubleTensorType``) gives a float64 graph (1e-10 tested).

Outputs are those of skl2onnx's classifiers, and its options apply: the
label (int64 for numeric and boolean labels, string for string labels), and
the probabilities, as a list of dicts by default (``zipmap=True``), a
tensor of shape (n_samples, n_classes) with ``zipmap=False``, or one column
per class with ``zipmap="columns"``; ``nocl=True`` outputs class indices
instead of labels. This module registers a parser (which checks the model,
then hands it to skl2onnx's parser of classifiers, which declares those
outputs), a shape calculator and a converter.

ONNX's ZipMap takes float32 probabilities only: with float64 input (a
float64 graph) give ``zipmap=False``, as for scikit-learn's classifiers
(the converter says so otherwise); ``zipmap="columns"`` does not go with
``nocl=True``.

``target_opset``: the graph uses ONNX operators of every opset from 13 on
(MatMul, Add, ReduceMax, Sub, Exp, ReduceSum, Div, ArgMax, Reshape) and the
ai.onnx.ml domain's ArrayFeatureExtractor; it is tested with ``target_opset``
13, 18 and skl2onnx's latest tested opset. Without ``target_opset``,
skl2onnx takes its latest.

Needs ``skl2onnx`` (without it the import raises an ImportError that says
how to install it) and, to run the graphs, ``onnxruntime``: both come with
``pip install "sksoftmax[onnx]"``.
"""

import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

try:
    from skl2onnx import update_registered_converter

    # skl2onnx's parser of classifiers, which declares the label and the
    # probabilities and applies the zipmap option; it has no public name.
    from skl2onnx._parse import _parse_sklearn_classifier
    from skl2onnx.algebra.onnx_ops import (
        OnnxAdd,
        OnnxArgMax,
        OnnxArrayFeatureExtractor,
        OnnxDiv,
        OnnxExp,
        OnnxMatMul,
        OnnxReduceMaxApi18,
        OnnxReduceSumApi11,
        OnnxReshape,
        OnnxSub,
    )
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        guess_numpy_type,
    )
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as error:
    raise ImportError(
        "sksoftmax.onnx needs skl2onnx (and onnxruntime to run the graphs): "
        'pip install "sksoftmax[onnx]".'
    ) from error

from ._classifier import SoftmaxRegressionClassifier
from ._cv import SoftmaxRegressionCV
from ._model import numpy_model

if TYPE_CHECKING:  # skl2onnx's graph-building types (it has no type hints)
    from skl2onnx.common._container import ModelComponentContainer
    from skl2onnx.common._topology import Operator, Scope, Variable

#: The estimators this module registers, and their skl2onnx aliases.
ALIASES = {
    SoftmaxRegressionClassifier: "SksoftmaxSoftmaxRegressionClassifier",
    SoftmaxRegressionCV: "SksoftmaxSoftmaxRegressionCV",
}
#: The options of skl2onnx's classifiers that the converter honours.
OPTIONS = {"zipmap": [True, False, "columns"], "nocl": [False, True]}
#: What the export is, as a refusal names it.
_EXPORTING = "exporting it to ONNX"


def parse(
    scope: "Scope",
    model: SoftmaxRegressionClassifier | SoftmaxRegressionCV,
    inputs: list["Variable"],
    custom_parsers: dict[type, Callable[..., Any]] | None = None,
) -> list["Variable"]:
    """skl2onnx's parser of classifiers, for a model of NumPy arrays and
    numeric or string labels, and options that ONNX's ZipMap can take
    (checked first, with errors that say what to do)."""
    numpy_model(model, _EXPORTING)
    _label_values(model.classes_)
    options = scope.get_options(model, {"zipmap": True, "nocl": False})
    zipmap = options["zipmap"]
    if zipmap is not False and isinstance(inputs[0].type, DoubleTensorType):
        raise ValueError(
            "ONNX's ZipMap takes float32 probabilities, and float64 input gives "
            f"a float64 graph: with float64 input give the {type(model).__name__} "
            "the option zipmap=False (probabilities as one tensor), or convert "
            "for float32 input."
        )
    if zipmap == "columns" and options["nocl"]:
        raise ValueError(
            'The options zipmap="columns" and nocl=True do not go together in '
            "skl2onnx (its per-class outputs need the labels); use "
            "zipmap=False with nocl=True."
        )
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers)


def calculate_output_shapes(operator: "Operator") -> None:
    """skl2onnx's shape calculator of linear classifiers, for float32 and
    float64 inputs only (the graph multiplies them by the weights)."""
    input_type = operator.inputs[0].type
    if not isinstance(input_type, FloatTensorType | DoubleTensorType):
        raise TypeError(
            f"{type(operator.raw_operator).__name__} converts to ONNX for "
            "float32 or float64 input (FloatTensorType or DoubleTensorType), "
            f"got {type(input_type).__name__}: cast the features first."
        )
    calculate_linear_classifier_output_shapes(operator)


def _label_values(classes: np.ndarray) -> np.ndarray:
    """The labels as an ONNX tensor holds them: int64 for numbers and
    booleans (skl2onnx's convention for classifiers), strings otherwise."""
    values = list(classes)
    # (Float labels of a classifier are whole numbers: scikit-learn's target
    # check calls others continuous.)
    if all(isinstance(c, numbers.Real | np.bool_) for c in values):
        limits = np.iinfo(np.int64)
        if not all(limits.min <= int(c) <= limits.max for c in values):
            raise ValueError(
                "ONNX holds numeric labels as int64; the model's classes "
                f"{values} do not fit in it. Fit it on smaller integers or on "
                "strings."
            )
        return np.array(values, dtype=np.int64)
    if all(isinstance(c, str) for c in values):
        return np.array(values, dtype=object)
    raise ValueError(
        "ONNX classifiers output integer or string labels; the model's "
        f"classes are {values}."
    )


def convert(
    scope: "Scope", operator: "Operator", container: "ModelComponentContainer"
) -> None:
    """The graph of a fitted model (the module docstring)."""
    model = operator.raw_operator
    opset = container.target_opset
    X = operator.inputs[0]
    dtype = guess_numpy_type(X.type)
    _, weights, intercept = numpy_model(model, _EXPORTING)
    net_input = OnnxAdd(
        OnnxMatMul(X, weights.T.astype(dtype), op_version=opset),
        intercept.astype(dtype),
        op_version=opset,
    )
    # A stable softmax: exp of the net inputs less their row maximum.
    largest = OnnxReduceMaxApi18(net_input, axes=[1], keepdims=1, op_version=opset)
    exp = OnnxExp(OnnxSub(net_input, largest, op_version=opset), op_version=opset)
    total = OnnxReduceSumApi11(exp, axes=[1], keepdims=1, op_version=opset)
    probabilities = OnnxDiv(
        exp, total, op_version=opset, output_names=[operator.outputs[1]]
    )
    # argmax keeps the first of tied classes, as NumPy's does.
    index = OnnxArgMax(net_input, axis=1, keepdims=0, op_version=opset)
    labels = _label_values(get_label_classes(scope, model))
    label = OnnxReshape(
        OnnxArrayFeatureExtractor(labels, index, op_version=1),
        np.array([-1], dtype=np.int64),
        op_version=opset,
        output_names=[operator.outputs[0]],
    )
    probabilities.add_to(scope, container)
    label.add_to(scope, container)


for _estimator, _alias in ALIASES.items():
    update_registered_converter(
        _estimator,
        _alias,
        calculate_output_shapes,
        convert,
        parser=parse,
        options=OPTIONS,
    )
