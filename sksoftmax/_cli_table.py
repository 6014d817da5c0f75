"""A user's CSV table for ``python -m sksoftmax``: read once by pandas within a
memory cap, and encoded by scikit-learn's transformers.

Reading
    The file is opened once and read front to back, so that a pipe,
    ``/dev/stdin`` (or ``-``) and a named FIFO read like a file. pandas parses
    it in chunks of about ``CHUNK_CELLS`` cells, and guesses the separator from
    the header line (``sep=None``, its python engine) unless one is given (its C
    engine, from pandas 3 on: :func:`parser_engine`).

Memory
    ``max_memory`` caps the table as pandas holds it, counted after each chunk,
    so the table passes the cap by one chunk at most. Before pandas sees a line,
    :class:`LineCap` refuses any line longer than ``max_memory / LINE_SHARE``:
    pandas buffers a whole line before it splits it, and a header line of L
    bytes can name L / 2 columns, each of which costs pandas about a kilobyte
    (1.2 kB measured with pandas 3.1, for names of one letter), so that a single
    line of hundreds of megabytes would exhaust the memory before any chunk is
    counted.

Encoding
    Numeric columns (booleans as 0 and 1) are imputed with their mean; any other
    column is imputed with its most frequent value and one-hot encoded, ignoring
    categories not seen in fitting. The encoder is the first step of a
    :class:`~sklearn.pipeline.Pipeline`, so it is fitted on the training part.
"""

import csv
import io
import re
import sys
import warnings
from argparse import ArgumentTypeError
from contextlib import nullcontext
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.multiclass import type_of_target

if TYPE_CHECKING:
    import pandas as pd
    from _typeshed import WriteableBuffer

CHUNK_CELLS = 2**20
LINE_SHARE = 1024
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int:
    """Bytes in a size such as ``512M``, ``2G``, ``1.5GiB`` or ``100000`` (the
    type of an argparse option)."""
    match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*([KMGT]?)(?:i?B)?", text.strip(), re.I)
    if not match or float(match[1]) == 0:
        raise ArgumentTypeError(f"not a size: {text!r} (such as 512M or 2G)")
    return int(float(match[1]) * UNITS[match[2].upper()])


def format_size(n_bytes: int) -> str:
    unit = next((unit for unit in "TGMK" if n_bytes >= UNITS[unit]), "")
    return f"{n_bytes / UNITS[unit]:.4g} {unit}iB" if unit else f"{n_bytes} bytes"


class LineCap(io.RawIOBase):
    """The bytes of ``stream``; ValueError at a line of over ``max_line`` bytes,
    before the reader above has buffered it whole."""

    def __init__(self, stream: BinaryIO, max_line: int) -> None:
        self.stream, self.max_line = stream, max_line
        self.line, self.tail = 1, 0  # the current line's number and bytes so far

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "WriteableBuffer") -> int:
        data = self.stream.read(len(memoryview(buffer)))
        memoryview(buffer)[: len(data)] = data
        lines = data.split(b"\n")
        lengths = [self.tail + len(lines[0])] + [len(line) for line in lines[1:]]
        longest = max(range(len(lines)), key=lengths.__getitem__)
        if lengths[longest] > self.max_line:
            raise ValueError(
                f"line {self.line + longest} is longer than "
                f"{format_size(self.max_line)}, --max-memory / {LINE_SHARE}"
            )
        self.line += len(lines) - 1
        self.tail = lengths[-1]
        return len(data)


def parser_engine(sep: str | None, pandas_version: str) -> str:
    """pandas' parser for ``sep``: its python engine guesses a separator (None);
    its C engine is faster, but before pandas 3 it drops a field too many from
    a row that starts one of the reader's chunks, silently (pandas issue
    11569), where the python engine refuses the row."""
    if sep is None or int(pandas_version.split(".")[0]) < 3:
        return "python"
    return "c"


def read_table(
    source: str, sep: str | None, decimal: str, max_memory: int
) -> "pd.DataFrame":
    """The table in the file ``source`` (``-``: standard input), read by pandas
    with these options; ValueError past ``max_memory`` bytes."""
    import pandas as pd

    max_line = max_memory // LINE_SHARE
    # The python engine splits lines with the csv module, whose field limit
    # (131,072 characters by default) is process-wide.
    field_limit = csv.field_size_limit()
    try:
        csv.field_size_limit(max(max_line, field_limit))
        opened = nullcontext(sys.stdin.buffer) if source == "-" else open(source, "rb")
        with opened as stream, warnings.catch_warnings():
            # A row longer than the header would lose its last fields.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = pd.read_csv(
                io.BufferedReader(LineCap(stream, max_line)),
                sep=sep,
                engine=parser_engine(sep, pd.__version__),
                decimal=decimal,
                encoding="utf-8-sig",  # spreadsheets often write a byte-order mark
                index_col=False,  # a row with a field too many is not an index
                iterator=True,
            )
            with reader:
                chunks = [reader.get_chunk(1)]  # the first row, and the columns
                n_rows = max(1, CHUNK_CELLS // max(1, chunks[0].shape[1]))
                size = chunks[0].memory_usage(deep=True).sum()
                while size <= max_memory:
                    try:
                        chunks.append(reader.get_chunk(n_rows))
                    except StopIteration:
                        break
                    size += chunks[-1].memory_usage(deep=True).sum()
    except pd.errors.ParserWarning as warning:
        raise ValueError(str(warning)) from None
    finally:
        csv.field_size_limit(field_limit)
    if size > max_memory:
        raise ValueError(
            f"the table takes more than --max-memory {format_size(max_memory)} "
            f"within its first {sum(map(len, chunks))} rows"
        )
    return pd.concat(chunks, ignore_index=True)


def features_and_target(
    table: "pd.DataFrame", target: str, missing: str
) -> tuple["pd.DataFrame", np.ndarray, list[str]]:
    """The feature columns and the class labels of ``table``, and what was done
    to them; ``missing="error"`` refuses what ``"impute"`` fills in or leaves
    out (the rows without a label)."""
    if target not in table.columns:
        raise ValueError(
            f"no column {target!r} in the header, split into {len(table.columns)} "
            f"columns ({', '.join(map(repr, table.columns[:5]))}"
            f"{', ...' * (len(table.columns) > 5)}); --sep sets the separator"
        )
    if len(table.columns) == 1:
        raise ValueError(f"no feature columns besides {target!r}")
    if len(table) == 0:
        raise ValueError("a header row but no data rows")
    X, y = table.drop(columns=target), table[target]
    n_missing, n_unlabelled = int(X.isna().sum().sum()), int(y.isna().sum())
    if missing == "error" and n_missing + n_unlabelled:
        raise ValueError(
            f"{n_missing} empty feature cells and {n_unlabelled} empty target "
            "cells (--missing impute fills in the first and leaves out the rows "
            "of the second)"
        )
    if n_unlabelled:
        X, y = X[y.notna()], y[y.notna()]
    # Chunks can infer a column differently (numbers in one, text in the next):
    # such a column is text. The imputer takes no booleans.
    y = (y.map(str) if y.dtype == np.object_ else y).to_numpy()
    for name, dtype in X.dtypes.items():
        if dtype == np.bool_:
            X[name] = X[name].astype(float)
        elif dtype == np.object_:
            X[name] = X[name].map(str, na_action="ignore")
    if type_of_target(y) == "continuous":
        raise ValueError(
            f"the target column looks continuous ({len(np.unique(y))} distinct "
            f"values in {len(y)} rows); give a column of class labels"
        )
    n_encoded = X.shape[1] - X.select_dtypes("number").shape[1]
    notes = {
        "columns one-hot encoded": n_encoded,
        "missing cells imputed": n_missing,
        "rows without a target left out": n_unlabelled,
    }
    return X, y, [f"{note}: {n}" for note, n in notes.items() if n]


def make_encoder() -> ColumnTransformer:
    """The transformer of a table's feature columns: numeric ones first."""
    categories = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )
    return ColumnTransformer(
        [
            ("numbers", SimpleImputer(), make_column_selector(dtype_include="number")),
            ("categories", categories, make_column_selector(dtype_exclude="number")),
        ]
    )
