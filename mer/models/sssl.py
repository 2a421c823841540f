"""The semi-supervised self-learning pieces of seed 001 ("Semi-supervised Self-learning Framework").

* clean/noisy split (eq. 3): a 2-component Gaussian mixture fitted by EM to the
  per-segment cross-entropy losses; ω_i is the posterior of the component with
  the smaller mean; the clean set X = {ω_i > τ} keeps its labels, the rest U loses them;
* pseudo soft labels (eq. 4): the model's prediction sharpened with temperature T;
* mixup (eq. 6–8) over X ∪ Û with δ ~ Beta(α, α);
* R-Drop (eq. 9): the symmetric KL divergence between two dropout passes;
* the total loss (eq. 10): L_MIX + λ · L_KL (λ = 0 is the "proposed*" ablation).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.mixture import GaussianMixture


def fit_split(losses: np.ndarray, seed: int = 0) -> tuple[np.ndarray, dict[str, float]]:
    """ω_i (the posterior of the smaller-mean component of a 2-GMM fitted by EM to the losses) and the
    two components: ``{mean,std,weight}_{clean,noisy}`` (clean: the smaller mean). Nothing to separate
    (fewer than 2 losses, or all equal): every ω is 1 and the components are NaN."""
    x = np.asarray(losses, dtype=np.float64).reshape(-1, 1)
    if len(x) < 2 or np.ptp(x) < 1e-12:
        return np.ones(len(x)), {f"{k}_{c}": float("nan") for k in ("mean", "std", "weight") for c in ("clean", "noisy")}
    gmm = GaussianMixture(n_components=2, max_iter=100, tol=1e-3, reg_covar=5e-4, random_state=seed).fit(x)
    means = gmm.means_.ravel()
    clean = int(np.argmin(means))
    order = {"clean": clean, "noisy": 1 - clean}
    components = {}
    for name, i in order.items():
        components[f"mean_{name}"] = float(means[i])
        components[f"std_{name}"] = float(np.sqrt(gmm.covariances_.ravel()[i]))
        components[f"weight_{name}"] = float(gmm.weights_[i])
    return gmm.predict_proba(x)[:, clean], components


def clean_probability(losses: np.ndarray, seed: int = 0) -> np.ndarray:
    """ω_i: posterior of the smaller-mean component of a 2-GMM fitted (EM) to the losses."""
    return fit_split(losses, seed)[0]


def sharpen(p: torch.Tensor, temperature: float) -> torch.Tensor:
    """p^(1/T) renormalised over the classes (eq. 4)."""
    q = p.clamp_min(1e-12) ** (1.0 / temperature)
    return q / q.sum(dim=-1, keepdim=True)


def mixup(x: torch.Tensor, y: torch.Tensor, delta: float, perm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x = δ·x_p + (1 − δ)·x_q and y likewise (eq. 6–7), pairing each sample p with q = perm[p]."""
    return delta * x + (1 - delta) * x[perm], delta * y + (1 - delta) * y[perm]


def draw_mixup(n: int, alpha: float, rng: np.random.Generator) -> tuple[float, torch.Tensor]:
    """δ ~ Beta(α, α), kept ≥ 0.5 so each mixed sample stays closest to its own (as in
    DivideMix, which SSSL builds on), and a random pairing of the batch."""
    delta = float(rng.beta(alpha, alpha))
    return max(delta, 1.0 - delta), torch.from_numpy(rng.permutation(n))


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of −Σ_k y_k log softmax(f(x))_k (eq. 8)."""
    return -(targets * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def symmetric_kl(logits_1: torch.Tensor, logits_2: torch.Tensor) -> torch.Tensor:
    """Per sample ½ (KL(P1‖P2) + KL(P2‖P1)) of two forward passes (eq. 9)."""
    lp1, lp2 = F.log_softmax(logits_1, dim=-1), F.log_softmax(logits_2, dim=-1)
    p1, p2 = lp1.exp(), lp2.exp()
    return 0.5 * ((p1 * (lp1 - lp2)).sum(-1) + (p2 * (lp2 - lp1)).sum(-1))
