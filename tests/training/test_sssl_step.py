"""How one SSSL training step combines seed 001 eq. 3–10, on a tiny recording network.

Each expectation is computed here from the recorded network calls and a replay of
the module's random draws, not by calling the pieces under test."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mer.models.sssl import clean_probability
from mer.training.sssl import LitSSSL, SSSLConfig, Windows

K, WIDTH, MELS = 3, 4, 5


class Recorder(nn.Module):
    """Linear classifier behind dropout; records every call's input, mode and output."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        torch.manual_seed(0)
        self.drop, self.lin = nn.Dropout(p), nn.Linear(WIDTH * MELS, K)
        self.calls: list[tuple[torch.Tensor, bool, torch.Tensor]] = []

    def forward(self, x):
        out = self.lin(self.drop(x.flatten(1)))
        self.calls.append((x.detach().clone(), self.training, out.detach().clone()))
        return out


def module(lambda_kl=0.7, temperature=0.5, p=0.5) -> LitSSSL:
    m = LitSSSL(Recorder(p), SSSLConfig(K, tau=0.5, temperature=temperature, alpha=4.0, lambda_kl=lambda_kl), seed=3)
    m.train()
    return m


def with_split(m: LitSSSL, n: int = 8):
    """A split set by hand: X = even segments, U = odd ones, U's soft labels far from the inherited ones."""
    m.clean = torch.arange(n) % 2 == 0
    soft = torch.full((n, K), 0.1)
    soft[:, 2] = 0.8
    m.soft = soft
    return m


def batch(n=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.tensor([0, 1, 2, 3, 5, 6][:n])
    return ids, torch.randn(n, WIDTH, MELS, generator=g), torch.tensor([0, 1, 1, 0, 1, 0][:n])


def replay_mixup(m: LitSSSL, n: int):
    """δ and the pairing the module will draw next (its generator copied, not advanced)."""
    rng = copy.deepcopy(m.rng)
    delta = float(rng.beta(m.cfg.alpha, m.cfg.alpha))
    return max(delta, 1 - delta), torch.from_numpy(rng.permutation(n))


def val(t: torch.Tensor) -> float:
    return t.detach().item()


def soft_ce(logits, y):
    return float(-(y * torch.log_softmax(logits, -1)).sum(-1).mean())


def sym_kl(a, b):
    pa, pb = torch.softmax(a, -1), torch.softmax(b, -1)
    return float((0.5 * (pa * (pa.log() - pb.log())).sum(-1) + 0.5 * (pb * (pb.log() - pa.log())).sum(-1)).mean())


def test_targets_are_one_hot_for_x_and_the_soft_labels_for_u():
    m = with_split(module())
    ids, _, y = batch()
    t = m.targets(ids, y)
    clean = (ids % 2 == 0).numpy()
    assert torch.equal(t[clean], F.one_hot(y[clean], K).float())
    assert torch.equal(t[~clean], m.soft[ids[~clean]])  # U: the inherited label is erased
    assert not torch.equal(t[~clean], F.one_hot(y[~clean], K).float())


def test_split_scans_in_eval_mode_and_sharpens_the_predictions_of_u():
    m = module(temperature=0.5)
    n = 12
    g = torch.Generator().manual_seed(4)
    frames = torch.randn(n * WIDTH, MELS, generator=g)
    windows = Windows(frames, torch.arange(n) * WIDTH, WIDTH)
    labels = torch.randint(0, K, (n,), generator=g)
    rows = torch.arange(2, n)  # segments 0 and 1 are not training segments
    entry = m.split(windows, labels, rows)

    assert m.net.calls and all(not training for _, training, _ in m.net.calls)  # the loss pass: dropout off
    assert m.net.training  # and training mode back afterwards
    with torch.no_grad():
        logits = m.net.lin(windows[rows].flatten(1))  # the network without dropout
    p = torch.softmax(logits, -1)
    expected_soft = p**2 / (p**2).sum(-1, keepdim=True)  # eq. 4 with T = 0.5
    torch.testing.assert_close(m.soft[rows], expected_soft)
    assert (m.soft[rows].max(-1).values > p.max(-1).values).all()  # sharper than the prediction
    assert not m.soft[:2].any() and not m.clean[:2].any()
    losses = F.cross_entropy(logits, labels[rows], reduction="none").numpy()
    expected_clean = clean_probability(losses, m.seed + m.current_epoch) > m.cfg.tau
    assert torch.equal(m.clean[rows], torch.as_tensor(expected_clean))
    assert entry["clean"] == int(expected_clean.sum())


def test_sssl_loss_is_mixup_plus_lambda_times_rdrop_on_u_with_dropout_on():
    m = with_split(module(lambda_kl=0.7))
    ids, x, y = batch()
    targets, noisy = m.targets(ids, y), ~m.clean[ids]
    delta, perm = replay_mixup(m, len(x))
    loss, l_mix, l_kl = m.sssl_loss(x, targets, noisy)

    calls = m.net.calls
    assert len(calls) == 3 and all(training for _, training, _ in calls)
    torch.testing.assert_close(calls[0][0], delta * x + (1 - delta) * x[perm])  # eq. 6
    y_mix = delta * targets + (1 - delta) * targets[perm]  # eq. 7
    assert val(l_mix) == pytest.approx(soft_ce(calls[0][2], y_mix), rel=1e-6)  # eq. 8
    for inputs, _, _ in calls[1:]:  # eq. 9 on U only
        assert torch.equal(inputs, x[noisy])
    assert not torch.allclose(calls[1][2], calls[2][2])  # two passes, two dropout masks
    assert val(l_kl) == pytest.approx(sym_kl(calls[1][2], calls[2][2]), rel=1e-5) and val(l_kl) > 0
    assert val(loss) == pytest.approx(val(l_mix) + 0.7 * val(l_kl), rel=1e-6)  # eq. 10


def test_lambda_zero_is_the_mixup_loss_alone():
    m = with_split(module(lambda_kl=0.0))
    ids, x, y = batch()
    loss, l_mix, l_kl = m.sssl_loss(x, m.targets(ids, y), ~m.clean[ids])
    assert len(m.net.calls) == 1  # no R-Drop passes at all
    assert torch.equal(loss, l_mix) and val(l_kl) == 0.0


def test_no_kl_term_when_the_batch_has_no_segment_of_u():
    m = with_split(module(lambda_kl=1.0))
    ids = torch.tensor([0, 2, 4, 6])
    _, x, y = batch(4)
    loss, l_mix, _ = m.sssl_loss(x, m.targets(ids, y), ~m.clean[ids])
    assert len(m.net.calls) == 1 and torch.equal(loss, l_mix)


def test_training_step_after_the_split_trains_on_mixup_of_x_and_sharpened_u():
    m = with_split(module(lambda_kl=0.7))
    ids, x, y = batch()
    delta, perm = replay_mixup(m, len(x))
    with pytest.warns(UserWarning, match="self.log"):
        loss = m.training_step((ids, x, y), 0)

    clean = (ids % 2 == 0).numpy()
    targets = torch.zeros(len(y), K)
    targets[clean] = F.one_hot(y[clean], K).float()
    targets[~clean] = m.soft[ids[~clean]]
    calls = m.net.calls
    assert len(calls) == 3 and all(training for _, training, _ in calls)
    torch.testing.assert_close(calls[0][0], delta * x + (1 - delta) * x[perm])
    expected = soft_ce(calls[0][2], delta * targets + (1 - delta) * targets[perm]) + 0.7 * sym_kl(calls[1][2], calls[2][2])
    assert val(loss) == pytest.approx(expected, rel=1e-5)
    assert torch.equal(calls[1][0], x[~clean])


def test_warm_up_step_is_cross_entropy_on_the_inherited_labels():
    m = module()
    ids, x, y = batch()
    with pytest.warns(UserWarning, match="self.log"):
        loss = m.training_step((ids, x, y), 0)
    (inputs, training, out), = m.net.calls
    assert training and torch.equal(inputs, x)
    assert val(loss) == pytest.approx(float(F.cross_entropy(out, y)), rel=1e-6)
