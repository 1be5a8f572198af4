"""``rnnlab evaluate RUN_DIR``: loss, bits per character and perplexity of a text under a model."""

from __future__ import annotations


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
    from ..data.text import split_train_val
    from ..train import bits_per_char, evaluate, load_model, perplexity
    from ..train import validation_streams

    model, vocab, meta = load_model(args.run_dir, args.checkpoint)
    cfg = meta["config"]
    if args.corpus or args.text:
        source = args.corpus or args.text
        ids = vocab.encode(load_corpus(source))
    else:
        corpus = cfg.get("corpus", "shakespeare")
        source = say(f"validation part of {corpus}", f"partie validation de {corpus}")
        _, ids = split_train_val(vocab.encode(load_corpus(corpus)), float(cfg.get("val_fraction", 0.1)))
    cfg = meta["config"]  # read as in training: the same number of streams, long windows
    loss = evaluate(model, ids, batch_size=validation_streams(len(ids) - 1),
                    seq_len=max(int(cfg.get("seq_len", 64)), 128))
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
