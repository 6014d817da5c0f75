"""The benchmark figures that the README and the docs quote are those that the
benchmark scripts wrote to ``benchmarks/results/``: every figure of the README's
headline table is in the results file its row links, and every number of a
paragraph that names a results file is in that file. A figure that drifts from
its file, or a file rerun under a figure quoted from the old one, fails here.

The docs show the tables themselves by including the files (``docs/conf.py``);
prose that can point to a table does so instead of quoting it.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs"

# A number as written: 7, 0.30, 1,000,000, 5.4e-07, 1e-6. Not the digits of a
# word (float32, x86_64, H200) nor the tail of a dotted version (1.2.3).
NUMBER = re.compile(r"(?<![\w])(?<!\d\.)\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?")
# A results file named in a page: benchmarks/results/fit.md, ``fit.md``,
# [fit.md](benchmarks/results/fit.md).
RESULTS_NAME = re.compile(r"(?<![\w/.-])(?:benchmarks/results/)?([\w-]+\.md)\b")


def numbers(text):
    return NUMBER.findall(text)


def results_numbers(name, results=RESULTS):
    path = results / name
    assert path.is_file(), f"{name} is not in benchmarks/results/"
    return set(numbers(path.read_text()))


def cited_results(text, results=RESULTS):
    """The results files that ``text`` names (names of other files, such as
    README.md, are left out, unless the path says benchmarks/results/)."""
    return sorted(
        {name for name in RESULTS_NAME.findall(text) if (results / name).is_file()}
        | set(re.findall(r"benchmarks/results/([\w-]+\.md)", text))
    )


def headline_rows(text):
    """The rows of the README's headline table (the one whose header starts
    with ``| against |``), each a list of its cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| against |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def paragraphs(text, markdown):
    """Paragraphs of prose: blocks between blank lines, without Markdown code
    fences and table rows (the headline table has its own test)."""
    if markdown:
        text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    for block in re.split(r"\n\s*\n", text):
        prose = "\n".join(
            line for line in block.splitlines() if not line.lstrip().startswith("|")
        )
        if prose.strip():
            yield prose


def missing_from_results(paragraph, results=RESULTS):
    """The numbers of a paragraph that names results files, which none of them
    holds."""
    names = cited_results(paragraph, results)
    if not names:
        return []
    found = set().union(*(results_numbers(name, results) for name in names))
    return [number for number in numbers(paragraph) if number not in found]


def missing_from_row(row, results=RESULTS):
    """The figures of a headline-table row that the results file it links does
    not hold."""
    *cells, source = row
    names = re.findall(r"\(benchmarks/results/([\w-]+\.md)\)", source)
    assert len(names) == 1, f"row {row} links no results file"
    found = results_numbers(names[0], results)
    quoted = numbers(" ".join(cells))
    assert quoted, f"row {row} quotes no figure"
    return [number for number in quoted if number not in found]


def test_headline_table_figures_are_in_their_results_files():
    rows = headline_rows(README.read_text())
    assert len(rows) >= 5, "the README's headline table has lost its rows"
    for row in rows:
        missing = missing_from_row(row)
        assert not missing, f"{missing} of the row {row} are not in its results file"


@pytest.mark.parametrize(
    "page",
    [README, *sorted(DOCS.glob("*.rst"))],
    ids=lambda page: page.name,
)
def test_prose_that_cites_results_quotes_them(page):
    markdown = page.suffix == ".md"
    for paragraph in paragraphs(page.read_text(), markdown):
        missing = missing_from_results(paragraph)
        assert not missing, (
            f"{page.name}: {missing} are not in {cited_results(paragraph)}, "
            f"which this paragraph cites:\n{paragraph}"
        )


def test_the_checks_can_fail(tmp_path):
    """A figure that differs from its file is caught, in a row and in prose;
    numbers of words and of uncited paragraphs are not read."""
    (tmp_path / "demo.md").write_text("| C | ratio |\n|---|---|\n| 0.1 | 2.7 |\n")
    row = ["median", "2.8 (0.1)", "[demo.md](benchmarks/results/demo.md)"]
    assert missing_from_row(row, tmp_path) == ["2.8"]
    assert missing_from_row(["median", "2.7", row[-1]], tmp_path) == []
    cited = "The median ratio is {} (``demo.md``) on float32 x86_64 data."
    assert missing_from_results(cited.format("2.8"), tmp_path) == ["2.8"]
    assert missing_from_results(cited.format("2.7"), tmp_path) == []
    assert missing_from_results("No results file here: 2.8.", tmp_path) == []
    assert numbers("1e-3..1e4, 1,000,000 rows, 5.4e-07, v1.2.3") == [
        "1e-3",
        "1e4",
        "1,000,000",
        "5.4e-07",
    ]
