import pytest
import torch
from torch import nn

from mer.models.tagger import PAPER, QUICK, Tagger


def test_paper_layout_and_output_shape():
    net = Tagger(18)
    convs = [m for m in net.features.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == list(PAPER["channels"]) and convs[0].in_channels == 1
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, nn.MaxPool2d) for m in net.features.modules()) == 4
    assert net(torch.rand(2, 216, 128)).shape == (2, 18)
    assert net(torch.rand(2, 1, 216, 128)).shape == (2, 18)


@pytest.mark.parametrize("frames", [32, 216])
def test_small_config_any_length(frames):
    net = Tagger(5, **QUICK)
    assert net.classifier[0].in_features == 16 * 1 * 4
    assert net(torch.rand(3, frames, 64)).shape == (3, 5)
    tiny = Tagger(2, channels=(4,), kernel=(5, 3), pools=(2,), pool=1, dense=(), batch_norm=False)
    assert tiny(torch.rand(2, 10, 12)).shape == (2, 2)
    with pytest.raises(ValueError):
        Tagger(2, channels=(4, 8), pools=((2, 2),))


def toy(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise spectrograms (32 frames × 16 bins); tag 0: energy in the low bins, tag 1: in the
    high bins, tag 2: loud first half of the excerpt; each tag independently on half the songs."""
    x = torch.randn(n, 32, 16, generator=g) * 0.5
    y = (torch.rand(n, 3, generator=g) < 0.5).float()
    x[:, :, :4] += 1.5 * y[:, 0, None, None]
    x[:, :, 12:] += 1.5 * y[:, 1, None, None]
    x[:, :16, :] += 1.0 * y[:, 2, None, None]
    return x, y


def test_tiny_run_learns_tags():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x, y = toy(64, g)
    x_test, y_test = toy(64, g)
    net = Tagger(3, channels=(8, 8), pools=((2, 2), (2, 2)), pool=(2, 2), dense=(16,), dropout=0.1)
    loss_fn = nn.BCEWithLogitsLoss()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    with torch.no_grad():
        net.eval()
        before = loss_fn(net(x_test), y_test).item()
    net.train()
    for _ in range(40):
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        logits = net(x_test)
    after = loss_fn(logits, y_test).item()
    accuracy = ((logits > 0).float() == y_test).float().mean().item()
    assert after < 0.5 * before and after < 0.35  # chance is ln 2 ≈ 0.69
    assert accuracy > 0.9


def test_channels_last_layout_computes_the_plain_nchw_network():
    """Channels-last convolutions (bench/layout.py) give the plain NCHW network's logits."""
    torch.manual_seed(0)
    net = Tagger(5, **QUICK).eval()
    convs = [m for m in net.features.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert all(not c.weight.is_contiguous() for c in convs if c.in_channels > 1)  # (a 1-channel input's weight is both)
    plain = Tagger(5, **QUICK).eval()
    plain.load_state_dict(net.state_dict())
    plain.features.to(memory_format=torch.contiguous_format)
    x = torch.rand(3, 216, 128)
    with torch.no_grad():
        torch.testing.assert_close(net(x), plain.classifier(torch.flatten(plain.pool(plain.features(x[:, None].contiguous())), 1)))
