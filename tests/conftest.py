import importlib.util
import os
import sys

# scikit-learn's check_array_api_input skips itself unless SciPy's array API
# support is on, and SciPy reads this variable once, at its first import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs the same examples every time; local runs keep exploring.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _torch_on_one_thread():
    """PyTorch's CPU kernels on one thread, once it is imported: the tests'
    arrays are small, and its pool of spinning threads made the torch tests
    five times slower on a two-core machine with other work on it (19 s
    against 3.6 s for test_fit_agrees_with_numpy_fit's torch cases). BLAS,
    whose threads tests/test_threads.py checks, is not affected."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def pytest_collection_modifyitems(items):
    # Imported before the first test on torch runs, so that it runs on one
    # thread too; only where a selected test uses torch.
    if importlib.util.find_spec("torch") and any("torch" in i.nodeid for i in items):
        import torch  # noqa: F401

        _torch_on_one_thread()


@pytest.fixture(autouse=True)
def _one_torch_thread_per_test():
    # For a test that imports torch where no test named after it was selected.
    _torch_on_one_thread()
    yield
