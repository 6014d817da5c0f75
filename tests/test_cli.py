"""``python -m sksoftmax``, run as a user runs it: in a child process, on small files.

Starting Python with scikit-learn and pandas takes about two seconds, so most
runs share one child (:func:`run_in_one_process`), which calls the CLI's
``main`` once per argument list, as ``python -m sksoftmax`` does; a few tests
run ``python -m sksoftmax`` itself.
"""

import json
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from reference import objective as reference_objective
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier
from sksoftmax.__main__ import read_csv

OURS = "SoftmaxRegressionClassifier"
LR = 'LogisticRegression("lbfgs")'
# Placed in the files of the error cases: no message may repeat it, since
# messages name lines and column positions, never what the file holds.
SECRET = "SECRET-7f3a"
# Longer than the csv module's default field size limit (131,072 characters).
LONG = 140_000


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "sksoftmax", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


_ONE_PROCESS = r"""
import contextlib, io, json, sys, traceback
from sksoftmax.__main__ import main
results = []
for argv in json.load(sys.stdin):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            traceback.print_exc()
            code = None
    results.append(
        {"returncode": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
    )
json.dump(results, sys.stdout)
"""


def run_in_one_process(argvs):
    """``main(argv)`` for each argument list, in one child process: exit code,
    stdout and stderr of each (an exception's traceback lands in its stderr)."""
    child = subprocess.run(
        [sys.executable, "-c", _ONE_PROCESS],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout)


def rows(stdout):
    """The table's rows, keyed by estimator name: name -> list of fields."""
    table = {}
    for line in stdout.splitlines():
        for name in (OURS, LR):
            if line.startswith(name):
                table[name] = line[len(name) :].split()
    return table


def summary(stdout):
    """The first line's counts and C, without the source (a file's path)."""
    return re.search(r"\d+ samples, \d+ features, \d+ classes; C=\S+", stdout)[0]


def results(stdout):
    """Everything the run prints but its source and the fit times."""
    return summary(stdout), {name: r[:5] for name, r in rows(stdout).items()}


def expected_columns(X, y, C):
    """The table's columns computed here, apart from the CLI: the same split,
    each estimator fitted, its accuracy counted, and its training objective from
    the formula in tests/reference.py. For three or more classes, where both
    estimators fit the same model at the same C."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    y_code = np.searchsorted(np.unique(y_train), y_train)
    expected = {}
    for name, estimator in [
        (OURS, SoftmaxRegressionClassifier(C=C)),
        (LR, LogisticRegression(C=C)),
    ]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            estimator.fit(X_train, y_train)
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        expected[name] = {
            "accuracy": np.mean(estimator.predict(X_test) == y_test),
            "objective": reference_objective(
                estimator.coef_,
                estimator.intercept_,
                X_train,
                y_code,
                np.ones(len(y_train)),
                C,
            ),
            "iterations": int(np.max(estimator.n_iter_)),
            "converged": "yes" if converged else "no",
        }
    return expected


def check_table(stdout, expected):
    table = rows(stdout)
    assert set(table) == set(expected)
    for name, columns in expected.items():
        accuracy, _, objective, iterations, converged = table[name][:5]
        assert float(accuracy) == pytest.approx(columns["accuracy"], abs=5e-5), name
        # The same fit here and in the child: only the printed digits differ.
        assert float(objective) == pytest.approx(columns["objective"], rel=1e-8), name
        assert int(iterations) == columns["iterations"], name
        assert converged == columns["converged"], name


def test_default_run_on_digits():
    result = run()
    assert result.returncode == 0, result.stderr
    assert "digits: 1797 samples, 64 features, 10 classes; C=1.0" in result.stdout
    # At the defaults LogisticRegression stops at max_iter on the raw digits
    # (the converged column then reads "no"): the columns must say what the
    # fits say, whatever that is.
    check_table(result.stdout, expected_columns(*load_digits(return_X_y=True), C=1.0))


# --- CSV tables that should all give the table of the comma-separated iris ---

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
IRIS_NAMES = np.array(["setosa", "versicolor", "virginica"])[IRIS_Y]


def cell(value):
    """The shortest text that reads back as the same float64."""
    return repr(float(value))


def iris_lines(sep=",", long_cell=False):
    """Iris with the class column in the middle; repr keeps every float exact.
    ``long_cell`` pads a cell with zeros to over the csv module's field limit."""
    lines = [sep.join(["a", "b", "species", "c", "d"])]
    for r, name in zip(IRIS_X, IRIS_NAMES, strict=True):
        lines.append(sep.join([cell(r[0]), cell(r[1]), name, cell(r[2]), cell(r[3])]))
    if long_cell:
        first = lines[1].split(sep)
        first[0] = "0" * LONG + first[0]
        lines[1] = sep.join(first)
    return lines


def digits_table():
    """Standardised digits, rounded to 4 decimals: a table on which both
    estimators converge at their defaults (they do not on the raw digits)."""
    X, y = load_digits(return_X_y=True)
    X = np.round(StandardScaler().fit_transform(X), 4)
    lines = [",".join([f"x{j}" for j in range(X.shape[1])] + ["digit"])]
    lines += [",".join(map(cell, r)) + f",{c}" for r, c in zip(X, y, strict=True)]
    return X, y, lines


IRIS_VARIANTS = {
    # name: (file content, extra arguments)
    "comma": ("\n".join(iris_lines()) + "\n", []),
    "tab": ("\n".join(iris_lines("\t")) + "\n", []),
    "semicolon": ("\n".join(iris_lines(";")) + "\n", []),
    "pipe": ("\n".join(iris_lines("|")) + "\n", []),
    "--sep tab": ("\n".join(iris_lines("\t")) + "\n", ["--sep", "tab"]),
    "--sep ;": ("\n".join(iris_lines(";")) + "\n", ["--sep", ";"]),
    "byte-order mark, CRLF": ("\ufeff" + "\r\n".join(iris_lines()) + "\r\n", []),
    "field over 131,072 characters": ("\n".join(iris_lines(long_cell=True)), []),
}


@pytest.fixture(scope="module")
def csv_runs(tmp_path_factory):
    """The CLI's output on each of IRIS_VARIANTS (C=0.5), on the iris dataset
    and on the standardised digits as a CSV, all from one child process."""
    folder = tmp_path_factory.mktemp("csv")
    argvs = []
    for k, (content, extra) in enumerate(IRIS_VARIANTS.values()):
        path = folder / f"iris{k}.csv"
        path.write_text(content, encoding="utf-8", newline="")
        argvs.append(["--csv", str(path), "--target", "species", "--C", "0.5", *extra])
    argvs.append(["--dataset", "iris"])
    path = folder / "digits.csv"
    path.write_text("\n".join(digits_table()[2]) + "\n")
    argvs.append(["--csv", str(path), "--target", "digit"])
    outputs = run_in_one_process(argvs)
    names = [*IRIS_VARIANTS, "iris", "standardised digits"]
    for name, output in zip(names, outputs, strict=True):
        assert output["returncode"] == 0, (name, output["stderr"])
    return dict(zip(names, outputs, strict=True))


def test_csv_table(csv_runs):
    stdout = csv_runs["comma"]["stdout"]
    assert "150 samples, 4 features, 3 classes; C=0.5" in stdout
    check_table(stdout, expected_columns(IRIS_X, IRIS_NAMES, C=0.5))
    assert rows(stdout)[OURS][4] == "yes"  # converges on iris


@pytest.mark.parametrize("variant", [v for v in IRIS_VARIANTS if v != "comma"])
def test_csv_variants_read_the_same_table(csv_runs, variant):
    assert results(csv_runs[variant]["stdout"]) == results(csv_runs["comma"]["stdout"])


@pytest.mark.parametrize(
    "name, rtol",
    [
        # Both fits stop at a gradient tolerance (tol=1e-4), not at an objective
        # one, so how far each objective is from the optimum depends on the
        # problem. Measured against a tight optimum (LogisticRegression at
        # tol=1e-12), LogisticRegression's is 5e-6 above it on iris and 8e-4 on
        # the standardised digits, ours 7e-7 and 7e-5: the tolerances are about
        # ten times the measured gaps, while a wrong objective (C mapped wrongly,
        # a term missing) shifts it by percents.
        ("iris", 5e-5),
        ("standardised digits", 5e-3),
    ],
)
def test_objectives_agree_where_both_converge(csv_runs, name, rtol):
    stdout = csv_runs[name]["stdout"]
    table = rows(stdout)
    assert table[OURS][4] == table[LR][4] == "yes"
    assert_allclose(float(table[OURS][2]), float(table[LR][2]), rtol=rtol)
    if name == "iris":
        X, y = load_iris(return_X_y=True)
    else:
        X, y, _ = digits_table()
    check_table(stdout, expected_columns(X, y, C=1.0))


# --- Errors: exit code 2, one line, no traceback, nothing from the file ---


def table(*lines):
    return "\n".join(lines) + "\n"


FLOATS = [f"{v:.2f}" for v in np.linspace(0.13, 2.71, 20)]
ERRORS = {
    # name: (file content (None: no file), arguments after --csv FILE, message)
    "missing file": (None, ["--target", "label"], "cannot read the CSV file"),
    "missing target column": (
        table(f"a,{SECRET},label", "1,2,x"),
        ["--target", "species"],
        "has no column 'species' (its header has 3 columns",
    ),
    "no feature columns": (
        table("label", SECRET, "x"),
        ["--target", "label"],
        "has no feature columns besides 'label'",
    ),
    "empty file": ("", ["--target", "label"], "is empty"),
    "header only": (
        table(f"a,{SECRET},label"),
        ["--target", "label"],
        "has a header row but no data rows",
    ),
    "a field too many": (
        table("a,b,label", "1,2,x", f"3,4,y,{SECRET}"),
        ["--target", "label"],
        "line 3 has 4 fields, the header 3",
    ),
    "a field too few": (
        table("a,b,label", "1,2,x", f"3,{SECRET}"),
        ["--target", "label"],
        "line 3 has 2 fields, the header 3",
    ),
    "unbalanced quote": (
        table("a,b,label", "1,2,x", f'3,"4,{SECRET}', "5,6,y"),
        ["--target", "label"],
        "line 3: a quoted field is never closed",
    ),
    "non-numeric feature": (
        table("a,b,label", "1,2,x", f"3,{SECRET},y"),
        ["--target", "label"],
        "line 3, column 2 (a feature): not a number",
    ),
    "lines counted across blank lines and quoted line breaks": (
        table("a,b,label", "", '1,2,"two', 'lines"', "", f"3,{SECRET},y"),
        ["--target", "label"],
        "line 6, column 2 (a feature): not a number",
    ),
    "non-numeric feature over 131,072 characters": (
        table("a,b,label", "1,2,x", f"3,{SECRET * (LONG // len(SECRET))},y"),
        ["--target", "label"],
        "line 3, column 2 (a feature): not a number",
    ),
    "empty feature cell": (
        table("a,b,label", f"1,2,{SECRET}", "3,,y"),
        ["--target", "label"],
        "line 3, column 2 (a feature): empty",
    ),
    "infinite feature": (
        table("a,b,label", f"1,inf,{SECRET}", "3,4,y"),
        ["--target", "label"],
        "line 2, column 2 (a feature): not a finite number",
    ),
    "empty target cell": (
        table("a,label,b", f"1,{SECRET},2", "3,,4"),
        ["--target", "label"],
        "line 3: the target column is empty",
    ),
    "continuous target": (
        table(f"{SECRET},label", *[f"{k},{v}" for k, v in enumerate(FLOATS)]),
        ["--target", "label"],
        "the target column looks continuous (20 distinct values in 20 rows); "
        "give a column of class labels",
    ),
    "one class": (
        table("a,label", *[f"{k},{SECRET}" for k in range(8)]),
        ["--target", "label"],
        "the target holds 1 class; at least 2 are needed",
    ),
    "a class with one row": (
        table("a,label", *[f"{k},{'xy'[k % 2]}" for k in range(8)], f"8,{SECRET}"),
        ["--target", "label"],
        "1 of the 3 classes hold a single row; the stratified 75/25 split needs",
    ),
    "too few rows for the split": (
        table("a,label", *[f"{k},{SECRET}{k % 3}" for k in range(6)]),
        ["--target", "label"],
        "6 rows are too few for a stratified 75/25 split of 3 classes",
    ),
    "not UTF-8": (
        f"a,b,label\n1,2,{SECRET}\n".encode() + b"3,\xff\xfe,y\n",
        ["--target", "label"],
        "is not UTF-8 text",
    ),
    "separator given wrongly": (
        table("a,b,label", f"1,2,{SECRET}"),
        ["--target", "label", "--sep", ";"],
        "has no column 'label' (its header has 1 column when split at ';'",
    ),
    "--sep of two characters": (
        table("a,b,label", "1,2,x"),
        ["--target", "label", "--sep", ";;"],
        "--sep takes one character",
    ),
    "--csv without --target": (table("a,y", "1,0"), [], "--csv and --target go"),
    "--csv and --dataset": (
        table("a,y", "1,0"),
        ["--target", "y", "--dataset", "iris"],
        "not both",
    ),
}


@pytest.fixture(scope="module")
def error_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("errors")
    argvs = []
    for k, (content, args, _) in enumerate(ERRORS.values()):
        path = folder / f"data{k}.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif content is not None:
            path.write_text(content)
        argvs.append(["--csv", str(path), *args])
    return dict(zip(ERRORS, run_in_one_process(argvs), strict=True))


def check_error(result, message):
    assert result["returncode"] == 2
    assert message in result["stderr"]
    assert "Traceback" not in result["stderr"]
    assert SECRET not in result["stderr"]
    # One line, after argparse's usage lines for an error in the arguments.
    assert (
        result["stderr"]
        .strip()
        .splitlines()[-1]
        .startswith("python -m sksoftmax: error: ")
    )


@pytest.mark.parametrize("case", ERRORS)
def test_csv_errors_are_clear(error_runs, case):
    result = error_runs[case]
    check_error(result, ERRORS[case][2])
    if not case.startswith("--"):
        assert len(result["stderr"].splitlines()) == 1


def test_csv_error_from_python_m(tmp_path):
    """The same message, exit code 2 and nothing else from the real entry point."""
    path = tmp_path / "data.csv"
    path.write_text(table("a,b,label", "1,2,x", f"3,{SECRET},y"))
    result = run("--csv", str(path), "--target", "label")
    expected = "line 3, column 2 (a feature): not a number"
    check_error(vars(result), expected)
    assert result.stderr == f"python -m sksoftmax: error: {str(path)!r} {expected}\n"


def test_csv_needs_pandas(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(table("a,label", "1,x", "2,y"))
    # None in sys.modules makes "import pandas" raise ImportError.
    code = (
        "import sys; sys.modules['pandas'] = None; "
        "from sksoftmax.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "--csv", str(path), "--target", "label"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "python -m sksoftmax: error: --csv needs pandas: pip install pandas\n"
    )


# --- read_csv itself: label types and chunk boundaries (in this process) ---


@pytest.mark.parametrize(
    "labels, expected",
    [
        (["3", "1", "3", "1"], np.array([3, 1, 3, 1])),
        (["1.0", "2.0", "1.0", "2.0"], np.array([1.0, 2.0, 1.0, 2.0])),
        (["b", "a", "b", "a"], np.array(["b", "a", "b", "a"], dtype=object)),
        (["1", "a", "1", "a"], np.array(["1", "a", "1", "a"], dtype=object)),
    ],
)
def test_integer_labels_stay_numbers_and_strings_stay_strings(
    tmp_path, labels, expected
):
    path = tmp_path / "data.csv"
    path.write_text(table("a,label", *[f"{k},{c}" for k, c in enumerate(labels)]))
    X, y = read_csv(str(path), "label")
    assert y.dtype == expected.dtype
    assert list(y) == list(expected)
    assert_allclose(X, np.arange(4.0)[:, None])


def test_chunks_and_growth(tmp_path, monkeypatch):
    """Chunks of two rows, and lines that grow longer after the file's start (so
    the row estimate falls short and the result grows): the same as one read."""
    import sksoftmax.__main__ as cli

    monkeypatch.setattr(cli, "CHUNK_CELLS", 6)
    monkeypatch.setattr(cli, "SNIFF_BYTES", 64)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(41, 2)) * np.logspace(0, 30, 41)[:, None]
    y = rng.integers(0, 3, 41)
    lines = [f"{cell(a)},{c},{cell(b)}" for (a, b), c in zip(X, y, strict=True)]
    path = tmp_path / "data.csv"
    path.write_text(table("a,label,b", *lines))
    X_read, y_read = cli.read_csv(str(path), "label")
    assert_allclose(X_read, X, rtol=0)
    assert y_read.dtype == np.int64 and np.array_equal(y_read, y)
    # A bad cell in a later chunk is found on its line.
    lines[30] = f"1,{y[30]},{SECRET}"
    path.write_text(table("a,label,b", *lines))
    with pytest.raises(ValueError, match=r"line 32, column 3 \(a feature\)"):
        cli.read_csv(str(path), "label")
