"""Deterministic 最强党支部 self-check: branch profile in, verdict with reasons and cited clauses out.

The API the CLI and the chat bot use. Pure and fast: never imports the embedding stack.
"""

from evaluators.engine import Benefit, CriterionResult, Evaluation, ProfileError, evaluate
from evaluators.profile import DOMAINS, resolve_domain
from evaluators.questions import Question, parse_answer, profile_from_answers, questions_for, verdict_settled
from evaluators.coverage import known_parameters, year_coverage, year_notice
from evaluators.report import render_details, render_report

__all__ = [
    "DOMAINS",
    "Benefit",
    "CriterionResult",
    "Evaluation",
    "ProfileError",
    "Question",
    "evaluate",
    "known_parameters",
    "parse_answer",
    "profile_from_answers",
    "questions_for",
    "render_details",
    "render_report",
    "resolve_domain",
    "verdict_settled",
    "year_coverage",
    "year_notice",
]
