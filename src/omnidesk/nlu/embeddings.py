"""Sentence vectors from WordLlama, whose weights ship inside its PyPI wheel (MIT licence):
nothing is downloaded at run time — loading refuses to (``disable_download=True``).

WordLlama 0.4 looks for its packaged tokenizer under ``tokenizer/`` while the wheel puts it
under ``tokenizers/``; pointing the cache directory at the package itself finds both files.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

DIM = 256
_lock = threading.Lock()
_model: Any = None


def _load() -> Any:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                import wordllama
                from wordllama import WordLlama

                _model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                        disable_download=True, dim=DIM)
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty text is a zero vector
        vectors = np.asarray(_load().embed(texts, norm=True), dtype=np.float32)
    return np.nan_to_num(vectors)
