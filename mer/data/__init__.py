"""Datasets: one module per dataset behind a registry (:mod:`mer.data.registry`)."""

from mer.data.base import Annotations, Archive, Dataset
from mer.data.registry import get, names

__all__ = ["Annotations", "Archive", "Dataset", "get", "names"]
