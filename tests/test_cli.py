"""``python -m sksoftmax``, run as a user runs it: in a child process, on small files.

Starting Python with scikit-learn and pandas takes about two seconds, so most
runs share one child (:func:`run_in_one_process`), which calls the CLI's
``main`` once per argument list, as ``python -m sksoftmax`` does; a few tests
run ``python -m sksoftmax`` itself.
"""

import json
import os
import re
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from reference import objective as reference_objective
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sksoftmax import SoftmaxRegressionClassifier
from sksoftmax._cli_table import parser_engine

OURS = "SoftmaxRegressionClassifier"
LR = 'LogisticRegression("lbfgs")'


def run(*args: str, **options: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sksoftmax", *args],
        capture_output=True,
        text=True,
        timeout=300,
        **options,
    )


# The argument lists come as the child's argument, so that its standard input
# is free for --csv -.
_ONE_PROCESS = r"""
import contextlib, io, json, sys, traceback
from sksoftmax.__main__ import main
results = []
for argv in json.loads(sys.argv[1]):
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
print(json.dumps(results))
"""


def run_in_one_process(
    argvs: list[list[str]], stdin: str = "", timeout: float = 600, **options: object
) -> list[dict]:
    """``main(argv)`` for each argument list, in one child process: exit code,
    stdout and stderr of each (an exception's traceback lands in its stderr)."""
    child = subprocess.run(
        [sys.executable, "-c", _ONE_PROCESS, json.dumps(argvs)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        **options,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.splitlines()[-1])


def rows(stdout: str) -> dict[str, list[str]]:
    """The table's rows, keyed by estimator name: name -> list of fields."""
    table = {}
    for line in stdout.splitlines():
        for name in (OURS, LR):
            if line.startswith(name):
                table[name] = line[len(name) :].split()
    return table


def summary(stdout: str) -> str:
    """The first line's counts and C, without the source (a file's path)."""
    return re.search(r"\d+ samples, \d+ features, \d+ classes; C=\S+", stdout)[0]


def results(stdout: str) -> tuple[str, dict[str, list[str]]]:
    """Everything the run prints but its source and the fit times."""
    return summary(stdout), {name: r[:5] for name, r in rows(stdout).items()}


def expected_columns(
    X: "np.ndarray | pd.DataFrame",
    y: np.ndarray,
    C: float,
    encoder: "ColumnTransformer | str" = "passthrough",
) -> dict[str, dict]:
    """The table's columns computed here, apart from the CLI: the same split,
    each estimator fitted after ``encoder``, its accuracy counted, and its
    training objective from the formula in tests/reference.py. For three or
    more classes, where both estimators fit the same model at the same C."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    y_code = np.searchsorted(np.unique(y_train), y_train)
    expected = {}
    for name, estimator in [
        (OURS, SoftmaxRegressionClassifier(C=C)),
        (LR, LogisticRegression(C=C)),
    ]:
        pipeline = Pipeline([("encoder", encoder), ("estimator", estimator)])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            pipeline.fit(X_train, y_train)
        messages = [
            str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)
        ]
        converged = "no" if messages else "yes"
        if any("separated in the training data" in m for m in messages):
            converged = "separated"
        expected[name] = {
            "accuracy": np.mean(pipeline.predict(X_test) == y_test),
            "objective": reference_objective(
                estimator.coef_,
                estimator.intercept_,
                pipeline[:-1].transform(X_train),
                y_code,
                np.ones(len(y_train)),
                C,
            ),
            "iterations": int(np.max(estimator.n_iter_)),
            "converged": converged,
            "n_features": estimator.n_features_in_,
        }
    return expected


def check_table(stdout: str, expected: dict[str, dict]) -> None:
    table = rows(stdout)
    assert set(table) == set(expected)
    for name, columns in expected.items():
        accuracy, _, objective, iterations, converged = table[name][:5]
        assert float(accuracy) == pytest.approx(columns["accuracy"], abs=5e-5), name
        # The same fit here and in the child: only the printed digits differ.
        assert float(objective) == pytest.approx(columns["objective"], rel=1e-8), name
        assert int(iterations) == columns["iterations"], name
        assert converged == columns["converged"], name
        assert f" {columns['n_features']} features," in stdout


def test_default_run_on_digits() -> None:
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
# Shared by the tests: read-only, so that a test writing into a view of them
# (pandas 2 builds a DataFrame on a 2-d array without copying it) raises rather
# than changes the data of the tests after it.
IRIS_X.flags.writeable = IRIS_NAMES.flags.writeable = False
# Longer than the csv module's default field size limit (131,072 characters).
LONG = 140_000


def cell(value: float, decimal: str = ".") -> str:
    """The shortest text that reads back as the same float64."""
    return repr(float(value)).replace(".", decimal)


def iris_lines(sep: str = ",", decimal: str = ".", long_cell: bool = False) -> list:
    """Iris with the class column in the middle; repr keeps every float exact.
    ``long_cell`` pads a cell's decimals with zeros to over the csv module's
    field limit. Zeros in front would test pandas' number parser instead: pandas
    2.0.3 counts them among its 17 significant digits, so that it reads
    ``0000000000000000005.1`` as 0, and with 350 zeros as text (pandas 3.1
    reads both as 5.1)."""
    lines = [sep.join(["a", "b", "species", "c", "d"])]
    for r, name in zip(IRIS_X, IRIS_NAMES, strict=True):
        a, b, c, d = (cell(v, decimal) for v in r)
        lines.append(sep.join([a, b, name, c, d]))
    if long_cell:
        first = lines[1].split(sep)
        assert re.fullmatch(r"\d+\.\d+", first[0]), "decimals to pad"
        first[0] += "0" * LONG
        lines[1] = sep.join(first)
    return lines


def table(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def digits_table() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Standardised digits, rounded to 4 decimals: a table on which both
    estimators converge at their defaults (they do not on the raw digits)."""
    X, y = load_digits(return_X_y=True)
    X = np.round(StandardScaler().fit_transform(X), 4)
    lines = [",".join([f"x{j}" for j in range(X.shape[1])] + ["digit"])]
    lines += [",".join(map(cell, r)) + f",{c}" for r, c in zip(X, y, strict=True)]
    return X, y, lines


IRIS = table(*iris_lines())
IRIS_VARIANTS = {
    # name: (file content, extra arguments)
    "comma": (IRIS, []),
    "tab": (table(*iris_lines("\t")), []),
    "semicolon": (table(*iris_lines(";")), []),
    "pipe": (table(*iris_lines("|")), []),
    "--sep tab": (table(*iris_lines("\t")), ["--sep", "tab"]),
    "--sep ;": (table(*iris_lines(";")), ["--sep", ";"]),
    "byte-order mark, CRLF": ("\ufeff" + "\r\n".join(iris_lines()) + "\r\n", []),
    "field over 131,072 characters": (table(*iris_lines(long_cell=True)), []),
    "decimal comma": (table(*iris_lines(";", ",")), ["--decimal", ","]),
    "decimal comma, --sep ;": (
        table(*iris_lines(";", ",")),
        ["--decimal", ",", "--sep", ";"],
    ),
    # 150 rows of 4 floats and a label: a few kilobytes in pandas.
    "--max-memory above the table": (IRIS, ["--max-memory", "1M"]),
}


def mixed_table() -> pd.DataFrame:
    """Iris with a text column, empty cells and a row without a class.

    The text column reads as a number on the first row and as text after it, so
    pandas infers it differently in the CLI's first chunk (one row) and the
    next; an integer column gains an empty cell after the first row."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(IRIS_X, columns=["a", "b", "c", "d"], copy=True)
    frame.insert(2, "species", IRIS_NAMES.astype(object))
    # Informative but noisy: the true class's initial, or another one.
    initials = np.array(["s", "v", "g"])[np.where(rng.random(150) < 0.7, IRIS_Y, 2)]
    frame["colour"] = np.array(["1", *initials[1:]], dtype=object)
    frame["size"] = rng.integers(0, 5, 150).astype(float)
    for column, row in [("a", 3), ("d", 70), ("colour", 120), ("size", 40)]:
        frame.loc[row, column] = np.nan
    frame.loc[149, "species"] = np.nan
    return frame


def mixed_expected(C: float) -> dict[str, dict]:
    """What the CLI should print for :func:`mixed_table`, from scikit-learn's
    transformers, put together here as the CLI's page says."""
    frame = mixed_table().dropna(subset="species")
    X, y = frame.drop(columns="species"), frame["species"].to_numpy()
    numbers = ["a", "b", "c", "d", "size"]
    encoder = ColumnTransformer(
        [
            ("numbers", SimpleImputer(), numbers),
            (
                "text",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                ["colour"],
            ),
        ]
    )
    return expected_columns(X, y, C, encoder)


def feed(path: "str | int", data: bytes) -> None:
    """Write ``data`` to ``path`` (a FIFO, whose opening waits for its reader)
    or to the file descriptor ``path`` in a thread of its own, then close it."""

    def write() -> None:
        with open(path, "wb") as f:
            f.write(data)

    threading.Thread(target=write, daemon=True).start()


@pytest.fixture(scope="module")
def csv_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The CLI's output on each of IRIS_VARIANTS (C=0.5), on the iris dataset,
    on the standardised digits and on :func:`mixed_table` as CSV files, all
    from one child process."""
    folder = tmp_path_factory.mktemp("csv")
    argvs = []
    for k, (content, extra) in enumerate(IRIS_VARIANTS.values()):
        path = folder / f"iris{k}.csv"
        path.write_text(content, encoding="utf-8", newline="")
        argvs.append(["--csv", str(path), "--target", "species", "--C", "0.5", *extra])
    argvs.append(["--dataset", "iris"])
    path = folder / "digits.csv"
    path.write_text(table(*digits_table()[2]))
    argvs.append(["--csv", str(path), "--target", "digit"])
    path = folder / "mixed.csv"
    mixed_table().to_csv(path, index=False)
    argvs.append(["--csv", str(path), "--target", "species", "--C", "0.5"])
    outputs = run_in_one_process(argvs)
    names = [*IRIS_VARIANTS, "iris", "standardised digits", "mixed"]
    for name, output in zip(names, outputs, strict=True):
        assert output["returncode"] == 0, (name, output["stderr"])
    return dict(zip(names, outputs, strict=True))


def test_csv_table(csv_runs: dict[str, dict]) -> None:
    stdout = csv_runs["comma"]["stdout"]
    assert "150 samples, 4 features, 3 classes; C=0.5" in stdout
    check_table(stdout, expected_columns(IRIS_X, IRIS_NAMES, C=0.5))
    assert rows(stdout)[OURS][4] == "yes"  # converges on iris


@pytest.mark.parametrize("variant", [v for v in IRIS_VARIANTS if v != "comma"])
def test_csv_variants_read_the_same_table(
    csv_runs: dict[str, dict], variant: str
) -> None:
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
def test_objectives_agree_where_both_converge(
    csv_runs: dict[str, dict], name: str, rtol: float
) -> None:
    stdout = csv_runs[name]["stdout"]
    table = rows(stdout)
    assert table[OURS][4] == table[LR][4] == "yes"
    assert_allclose(float(table[OURS][2]), float(table[LR][2]), rtol=rtol)
    if name == "iris":
        X, y = load_iris(return_X_y=True)
    else:
        X, y, _ = digits_table()
    check_table(stdout, expected_columns(X, y, C=1.0))


def test_text_column_and_empty_cells(csv_runs: dict[str, dict]) -> None:
    """A text column one-hot encoded, empty cells imputed and a row without a
    class left out: the results of the same scikit-learn pipeline built here."""
    stdout = csv_runs["mixed"]["stdout"]
    assert "149 samples" in stdout
    assert (
        "columns one-hot encoded: 1; missing cells imputed: 4; "
        "rows without a target left out: 1" in stdout
    )
    check_table(stdout, mixed_expected(C=0.5))


# --- Streams: read once, front to back ---


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_pipe_fifo_and_stdin(tmp_path: Path) -> None:
    """``--csv -``, a pipe's /dev/fd path (what ``<(cat FILE)`` passes) and a
    FIFO: the table of the file. Reading one twice finds it empty or, for the
    FIFO, waits for ever: the timeout fails the test rather than hang it."""
    fifo = str(tmp_path / "table.fifo")
    os.mkfifo(fifo)
    feed(fifo, IRIS.encode())
    read_end, write_end = os.pipe()
    feed(write_end, IRIS.encode())
    arguments = ["--target", "species", "--C", "0.5"]
    argvs = [["--csv", path, *arguments] for path in ["-", f"/dev/fd/{read_end}", fifo]]
    try:
        outputs = run_in_one_process(
            argvs, stdin=IRIS, timeout=120, pass_fds=[read_end]
        )
    finally:
        os.close(read_end)
    expected = expected_columns(IRIS_X, IRIS_NAMES, C=0.5)
    for output in outputs:
        assert output["returncode"] == 0, output["stderr"]
        assert "150 samples, 4 features, 3 classes; C=0.5" in output["stdout"]
        check_table(output["stdout"], expected)
    assert outputs[0]["stdout"].startswith("sksoftmax ")
    assert ": <stdin> (target 'species')" in outputs[0]["stdout"]


@pytest.mark.skipif(not os.path.exists("/dev/stdin"), reason="no /dev/stdin here")
def test_dev_stdin_from_python_m() -> None:
    result = run("--csv", "/dev/stdin", "--target", "species", "--C", "0.5", input=IRIS)
    assert result.returncode == 0, result.stderr
    check_table(result.stdout, expected_columns(IRIS_X, IRIS_NAMES, C=0.5))


def test_an_unpenalised_fit_of_separated_classes_says_separated(tmp_path) -> None:
    # Two features that separate the two classes (an unpenalised fit has no
    # optimum): the converged column says so rather than "yes" or "no".
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    label = np.where(x[:, 0] + x[:, 1] > 0, "up", "down")
    path = tmp_path / "separated.csv"
    path.write_text(
        "a,b,label\n"
        + "".join(f"{a:.4f},{b:.4f},{c}\n" for (a, b), c in zip(x, label, strict=True))
    )
    result = run("--csv", str(path), "--target", "label", "--C", "inf")
    assert result.returncode == 0, result.stderr
    assert rows(result.stdout)[OURS][4] == "separated"


# --- Errors: exit code 2, one line, no traceback ---


FLOATS = [f"{v:.2f}" for v in np.linspace(0.13, 2.71, 20)]
PANDAS = "the message of pandas"  # computed by check_error from pandas itself
ERRORS = {
    # name: (file content (None: no file), arguments after --csv FILE, message)
    "missing file": (None, ["--target", "label"], "No such file or directory"),
    "missing target column": (
        table("a,b,label", "1,2,x"),
        ["--target", "species"],
        "no column 'species' in the header, split into 3 columns ('a', 'b', "
        "'label'); --sep sets the separator",
    ),
    "separator given wrongly": (
        table("a,b,label", "1,2,x"),
        ["--target", "label", "--sep", ";"],
        "no column 'label' in the header, split into 1 columns ('a,b,label')",
    ),
    "no feature columns": (
        table("label", "x", "y"),
        ["--target", "label", "--sep", ","],
        "no feature columns besides 'label'",
    ),
    "header only": (table("a,b,label"), ["--target", "label"], "but no data rows"),
    "empty file": ("", ["--target", "label"], PANDAS),
    "empty file, --sep ,": ("", ["--target", "label", "--sep", ","], PANDAS),
    "a field too many": (
        table("a,b,label", "1,2,x", "3,4,y,5"),
        ["--target", "label"],
        PANDAS,
    ),
    # (pandas 2's C parser dropped the 5 of the second data row silently.)
    "a field too many, --sep ,": (
        table("a,b,label", "1,2,x", "3,4,y,5", "6,7,x"),
        ["--target", "label", "--sep", ","],
        PANDAS,
    ),
    "a field too many on the first row": (
        table("a,b,label", "1,2,x,5", "3,4,y"),
        ["--target", "label"],
        "Length of header or names does not match length of data.",
    ),
    "unbalanced quote": (
        table("a,b,label", "1,2,x", '3,"4,z', "5,6,y"),
        ["--target", "label"],
        PANDAS,
    ),
    "unbalanced quote, --sep ,": (
        table("a,b,label", "1,2,x", '3,"4,z', "5,6,y"),
        ["--target", "label", "--sep", ","],
        PANDAS,
    ),
    "not UTF-8": (
        b"a,b,label\n1,2,x\n3,\xff\xfe,y\n",
        ["--target", "label"],
        PANDAS,
    ),
    "infinite feature": (
        table("a,b,label", "1,inf,x", *[f"{k},{k},{'xy'[k % 2]}" for k in range(8)]),
        ["--target", "label"],
        "Input X contains infinity",
    ),
    "--missing error, empty feature cell": (
        table("a,b,label", "1,2,x", "3,,y"),
        ["--target", "label", "--missing", "error"],
        "1 empty feature cells and 0 empty target cells (--missing impute",
    ),
    "--missing error, empty target cell": (
        table("a,label,b", "1,x,2", "3,,4"),
        ["--target", "label", "--missing", "error"],
        "0 empty feature cells and 1 empty target cells (--missing impute",
    ),
    "continuous target": (
        table("a,label", *[f"{k},{v}" for k, v in enumerate(FLOATS)]),
        ["--target", "label"],
        "the target column looks continuous (20 distinct values in 20 rows); "
        "give a column of class labels",
    ),
    "one class": (
        table("a,label", *[f"{k},x" for k in range(8)]),
        ["--target", "label"],
        "the target holds 1 class; at least 2 are needed",
    ),
    "a class with one row": (
        table("a,label", *[f"{k},{'xy'[k % 2]}" for k in range(8)], "8,z"),
        ["--target", "label"],
        "1 of the 3 classes hold a single row; the stratified 75/25 split needs",
    ),
    "too few rows for the split": (
        table("a,label", *[f"{k},x{k % 3}" for k in range(6)]),
        ["--target", "label"],
        "6 rows are too few for a stratified 75/25 split of 3 classes",
    ),
    # 5,000 rows of an integer and a label: over 40 kB in pandas, in lines of
    # at most 7 bytes, under 16 KiB / 1024. (IRIS with --max-memory 1M, in
    # IRIS_VARIANTS, passes.)
    "--max-memory below the table": (
        table("a,label", *[f"{k},{'xyz'[k % 3]}" for k in range(5000)]),
        ["--target", "label", "--max-memory", "16K"],
        "the table takes more than --max-memory 16 KiB within its first 5000 rows",
    ),
    "a line over --max-memory / 1024": (
        table("a,b,label", "1,2,x", "3," + "4" * 5000 + ",y", "5,6,z"),
        ["--target", "label", "--max-memory", "4M"],
        "line 3 is longer than 4 KiB, --max-memory / 1024",
    ),
    "--max-memory not a size": (
        IRIS,
        ["--target", "species", "--max-memory", "lots"],
        "argument --max-memory: not a size: 'lots'",
    ),
    "--sep of two characters": (IRIS, ["--target", "a", "--sep", ";;"], "--sep takes"),
    "--decimal as --sep": (
        IRIS,
        ["--target", "a", "--sep", ",", "--decimal", ","],
        "--decimal and --sep must differ",
    ),
    "--csv without --target": (IRIS, [], "--csv and --target go"),
    "--csv and --dataset": (IRIS, ["--target", "a", "--dataset", "iris"], "not both"),
}


@pytest.fixture(scope="module")
def error_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """Each of ERRORS in one child process: its file and what the CLI wrote."""
    folder = tmp_path_factory.mktemp("errors")
    argvs, paths = [], []
    for k, (content, args, _) in enumerate(ERRORS.values()):
        path = folder / f"data{k}.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif content is not None:
            path.write_text(content)
        argvs.append(["--csv", str(path), *args])
        paths.append(path)
    results = zip(paths, run_in_one_process(argvs), strict=True)
    return dict(zip(ERRORS, results, strict=True))


def pandas_message(path: Path, args: list[str]) -> str:
    """What the installed pandas says, in one line, reading ``path`` as the CLI
    does (``index_col=False``, a ParserWarning as an error). The words depend on
    the version: pandas 3 reports a row longer than the header as "Expected 3
    fields in line 3, saw 4", pandas 2's python parser as a ParserWarning,
    "Length of header or names does not match length of data"."""
    sep = args[args.index("--sep") + 1] if "--sep" in args else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            pd.read_csv(
                path,
                sep=sep,
                engine=parser_engine(sep, pd.__version__),
                index_col=False,
            )
    except Exception as exc:  # whatever pandas raises
        return " ".join(str(exc).split())
    raise AssertionError(f"pandas reads {path}")


def check_error(result: dict, message: str) -> None:
    assert result["returncode"] == 2
    assert message in result["stderr"]
    assert "Traceback" not in result["stderr"]
    # One line, after argparse's usage lines for an error in the arguments.
    assert (
        result["stderr"]
        .strip()
        .splitlines()[-1]
        .startswith("python -m sksoftmax: error: ")
    )


# Errors in the arguments, which argparse reports after its usage lines.
ARGUMENT_ERRORS = {
    "--max-memory not a size",
    "--sep of two characters",
    "--decimal as --sep",
    "--csv without --target",
    "--csv and --dataset",
}


@pytest.mark.parametrize("case", ERRORS)
def test_csv_errors_are_clear(error_runs: dict[str, tuple], case: str) -> None:
    path, result = error_runs[case]
    _, args, message = ERRORS[case]
    if message == PANDAS:
        message = pandas_message(path, args)
    check_error(result, message)
    if case not in ARGUMENT_ERRORS:
        # One line that names the file, then says what is wrong.
        assert result["stderr"].startswith(f"python -m sksoftmax: error: {path}: ")
        assert len(result["stderr"].splitlines()) == 1


def test_csv_error_from_python_m(tmp_path: Path) -> None:
    """pandas' message, exit code 2 and nothing else from the real entry point."""
    path = tmp_path / "data.csv"
    path.write_text(table("a,b,label", "1,2,x", "3,4,y,5"))
    result = run("--csv", str(path), "--target", "label")
    expected = pandas_message(path, [])
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"python -m sksoftmax: error: {path}: {expected}\n"


def test_csv_needs_pandas(tmp_path: Path) -> None:
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


def test_the_wine_transcript_of_the_docs_is_what_the_command_prints(
    tmp_path: Path,
) -> None:
    # docs/cli.rst shows the table of a wine CSV file: every figure but the
    # fit times must be what the command prints now.
    text = (Path(__file__).parents[1] / "docs" / "cli.rst").read_text()
    block = text.split("python -m sksoftmax --csv wine.csv --target target", 1)[1]
    transcript = block.split(".. code-block:: text", 1)[1].split("\n\n")[1]
    shown = [line.strip() for line in transcript.splitlines()]
    load_wine(as_frame=True).frame.to_csv(tmp_path / "wine.csv", index=False)
    printed = run("--csv", "wine.csv", "--target", "target", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    lines = [line.strip() for line in printed.stdout.strip().splitlines()]
    assert len(lines) == len(shown) == 4
    assert lines[:2] == shown[:2]
    # Our row, all columns but the last (the fit time); LogisticRegression's
    # unconverged lbfgs fit depends on scikit-learn's version, so only its
    # name and its accuracy.
    assert lines[2].rsplit(None, 1)[0] == shown[2].rsplit(None, 1)[0]
    assert lines[3].split()[:2] == shown[3].split()[:2]
