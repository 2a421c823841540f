"""Tiny trainings on separable synthetic data: the losses fall, the classifiers learn."""

import numpy as np
import pandas as pd
import pytest
import torch

from mer.models.bilstm import BiLSTMClassifier, CnnBiLSTM
from mer.training.data import DeviceBatches, TensorDataModule, validation_split
from mer.training.fit import fit
from mer.training.modules import LitAutoencoder, LitClassifier, MaskConfig


def test_device_batches_cover_every_row_once_and_reshuffle():
    data = torch.arange(20)
    batches = DeviceBatches([data], torch.arange(3, 20), batch_size=4, shuffle=True, seed=1)
    assert len(batches) == 5
    first = torch.cat([b[0] for b in batches])
    second = torch.cat([b[0] for b in batches])
    assert sorted(first.tolist()) == list(range(3, 20)) == sorted(second.tolist())
    assert not torch.equal(first, second)
    fixed = DeviceBatches([data], torch.arange(5), batch_size=2, shuffle=False)
    assert [b[0].tolist() for b in fixed] == [[0, 1], [2, 3], [4]]


def test_validation_split_is_stratified_and_disjoint():
    songs = pd.DataFrame({"y": [0] * 30 + [1] * 10})
    fit_pos, val_pos = validation_split(songs, 0.1, seed=0, stratify="y")
    assert set(fit_pos).isdisjoint(val_pos) and len(fit_pos) + len(val_pos) == 40
    assert sorted(songs["y"].iloc[val_pos].tolist()) == [0, 0, 0, 1]
    again = validation_split(songs, 0.1, seed=0, stratify="y")
    assert np.array_equal(again[1], val_pos)


def spectrograms(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Low-level noise with a bright band in the low or the high mel bands, by class."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 216, 128)).astype(np.float32) * 0.2
    y = np.arange(n) % 2
    x[y == 0, :, 10:30] += 1.5
    x[y == 1, :, 90:110] += 1.5
    return x, y


def test_autoencoder_reconstruction_loss_falls():
    x, _ = spectrograms(96)
    data = TensorDataModule([x], np.arange(80), np.arange(80, 96), batch_size=16, seed=0)
    torch.manual_seed(0)  # the initial weights: independent of the tests run before
    module = LitAutoencoder((4, 4, 4), lr=3e-3, activity_l2=1e-3, mask=MaskConfig())
    result = fit(module, data, max_epochs=6, monitor="val_huber", mode="min", patience=6, seed=0)
    h = result.history
    assert len(h) == 6 and {"train_huber", "train_loss", "val_huber"} <= set(h.columns)
    assert h["val_huber"].iloc[-1] < 0.7 * h["val_huber"].iloc[0]
    assert (h["train_loss"] >= h["train_huber"]).all()  # the activity penalty is added in training
    assert result.best_score == pytest.approx(h["val_huber"].min(), rel=1e-5)


@pytest.mark.filterwarnings(r"ignore:You are trying to `self.log\(\)`")
def test_autoencoder_loss_is_huber_to_the_unmasked_input_plus_the_activity_penalty():
    """§3.1.2 / §4.4: Huber(δ) between the reconstruction of the masked input and the *unmasked*
    input, plus ``activity_l2 · Σ relu(conv1(input))² / batch`` (Keras's ``activity_regularizer=l2``)."""
    x, _ = spectrograms(4)
    batch = (torch.from_numpy(x),)
    a, delta = 1e-5, 0.5  # small enough that neither term swamps the other on this input
    torch.manual_seed(0)  # the initial weights and the mask: independent of the tests run before
    module = LitAutoencoder((3, 2, 2), activity_l2=a, delta=delta, mask=MaskConfig(fill="zero"))
    inputs, outputs = [], []
    module.model.register_forward_pre_hook(lambda m, args: inputs.append(args[0].detach().clone()))
    module.model.register_forward_hook(lambda m, args, out: outputs.append(out.detach().clone()))
    torch.manual_seed(0)
    loss = module.training_step(batch, 0)
    clean, masked, rec = batch[0][:, None], inputs[0], outputs[0]
    assert not torch.equal(masked, clean)  # masking happened
    with torch.no_grad():
        huber = torch.nn.functional.huber_loss(rec, clean, delta=delta)
        penalty = a * torch.relu(module.model.encoder.conv1(masked)).pow(2).sum() / len(x)  # recomputed from the weights
        wrong_target = torch.nn.functional.huber_loss(rec, masked, delta=delta)
    assert float(loss.detach()) == pytest.approx(float(huber + penalty), rel=1e-5)
    # the test can tell the alternatives apart: each term is a sizeable part, the masked target differs
    assert 0.05 < float(penalty / huber) < 20 and abs(float(wrong_target - huber)) > 1e-3 * float(huber + penalty)


@pytest.mark.filterwarnings(r"ignore:You are trying to `self.log\(\)`")
def test_masking_switch():
    x, _ = spectrograms(8)
    batch = (torch.from_numpy(x),)
    for enabled in (True, False):
        module = LitAutoencoder((2, 2, 2), mask=MaskConfig(enabled=enabled))
        seen = []
        module.model.register_forward_pre_hook(lambda m, args, seen=seen: seen.append(args[0].clone()))
        module.training_step(batch, 0)
        assert torch.equal(seen[0], batch[0][:, None]) is (not enabled)


def test_bilstm_learns_separable_sequences():
    rng = np.random.default_rng(0)
    y = np.arange(120) % 2
    seq = rng.normal(0, 1, (120, 6, 12)).astype(np.float32)
    seq[y == 1, :, :3] += 1.2
    data = TensorDataModule([seq, y], np.arange(80), np.arange(80, 100), batch_size=10, seed=0)
    module = LitClassifier(BiLSTMClassifier(12, hidden=16, dropout=0.5), lr=3e-3)
    result = fit(module, data, max_epochs=25, monitor="val_acc", mode="max", patience=8, seed=0)
    module.eval()
    with torch.no_grad():
        pred = module(torch.from_numpy(seq[100:])).argmax(1).numpy()
    assert (pred == y[100:]).mean() >= 0.9  # held-out songs; chance is 0.5
    assert result.history["train_loss"].iloc[-1] < result.history["train_loss"].iloc[0]


def test_cnn_bilstm_learns_from_raw_segments():
    x, y = spectrograms(48, seed=1)
    clips = x.reshape(24, 2, 216, 128)
    labels = y.reshape(24, 2)[:, 0]
    data = TensorDataModule([clips, labels], np.arange(16), np.arange(16, 20), batch_size=4, seed=0)
    module = LitClassifier(CnnBiLSTM((4, 4, 2), hidden=8, dropout=0.0), lr=3e-3)
    fit(module, data, max_epochs=8, monitor="val_acc", mode="max", patience=8, seed=0)
    module.eval()
    with torch.no_grad():
        pred = module(torch.from_numpy(clips[16:])).argmax(1).numpy()
    assert (pred == labels[16:]).mean() >= 0.75


def test_fit_is_deterministic_on_cpu():
    x, _ = spectrograms(32)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        module = LitAutoencoder((2, 2, 2))
        data = TensorDataModule([x], np.arange(24), np.arange(24, 32), batch_size=8, seed=3)
        runs.append(fit(module, data, max_epochs=2, monitor="val_huber", mode="min", patience=2, seed=5).history)
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_bf16_mixed_precision_path(monkeypatch):
    """The GPU path (bf16 storage, bf16-mixed autocast), exercised on the CPU."""
    import mer.training.data as data_mod
    import mer.training.fit as fit_mod

    monkeypatch.setattr(fit_mod, "accelerator_settings", lambda: {"accelerator": "cpu", "devices": 1, "precision": "bf16-mixed"})
    monkeypatch.setattr(data_mod, "storage_dtype", lambda device: torch.bfloat16)
    x, y = spectrograms(24)
    ae = TensorDataModule([x], np.arange(16), np.arange(16, 24), batch_size=8)
    result = fit(LitAutoencoder((2, 2, 2)), ae, max_epochs=1, monitor="val_huber", mode="min", patience=1, seed=0)
    assert np.isfinite(result.best_score)
    clips, labels = x.reshape(12, 2, 216, 128), y.reshape(12, 2)[:, 0]
    data = TensorDataModule([clips, labels], np.arange(8), np.arange(8, 12), batch_size=4)
    result = fit(LitClassifier(CnnBiLSTM((2, 2, 2), hidden=4), 1e-3), data, max_epochs=1, monitor="val_acc", mode="max", patience=1, seed=0)
    assert 0 <= result.best_score <= 1


def test_the_mask_settings_come_from_params_under_their_paper_names():
    from types import SimpleNamespace

    cfg = MaskConfig.from_params(SimpleNamespace(enabled=False, F=12, T=7, fill="zero"))
    assert cfg == MaskConfig(enabled=False, freq=12, time=7, fill="zero")
