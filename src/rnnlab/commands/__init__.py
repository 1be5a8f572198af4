"""One module per ``rnnlab`` subcommand (see :mod:`rnnlab.cli`). Each defines
``register(subparsers)``, which adds a parser and sets ``run=<function>`` as its default."""
