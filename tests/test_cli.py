"""The sklearn-losses command line: compare, list, plot, and its errors."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from sklearn_losses import available_losses
from sklearn_losses._compare import compare, load_data, parse_loss
from sklearn_losses.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_list_prints_the_catalogue(capsys):
    status, out, _ = run(capsys, "list")
    assert status == 0
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert sorted(names) == sorted(info.name for info in available_losses())
    status, out, _ = run(capsys, "list", "--task", "multiclass")
    assert status == 0 and "cross_entropy" in out and "huber" not in out


def test_compare_regression_json_is_ranked(capsys):
    status, out, err = run(capsys, "compare", "--json", "--cv", "3", "--losses", "squared_error",
                           "huber:delta=0.5", "absolute_error")
    assert status == 0, err
    report = json.loads(out)
    assert report["dataset"] == "diabetes" and report["task"] == "regression"
    results = report["results"]
    assert [r["loss"] for r in results] and len(results) == 3
    means = [r["mean"] for r in results]
    assert means == sorted(means, reverse=True) and all(0.2 < m < 0.7 for m in means)
    huber = next(r for r in results if r["loss"] == "huber")
    assert huber["params"] == {"delta": 0.5} and len(huber["scores"]) == 3 and huber["fit_time"] > 0
    assert set(huber["loss_scores"]) == {"squared_error", "huber:delta=0.5", "absolute_error"}
    # each loss as a scorer is minus its mean on the held-out folds: the model trained on it wins its column
    squared = next(r for r in results if r["loss"] == "squared_error")
    assert squared["loss_scores"]["squared_error"] >= huber["loss_scores"]["squared_error"]


def test_compare_classification_table_and_plot(capsys, tmp_path):
    path = tmp_path / "compare.png"
    status, out, err = run(capsys, "compare", "--task", "classification", "--cv", "3", "--quiet", "--losses",
                           "log_loss", "hinge", "--plot", str(path))
    assert status == 0, err
    assert "breast_cancer" in out and "accuracy" in out and "-log_loss" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_multiclass_estimator_families_and_tuning(capsys):
    data = load_data("iris")
    assert data.task == "multiclass"
    results = compare(data, [("cross_entropy", {}), ("hinge", {})], estimator="mlp", cv=2)
    assert all(r.error is None for r in results)
    assert all(set(r.loss_scores) == {"cross_entropy"} for r in results)  # a binary loss cannot score 3 classes
    assert all(r.mean > 0.8 for r in results)
    tuned = compare(load_data("diabetes"), [("huber", {})], estimator="svm", cv=2, tune=True)[0]
    assert tuned.error is None and len(tuned.tuned["delta"]) == 2
    assert set(tuned.tuned["delta"]) <= {0.25, 0.5, 1.0, 2.0}


def test_compare_reports_a_failing_loss_and_keeps_the_others():
    data = load_data("diabetes")
    results = compare(data, [("squared_error", {}), ("poisson", {})], cv=2)
    # scaled diabetes targets are positive: Poisson fits; make it fail with a negative target
    data.y = data.y - data.y.mean()
    results = compare(data, [("squared_error", {}), ("poisson", {})], cv=2)
    failed = next(r for r in results if r.loss == "poisson")
    assert "Poisson" in failed.error and results[0].loss == "squared_error"


def _write_csv(path, rows):
    path.write_text("\n".join(",".join(map(str, row)) for row in rows) + "\n")


def test_compare_csv(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    labels = np.where(X[:, 0] + 0.3 * rng.normal(size=80) > 0, "yes", "no")
    path = tmp_path / "data.csv"
    _write_csv(path, [["a", "b", "label", "c"]] + [[*x[:2], lab, x[2]] for x, lab in zip(X, labels)])
    status, out, err = run(capsys, "compare", "--csv", str(path), "--target", "label", "--cv", "2", "--quiet",
                           "--losses", "log_loss")
    assert status == 0, err
    assert "binary" in out and "log_loss" in out
    _write_csv(path, [["a", "b", "y"]] + [[*x[:2], 2 * x[0] + x[2]] for x in X])
    status, out, err = run(capsys, "compare", "--csv", str(path), "--target", "y", "--cv", "2", "--json",
                           "--losses", "huber")
    assert status == 0, err and json.loads(out)["task"] == "regression"


@pytest.mark.slow_in_python
def test_compare_boosting_takes_categories_and_missing_values_natively(capsys, tmp_path):
    """--estimator boosting: numeric columns pass through with their NaN, categorical ones become codes for
    categorical_features (a category unseen in a fold is missing); the categories carry the signal."""
    rng = np.random.default_rng(0)
    n = 300
    colour = rng.choice(["red", "green", "blue", "grey"], n)
    x = rng.normal(size=n)
    y = np.where(np.isin(colour, ["red", "grey"]), 3.0, 0.0) + 0.5 * x + 0.1 * rng.normal(size=n)
    cells = [["colour", "x", "y"]] + [[c, "" if i % 10 == 0 else v, t] for i, (c, v, t) in enumerate(zip(colour, x, y))]
    path = tmp_path / "data.csv"
    _write_csv(path, cells)
    status, out, err = run(capsys, "compare", "--csv", str(path), "--target", "y", "--estimator", "boosting",
                           "--cv", "3", "--losses", "squared_error", "absolute_error", "--json",
                           "--missing", "impute")
    assert status == 0, err
    results = json.loads(out)["results"]
    assert {r["loss"] for r in results} == {"squared_error", "absolute_error"}
    assert min(r["mean"] for r in results) > 0.9  # r2: the category sets are found


@pytest.mark.parametrize("argv, message", [
    (["compare", "--csv", "no/such/file.csv", "--target", "y"], "no such file"),
    (["compare", "--csv", "{csv}", "--target", "missing"], "no column 'missing'"),
    (["compare", "--csv", "{csv}", "--target", "label", "--task", "regression"], "not numeric"),
    (["compare", "--csv", "{csv}"], "--target"),
    (["compare", "--losses", "no_such_loss"], "no_such_loss"),
    (["compare", "--losses", "huber:delta=-1"], "delta"),
    (["compare", "--dataset", "mnist"], "unknown dataset"),
    (["compare", "--dataset", "iris", "--task", "regression"], "classification dataset"),
    (["compare", "--metric", "not_a_metric", "--losses", "huber"], "not_a_metric"),
    (["plot", "huber", "log_loss"], "different kinds"),
])
def test_errors_are_clear(capsys, tmp_path, argv, message):
    path = tmp_path / "data.csv"
    _write_csv(path, [["a", "label"], [1.0, "x"], [2.0, "y"], [3.0, "x"]])
    status, _, err = run(capsys, *[a.replace("{csv}", str(path)) for a in argv])
    assert status == 2
    assert message in err and "Traceback" not in err


def test_plot_command(capsys, tmp_path):
    path = tmp_path / "shapes.png"
    status, out, err = run(capsys, "plot", "squared_error", "huber:delta=0.5", "quantile:quantile=0.9",
                           "-o", str(path))
    assert status == 0, err
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_parse_loss():
    assert parse_loss("huber") == ("huber", {})
    assert parse_loss("quantile:quantile=0.9") == ("quantile", {"quantile": 0.9})
    assert parse_loss("multiclass_hinge:kind=weston_watkins") == ("multiclass_hinge", {"kind": "weston_watkins"})
    with pytest.raises(ValueError, match="param=value"):
        parse_loss("huber:delta")


def test_console_script():
    """The installed ``sklearn-losses`` entry point (or ``python -m sklearn_losses.cli``)."""
    command = [shutil.which("sklearn-losses")] if shutil.which("sklearn-losses") else \
        [sys.executable, "-m", "sklearn_losses.cli"]
    result = subprocess.run(command + ["list", "--task", "binary"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "log_loss" in result.stdout


# ------------------------------------------------------ errors before the run, one line, exit 2
@pytest.mark.parametrize("argv, message", [
    (["compare", "--plot", "{tmp}/no/such/dir/out.png"], "--plot: the directory"),
    (["compare", "--csv-out", "{tmp}/no/such/dir/out.csv"], "--csv-out: the directory"),
    (["compare", "--losses", "huber", "log_loss"], "--losses log_loss: LogLoss is a binary loss"),
    (["compare", "--task", "classification", "--losses", "huber"], "regression loss"),
    (["compare", "--csv", "{tmp}/nan_target.csv", "--target", "y"], "NaN or infinite"),
    (["compare", "--csv", "{tmp}/empty_target.csv", "--target", "y"], "missing values (empty cells"),
    (["compare", "--csv", "{tmp}/gaps.csv", "--target", "y"], "pass --missing impute"),
    (["compare", "--metric", "hinge"], "--metric hinge: Hinge is a binary loss"),
    (["plot", "huber", "--ylim", "2", "1", "-o", "{tmp}/p.png"], "--ylim"),
    (["plot", "huber", "-o", "{tmp}/missing/p.png"], "--output: the directory"),
])
def test_usage_errors_are_one_line_and_exit_2(capsys, tmp_path, argv, message):
    _write_csv(tmp_path / "nan_target.csv", [["a", "y"], [1.0, 2.0], [2.0, "nan"], [3.0, 1.0]])
    _write_csv(tmp_path / "empty_target.csv", [["a", "y"], [1.0, 2.0], [2.0, ""], [3.0, 1.0]])
    _write_csv(tmp_path / "gaps.csv", [["a", "y"], [1.0, 2.0], ["", 1.5], [3.0, 1.0]])
    status, out, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert status == 2, (out, err)
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "rank" not in out  # refused before any fit


def _mixed_csv(path, rng, gaps=False):
    n = 90
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    y = 2.0 * x + (colour == "red") * 3.0 + 0.1 * rng.normal(size=n)
    rows = [["x", "colour", "y"]]
    for i in range(n):
        rows.append(["" if gaps and i % 17 == 3 else x[i], "" if gaps and i % 23 == 5 else colour[i], y[i]])
    _write_csv(path, rows)


def test_categorical_columns_are_one_hot_encoded_and_missing_values_imputed_on_request(capsys, tmp_path):
    rng = np.random.default_rng(0)
    _mixed_csv(tmp_path / "mixed.csv", rng)
    status, out, err = run(capsys, "compare", "--csv", str(tmp_path / "mixed.csv"), "--target", "y", "--cv", "3",
                           "--quiet", "--losses", "squared_error", "huber")
    assert status == 0, err
    assert "categorical columns one-hot encoded: colour" in out
    data = load_data(csv_path=tmp_path / "mixed.csv", target="y")
    assert data.categorical == [1] and data.feature_names == ["x", "colour"]
    assert compare(data, [("squared_error", {})], cv=3)[0].mean > 0.95  # the colour carries signal: it was used
    _mixed_csv(tmp_path / "gaps.csv", rng, gaps=True)
    status, out, err = run(capsys, "compare", "--csv", str(tmp_path / "gaps.csv"), "--target", "y", "--cv", "3",
                           "--quiet", "--missing", "impute", "--losses", "squared_error")
    assert status == 0, err
    assert "missing feature values imputed" in out


def test_metric_may_be_a_catalogue_loss(capsys):
    status, out, err = run(capsys, "compare", "--json", "--cv", "3", "--metric", "quantile:quantile=0.9",
                           "--losses", "squared_error", "quantile:quantile=0.9")
    assert status == 0, err
    results = json.loads(out)["results"]
    assert results[0]["metric"] == "-quantile:quantile=0.9"
    assert results[0]["loss"] == "quantile"  # trained on the ranking loss, it wins
    assert results[0]["mean"] == pytest.approx(results[0]["loss_scores"]["quantile:quantile=0.9"])


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_the_table_fits_100_columns_and_csv_out_writes_it(capsys, tmp_path, task):
    import csv

    path = tmp_path / "table.csv"
    status, out, err = run(capsys, "compare", "--task", task, "--cv", "2", "--quiet", "--csv-out", str(path))
    assert status == 0, err
    assert max(len(line) for line in out.splitlines()) <= 100
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and rows[0]["rank"] == "1" and float(rows[0]["mean"]) >= float(rows[-1]["mean"])
    assert len(rows[0]["scores"].split()) == 2


def test_plot_options(capsys, tmp_path):
    path = tmp_path / "shapes.png"
    status, _, err = run(capsys, "plot", "huber:delta=0.5", "squared_error", "--ylim", "0", "4", "--logy",
                         "-o", str(path))
    assert status == 0, err
    assert path.read_bytes()[:4] == b"\x89PNG"


# -- ordinal targets ----------------------------------------------------------------------
def test_compare_ordinal_on_the_bundled_survey(capsys, tmp_path):
    path = tmp_path / "ordinal.png"
    status, out, err = run(capsys, "compare", "--task", "ordinal", "--cv", "3", "--json", "--losses",
                           "cumulative_logit", "all_threshold:threshold_weights=squared", "corn")
    assert status == 0, err
    report = json.loads(out)
    assert report["dataset"] == "copenhagen_housing" and report["task"] == "ordinal"
    results = {r["loss"]: r for r in report["results"]}
    assert set(results) == {"cumulative_logit", "all_threshold", "corn"}
    for r in results.values():
        assert r["metric"] == "-ordinal_mae" and -1.0 < r["mean"] < -0.5  # always "High": 0.86
    assert results["cumulative_logit"]["loss_scores"]["cumulative_logit"] < -0.9
    status, out, err = run(capsys, "compare", "--task", "ordinal", "--cv", "3", "--quiet", "--metric", "qwk",
                           "--estimator", "mlp", "--losses", "cumulative_probit", "--plot", str(path))
    assert status == 0, err
    assert "qwk" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_ordinal_csv_with_a_class_order(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    grade = np.array(["poor", "fair", "good", "excellent"])[np.digitize(x + 0.5 * rng.normal(size=300),
                                                                          [-0.7, 0.0, 0.7])]
    path = tmp_path / "grades.csv"
    path.write_text("x,noise,grade\n" + "".join(f"{a},{b},{g}\n" for a, b, g in
                                                  zip(x, rng.normal(size=300), grade)))
    data = load_data(csv_path=str(path), target="grade", task="ordinal", class_order="poor,fair,good,excellent")
    assert data.task == "ordinal" and data.classes == ["poor", "fair", "good", "excellent"]
    (best,) = compare(data, [("cumulative_logit", {})], cv=3)
    assert best.error is None and best.mean > -0.5
    unordered = load_data(csv_path=str(path), target="grade", task="ordinal")
    assert unordered.classes == sorted(["poor", "fair", "good", "excellent"])
    with pytest.raises(ValueError, match="--class-order: the target has labels not in the order"):
        load_data(csv_path=str(path), target="grade", task="ordinal", class_order="poor,fair,good")
    with pytest.raises(ValueError, match="--class-order applies to ordinal targets only"):
        load_data(csv_path=str(path), target="grade", task="classification", class_order="poor,fair")
    with pytest.raises(ValueError, match="ordinal loss; the data are a classification problem|classification"):
        compare(load_data("iris"), [("cumulative_logit", {})], cv=3)
    with pytest.raises(ValueError, match="--estimator svm: ordinal targets are fitted by the linear and mlp"):
        compare(data, [("cumulative_logit", {})], estimator="svm", cv=3)


def test_compare_ranks_overlap_losses_on_classification_data(capsys):
    status, out, err = run(capsys, "compare", "--json", "--cv", "3", "--dataset", "breast_cancer", "--metric", "f1",
                           "--losses", "log_loss", "soft_f1", "tversky:alpha=0.3,beta=0.7", "--quiet")
    assert status == 0, err
    results = json.loads(out)["results"]
    assert {r["loss"] for r in results} == {"log_loss", "soft_f1", "tversky"}
    assert all(r.get("error") is None and 0.9 < r["mean"] <= 1.0 for r in results)
    soft = next(r for r in results if r["loss"] == "soft_f1")
    assert -1.0 <= soft["loss_scores"]["soft_f1"] <= 0.0  # minus the held-out soft F1 loss of each fold
    status, _, err = run(capsys, "compare", "--dataset", "diabetes", "--losses", "soft_dice", "--quiet")
    assert status != 0 and "SoftDice is an overlap loss" in err
