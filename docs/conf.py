"""Sphinx configuration of the sksoftmax documentation.

Build from the repository root with ``sphinx-build -W -b html docs docs/_build/html``
(``pip install -e ".[docs]"``); warnings are errors. The example gallery runs the
scripts in ``examples/`` at build time.
"""

import os
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import sksoftmax  # noqa: E402

project = "sksoftmax"
author = "The sksoftmax developers"
copyright = "2026, the sksoftmax developers"
version = release = sksoftmax.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
html_static_path = ["_static"]

# API reference: one page per public name, from the numpydoc docstrings.
autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# numpydoc's own validation, on top of tests/test_docstrings.py.
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR10", "RT01"}
# The results are made by sksoftmax.inference and its methods only: their
# constructors' fields are documented as their Attributes.
numpydoc_validation_exclude = {
    r"^sksoftmax\.(InferenceResult|MarginalEffects|PredictionResult|WaldTestResult)$"
}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sksoftmax {version}"
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
html_css_files = ["custom.css"]
# Pages without sub-pages need no section navigation: the tables get the room.
html_sidebars = {"benchmarks": [], "changelog": [], "getting_started": []}

# Matplotlib in the gallery: no window.
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


def markdown_to_rst(text):
    """The benchmark results (Markdown: headings, paragraphs, lists and pipe
    tables) as reStructuredText, so that the numbers live in one place,
    benchmarks/results/, and the pages include them (``.. include::
    generated_results/NAME.rst`` for ``benchmarks/results/NAME.md``)."""
    out, table = [], []

    def flush():
        if not table:
            return
        header, *rows = [
            [cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in table
            if not set(line.replace("|", "").strip()) <= set("-: ")
        ]
        out.extend([".. list-table::", "   :header-rows: 1", ""])
        for row in [header, *rows]:
            out.append(f"   * - {code(row[0])}")
            out.extend(f"     - {code(cell)}" for cell in row[1:])
        out.append("")
        table.clear()

    def code(line):
        # Markdown `code` is reStructuredText ``code``.
        parts = line.split("`")
        return "".join(
            part if i % 2 == 0 else f"``{part}``" for i, part in enumerate(parts)
        )

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("#"):
            # A Markdown heading: a rubric, which an included file may hold
            # wherever it is included (a section may not).
            out.extend([f".. rubric:: {code(line.lstrip('#').strip())}", ""])
            continue
        out.append(code(line))
    flush()
    return "\n".join(out) + "\n"


def write_benchmark_results():
    results = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "results")
    target = os.path.join(os.path.dirname(__file__), "generated_results")
    os.makedirs(target, exist_ok=True)
    for name in sorted(os.listdir(results)):
        if name.endswith(".md"):
            with open(os.path.join(results, name)) as file:
                text = markdown_to_rst(file.read())
            with open(os.path.join(target, name[:-3] + ".rst"), "w") as file:
                file.write(text)


write_benchmark_results()
