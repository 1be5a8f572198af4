"""Step-by-step traces: every intermediate of a recurrent cell under the course's name, with
the arithmetic substituted, forward and backward; renderers (terminal, Markdown, LaTeX, JSON,
HTML); the course's exercises solved as presets, with errata.

    >>> from rnnlab.trace import trace_forward, trace_backward
"""

from .backward import BackwardTrace, trace_backward
from .record import Line, Step, Trace, trace_forward

__all__ = ["trace_forward", "trace_backward", "Trace", "Step", "Line", "BackwardTrace"]
