import numpy as np
import pytest
import torch

from mer.models.chroma_bilstm import ChromaBiLSTM
from mer.models.sssl import soft_cross_entropy


def test_shapes_and_paper_sizes():
    net = ChromaBiLSTM()
    assert net.lstm.input_size == 12 and net.lstm.hidden_size == 512 and net.lstm.bidirectional
    widths = [m.out_features for m in net.head if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 256, 2] and net.head[0].in_features == 2 * 512 + 4
    small = ChromaBiLSTM(hidden=8, fc=(16,))
    assert small(torch.rand(3, 7, 12), torch.rand(3, 4)).shape == (3, 2)


def test_forget_bias_is_one():
    net = ChromaBiLSTM(hidden=8)
    for name, p in net.lstm.named_parameters():
        if name.startswith("bias_ih"):
            i, f, g, o = p.chunk(4)
            assert torch.all(f == 1) and torch.all(i == 0) and torch.all(g == 0) and torch.all(o == 0)
        elif name.startswith("bias_hh"):
            assert torch.all(p == 0)


def test_constant_scaling_is_the_callers():
    net = ChromaBiLSTM(hidden=4, fc=(8,)).eval()
    assert torch.all(net.constant_mean == 0) and torch.all(net.constant_std == 1)  # identity until set
    chroma = torch.rand(2, 5, 12)
    constant = torch.tensor([[0.01, 0.02, 120.0, 100.0], [0.03, 0.0, 90.0, 140.0]])
    mean, std = torch.tensor([0.02, 0.01, 100.0, 120.0]), torch.tensor([0.01, 1.0, 20.0, 20.0])
    expected = net(chroma, (constant - mean) / std)
    net.set_constant_scaling(mean.numpy(), np.array([0.01, 0.0, 20.0, 20.0]))  # a zero std counts as 1
    assert torch.equal(net.constant_std, std)
    assert torch.allclose(net(chroma, constant), expected, atol=1e-5)
    assert {"constant_mean", "constant_std"} <= set(net.state_dict())


def _fit(net, chroma, constant, target, steps=60):
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = None
    for _ in range(steps):
        opt.zero_grad()
        loss = soft_cross_entropy(net(chroma, constant), target)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    with torch.no_grad():
        accuracy = (net(chroma, constant).argmax(1) == target.argmax(1)).float().mean().item()
    return first, loss.item(), accuracy


def test_learns_from_the_chroma_sequence():
    torch.manual_seed(0)
    n, steps = 64, 12
    label = torch.arange(n) % 2
    chroma = 0.1 * torch.rand(n, steps, 12)
    chroma[label == 1, :, 9] += 1.0  # class 1: an A drone; class 0: a C drone
    chroma[label == 0, :, 0] += 1.0
    target = torch.nn.functional.one_hot(label, 2).float()
    first, last, accuracy = _fit(ChromaBiLSTM(hidden=16, fc=(16, 16)), chroma, torch.zeros(n, 4), target)
    assert accuracy > 0.9 and last < 0.5 * first


def test_learns_from_the_constant_features_with_soft_targets():
    torch.manual_seed(1)
    n = 64
    constant = torch.randn(n, 4) * torch.tensor([0.01, 0.01, 20.0, 20.0]) + torch.tensor([0.05, 0.01, 120.0, 120.0])
    share = torch.where(constant[:, 3] > 120.0, 0.8, 0.2)  # faster percussion: mostly "excited"
    target = torch.stack([1 - share, share], dim=1)
    net = ChromaBiLSTM(hidden=8, fc=(16, 16))
    net.set_constant_scaling(constant.mean(0).numpy(), constant.std(0).numpy())
    first, last, accuracy = _fit(net, torch.rand(n, 6, 12), constant, target)
    assert accuracy > 0.9 and last < first - 0.1  # the floor is the targets' entropy, 0.50


def test_frame_pool_averages_runs_of_frames():
    torch.manual_seed(0)
    pooled = ChromaBiLSTM(hidden=4, fc=(8,), frame_pool=4).eval()
    plain = ChromaBiLSTM(hidden=4, fc=(8,)).eval()
    plain.load_state_dict(pooled.state_dict())
    chroma, constant = torch.rand(2, 10, 12), torch.rand(2, 4)
    # 10 frames → 3: the means of frames 0–3, 4–7 and 8–9 (the last run is shorter)
    averaged = torch.stack([chroma[:, 0:4].mean(1), chroma[:, 4:8].mean(1), chroma[:, 8:10].mean(1)], dim=1)
    assert torch.allclose(pooled(chroma, constant), plain(averaged, constant), atol=1e-6)
    assert not torch.allclose(pooled(chroma, constant), plain(chroma, constant), atol=1e-4)
    with pytest.raises(ValueError, match="frame_pool"):
        ChromaBiLSTM(frame_pool=0)
