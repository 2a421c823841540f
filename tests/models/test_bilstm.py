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


def test_classifier_reads_both_directions():
    net = BiLSTMClassifier(3, hidden=4, dropout=0.0).eval()
    seq = torch.rand(1, 5, 3)
    flipped_first = seq.clone()
    flipped_first[0, 0] += 1.0  # changing the first step must reach the output (backward direction)
    assert not torch.allclose(net(seq), net(flipped_first))


def test_cnn_bilstm_runs_the_encoder_on_every_segment():
    net = CnnBiLSTM(channels=(4, 4, 2), hidden=8)
    assert net(torch.rand(2, 3, 216, 128)).shape == (2, 2)
    assert net.classifier.lstm.input_size == 27 * 16 * 2
