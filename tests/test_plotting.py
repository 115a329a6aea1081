"""Loss curve and loss shape displays, rendered to PNG with the Agg backend."""

import warnings

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import Huber, get_loss
from sklearn_losses.neural_network import MLPRegressor
from sklearn_losses.plotting import LossCurveDisplay, LossShapeDisplay

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_loss_curve_display_with_validation(tmp_path):
    X, y = make_regression(200, 4, noise=10.0, random_state=0)
    model = MLPRegressor("huber", hidden_layer_sizes=(8,), max_iter=15, early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y / y.std())
    display = LossCurveDisplay.from_estimator(model, log_scale=True)
    assert len(display.lines_) == 2
    np.testing.assert_array_equal(display.lines_[0].get_ydata(), model.loss_curve_)
    np.testing.assert_array_equal(display.lines_[1].get_ydata(), model.validation_loss_curve_)
    assert display.ax_.get_yscale() == "log" and "Huber" in display.ax_.get_ylabel()
    display.figure_.savefig(tmp_path / "curve.png")
    assert _is_png(tmp_path / "curve.png")


def test_loss_curve_display_on_given_axes_and_other_estimators():
    X, y = make_regression(100, 3, random_state=0)
    _, ax = plt.subplots()
    linear = LinearRegressor(solver="adam", max_iter=5).fit(X, y)
    display = LossCurveDisplay.from_estimator(linear, ax=ax)
    assert display.ax_ is ax and len(display.lines_) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SkMLPRegressor(hidden_layer_sizes=(4,), max_iter=5).fit(X, y)
    assert LossCurveDisplay.from_estimator(theirs).loss_name is None  # scikit-learn's loss_ is a number
    with pytest.raises(ValueError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(LinearRegressor())


def test_loss_shape_display_regression(tmp_path):
    display = LossShapeDisplay.from_losses(["squared_error", Huber(delta=1.0), "absolute_error"],
                                           x_range=(-2, 2), n_points=81)
    assert display.xlabel.startswith("residual")
    x = display.x
    np.testing.assert_allclose(display.values["squared_error()"], x ** 2)
    # the gradient drawn is loss.gradient, with respect to the raw prediction (r = y - residual)
    np.testing.assert_allclose(display.gradients["squared_error()"], -2 * x)
    np.testing.assert_allclose(display.gradients["huber(delta=1.0)"],
                               Huber().gradient(x, np.zeros_like(x), reduction="none"))
    assert display.ax_[1].get_ylabel() == "gradient d loss / d raw_prediction"
    assert [t.get_text() for t in display.ax_[0].get_legend().get_texts()] == [
        "squared_error()", "huber(delta=1.0)", "absolute_error()"]
    huber = display.values["huber(delta=1.0)"]
    np.testing.assert_allclose(huber, np.where(np.abs(x) <= 1, 0.5 * x ** 2, np.abs(x) - 0.5))
    assert len(display.lines_) == 3 and len(display.ax_) == 2
    display.figure_.savefig(tmp_path / "shapes.png")
    assert _is_png(tmp_path / "shapes.png")


def test_loss_shape_display_classification():
    display = LossShapeDisplay.from_losses(["log_loss", "hinge", "cross_entropy"])
    z = display.x
    np.testing.assert_allclose(display.values["hinge(margin=1.0)"], np.maximum(0, 1 - z))
    np.testing.assert_allclose(display.values["log_loss(pos_weight=1.0)"], np.log1p(np.exp(-z)), rtol=1e-12)
    # two-class cross-entropy with scores (0, z) is the log loss of the margin z
    np.testing.assert_allclose(display.values["cross_entropy(label_smoothing=0.0)"],
                               display.values["log_loss(pos_weight=1.0)"], rtol=1e-12)
    np.testing.assert_allclose(display.gradients["log_loss(pos_weight=1.0)"], get_loss("log_loss").gradient(
        np.ones_like(z), z, reduction="none"))


def test_loss_shape_display_errors():
    with pytest.raises(ValueError, match="different kinds"):
        LossShapeDisplay.from_losses(["huber", "hinge"])
    with pytest.raises(ValueError, match="non-empty"):
        LossShapeDisplay.from_losses([])
    with pytest.raises(ValueError, match="increasing"):
        LossShapeDisplay.from_losses(["huber"], x_range=(1, -1))
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="two Axes"):
        LossShapeDisplay.from_losses(["huber"], ax=ax)


def test_clear_error_without_matplotlib(monkeypatch):
    import sys

    from sklearn_losses.plotting import check_matplotlib

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # as if matplotlib were not installed
    with pytest.raises(ImportError, match=r"LossShapeDisplay requires matplotlib.*sklearn-losses\[plot\]"):
        LossShapeDisplay.from_losses(["huber"])
    with pytest.raises(ImportError, match="pip install"):
        check_matplotlib("anything")
