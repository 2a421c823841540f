"""The shared optimiser (fused update) and the batch hand-over of the training modules."""

import copy

import pytest
import torch
import torch.nn.functional as F

from mer.models.bilstm import BiLSTMClassifier
from mer.models.vgg import VGG
from mer.training.base import DeviceModule, optimizer


@pytest.mark.parametrize("name", ["adam", "sgd"])
# the VGG without batch norm: a bias just before a batch norm has a zero gradient, and Adam
# turns the rounding of that zero into a full step in either direction
@pytest.mark.parametrize("make", [lambda: BiLSTMClassifier(12, 8, 0.5), lambda: VGG(2, (4, "M", 8, "M"), (1, 2), (), 0.3, (2, 2), False)])
def test_the_fused_update_gives_the_per_parameter_loop_s_values(name, make):
    torch.manual_seed(0)
    ours = make()
    loop = copy.deepcopy(ours)
    start = copy.deepcopy(ours.state_dict())
    opt_ours = optimizer(name, ours.parameters(), 1e-2, weight_decay=1e-2)
    opt_loop = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[name](loop.parameters(), lr=1e-2, weight_decay=1e-2, foreach=False)
    shape = (4, 6, 12) if isinstance(ours, BiLSTMClassifier) else (4, 16, 16)
    for step in range(5):
        gen = torch.Generator().manual_seed(step)
        x, y = torch.randn(*shape, generator=gen), torch.randint(0, 2, (4,), generator=gen)
        for net, opt in ((ours, opt_ours), (loop, opt_loop)):
            torch.manual_seed(step)  # the same dropout masks
            F.cross_entropy(net(x), y).backward()
            opt.step()
            opt.zero_grad()
    for (key, a), b in zip(ours.state_dict().items(), loop.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=key)  # up to float rounding
    assert any(not torch.equal(a, start[k]) for k, a in ours.state_dict().items())  # the weights did move


def test_an_unknown_optimiser_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        optimizer("rmsprop", [torch.zeros(1, requires_grad=True)], 1e-3)


def test_batches_already_on_the_device_are_handed_over_untouched():
    module = DeviceModule()
    batch = (torch.zeros(2), torch.ones(2, dtype=torch.long))
    assert module.transfer_batch_to_device(batch, torch.device("cpu"), 0) is batch
    other = {"x": torch.zeros(2)}  # anything else: Lightning's own transfer
    moved = module.transfer_batch_to_device(other, torch.device("cpu"), 0)
    assert moved is not other and torch.equal(moved["x"], other["x"])
