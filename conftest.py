"""Collection for the whole checkout (tests/, the package's doctests, the
docs): a module of the package that needs an optional dependency is not
imported for its doctests where that dependency is missing (it raises an
ImportError that names the extra, by design)."""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("skl2onnx") is None:
    collect_ignore.append("sksoftmax/onnx.py")
