"""Dataset registry: names, Table-1 sample rates, layouts."""

from __future__ import annotations

import pytest

from mer.data import registry
from mer.data.base import Dataset
from mer.errors import ConfigError, MerError

NAMES = ("synth", "4q", "pmemo", "deam", "folder")
RATES = {"synth": 22050, "4q": 22050, "pmemo": 44100, "deam": 44100, "folder": 22050}


def test_names():
    assert sorted(registry.names()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_get(name):
    ds = registry.get(name)
    assert isinstance(ds, Dataset)
    assert ds.name == name
    assert ds.sample_rate == RATES[name]
    assert callable(ds.load)


def test_unknown_name():
    with pytest.raises(ConfigError) as info:
        registry.get("gtzan")
    message = str(info.value)
    assert "gtzan" in message
    for name in NAMES:
        assert name in message
    assert isinstance(info.value, MerError)


@pytest.mark.parametrize("name", ["", "4Q", "PMEmo", " synth"])
def test_names_are_exact(name):
    with pytest.raises(ConfigError):
        registry.get(name)


@pytest.mark.parametrize("name", NAMES)
def test_sample_rate_default_and_override(name):
    assert registry.sample_rate({"dataset": name, "pad": {"sample_rate": None}}) == RATES[name]
    rate = registry.sample_rate({"dataset": name, "pad": {"sample_rate": 16000}})
    assert rate == 16000 and isinstance(rate, int)


def test_sample_rate_unknown_dataset():
    with pytest.raises(ConfigError):
        registry.sample_rate({"dataset": "nope", "pad": {"sample_rate": None}})


@pytest.mark.parametrize("name", NAMES)
def test_layout_and_parts(name):
    ds = registry.get(name)
    assert ds.layout.strip()
    assert ds.parts and all(isinstance(p, str) and p for p in ds.parts)
    assert ds.title


def test_only_4q_is_quadrant_only():
    assert [n for n in NAMES if registry.get(n).continuous is False] == ["4q"]
    assert [n for n in NAMES if registry.get(n).continuous is None] == ["folder"]  # decided by its CSV


def test_only_folder_is_gathered():
    assert [n for n in NAMES if registry.get(n).gather is not None] == ["folder"]


def test_only_synth_is_generated():
    assert [n for n in NAMES if registry.get(n).generate is not None] == ["synth"]
