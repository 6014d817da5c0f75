"""``python -m sksoftmax``: fit SoftmaxRegressionClassifier and LogisticRegression
side by side on a dataset shipped with scikit-learn or on a CSV table."""

import argparse
import csv
import math
import os
import sys
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

from . import SoftmaxRegressionClassifier, __version__
from ._backends._numpy import InMemoryData
from ._objective import SoftmaxObjective

DATASETS = {
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
}


# The separator is guessed from this many bytes of the file's start: dozens of
# lines of an ordinary table, and a bounded read of a large one.
SNIFF_BYTES = 64 * 1024
SEPARATORS = ",\t;|"
# A shell passes --sep '\t' as a backslash and a t.
SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t"}
# Cells per chunk of the CSV reader. pandas holds a chunk as float64 columns,
# so a chunk costs a few times 8 MiB next to the result, however wide the table.
CHUNK_CELLS = 2**20
# The result is allocated for this many times the row count estimated from the
# file's start, and grown by GROWTH when that was too few: numpy zero-fills
# (so makes resident) what it grows by, while untouched room costs nothing.
ROW_ESTIMATE_MARGIN = 1.1
GROWTH = 1.25
# The test part of the stratified split: compare() makes it, check_split() checks
# beforehand that every class can be on both sides.
TEST_SIZE = 0.25


def detect_separator(start: bytes, complete: bool) -> str:
    """The separator of a table that begins with ``start``.

    The one of ``SEPARATORS`` that :class:`csv.Sniffer` finds, else a comma.
    ``complete`` says whether ``start`` is the whole file; if not, its last
    line, which was cut short and so holds fewer separators, is left out.
    """
    text = start.decode("utf-8-sig", errors="ignore")
    if not complete:
        text = text[: text.rfind("\n") + 1] or text
    try:
        return csv.Sniffer().sniff(text, delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","


def estimate_rows(start: bytes, file_size: int) -> int:
    """Rows of a file of ``file_size`` bytes whose lines are as long as those
    of its first bytes ``start``; 0 when ``start`` has no whole data line."""
    n_lines = start.count(b"\n")
    if n_lines < 2:
        return 0
    return int(file_size * n_lines / (start.rfind(b"\n") + 1))


def records(path, sep):
    """The first line number and the fields of each record, blank lines left out.

    The csv module splits records as pandas' C parser does (fields in double
    quotes, a doubled quote inside them), but it counts the line breaks inside
    quoted fields, which pandas' line numbers do not: error messages take their
    line numbers from here. Only read on the way to an error.
    """
    # The csv module refuses fields over 131,072 characters unless told;
    # the limit is process-wide, so it is put back afterwards.
    limit = csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            reader = csv.reader(f, delimiter=sep)
            line = 1
            for fields in reader:
                # pandas skips lines that are empty or hold only blanks.
                if len(fields) > 1 or (fields and fields[0].strip()):
                    yield line, fields
                line = reader.line_num + 1
    finally:
        csv.field_size_limit(limit)


def record_problem(fields, n_columns, target_index):
    """What is wrong with the data record ``fields``, after its line number in a
    message, or None. Names columns by position: cells are never quoted."""
    if len(fields) != n_columns:
        return f" has {len(fields)} fields, the header {n_columns}"
    for k, cell in enumerate(fields):
        if k == target_index:
            if not cell:
                return ": the target column is empty"
            continue
        where = f", column {k + 1} (a feature)"
        if not cell.strip():
            return f"{where}: empty"
        try:
            value = float(cell)
        except ValueError:
            return f"{where}: not a number"
        if not math.isfinite(value):
            return f"{where}: not a finite number"
    return None


def find_bad_record(path, sep, n_columns, target_index, first_row):
    """``line N...: what is wrong`` for the first malformed data record from data
    row ``first_row`` (0-based) on, or None where the csv module finds none."""
    rows = records(path, sep)
    next(rows, None)  # the header
    for row, (line, fields) in enumerate(rows):
        if row >= first_row:
            problem = record_problem(fields, n_columns, target_index)
            if problem:
                rows.close()
                return f"line {line}{problem}"
    return None


def read_error(exc, path, sep, layout, first_row):
    """The ValueError for what pandas raised reading data row ``first_row``
    (0-based) on: one line that locates the problem without quoting the file.

    ``layout`` is (number of columns, position of the target), or None while
    the header is read.
    """
    if isinstance(exc, UnicodeDecodeError):
        return ValueError(f"{path!r} is not UTF-8 text")
    message = str(exc)
    if "EOF inside string" in message:
        # The csv module reads an unclosed quote to the end of the file: the
        # last record it gives is the one where the quote opens.
        line = max((line for line, _ in records(path, sep)), default=1)
        return ValueError(f"{path!r} line {line}: a quoted field is never closed")
    if layout is not None:
        problem = find_bad_record(path, sep, *layout, first_row)
        if problem:
            return ValueError(f"{path!r} {problem}")
    # pandas' own words, where they hold only counts: its C parser's messages
    # quote nothing from the file, but its line numbers skip quoted line breaks.
    if "C error: " in message:
        return ValueError(f"{path!r}: {message.split('C error: ')[-1].strip()}")
    return ValueError(
        f"{path!r}: a feature cell from data row {first_row + 1} on is not a number"
    )


def class_labels(labels, codes):
    """The target column from its distinct cells ``labels`` and each row's index
    into them: int64 where every label is an integer, float64 for other whole
    numbers (such as 1.0), else the labels themselves (object).

    Raises ValueError where the labels are numbers that are not all whole: the
    column is then a quantity to regress, not classes.
    """
    try:
        values = np.array([float(label) for label in labels])
    except ValueError:
        return np.array(labels, dtype=object)[codes]
    if not np.isfinite(values).all():  # "nan" or "inf" can only be a name
        return np.array(labels, dtype=object)[codes]
    y = values[codes]
    if type_of_target(y) == "continuous":
        raise ValueError(
            f"the target column looks continuous ({len(np.unique(values))} distinct "
            f"values in {len(y)} rows); give a column of class labels"
        )
    try:
        return np.array([int(label) for label in labels], dtype=np.int64)[codes]
    except (ValueError, OverflowError):  # written as 1.0 or 1e3, or beyond int64
        return y


def read_csv(
    path: str, target: str, sep: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Features and class labels of a CSV table with a header row.

    The file is read in chunks by pandas' C parser, each chunk's features
    written into the float64 result as it comes, so the memory needed is about
    that of the result, whatever the size of the file.

    Parameters
    ----------
    path : str
        The file, UTF-8 text (with or without a byte-order mark).
    target : str
        Name of the class column; every other column is a feature.
    sep : str, default=None
        The separator, one character; None guesses it from the file's start
        (:func:`detect_separator`).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The feature columns, float64, in the file's order.
    y : ndarray of shape (n_samples,)
        The target column (see :func:`class_labels`).

    Raises
    ------
    ValueError
        Where pandas is missing, or the file cannot be read or is not such a
        table; with a one-line message that gives line numbers and column
        positions but quotes nothing from the file, whose cells and header may
        be private.
    """
    try:
        import pandas as pd
        from pandas.errors import EmptyDataError, ParserError
    except ImportError:
        raise ValueError("--csv needs pandas: pip install pandas") from None
    try:
        with open(path, "rb") as f:
            start = f.read(SNIFF_BYTES)
            file_size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise ValueError(f"cannot read the CSV file {path!r}: {exc.strerror}") from exc
    if sep is None:
        sep = detect_separator(start, complete=len(start) < SNIFF_BYTES)
    options = {
        "sep": sep,
        # Spreadsheet exports often start with a byte-order mark.
        "encoding": "utf-8-sig",
        # The python engine is several times slower and keeps rows as lists.
        "engine": "c",
        # Only an empty cell is missing: "NA" in a feature column is an error
        # (reported with its line), and in the target column a label.
        "keep_default_na": False,
        "na_values": [""],
        # A row with one field too many is an error, not a row index.
        "index_col": False,
    }
    if int(pd.__version__.split(".")[0]) < 3:
        # Before pandas 3 the C parser's default float conversion is not
        # correctly rounded (pandas 2.0: a quarter of the values of a test
        # table one unit in the last place off) and fails on cells over
        # 131,072 characters; Python's own conversion is exact. pandas 3
        # converts exactly by default and deprecates the option.
        options["float_precision"] = "round_trip"
    parse_errors = (ParserError, UnicodeDecodeError)
    try:
        header = list(pd.read_csv(path, nrows=0, **options).columns)
    except EmptyDataError:
        raise ValueError(f"{path!r} is empty; it needs a header row") from None
    except parse_errors as exc:
        raise read_error(exc, path, sep, None, 0) from None
    n_columns = len(header)
    if target not in header:
        raise ValueError(
            f"{path!r} has no column {target!r} (its header has {n_columns} "
            f"column{'s' * (n_columns != 1)} when split at {sep!r}; --sep sets the "
            "separator)"
        )
    if n_columns == 1:
        raise ValueError(
            f"{path!r} has no feature columns besides {target!r} (split at "
            f"{sep!r}; --sep sets the separator)"
        )
    # pandas renames repeated names ("a", "a.1"), so the first column of that
    # name is the target, as in the header the user reads.
    target_index = header.index(target)
    layout = (n_columns, target_index)
    feature_index = [k for k in range(n_columns) if k != target_index]
    # By position: pandas' names are the header's, renamed where repeated.
    dtype = dict.fromkeys(range(n_columns), np.float64)
    dtype[target_index] = str
    chunk_rows = max(1, CHUNK_CELLS // n_columns)
    capacity = max(
        chunk_rows, int(ROW_ESTIMATE_MARGIN * estimate_rows(start, file_size))
    )
    X = np.empty((capacity, n_columns - 1))
    codes = np.empty(capacity, dtype=np.intp)
    labels = {}  # label -> its index, in order of first appearance
    n_rows = 0
    try:
        chunks = pd.read_csv(path, dtype=dtype, chunksize=chunk_rows, **options)
    except parse_errors as exc:
        raise read_error(exc, path, sep, layout, 0) from None
    with chunks:
        while True:
            try:
                chunk = next(chunks, None)
            except (*parse_errors, ValueError) as exc:  # ValueError: not a float
                raise read_error(exc, path, sep, layout, n_rows) from None
            if chunk is None:
                break
            n_new = len(chunk)
            if n_rows + n_new > len(X):
                capacity = max(n_rows + n_new, int(GROWTH * len(X)))
                # In place (realloc) rather than into a copy: the old and the
                # new array are never held together. Nothing else refers to
                # these arrays, which is what refcheck would check.
                X.resize((capacity, X.shape[1]), refcheck=False)
                codes.resize(capacity, refcheck=False)
            block = X[n_rows : n_rows + n_new]
            # Column by column, so that the chunk is never copied whole.
            for j, k in enumerate(feature_index):
                block[:, j] = chunk.iloc[:, k].to_numpy()
            target_column = chunk.iloc[:, target_index]
            # NaN is an empty feature cell, or a short row's missing fields.
            if not np.isfinite(block).all() or target_column.isna().any():
                problem = find_bad_record(path, sep, *layout, n_rows)
                raise ValueError(
                    f"{path!r} {problem}"
                    if problem
                    else f"{path!r}: an empty or non-finite cell from data row "
                    f"{n_rows + 1} on"
                )
            chunk_codes, uniques = pd.factorize(target_column)
            to_label = [labels.setdefault(label, len(labels)) for label in uniques]
            codes[n_rows : n_rows + n_new] = np.asarray(to_label, dtype=np.intp)[
                chunk_codes
            ]
            n_rows += n_new
    if n_rows == 0:
        raise ValueError(f"{path!r} has a header row but no data rows")
    X.resize((n_rows, X.shape[1]), refcheck=False)
    codes.resize(n_rows, refcheck=False)
    return X, class_labels(list(labels), codes)


def check_split(y) -> None:
    """Raise ValueError where the stratified split cannot put every class on
    both sides, in words about the column rather than scikit-learn's."""
    n_samples = len(y)
    classes, counts = np.unique(y, return_counts=True)
    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError(f"the target holds {n_classes} class; at least 2 are needed")
    if counts.min() < 2:
        raise ValueError(
            f"{np.count_nonzero(counts < 2)} of the {n_classes} classes hold a single "
            "row; the stratified 75/25 split needs at least 2 rows of every class"
        )
    # train_test_split's sizes: the test part rounded up.
    n_test = math.ceil(TEST_SIZE * n_samples)
    if min(n_test, n_samples - n_test) < n_classes:
        raise ValueError(
            f"{n_samples} rows are too few for a stratified 75/25 split of "
            f"{n_classes} classes: each part needs a row of every class"
        )


def compare(X, y, C):
    """Fit both estimators; one dict of results per estimator."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=0, stratify=y
    )
    n_classes = len(np.unique(y_train))
    # The same model at the same C, for two classes as for more.
    estimators = [
        ("SoftmaxRegressionClassifier", SoftmaxRegressionClassifier(C=C)),
        ('LogisticRegression("lbfgs")', LogisticRegression(C=C)),
    ]
    codes = np.searchsorted(np.unique(y_train), y_train)
    objective = SoftmaxObjective(
        InMemoryData(X_train, codes, np.ones(len(y_train))),
        n_classes,
        C=C,
        fit_intercept=True,
        precondition=False,
    )
    results = []
    for name, estimator in estimators:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        coef, intercept = estimator.coef_, estimator.intercept_
        results.append(
            {
                "estimator": name,
                "accuracy": accuracy_score(y_test, estimator.predict(X_test)),
                "log-loss": log_loss(
                    y_test, estimator.predict_proba(X_test), labels=estimator.classes_
                ),
                "objective": objective.value(coef, intercept),
                "iterations": int(np.max(estimator.n_iter_)),
                "converged": not any(
                    issubclass(w.category, ConvergenceWarning) for w in caught
                ),
                "fit time (s)": seconds,
            }
        )
    return results


def format_table(results):
    lines = [
        f"{'estimator':<30}{'accuracy':>10}{'log-loss':>10}{'objective':>20}"
        f"{'iterations':>12}{'converged':>11}{'fit time (s)':>14}"
    ]
    for r in results:
        lines.append(
            f"{r['estimator']:<30}{r['accuracy']:>10.4f}{r['log-loss']:>10.4f}"
            f"{r['objective']:>20.12f}{r['iterations']:>12d}"
            f"{'yes' if r['converged'] else 'no':>11}{r['fit time (s)']:>14.3f}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sksoftmax",
        description=(
            "Fit SoftmaxRegressionClassifier and LogisticRegression side by side "
            "(75/25 stratified split) and print accuracy and log-loss on the test "
            "part, the training objective, iterations and fit time."
        ),
    )
    parser.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        help="dataset shipped with scikit-learn (default: digits)",
    )
    parser.add_argument("--csv", metavar="FILE", help="CSV table with a header row")
    parser.add_argument("--target", metavar="COLUMN", help="class column of --csv")
    parser.add_argument(
        "--sep",
        metavar="CHAR",
        help="separator of --csv, one character or 'tab' (default: guessed from "
        "the file's start among comma, tab, semicolon and |)",
    )
    parser.add_argument("--C", type=float, default=1.0, help="C of both (default 1)")
    args = parser.parse_args(argv)
    if (args.csv is None) != (args.target is None):
        parser.error("--csv and --target go together")
    if args.csv and args.dataset:
        parser.error("give either --dataset or --csv, not both")
    if not args.C > 0:
        parser.error("--C must be positive")
    sep = SEPARATOR_NAMES.get(args.sep, args.sep)
    if sep is not None:
        if not args.csv:
            parser.error("--sep goes with --csv")
        if len(sep) != 1 or sep in '"\r\n':
            parser.error("--sep takes one character, not a quote or a line break")
    try:
        if args.csv:
            X, y = read_csv(args.csv, args.target, sep)
            source = f"{args.csv} (target {args.target!r})"
        else:
            source = args.dataset or "digits"
            X, y = DATASETS[source](return_X_y=True)
        check_split(y)
        results = compare(X, y, args.C)
    except ValueError as exc:
        parser.exit(2, f"python -m sksoftmax: error: {exc}\n")
    print(
        f"sksoftmax {__version__}: {source}: {X.shape[0]} samples, {X.shape[1]} "
        f"features, {len(np.unique(y))} classes; C={args.C}, default settings"
    )
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
