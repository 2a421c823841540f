import pytest
import torch

from mer.models.bilstm import BiLSTMClassifier, CnnBiLSTM


def test_classifier_shapes_and_forget_bias():
    net = BiLSTMClassifier(input_size=40, hidden=16, dropout=0.5)
    assert net(torch.rand(5, 6, 40)).shape == (5, 2)
    assert net.lstm.hidden_size == 16 and net.lstm.bidirectional
    for name, p in net.lstm.named_parameters():
        if name.startswith("bias_ih"):
            i, f, g, o = p.chunk(4)
            assert torch.all(f == 1) and torch.all(i == 0) and torch.all(g == 0) and torch.all(o == 0)


def test_paper_sizes():
    net = BiLSTMClassifier(input_size=27 * 16 * 32)  # frozen-encoder codes of Table 2
    assert net.lstm.hidden_size == 512 and net.head.in_features == 1024 and net.dropout.p == 0.5


def _direction(net: BiLSTMClassifier, suffix: str) -> torch.nn.LSTM:
    """A one-way LSTM holding one direction's weights of ``net.lstm`` ('' forward, '_reverse' backward)."""
    one = torch.nn.LSTM(net.lstm.input_size, net.lstm.hidden_size, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(one, name).copy_(getattr(net.lstm, name + suffix))
    return one


def test_classifier_reads_the_final_state_of_each_direction():
    """§3.2: logits = dense(forward state after the last step ‖ backward state after the first step)."""
    torch.manual_seed(0)
    net = BiLSTMClassifier(3, hidden=4, dropout=0.0).eval()
    seq = torch.randn(2, 7, 3)
    with torch.no_grad():
        _, (h_fwd, _) = _direction(net, "")(seq)
        _, (h_bwd, _) = _direction(net, "_reverse")(seq.flip(1))  # the backward pass reads the clip from its end
        expected = net.head(torch.cat([h_fwd[-1], h_bwd[-1]], dim=1))
        assert torch.allclose(net(seq), expected, atol=1e-6)
        # the backward half alone (forward half of the head zeroed) sees the whole clip, the first step included
        net.head.weight[:, :4] = 0
        early, late = seq.clone(), seq.clone()
        early[:, 0] += 1.0
        late[:, -1] += 1.0
        assert not torch.allclose(net(seq), net(early)) and not torch.allclose(net(seq), net(late))


def test_cnn_bilstm_runs_the_encoder_on_every_segment():
    net = CnnBiLSTM(channels=(4, 4, 2), hidden=8)
    assert net(torch.rand(2, 3, 216, 128)).shape == (2, 2)
    assert net.classifier.lstm.input_size == 27 * 16 * 2


def test_input_scaling_standardises_every_feature_and_is_saved():
    net = BiLSTMClassifier(3, hidden=4, dropout=0.0).eval()
    assert torch.all(net.input_mean == 0) and torch.all(net.input_std == 1)  # identity until set
    seq = torch.rand(2, 5, 3)
    mean, std = torch.tensor([10.0, -2.0, 0.5]), torch.tensor([4.0, 1.0, 0.5])
    expected = net(seq)
    net.set_input_scaling(mean.numpy(), torch.tensor([4.0, 0.0, 0.5]))  # a zero std counts as 1
    assert torch.equal(net.input_std, std)
    assert torch.allclose(net(seq * std + mean), expected, atol=1e-5)
    saved = net.state_dict()
    assert {"input_mean", "input_std"} <= set(saved)
    again = BiLSTMClassifier(3, hidden=4, dropout=0.0).eval()
    again.load_state_dict(saved)
    assert torch.allclose(again(seq * std + mean), expected, atol=1e-5)


def test_weights_saved_before_input_scaling_load_as_identity():
    net = BiLSTMClassifier(3, hidden=4, dropout=0.0).eval()
    old = {k: v for k, v in net.state_dict().items() if not k.startswith("input_")}
    again = BiLSTMClassifier(3, hidden=4, dropout=0.0).eval()
    again.set_input_scaling(torch.ones(3), torch.full((3,), 2.0))
    again.load_state_dict(old)
    assert torch.all(again.input_mean == 0) and torch.all(again.input_std == 1)


def _cpu_ops(fn) -> set[str]:
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    return {e.key for e in prof.key_averages()}


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="this torch build has no oneDNN")
def test_the_segment_bilstm_trains_on_torch_s_native_lstm_on_a_cpu_and_the_encoder_keeps_onednn():
    torch.manual_seed(0)
    net = CnnBiLSTM(channels=(2, 2, 2), hidden=8, dropout=0.0)
    clips = torch.rand(2, 3, 216, 128)
    ops = _cpu_ops(lambda: net(clips).sum().backward())
    assert not any("mkldnn_rnn" in op for op in ops)  # the recurrent layer: native kernels
    assert "aten::mkldnn_convolution" in ops  # the convolutions still oneDNN's
    assert torch.backends.mkldnn.enabled  # and oneDNN is on again afterwards
    # the same LSTM: oneDNN's kernels give the same logits up to float rounding
    codes = torch.rand(4, 6, 40)
    clf = BiLSTMClassifier(40, 16, 0.0).eval()
    with torch.no_grad():
        native = clf(codes)
        _, (h, _) = clf.lstm(codes)  # oneDNN's LSTM
        onednn = clf.head(torch.cat([h[-2], h[-1]], dim=1))
    assert "aten::mkldnn_rnn_layer" in _cpu_ops(lambda: clf.lstm(codes))
    torch.testing.assert_close(native, onednn, rtol=1e-5, atol=1e-6)
