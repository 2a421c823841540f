"""SSSL pieces against their equations (seed 001 eq. 3–10) on small tensors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mer.models.sssl import clean_probability, draw_mixup, mixup, sharpen, soft_cross_entropy, symmetric_kl


def test_gmm_split_finds_the_mislabelled_segments():
    # a toy problem: the network has learnt the clean labels (low loss); flipped labels give high loss
    rng = np.random.default_rng(0)
    n, flipped = 400, rng.choice(400, 80, replace=False)
    is_noisy = np.zeros(n, bool)
    is_noisy[flipped] = True
    p_true = rng.uniform(0.75, 0.98, n)  # the model's probability of each segment's true class
    losses = np.where(is_noisy, -np.log(1 - p_true), -np.log(p_true))  # CE against the (possibly flipped) label
    omega = clean_probability(losses, seed=0)
    clean = omega > 0.5
    assert (~clean[is_noisy]).mean() > 0.9  # the flipped ones end up in U
    assert clean[~is_noisy].mean() > 0.9
    assert omega[losses.argmin()] > 0.99 and omega[losses.argmax()] < 0.01  # ω is the low-loss component's posterior


def test_gmm_split_without_spread_keeps_everything():
    assert (clean_probability(np.full(10, 0.3)) == 1).all()


def test_sharpen_matches_equation_4():
    p = torch.tensor([[0.6, 0.3, 0.1], [0.25, 0.25, 0.5]])
    for t in (0.5, 1.0, 2.0):
        q = p ** (1 / t)
        torch.testing.assert_close(sharpen(p, t), q / q.sum(1, keepdim=True))
    assert sharpen(p, 0.5)[0, 0] > p[0, 0]  # T < 1 sharpens
    torch.testing.assert_close(sharpen(p, 1.0), p)


def test_mixup_matches_equations_6_and_7():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    perm = torch.tensor([2, 0, 1])
    xm, ym = mixup(x, y, 0.7, perm)
    torch.testing.assert_close(xm[0], 0.7 * x[0] + 0.3 * x[2])
    torch.testing.assert_close(ym[1], 0.7 * y[1] + 0.3 * y[0])
    torch.testing.assert_close(ym.sum(1), torch.ones(3))  # mixed targets stay distributions


def test_draw_mixup_keeps_delta_at_least_half():
    rng = np.random.default_rng(0)
    deltas = [draw_mixup(8, 4.0, rng)[0] for _ in range(200)]
    assert min(deltas) >= 0.5 and max(deltas) <= 1.0
    assert 0.6 < np.mean(deltas) < 0.75  # E[max(δ, 1−δ)] for Beta(4, 4) ≈ 0.66
    _, perm = draw_mixup(8, 4.0, rng)
    assert sorted(perm.tolist()) == list(range(8))


def test_soft_cross_entropy_matches_equation_8():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    targets = torch.tensor([[0.8, 0.2], [0.0, 1.0]])
    expected = -(targets * torch.log_softmax(logits, 1)).sum(1).mean()
    torch.testing.assert_close(soft_cross_entropy(logits, targets), expected)
    hard = torch.tensor([0, 1])
    torch.testing.assert_close(soft_cross_entropy(logits, F.one_hot(hard, 2).float()), F.cross_entropy(logits, hard))


def test_symmetric_kl_matches_equation_9():
    a = torch.tensor([[1.0, 0.0, -1.0]])
    b = torch.tensor([[0.0, 0.5, 0.0]])
    p, q = torch.softmax(a, 1), torch.softmax(b, 1)
    kl = lambda x, y: (x * (x / y).log()).sum()  # noqa: E731
    torch.testing.assert_close(symmetric_kl(a, b), 0.5 * (kl(p, q) + kl(q, p)).reshape(1))
    torch.testing.assert_close(symmetric_kl(a, b), symmetric_kl(b, a))
    assert float(symmetric_kl(a, a)) == pytest.approx(0.0, abs=1e-7)


def test_the_split_reports_its_two_components_clean_first():
    from mer.models.sssl import fit_split

    rng = np.random.default_rng(0)
    losses = np.concatenate([rng.normal(0.1, 0.02, 300), rng.normal(2.0, 0.3, 100)])
    omega, c = fit_split(losses, seed=0)
    assert c["mean_clean"] == pytest.approx(0.1, abs=0.02) and c["mean_noisy"] == pytest.approx(2.0, abs=0.1)
    assert c["weight_clean"] == pytest.approx(0.75, abs=0.02) and c["std_noisy"] == pytest.approx(0.3, abs=0.05)
    assert (omega[:300] > 0.5).all() and (omega[300:] < 0.5).all()
    _, flat = fit_split(np.full(5, 0.2))
    assert np.isnan(flat["mean_clean"])


def test_the_balance_of_a_split_per_class():
    from mer.training.sssl import balance

    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    kept = np.array([1, 1, 1, 1, 0, 0, 1, 0], bool)  # the split kept every 0 and one 1: the collapse it is there to show
    predicted = np.array([0, 0, 0, 0, 0, 0, 1, 0])
    b = balance(labels, kept, predicted, 2)
    assert b["clean_share_0"] == 1.0 and b["clean_share_1"] == 0.25
    assert b["pseudo_share_0"] == 1.0 and b["pseudo_share_1"] == 0.0  # the relabelled 1s all become 0s
    assert b["predicted_share_1"] == 0.125
    assert np.isnan(balance(labels, np.ones(8, bool), predicted, 2)["pseudo_share_0"])


def test_a_split_within_each_class_cannot_erase_one_class_wholesale():
    """A warm-up model that leans to class 0 gives every class-1 segment a high loss: one GMM over all
    losses puts all of class 1 in the noisy set; one GMM per class keeps each class's cleanest segments."""
    from mer.training.sssl import SSSLConfig, balance, split_probability

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 200)
    losses = np.where(labels == 0, rng.gamma(2.0, 0.05, 400), 1.0 + rng.gamma(2.0, 0.1, 400))
    losses[labels == 1][:20] *= 0.2  # a few class-1 segments the model gets right
    predicted = np.zeros(400, int)
    everyone, comps = split_probability(losses, labels, SSSLConfig(2, split_by="all"), seed=0)
    per_class, comps_k = split_probability(losses, labels, SSSLConfig(2, split_by="class"), seed=0)
    erased = balance(labels, everyone > 0.5, predicted, 2)
    kept = balance(labels, per_class > 0.5, predicted, 2)
    assert erased["clean_share_1"] < 0.05 and erased["clean_share_0"] > 0.95 and "gmm_mean_clean" in comps
    assert kept["clean_share_1"] > 0.3 and kept["clean_share_0"] > 0.3 and {"gmm_mean_clean_0", "gmm_mean_clean_1"} <= set(comps_k)
