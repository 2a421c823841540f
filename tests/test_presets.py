import pytest

from mer.errors import ConfigError
from mer.presets import PRESETS, resolve


def test_paper_preset_is_seed_000_tables_2_and_3():
    ae, lstm, cv = PRESETS["paper"]["autoencoder"], PRESETS["paper"]["bilstm"], PRESETS["paper"]["cv"]
    assert ae["channels"] == [128, 64, 32] and ae["batch_size"] == 64 and ae["lr"] == 1e-3
    assert ae["activity_l2"] == 1e-3 and ae["huber_delta"] == 1.0 and ae["patience"] == 10
    assert lstm == {**lstm, "hidden": 512, "dropout": 0.5, "lr": 1e-5, "batch_size": 10, "patience": 10}
    assert cv["repeats"] == 5 and cv["max_folds"] is None


def test_every_preset_sets_the_same_keys():
    for section in PRESETS["paper"]:
        assert set(PRESETS["paper"][section]) == set(PRESETS["quick"][section])


def test_params_override_only_where_set():
    params = {"preset": "paper", "autoencoder": {"lr": None, "max_epochs": 5}, "cv": {"folds": 10, "repeats": None}}
    ae = resolve(params, "autoencoder")
    assert ae["max_epochs"] == 5 and ae["lr"] == 1e-3
    assert resolve(params, "cv") == {"repeats": 5, "max_folds": None, "val_fraction": 0.1, "folds": 10}
    assert resolve({"preset": "quick"}, "bilstm") == PRESETS["quick"]["bilstm"]


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'fast'"):
        resolve({"preset": "fast"}, "bilstm")


def test_cpu_preset_resolves_every_key_with_the_quick_and_paper_defaults_for_new_knobs():
    for section in PRESETS["paper"]:
        values = resolve({"preset": "cpu"}, section)
        assert set(values) == set(PRESETS["paper"][section]), section
    # the knobs added for the cpu preset keep the earlier behaviour in quick and paper
    for name in ("quick", "paper"):
        assert PRESETS[name]["bilstm"]["standardize"] is False and PRESETS[name]["bilstm"]["weight_decay"] == 0.0
        assert all(PRESETS[name][s]["weight_decay"] == 0.0 for s in ("baseline", "chroma_bilstm", "tagger"))
    assert PRESETS["paper"]["chroma_bilstm"]["frame_pool"] == 1  # seed 002's chroma frame rate


def test_every_new_training_key_can_be_set_from_params_yaml():
    from pathlib import Path

    import yaml

    params = yaml.safe_load((Path(__file__).parents[1] / "params.yaml").read_text())
    for section in ("autoencoder", "bilstm", "baseline", "chroma_bilstm", "tagger"):
        assert set(PRESETS["cpu"][section]) <= set(params[section]), section  # dvc exp run -S needs the key


@pytest.mark.parametrize("name", ["quick", "cpu"])
def test_every_preset_sets_the_same_keys_as_paper(name):
    for section in PRESETS["paper"]:
        assert set(PRESETS[name][section]) == set(PRESETS["paper"][section]), section


def test_cpu_preset_resolves_every_key_of_params_yaml():
    """Every training key that params.yaml leaves null gets a value from the cpu preset."""
    from mer.params import load

    p = load(overrides={"preset": "cpu", "cv.max_folds": None}).to_dict()
    for section in PRESETS["cpu"]:
        resolved = resolve(p, section)
        by_dataset = {"folds"} if section == "cv" else set()  # cv.folds: null is the dataset's (registry.folds)
        assert set(p[section]) - by_dataset <= set(resolved), section
        unresolved = [k for k, v in resolved.items() if v is None and not (section == "cv" and k == "max_folds")]
        assert not unresolved, (section, unresolved)
    assert resolve(p, "cv")["max_folds"] is None  # the cpu preset evaluates every fold
    from mer.data import registry

    assert p["cv"]["folds"] is None and registry.folds(p) == 5 and registry.folds({**p, "dataset": "4q"}) == 10
