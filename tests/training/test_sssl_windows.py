"""SSSL windows pooled once per frame array equal the network's own input pooling of each window."""

import pytest
import torch
import torch.nn.functional as F

from mer.models.vgg import VGG
from mer.training.sssl import Windows


def frames(n: int, mels: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, mels, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("pool", "width"), [((4, 2), 24), ((3, 1), 10), ((2, 4), 7)])
def test_pooled_windows_equal_pooling_each_window_bit_for_bit(pool, width):
    x = frames(101)
    starts = torch.tensor([0, 1, 2, 3, 5, 42, 43, 101 - width])  # every phase, and a window ending at the last frame
    raw = Windows(x, starts, width)
    pooled = Windows(x, starts, width, pool)
    idx = torch.arange(len(starts))
    expected = F.avg_pool2d(raw[idx][:, None], pool)[:, 0]
    assert pooled.width == width // pool[0] and pooled[idx].shape == expected.shape
    assert torch.equal(pooled[idx], expected)


def test_a_network_on_pooled_windows_skips_its_input_pooling_and_gives_the_same_logits():
    torch.manual_seed(0)
    net = VGG(3, convs=(4, "M", 8, "M"), pool=(1, 2), fc=(), input_pool=(4, 2), batch_norm=True).eval()
    x = frames(300, mels=32, seed=1)
    starts = torch.tensor([0, 7, 50, 201])
    idx = torch.arange(4)
    with torch.no_grad():
        expected = net(Windows(x, starts, 64)[idx])
        got = net(Windows(x, starts, 64, net.input_pool)[idx], pooled=True)
    assert torch.equal(got, expected)
    with torch.no_grad():  # the flag means nothing to a network without an input pool
        plain = VGG(3, convs=(4, "M"), pool=(1, 2), fc=()).eval()
        assert torch.equal(plain(x[:64][None], pooled=True), plain(x[:64][None]))


def test_training_refuses_windows_pooled_otherwise_than_the_network():
    from mer.training.sssl import pooled_input

    net = VGG(2, convs=(4, "M"), pool=(1, 2), fc=(), input_pool=(2, 2))
    starts = torch.tensor([0, 3])
    with pytest.raises(ValueError, match="input pooling"):
        pooled_input(net, Windows(frames(40), starts, 8, (4, 2)))
    assert pooled_input(net, Windows(frames(40), starts, 8, (2, 2))) is True
    assert pooled_input(net, Windows(frames(40), starts, 8)) is False
