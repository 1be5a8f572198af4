"""``rnnlab evaluate RUN_DIR``: loss, bits per character and perplexity of a text under a model."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ValueRangeError
from ..i18n import integer, say


def register(subparsers):
    p = subparsers.add_parser(
        "evaluate", help=say("score a text with a trained model", "évaluer un texte avec un modèle entraîné"),
        description=say("Cross-entropy (nats and bits per character) and perplexity of a text "
                        "under the model in RUN_DIR; by default its own validation text.",
                        "Entropie croisée (nats et bits par caractère) et perplexité d'un texte "
                        "sous le modèle de DOSSIER ; par défaut son propre texte de validation."))
    p.add_argument("run_dir", metavar="RUN_DIR", help=say("folder written by rnnlab train",
                                                          "dossier écrit par rnnlab train"))
    src = p.add_mutually_exclusive_group()
    src.add_argument("--corpus", metavar="NAME|PATH", help=say("a whole corpus (bundled name or file)",
                                                               "un corpus entier (nom fourni ou fichier)"))
    src.add_argument("--text", metavar="FILE", help=say("a UTF-8 text file", "un fichier texte UTF-8"))
    p.add_argument("--checkpoint", choices=["best", "last"], help=say("which checkpoint (default best)",
                                                                      "quel point de reprise (défaut best)"))
    p.set_defaults(run=run)


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..data.corpora import load_corpus
    from ..train import bits_per_char, evaluate, load_model, perplexity, validation_streams

    model, vocab, meta = load_model(args.run_dir, args.checkpoint)
    cfg = meta["config"]
    if args.corpus or args.text:
        source = args.corpus or args.text
        ids = vocab.encode(load_corpus(source))
    else:
        corpus = cfg.get("corpus", "shakespeare")
        source = say(f"validation part of {corpus}", f"partie validation de {corpus}")
        ids = validation_ids(args.run_dir, meta, vocab)
    # read as in training: the same number of streams, long windows
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, in one line
        loss = evaluate(model, ids, batch_size=validation_streams(len(ids) - 1),
                        seq_len=max(int(cfg.get("seq_len", 64)), 128))
    if not math.isfinite(loss):
        raise ValueRangeError(say(f"{args.run_dir}: the model's cross-entropy on {source} is {loss}: its "
                                  "weights make its outputs overflow (a diverged or edited checkpoint)",
                                  f"{args.run_dir} : l'entropie croisée du modèle sur {source} vaut {loss} : "
                                  "ses poids font déborder ses sorties (point de sauvegarde divergé ou "
                                  "modifié)"))
    table = Table(title=say(f"{source}: {integer(len(ids) - 1)} characters predicted",
                            f"{source} : {integer(len(ids) - 1)} caractères prédits"),
                  show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_row(say("cross-entropy (nats/char)", "entropie croisée (nats/car.)"), f"{loss:.4f}")
    table.add_row(say("bits per character", "bits par caractère"), f"{bits_per_char(loss):.4f}")
    table.add_row(say("perplexity", "perplexité"), f"{perplexity(loss):.3f}")
    Console().print(table)
    return 0


def validation_ids(run_dir, meta, vocab):
    """The validation text of the run in ``run_dir``, read from the corpus its checkpoint names
    only once that corpus is checked to be the one the run was trained on: by the sha256 of its
    bytes the run recorded, or (a run of an rnnlab that recorded none) by its batcher's sha256 of
    the training ids."""
    import hashlib
    from pathlib import Path

    import numpy as np

    from ..data.corpora import read_corpus
    from ..data.text import split_train_val
    from ..errors import CheckpointError, DataError
    from ..train import recorded_corpus

    cfg, checkpoint = meta["config"], Path(run_dir) / "last.json"
    corpus = cfg.get("corpus", "shakespeare")
    text, _ = read_corpus(corpus, expect_sha256=recorded_corpus(meta, checkpoint), recorded_in=checkpoint)
    saved = meta["job"].get("batcher", {}).get("data_sha256")
    why_en = f"its training part differs from the sha256 {str(saved)[:16]}… recorded in {checkpoint}"
    why_fr = f"sa partie d'entraînement diffère du sha256 {str(saved)[:16]}… noté dans {checkpoint}"
    try:
        train, val = split_train_val(vocab.encode(text), float(cfg.get("val_fraction", 0.1)))
        same = saved == hashlib.sha256(np.ascontiguousarray(train.astype(np.int64)).tobytes()).hexdigest()
    except DataError as e:  # a character the run never saw
        same, why_en, why_fr = False, str(e), str(e)
    if not same:
        raise CheckpointError(say(f"corpus {corpus}: not the text the run in {run_dir} was trained on "
                                  f"({why_en}); give a text with --corpus or --text",
                                  f"corpus {corpus} : pas le texte de l'entraînement de {run_dir} "
                                  f"({why_fr}) ; donner un texte avec --corpus ou --text"))
    return val
