"""Embedders for the retrieval benchmark, with the one method ingest and retrieval call:
``embed(texts, *, model=None) -> list[list[float]]`` (unit vectors, zero-padded to the
schema's ``EMBEDDING_DIMENSIONS``; zeros change neither cosine similarity nor norm).

- ``HashEmbedder``: the tests' ``embedding_for`` (tests/doubles/ollama.py): deterministic, no
  meaning; only the full-text half of the hybrid search finds anything with it.
- ``WordLlamaEmbedder``: the 256-d ``l2_supercat`` model shipped inside the ``wordllama``
  wheel (a dev dependency): token embeddings averaged, offline, a few ms per batch on a CPU.
  The wheel holds the weights under ``wordllama/weights/`` and the tokenizer under
  ``wordllama/tokenizers/``; the loader looks for the tokenizer in the package under
  ``tokenizer/`` (singular), then in a cache dir under ``tokenizers/``, and otherwise
  downloads. So both files are linked (or copied) into a cache dir of the expected layout and
  loaded with ``disable_download=True``: nothing is ever fetched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256


def _padded(vector: list[float], dimensions: int) -> list[float]:
    if len(vector) > dimensions:
        raise ValueError(f"a {len(vector)}-d vector does not fit EMBEDDING_DIMENSIONS={dimensions}")
    return vector + [0.0] * (dimensions - len(vector))


class HashEmbedder:
    """The tests' deterministic hash vectors (same text, same vector; no meaning)."""

    name = "hash"

    def __init__(self, dimensions: int) -> None:
        from tests.doubles.ollama import embedding_for

        self.dimensions = dimensions
        self._embedding_for = embedding_for
        self.calls = 0
        self.texts = 0

    def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        self.calls += 1
        self.texts += len(texts)
        return [self._embedding_for(text, self.dimensions) for text in texts]


def wordllama_cache_prepare(cache_dir: Path) -> Path:
    """A cache dir holding the wheel's own weights and tokenizer in the layout the loader
    expects (``weights/``, and the tokenizer under both ``tokenizers/`` and ``tokenizer/``, for
    loader versions that differ); linked where possible, else copied."""
    import wordllama
    from wordllama import WordLlama
    from wordllama.config import WordLlamaModels

    package = Path(wordllama.__file__).resolve().parent
    model_uri = getattr(WordLlamaModels, WORDLLAMA_CONFIG)
    files = {
        "weights": package / "weights" / WordLlama.get_filename(WORDLLAMA_CONFIG, WORDLLAMA_DIM),
        "tokenizers": package / "tokenizers" / model_uri.tokenizer_config,
    }
    for kind, source in files.items():
        if not source.is_file():
            raise FileNotFoundError(f"the wordllama wheel has no {source.relative_to(package)}")
        for folder in ("tokenizers", "tokenizer") if kind == "tokenizers" else (kind,):
            target = cache_dir / folder / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                continue
            try:
                target.symlink_to(source)
            except OSError:
                shutil.copyfile(source, target)
    return cache_dir


class WordLlamaEmbedder:
    """The 256-d WordLlama model of the wheel, offline, unit vectors zero-padded."""

    name = "wordllama"

    def __init__(self, dimensions: int, *, cache_dir: Path) -> None:
        from wordllama import WordLlama

        self.dimensions = dimensions
        self.model = WordLlama.load(
            config=WORDLLAMA_CONFIG,
            dim=WORDLLAMA_DIM,
            cache_dir=wordllama_cache_prepare(cache_dir),
            disable_download=True,
        )
        self.calls = 0
        self.texts = 0

    def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        self.calls += 1
        self.texts += len(texts)
        if not texts:
            return []
        vectors = self.model.embed(list(texts), norm=True, return_np=True)
        return [_padded([float(x) for x in row], self.dimensions) for row in vectors]
