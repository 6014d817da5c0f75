import os

# scikit-learn's check_array_api_input skips itself unless SciPy's array API
# support is on, and SciPy reads this variable once, at its first import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from hypothesis import settings  # noqa: E402

# CI runs the same examples every time; local runs keep exploring.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
