# The pages' doctests run under pytest (``--doctest-glob="*.rst"``); the
# configuration and what Sphinx generates are not tests.
collect_ignore = ["conf.py"]
collect_ignore_glob = [
    "_build/*",
    "generated/*",
    "generated_results/*",
    "auto_examples/*",
]
