"""A fitted song-level SVM as plain arrays, evaluated with numpy: what ``mer predict`` loads.

The exported song-level SVMs (:class:`mer.models.aggregate.CalibratedSVM`: standardise →
optional column weights → SVC, deciding by the SVC and reporting Platt-calibrated
probabilities beside it) are sklearn objects; unpickling them imports sklearn and with it
scipy.stats, ≈ 1.2 s of a ``mer predict`` that should answer in about two. At export the
fitted model is copied into arrays — scaler, weights, support vectors, dual coefficients,
intercepts, the sigmoid calibrators — and :func:`from_sklearn` checks on the training
songs that the copy gives sklearn's decisions and probabilities before the bundle is
written. The arithmetic is the one sklearn documents for ``SVC`` (one-vs-one decision
values of an RBF or linear kernel, majority vote; ``decision_function_shape="ovr"`` for the
calibration input) and for ``CalibratedClassifierCV(method="sigmoid", ensemble=False)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

KERNELS = ("rbf", "linear")


class NotConvertible(ValueError):
    """The fitted model has a step or kernel the array form does not cover (it stays an sklearn object)."""


def _platt(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(z)), without overflow warnings for large z."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(z))


@dataclass
class SVMArrays:
    classes: np.ndarray  # (k,) class labels, ascending
    mean: np.ndarray  # (d,) StandardScaler
    scale: np.ndarray  # (d,)
    weights: np.ndarray | None  # (d,) column weights after standardising, or None
    kernel: str
    gamma: float
    support_vectors: np.ndarray  # (n_sv, d), grouped by class
    n_support: np.ndarray  # (k,)
    dual_coef: np.ndarray  # (k − 1, n_sv), sklearn's public layout
    intercept: np.ndarray  # (k (k − 1) / 2,)
    calib_a: np.ndarray  # (1,) for two classes, else (k,): p = 1 / (1 + exp(a f + b))
    calib_b: np.ndarray

    @property
    def classes_(self) -> np.ndarray:
        return self.classes

    def _kernel(self, x: np.ndarray) -> np.ndarray:
        sv = self.support_vectors
        if self.kernel == "linear":
            return x @ sv.T
        sq = (x * x).sum(1)[:, None] + (sv * sv).sum(1)[None, :] - 2.0 * (x @ sv.T)
        return np.exp(-self.gamma * np.maximum(sq, 0.0))

    def _pairwise(self, x: np.ndarray) -> np.ndarray:
        """One-vs-one decision values, (n, k (k − 1) / 2), pairs (i, j) for i < j in order;
        for two classes, the single value whose sign picks ``classes[1]`` when positive."""
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        if self.weights is not None:
            z = z * self.weights
        kv = self._kernel(z)
        k = len(self.classes)
        if k == 2:
            return (kv @ self.dual_coef[0] + self.intercept[0])[:, None]
        start = np.concatenate([[0], np.cumsum(self.n_support)])
        out, p = np.empty((len(z), k * (k - 1) // 2)), 0
        for i in range(k):
            for j in range(i + 1, k):
                si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
                out[:, p] = kv[:, si] @ self.dual_coef[j - 1, si] + kv[:, sj] @ self.dual_coef[i, sj] + self.intercept[p]
                p += 1
        return out

    def _votes(self, dec: np.ndarray, ties_to_first: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Votes and summed confidences per class; a pair's zero decision votes for its first
        class in sklearn's one-vs-rest scores (``ties_to_first``) and its second in libsvm's vote."""
        k = len(self.classes)
        votes, confidence, p = np.zeros((len(dec), k)), np.zeros((len(dec), k)), 0
        for i in range(k):
            for j in range(i + 1, k):
                wins_i = dec[:, p] >= 0 if ties_to_first else dec[:, p] > 0
                votes[wins_i, i] += 1
                votes[~wins_i, j] += 1
                confidence[:, i] += dec[:, p]
                confidence[:, j] -= dec[:, p]
                p += 1
        return votes, confidence

    def predict(self, x: np.ndarray) -> np.ndarray:
        dec = self._pairwise(x)
        if len(self.classes) == 2:
            return self.classes[(dec[:, 0] >= 0).astype(int)]
        votes, _ = self._votes(dec, ties_to_first=False)
        return self.classes[votes.argmax(1)]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        dec = self._pairwise(x)
        if len(self.classes) == 2:
            p1 = _platt(self.calib_a[0] * dec[:, 0] + self.calib_b[0])
            return np.stack([1.0 - p1, p1], axis=1)
        votes, confidence = self._votes(dec)
        ovr = votes + confidence / (3.0 * (np.abs(confidence) + 1.0))
        proba = _platt(self.calib_a * ovr + self.calib_b)
        total = proba.sum(1, keepdims=True)
        proba = np.divide(proba, total, out=np.full_like(proba, 1.0 / len(self.classes)), where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def _steps(pipeline, last: str = "SVC"):
    steps = [step for _, step in pipeline.steps]
    names = [type(s).__name__ for s in steps]
    if names not in (["StandardScaler", last], ["StandardScaler", "FunctionTransformer", last]):
        raise NotConvertible(f"pipeline steps {names}")
    weights = None
    if len(steps) == 3:
        weights = np.asarray(steps[1].kw_args["weights"], dtype=np.float64)
    return steps[0], weights, steps[-1]


def from_sklearn(model, features: np.ndarray, atol: float = 1e-9) -> SVMArrays:
    """The array form of a fitted :class:`~mer.models.aggregate.CalibratedSVM`, checked on ``features``
    (the training songs): the same decisions, probabilities within ``atol``. Raises
    :class:`NotConvertible` for other steps, kernels or calibrations, and ``AssertionError``
    where the copy disagrees with sklearn."""
    scaler, weights, svc = _steps(model.decision)
    *_, cal = _steps(model.calibrated, last="CalibratedClassifierCV")  # its scaler and SVC: the same fit as the decision's
    if svc.kernel not in KERNELS or len(cal.calibrated_classifiers_) != 1 or cal.method != "sigmoid":
        raise NotConvertible(f"kernel {svc.kernel!r}, {len(cal.calibrated_classifiers_)} calibrated classifiers, method {cal.method!r}")
    calibrators = cal.calibrated_classifiers_[0].calibrators
    arrays = SVMArrays(
        classes=np.asarray(svc.classes_),
        mean=np.asarray(scaler.mean_, dtype=np.float64),
        scale=np.asarray(scaler.scale_, dtype=np.float64),
        weights=weights,
        kernel=svc.kernel,
        gamma=float(svc._gamma),
        support_vectors=np.asarray(svc.support_vectors_, dtype=np.float64),
        n_support=np.asarray(svc.n_support_),
        dual_coef=np.asarray(svc.dual_coef_, dtype=np.float64),
        intercept=np.asarray(svc.intercept_, dtype=np.float64),
        calib_a=np.array([c.a_ for c in calibrators], dtype=np.float64),
        calib_b=np.array([c.b_ for c in calibrators], dtype=np.float64),
    )
    x = np.asarray(features, dtype=np.float64)
    np.testing.assert_array_equal(arrays.predict(x), model.predict(x), err_msg="the SVM's array form decides otherwise than sklearn")
    np.testing.assert_allclose(arrays.predict_proba(x), model.predict_proba(x), rtol=0, atol=atol,
                               err_msg="the SVM's array form gives other probabilities than sklearn")
    return arrays


SHARED = "svm-arrays/shared-rows"  # the packed form's marker (bundle format 3)


def pack(svms: dict[str, object]) -> dict[str, object]:
    """The SVMs of one bundle for storage: where they are all :class:`SVMArrays`, each support vector row once.

    The targets of a bundle are fitted on the same songs' features, standardised alike, so their support
    vectors are largely the same rows (the shipped ``embed_svm``: 876 rows, 355 distinct; 5.7 → 2.3 MB).
    Exact: the rows are stored as they are and indexed; :func:`unpack` restores every model bit for bit.
    Other models (sklearn objects), or targets over different features, are stored as they are."""
    if not svms or not all(isinstance(a, SVMArrays) for a in svms.values()):
        return dict(svms)
    if len({a.support_vectors.shape[1] for a in svms.values()}) > 1:  # targets over other features (the fusion)
        return dict(svms)
    rows, inverse = np.unique(np.concatenate([a.support_vectors for a in svms.values()]), axis=0, return_inverse=True)
    bounds = np.cumsum([0] + [len(a.support_vectors) for a in svms.values()])
    models = {t: replace(a, support_vectors=inverse[bounds[i] : bounds[i + 1]].astype(np.int32)) for i, (t, a) in enumerate(svms.items())}
    return {"format": SHARED, "rows": rows, "svms": models}


def unpack(stored: dict[str, object]) -> dict[str, object]:
    """:func:`pack`'s inverse; a dict of models as older bundles store them passes through."""
    if stored.get("format") != SHARED:
        return stored
    rows = stored["rows"]
    return {t: replace(a, support_vectors=rows[a.support_vectors]) for t, a in stored["svms"].items()}
