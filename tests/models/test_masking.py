import pytest
import torch

from mer.models.masking import mask_spans


def spans(masked: torch.Tensor, original: torch.Tensor):
    """Masked time steps and mel bands of one (T, F) spectrogram (full rows / full columns)."""
    diff = masked != original
    rows = torch.nonzero(diff.all(dim=1)).flatten()
    cols = torch.nonzero(diff.all(dim=0)).flatten()
    return rows, cols


def test_one_span_per_axis_within_bounds():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(400, 216, 128) + 1.0  # no cell equals the fill value by chance
    out = mask_spans(x, 30, 32, "zero", generator=g)
    widths_f, widths_t = [], []
    ends = {128: [], 216: []}
    for i in range(len(x)):
        rows, cols = spans(out[i], x[i])
        for idx, limit, size, widths in ((cols, 30, 128, widths_f), (rows, 32, 216, widths_t)):
            if len(idx):
                assert (idx.diff() == 1).all()  # one contiguous span
                start, width = int(idx[0]), len(idx)
                assert width < limit  # f < F, t < T
                assert start < size - width  # f0 ~ U[0, Fc − f), t0 ~ U[0, Ts − t): the span never reaches the last band/step
                ends[size].append(start + width)
            widths.append(len(idx))
        changed = out[i] != x[i]
        expect = torch.zeros_like(changed)
        expect[rows] = True
        expect[:, cols] = True
        assert torch.equal(changed, expect)  # nothing outside the two spans changes
    # widths are drawn from U[0, F) and U[0, T): every width occurs, never F or T
    assert max(widths_f) == 29 and min(widths_f) == 0 and max(widths_t) == 31
    assert 10 < sum(widths_f) / len(widths_f) < 19  # mean of U{0..29} is 14.5
    # starts cover their whole range: some span ends at the last position the rule allows (Fc − 1, Ts − 1)
    assert max(ends[128]) == 127 and max(ends[216]) == 215


def test_mean_fill_uses_each_spectrograms_mean():
    x = torch.stack([torch.full((216, 128), 2.0), torch.rand(216, 128) + 3.0, torch.rand(216, 128) * 0.5])
    x[0, 0, 0] = 5.0  # the mean of item 0 is not 2.0, so its masked cells are seen to change
    out = mask_spans(x, 30, 32, "mean", generator=torch.Generator().manual_seed(3))
    for i in range(len(x)):
        changed = out[i] != x[i]
        assert changed.any()  # this generator masks a non-empty span of every item
        assert torch.allclose(out[i][changed], x[i].mean().expand(int(changed.sum())))


def test_channel_dimension_is_kept():
    x = torch.rand(3, 1, 216, 128)
    assert mask_spans(x).shape == (3, 1, 216, 128)


def test_same_generator_same_masks():
    x = torch.rand(4, 216, 128)
    a = mask_spans(x, generator=torch.Generator().manual_seed(7))
    b = mask_spans(x, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


@pytest.mark.parametrize("kwargs", [{"freq_param": 128}, {"time_param": 0}, {"fill": "noise"}])
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ValueError):
        mask_spans(torch.rand(1, 216, 128), **kwargs)
