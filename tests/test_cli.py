"""``python -m sksoftmax``, run as a user runs it."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "sksoftmax", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows(stdout):
    """The table's rows, keyed by estimator name: name -> list of fields."""
    table = {}
    for line in stdout.splitlines():
        for name in ("SoftmaxRegressionClassifier", 'LogisticRegression("lbfgs")'):
            if line.startswith(name):
                table[name] = line[len(name) :].split()
    return table


def test_default_run_on_digits():
    result = run()
    assert result.returncode == 0, result.stderr
    assert "digits: 1797 samples, 64 features, 10 classes" in result.stdout
    table = rows(result.stdout)
    assert set(table) == {"SoftmaxRegressionClassifier", 'LogisticRegression("lbfgs")'}
    ours = table["SoftmaxRegressionClassifier"]
    accuracy, log_loss, objective = map(float, ours[:3])
    assert accuracy > 0.9 and 0 < log_loss < 1 and objective > 0
    assert ours[4] in ("yes", "no")  # converged?


def test_csv_table(tmp_path):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path / "iris.csv"
    lines = ["a,b,species,c,d"]
    lines += [f"{r[0]},{r[1]},{n},{r[2]},{r[3]}" for r, n in zip(X, names, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    result = run("--csv", str(path), "--target", "species", "--C", "0.5")
    assert result.returncode == 0, result.stderr
    assert "150 samples, 4 features, 3 classes; C=0.5" in result.stdout
    ours = rows(result.stdout)["SoftmaxRegressionClassifier"]
    assert float(ours[0]) > 0.85
    assert ours[4] == "yes"  # converged


@pytest.mark.parametrize(
    "content, args, message",
    [
        (None, ["--target", "y"], "cannot read the CSV file"),
        ("a,y\n1,0\n2,1\n", ["--target", "label"], "has no column 'label'"),
        ("a,y\n1,0\n\n\n2,1\nx,1\n", ["--target", "y"], "line 6: feature column"),
        ("\ufeffa,y\n1,0\n2,1\n", ["--target", "b"], "its columns are ['a', 'y']"),
        ("a,y\n1,0\n", [], "--csv and --target go together"),
        ("a,y\n1,0\n", ["--target", "y", "--dataset", "iris"], "not both"),
    ],
)
def test_csv_errors_are_clear(tmp_path, content, args, message):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    csv_args = ["--csv", str(path)] if "--target" in args or content else []
    result = run(*csv_args, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
