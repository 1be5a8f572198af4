"""The course's exercises, solved: each preset builds a :class:`~rnnlab.trace.document.Document`
in the current language (``rnnlab exercise ID``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...errors import ConfigError
from ...i18n import say
from . import course000, course001, course002, course004


@dataclass(frozen=True)
class Preset:
    """One exercise of the course: its id, where it comes from, its title, and the function that solves it."""

    id: str
    seed: str
    title_en: str
    title_fr: str
    build: Callable

    @property
    def title(self):
        return say(self.title_en, self.title_fr)


PRESETS = {p.id: p for p in (
    Preset("000-1.1", "000 §1.1", "vanilla RNN: h_1..h_3, y_1..y_3, plot of h_t", "RNN simple : h_1..h_3, y_1..y_3, tracé de h_t", course000.ex11),
    Preset("000-1.2", "000 §1.2", "vanishing gradient after 3, 5, 10 steps; < 0.01; eigenvalues > 1",
           "gradient qui disparaît après 3, 5, 10 pas ; < 0,01 ; valeurs propres > 1", course000.ex12),
    Preset("000-2.1", "000 §2.2", "one-neuron LSTM, three steps gate by gate", "LSTM à un neurone, trois pas porte par porte", course000.ex21),
    Preset("000-2.2", "000 §2.2", "two-neuron LSTM, all values at t = 1 (and t = 2)", "LSTM à deux neurones, toutes les valeurs à t = 1 (et t = 2)", course000.ex22),
    Preset("000-2.3", "000 §2.3", "LSTM gradient flow: 0.9^10, explosion, ∂L/∂W_f by BPTT", "flux du gradient LSTM : 0,9^10, explosion, ∂L/∂W_f par BPTT", course000.ex23),
    Preset("001-lstm", "001", "the course's LSTM unit (2.7/1.63/1.62 … 0.98), exact vs printed", "l'unité LSTM du cours (2,7/1,63/1,62 … 0,98), exact contre imprimé", course001.lstm_unit),
    Preset("002-1", "002 ex. 1", "Elman RNN: y_2 unrolled, symbolic and numeric", "RNN d'Elman : y_2 déroulé, symbolique et numérique", course002.ex1),
    Preset("002-2", "002 ex. 2", "myRNN corrected; shapes for B=5, T=13, d=7, 3 classes", "myRNN corrigé ; formes pour B=5, T=13, d=7, 3 classes", course002.ex2),
    Preset("002-3", "002 ex. 3", "∂h_1/∂U by reverse-mode autodiff (w_0 … w_8)", "∂h_1/∂U par différentiation automatique inverse (w_0 … w_8)", course002.ex3),
    Preset("004-gru", "004", "GRU equations (Cho 2014) on a worked example; PyTorch's variant", "équations du GRU (Cho 2014) sur un exemple ; la variante PyTorch", course004.gru),
)}


def build(preset_id: str, precision: int = 4):
    """The document of one exercise, in the current language."""
    if preset_id not in PRESETS:
        raise ConfigError(f"exercise: expected one of {', '.join(PRESETS)}, got {preset_id!r}")
    if not 0 <= precision <= 15:
        raise ConfigError(f"--precision: expected an integer between 0 and 15, got {precision}")
    from ...i18n import language

    doc = PRESETS[preset_id].build(precision=precision)
    doc.lang = language()
    return doc


__all__ = ["PRESETS", "Preset", "build"]
