"""Data for the language models: character vocabularies, splits, char-rnn batches, the seed's
windows (:mod:`rnnlab.data.text`) and the bundled corpora (:mod:`rnnlab.data.corpora`).
Time series (:mod:`rnnlab.data.series`) and synthetic tasks (:mod:`rnnlab.data.tasks`) are
imported from their modules."""

from .corpora import CORPORA, load_corpus
from .text import (DEFAULT_FALLBACK, StreamBatcher, Vocabulary, normalize, one_hot,
                   split_train_val, windowed_dataset)

__all__ = ["Vocabulary", "StreamBatcher", "split_train_val", "windowed_dataset", "one_hot",
           "normalize", "DEFAULT_FALLBACK", "CORPORA", "load_corpus"]
