"""The course's exercises, solved: each preset builds a :class:`~rnnlab.trace.document.Document`
in the current language (``rnnlab exercise ID``).

The five documents of the course are named by their titles: the TP (lab sheet), the Cours (lecture
notes), the TD (exercise sheet), the Notebook (char-level RNN from scratch) and the Chapitre (book
chapter). Ids start with the document's short name (``tp-1.1``, ``cours-lstm``, ``td-3``,
``notebook-code``, ``chapitre-gru``); the ids of the first release still work (:data:`ALIASES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...errors import ConfigError
from ...i18n import say
from . import course000, course001, course002, course003, course004


@dataclass(frozen=True)
class Preset:
    """One exercise of the course: its id, where it comes from (document, section, exercise), its
    title, and the function that solves it."""

    id: str
    source: str
    title_en: str
    title_fr: str
    build: Callable

    @property
    def title(self):
        return say(self.title_en, self.title_fr)


PRESETS = {p.id: p for p in (
    Preset("tp-1.1", "TP §1.1, ex. 1.1", "vanilla RNN: h_1..h_3, y_1..y_3, plot of h_t",
           "RNN simple : h_1..h_3, y_1..y_3, tracé de h_t", course000.ex11),
    Preset("tp-1.2", "TP §1.2, ex. 1.2", "vanishing gradient after 3, 5, 10 steps; < 0.01; eigenvalues > 1",
           "gradient qui disparaît après 3, 5, 10 pas ; < 0.01 ; valeurs propres > 1", course000.ex12),
    Preset("tp-2.1", "TP §2.2, ex. 2.1", "one-neuron LSTM, three steps gate by gate",
           "LSTM à un neurone, trois pas porte par porte", course000.ex21),
    Preset("tp-2.2", "TP §2.2, ex. 2.2", "two-neuron LSTM, all values at t = 1 (and t = 2)",
           "LSTM à deux neurones, toutes les valeurs à t = 1 (et t = 2)", course000.ex22),
    Preset("tp-2.3", "TP §2.3, ex. 2.3", "LSTM gradient flow: 0.9^10, explosion, ∂L/∂W_f by BPTT",
           "flux du gradient du LSTM : 0.9^10, explosion, ∂L/∂W_f par BPTT", course000.ex23),
    Preset("cours-lstm", "Cours, LSTM", "the lecture's LSTM unit (2.7/1.63/1.62 … 0.98), exact vs printed",
           "l'unité LSTM du cours (2.7/1.63/1.62 … 0.98), exacte contre imprimée", course001.lstm_unit),
    Preset("cours-backprop", "Cours, Rappel", "the backpropagation recap: ∂E/∂w16 and ∂E/∂w7 through h4",
           "le rappel de rétropropagation : ∂E/∂w16 et ∂E/∂w7 à travers h4", course001.backprop),
    Preset("cours-days", "Cours, Résumé",
           "the LSTM unit over four days: day 5 for both sequences (≈ 0, ≈ 0.97)",
           "l'unité LSTM sur quatre jours : le jour 5 des deux séquences (≈ 0, ≈ 0.97)", course001.days),
    Preset("cours-architectures", "Cours, Types", "the four architectures with the Cours' examples, each run",
           "les quatre architectures avec les exemples du Cours, chacune exécutée", course001.architectures),
    Preset("td-1", "TD, ex. 1", "Elman RNN: y_2 unrolled, symbolic and numeric",
           "RNN d'Elman : y_2 déroulé, symbolique et numérique", course002.ex1),
    Preset("td-2", "TD, ex. 2", "myRNN corrected; shapes for B=5, T=13, d=7, 3 classes",
           "myRNN corrigé ; formes pour B=5, T=13, d=7, 3 classes", course002.ex2),
    Preset("td-3", "TD, ex. 3", "∂h_1/∂U by reverse-mode autodiff (w_0 … w_8)",
           "∂h_1/∂U par différentiation automatique en mode inverse (w_0 … w_8)", course002.ex3),
    Preset("notebook-code", "Notebook", "the Notebook's code run as is: its five bugs, minimally fixed",
           "le code du Notebook exécuté tel quel : ses cinq erreurs, corrigées a minima", course003.code),
    Preset("notebook-steps", "Notebook", "vocabulary, windows, one-hot, forward, loss, BPTT with clipping",
           "vocabulaire, fenêtres, vecteurs « one-hot », passe avant, perte, BPTT avec écrêtage",
           course003.steps),
    Preset("notebook-training", "Notebook",
           "its corrected train_rnn: learning rates that converge and diverge; generation",
           "son train_rnn corrigé : taux qui convergent et qui divergent ; génération",
           course003.training),
    Preset("chapitre-gradient", "Chapitre, RNN", "the chapter's ∇_{W_h} h_t as a sum, checked on a scalar "
           "RNN", "le ∇_{W_h} h_t du chapitre sous forme de somme, vérifié sur un RNN scalaire",
           course004.gradient_sum),
    Preset("chapitre-gru", "Chapitre, GRU",
           "GRU equations (Cho's reset, Chung's update) on a worked example; PyTorch's variant",
           "équations du GRU (réinitialisation de Cho, mise à jour de Chung) sur un exemple ; la variante "
           "PyTorch", course004.gru),
)}

# the ids of the first release, named after the course's file numbers: still accepted
ALIASES = {"000-1.1": "tp-1.1", "000-1.2": "tp-1.2", "000-2.1": "tp-2.1", "000-2.2": "tp-2.2",
           "000-2.3": "tp-2.3", "001-lstm": "cours-lstm", "002-1": "td-1", "002-2": "td-2", "002-3": "td-3",
           "004-gru": "chapitre-gru"}


def resolve(preset_id: str) -> str:
    """The current id of ``preset_id`` (an id, or an alias from the first release)."""
    pid = ALIASES.get(preset_id, preset_id)
    if pid not in PRESETS:
        raise ConfigError(say(f"exercise: expected one of {', '.join(PRESETS)}, got {preset_id!r}",
                              f"exercice : l'un de {', '.join(PRESETS)} attendu, reçu « {preset_id} »"))
    return pid


def build(preset_id: str, precision: int = 4):
    """The document of one exercise, in the current language."""
    pid = resolve(preset_id)
    if not 0 <= precision <= 15:
        raise ConfigError(say(f"--precision: expected an integer between 0 and 15, got {precision}",
                              f"--precision : entier entre 0 et 15 attendu, reçu {precision}"))
    from ...i18n import language

    doc = PRESETS[pid].build(precision=precision)
    doc.lang = language()
    return doc




def errata(precision: int = 4):
    """Every erratum of every exercise in one table (``rnnlab exercise errata``): which exercise,
    where in which document, what the document says, what is correct, and why."""
    from ..document import Document, Table

    doc = Document("errata", say("Errata of the course's documents", "Errata des documents du cours"),
                   precision=precision)
    quoted = (lambda text: text) if say("en", "fr") == "en" else (lambda text: f"« {text} »")
    rows = tuple((pid, e.where, quoted(e.seed_says), quoted(e.correct), e.why)
                 for pid in PRESETS for e in build(pid, precision).errata)
    headers = ("ID", say("where", "où"), say("the document says", "le document dit"),
               say("correct", "corrigé"), say("why", "pourquoi"))
    doc.add(Table(headers, rows, key="errata", fields=("id", "where", "seed_says", "correct", "why")))
    from ...i18n import language

    doc.lang = language()
    return doc


__all__ = ["ALIASES", "PRESETS", "Preset", "build", "errata", "resolve"]
