import numpy as np
import pytest
import torch

from mer.audio import logmel as lm
from mer.models.autoencoder import TABLE2_CHANNELS, Autoencoder, OneOutputConv

# seed 000 Table 2, output shapes as (height=time, width=mel, channels)
TABLE2 = [
    (216, 128, 128), (108, 64, 128), (108, 64, 64), (54, 32, 64), (54, 32, 32), (27, 16, 32),  # encoder
    (27, 16, 32), (54, 32, 32), (54, 32, 64), (108, 64, 64), (108, 64, 128), (216, 128, 128), (216, 128, 1),  # decoder
]


def layer_shapes(model: Autoencoder, x: torch.Tensor) -> list[tuple[int, int, int]]:
    """Output shape (H, W, C) of every conv / pooling / upsampling layer, in order."""
    shapes = []
    kinds = (torch.nn.Conv2d, torch.nn.MaxPool2d, torch.nn.Upsample)
    hooks = []
    enc = model.encoder
    for layer in [enc.conv1, enc.pool, enc.conv2, enc.conv3]:
        hooks.append(layer.register_forward_hook(lambda m, i, o: shapes.append((o.shape[2], o.shape[3], o.shape[1]))))
    for layer in model.decoder.net:
        if isinstance(layer, kinds):
            hooks.append(layer.register_forward_hook(lambda m, i, o: shapes.append((o.shape[2], o.shape[3], o.shape[1]))))
    model(x)
    for h in hooks:
        h.remove()
    return shapes


@pytest.mark.parametrize("sr", [22050, 44100])
@pytest.mark.parametrize("segment_dur", [1, 3, 5, 10])
def test_every_layer_matches_table2(sr, segment_dur):
    stft = lm.two_stage_stft(sr, segment_dur)
    seg_len = segment_dur * sr
    y = np.random.default_rng(segment_dur).standard_normal(seg_len).astype(np.float32) * 0.1
    x = torch.from_numpy(lm.two_stage_segments(y, np.array([0]), seg_len, sr, stft))[:, None]
    assert tuple(x.shape) == (1, 1, 216, 128)
    model = Autoencoder(TABLE2_CHANNELS)
    shapes = layer_shapes(model, x)
    # the encoder's pool runs three times; the hook on the shared pool records each call
    assert shapes == TABLE2
    assert model.encoder(x).shape == (1, 32, 27, 16) and model.encoder.code_size() == 27 * 16 * 32


def test_first_activation_is_kept_for_the_activity_penalty():
    model = Autoencoder((4, 4, 4))
    x = torch.rand(2, 1, 216, 128)
    model(x)
    assert model.encoder.first_activation.shape == (2, 4, 216, 128)
    assert (model.encoder.first_activation >= 0).all()


def test_keras_style_initialisation():
    model = Autoencoder((8, 8, 8))
    assert all(float(c.bias.detach().abs().max()) == 0 for c in model.modules() if isinstance(c, torch.nn.Conv2d))
    w = model.encoder.conv2.weight.detach()
    limit = (6 / (w.shape[1] * 9 + w.shape[0] * 9)) ** 0.5  # Glorot uniform bound
    assert float(w.abs().max()) <= limit + 1e-6 and float(w.std()) > limit / 4


def test_channels_last_layout_computes_the_plain_nchw_network():
    """The convolutions run channels-last (the speed-up of bench/layout.py); the code and the
    reconstruction are those of the same layers in plain NCHW, the code in (channel, time, mel) order."""
    import torch.nn.functional as F

    torch.manual_seed(0)
    model = Autoencoder((4, 6, 8))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    assert all(not c.weight.is_contiguous() for c in convs if c.in_channels > 1)  # (a 1-channel input's weight is both)
    x = torch.rand(3, 1, 216, 128)

    def conv(layer, v):
        return F.relu(F.conv2d(v, layer.weight.detach().contiguous(), layer.bias.detach(), padding=1))

    enc = model.encoder
    z = F.max_pool2d(conv(enc.conv1, x), 2)
    z = F.max_pool2d(conv(enc.conv2, z), 2)
    z = F.max_pool2d(conv(enc.conv3, z), 2)
    with torch.no_grad():
        code = enc(x)
        rec = model(x)
    assert code.shape == (3, 8, 27, 16)
    torch.testing.assert_close(code.flatten(1), z.contiguous().reshape(3, -1), rtol=1e-4, atol=1e-5)
    d = [m for m in model.decoder.net if isinstance(m, torch.nn.Conv2d)]
    r = z
    for i, layer in enumerate(d):
        r = conv(layer, r)
        if i < 3:
            r = F.interpolate(r, scale_factor=2, mode="nearest")
    torch.testing.assert_close(rec, r, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("channels", "bias", "groups_expected"), [(8, True, 8), (5, False, 5), (128, True, 1)])
def test_the_one_output_convolution_is_torch_s_convolution_forward_and_backward(channels, bias, groups_expected, monkeypatch):
    """The reconstruction layer (a depthwise convolution summed over channels on a CPU, up to 64
    channels) gives the values and gradients of torch's Conv2d with the same state dict."""
    import torch.nn.functional as F

    groups = []
    conv2d = F.conv2d
    monkeypatch.setattr(F, "conv2d", lambda *a, **k: groups.append(k.get("groups", a[6] if len(a) > 6 else 1)) or conv2d(*a, **k))
    torch.manual_seed(0)
    ours = OneOutputConv(channels, 1, kernel_size=3, padding="same", bias=bias)
    plain = torch.nn.Conv2d(channels, 1, kernel_size=3, padding="same", bias=bias)
    if bias:
        with torch.no_grad():
            ours.bias.fill_(0.3)
    plain.load_state_dict(ours.state_dict())
    x = torch.randn(2, channels, 20, 12).contiguous(memory_format=torch.channels_last)
    grad = torch.randn(2, 1, 20, 12)
    results = []
    for layer in (ours, plain):
        v = x.clone().requires_grad_(True)
        layer(v).backward(grad)
        results.append((layer(x).detach(), v.grad, layer.weight.grad, layer.bias.grad if bias else None))
    for a, b in zip(*results):
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert groups[0] == groups_expected  # depthwise up to 64 channels, torch's own convolution from 128
    assert isinstance(Autoencoder((8, 8, 8)).decoder.net[-2], OneOutputConv)


def test_the_one_output_convolution_refuses_more_output_channels():
    with pytest.raises(ValueError, match="one output channel, not 2"):
        OneOutputConv(4, 2, kernel_size=3)
