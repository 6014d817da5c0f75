import os

# scikit-learn's check_array_api_input skips itself unless SciPy's array API
# support is on, and SciPy reads this variable once, at its first import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
