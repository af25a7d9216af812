"""Deterministic 最强党支部 self-check: branch profile in, verdict with reasons and cited clauses out.

The API the CLI and the chat bot use. Pure and fast: never imports the embedding stack. Each name is
imported from its module on first use, so `zhibu check` does not load the chat bot's question flow.
"""

from importlib import import_module

_MODULES = {
    "evaluators.engine": ("Benefit", "CriterionResult", "Evaluation", "ProfileError", "evaluate"),
    "evaluators.profile": ("DOMAINS", "resolve_domain"),
    "evaluators.questions": ("Question", "parse_answer", "profile_from_answers", "questions_for", "verdict_settled"),
    "evaluators.coverage": ("known_parameters", "year_coverage", "year_notice"),
    "evaluators.report": ("render_details", "render_report"),
}
_MODULE_OF = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'evaluators' has no attribute {name!r}")
    value = getattr(import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value
