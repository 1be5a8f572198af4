"""``rnnlab sample RUN_DIR``: generate text from a trained model, streamed as it is drawn."""

from __future__ import annotations

import sys

from ..i18n import say
from ._options import _number, natural_int, positive_int, top_p_float


def register(subparsers):
    p = subparsers.add_parser(
        "sample", help=say("generate text from a trained model", "générer du texte avec un modèle entraîné"),
        description=say("Generate text from the model saved in RUN_DIR (best checkpoint).",
                        "Générer du texte avec le modèle sauvegardé dans DOSSIER (meilleur point)."))
    a = p.add_argument
    a("run_dir", metavar="RUN_DIR", help=say("folder written by rnnlab train",
                                             "dossier écrit par rnnlab train"))
    a("--prime", metavar="TEXT", help=say("text the model reads first (default: a newline)",
                                          "texte lu d'abord par le modèle (défaut : un saut de ligne)"))
    a("--temperature", type=_temperature, default=0.8, metavar="T",
      help=say("0 = greedy, 1 = the model's distribution (default 0.8)",
               "0 = glouton, 1 = la distribution du modèle (défaut 0.8)"))
    a("--top-k", type=_top_k, metavar="K", help=say("draw among the K most probable characters only",
                                                    "tirer parmi les K caractères les plus probables"))
    a("--top-p", type=top_p_float, metavar="P",
      help=say("draw from the smallest set of probability ≥ P",
               "tirer dans le plus petit ensemble de probabilité ≥ P"))
    a("--length", type=natural_int, default=500, metavar="N", help=say("characters to generate (default 500)",
                                                                       "caractères à générer (défaut 500)"))
    a("--seed", type=natural_int, metavar="N", help=say("random seed (same seed, same text)",
                                                        "graine aléatoire (même graine, même texte)"))
    a("--warmup", type=natural_int, default=200, metavar="N",
      help=say("the model first writes N characters of its own (thrown away) so that the prime is read "
               "from a mid-text state, not from zeros (default 200; 0: start from zeros)",
               "le modèle écrit d'abord N caractères (jetés) pour lire l'amorce depuis un état de milieu "
               "de texte, pas depuis zéro (défaut 200 ; 0 : partir de zéro)"))
    a("--checkpoint", choices=["best", "last"], help=say("which checkpoint (default best)",
                                                         "quel point de reprise (défaut best)"))
    p.set_defaults(run=run)


_temperature = _number(float, 0)
_top_k = positive_int


def run(args) -> int:
    from ..sample import default_prime, encode_prime, generate
    from ..train import load_model

    model, vocab, _ = load_model(args.run_dir, args.checkpoint)
    prime = default_prime(vocab) if args.prime is None else args.prime
    encode_prime(vocab, prime)  # unseen characters: a clear error before anything is printed
    out = sys.stdout
    if args.prime is not None:
        out.write(prime)

    def stream(char):
        out.write(char)
        out.flush()

    generate(model, vocab, args.length, prime=prime, temperature=args.temperature, top_k=args.top_k,
             top_p=args.top_p, seed=args.seed, on_text=stream, warmup=args.warmup)
    out.write("\n")
    return 0
