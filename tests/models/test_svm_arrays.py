"""The exported song-level SVM as arrays decides and calibrates exactly as the sklearn model it copies."""

import numpy as np
import pandas as pd
import pytest

from mer.models.aggregate import fit_svm
from mer.models.svm_arrays import NotConvertible, SVMArrays, from_sklearn


def toy(n_classes, n=120, d=12, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 20, d) + rng.normal(size=d) * 5
    x[:, 0] += 1.5 * y
    x[:, 1] -= 0.8 * (y % 2)
    return pd.DataFrame(x), y


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_arrays_give_sklearns_decisions_and_probabilities_on_new_songs(n_classes, kernel, weighted):
    x, y = toy(n_classes)
    weights = np.linspace(0.2, 1.5, x.shape[1]) if weighted else None
    model = fit_svm(x, y, C=1.0, kernel=kernel, seed=0, probability=True, column_weights=weights)
    arrays = from_sklearn(model, x.to_numpy())
    new = toy(n_classes, n=200, seed=1)[0].to_numpy() * 1.3
    assert (arrays.predict(new) == model.predict(new)).all()
    np.testing.assert_allclose(arrays.predict_proba(new), model.predict_proba(new), rtol=0, atol=1e-9)
    assert list(arrays.classes_) == list(model.classes_)
    assert len(set(arrays.predict(new).tolist())) > 1  # the toy is not decided by one class


def test_a_kernel_the_arrays_do_not_cover_is_named():
    x, y = toy(2)
    model = fit_svm(x, y, kernel="poly", probability=True)
    with pytest.raises(NotConvertible, match="poly"):
        from_sklearn(model, x.to_numpy())


def test_a_copy_that_disagrees_with_sklearn_is_refused(monkeypatch):
    x, y = toy(4)
    model = fit_svm(x, y, probability=True)
    from_sklearn(model, x.to_numpy())
    pairwise = SVMArrays._pairwise
    monkeypatch.setattr(SVMArrays, "_pairwise", lambda self, z: pairwise(self, z) * 1.01)
    with pytest.raises(AssertionError, match="probabilities"):
        from_sklearn(model, x.to_numpy())


def test_export_keeps_the_sklearn_model_where_the_array_form_disagrees(monkeypatch, capsys):
    from mer.export import for_prediction

    x, y = toy(2)
    model = fit_svm(x, y, probability=True)
    assert isinstance(for_prediction(model, x.to_numpy()), SVMArrays)
    pairwise = SVMArrays._pairwise
    monkeypatch.setattr(SVMArrays, "_pairwise", lambda self, z: -pairwise(self, z))
    assert for_prediction(model, x.to_numpy()) is model
    assert "stays an sklearn model" in capsys.readouterr().out
    assert for_prediction(fit_svm(x, y, kernel="poly", probability=True), x.to_numpy()).__class__.__name__ == "CalibratedSVM"


def test_packed_svms_store_shared_rows_once_and_unpack_bit_for_bit(tmp_path):
    """A bundle's targets share their songs: svm.pkl keeps each support vector row once, and reading it back gives
    the same models (the same arrays, so the same decisions and probabilities)."""
    import pickle

    from mer.models.svm_arrays import pack, unpack

    x, y4 = toy(4)
    models = {
        "valence": from_sklearn(fit_svm(x, (y4 % 2 == 0).astype(int), seed=0, probability=True), x.to_numpy()),
        "arousal": from_sklearn(fit_svm(x, (y4 < 2).astype(int), seed=0, probability=True), x.to_numpy()),
        "quadrant": from_sklearn(fit_svm(x, y4, seed=0, probability=True), x.to_numpy()),
    }
    packed = pack(models)
    n_rows = sum(len(m.support_vectors) for m in models.values())
    assert len(packed["rows"]) < n_rows and len(packed["rows"]) <= len(x)  # each song's row once
    (tmp_path / "svm.pkl").write_bytes(pickle.dumps(packed))
    back = unpack(pickle.loads((tmp_path / "svm.pkl").read_bytes()))
    new = toy(4, n=50, seed=3)[0].to_numpy()
    for target, model in models.items():
        np.testing.assert_array_equal(back[target].support_vectors, model.support_vectors)
        np.testing.assert_array_equal(back[target].predict_proba(new), model.predict_proba(new))
    assert unpack({"valence": models["valence"]})["valence"] is models["valence"]  # an older svm.pkl reads as it is
