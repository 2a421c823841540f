import pytest
import torch

from mer.models.vgg import VGG, VGG16


def test_vgg16_layout():
    net = VGG(4)
    convs = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 13 and sum(isinstance(m, torch.nn.MaxPool2d) for m in net.features) == 5
    assert convs[0].in_channels == 1 and [c.out_channels for c in convs] == [c for c in VGG16 if c != "M"]
    linears = [m for m in net.classifier if isinstance(m, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(512 * 7 * 7, 4096), (4096, 4096), (4096, 4)]


@pytest.mark.parametrize("frames", [44, 130, 216])  # SSSL windows of 1, 3 and 5 s at 22.05 kHz, hop 512
def test_segment_windows_of_any_length(frames):
    net = VGG(2, convs=(8, "M", 8, "M", 8, "M", 8, "M", 8, "M"), fc=(16,))
    assert net(torch.rand(3, frames, 128)).shape == (3, 2)
    assert net(torch.rand(3, 1, frames, 128)).shape == (3, 2)


def test_quick_network_keeps_frequency_bands():
    net = VGG(2, convs=(4, "M"), pool=(1, 4), fc=(), dropout=0.3, input_pool=2)
    assert net.classifier[-1].in_features == 4 * 1 * 4
    assert isinstance(net.classifier[0], torch.nn.Dropout)  # a stochastic sub-network for R-Drop
    net.train()
    x = torch.rand(2, 216, 128)
    assert not torch.equal(net(x), net(x))  # two passes differ under dropout
    net.eval()
    assert torch.equal(net(x), net(x))
