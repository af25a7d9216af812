"""One analysis of a message, read by every later stage: its parts (each asked alone), and for each
part the kind of answer asked for, the constraints the texts would have to meet, the branch domain it
names, its key terms (weighed) and, for a follow-up, the topic it continues and its own words.

Nothing after this module looks at the question's wording again for these things.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from knowledge.conversation import Resolution, is_ellipsis, joined, resolve, rewrite, swap_sibling
from knowledge.question import (Constraint, answer_type, asks_definition, asks_yes_no, constraints, counted_thing,
                                domain_mentions, domain_terms, items_named, split_each, split_pieces, without_slot,
                                years_asked)
from knowledge.terms import Terms
from knowledge.text import key_terms
from knowledge.typos import Correction, correct
from zhibu.text import chinese_punctuation

_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_SERIES = re.compile(r"(?:[^、，。；：“”‘’（）]|（[^（）]*）)+(?:、(?:[^、，。；：“”‘’（）]|（[^（）]*）)+)+")
RARE_PASSAGES = 8  # a word in at most this many passages is specific
SHORT_QUESTION = 12  # content characters: a question this short may lean on the previous one


@dataclass(frozen=True)
class Analysis:
    """One question (one part of a message), as every stage reads it."""

    text: str  # what is searched: the part, or a follow-up rewritten from the topic and this turn
    asks: str  # what the part itself asks, in its own words (the kind of answer comes from here)
    kind: str | None  # amount, ratio, frequency, duration, body, place, date, count, list (None: open)
    yes_no: bool  # "能评吗", "算不算", "是不是…"
    years: tuple[int, ...]
    unmet: tuple[Constraint, ...]  # years, places, bodies the texts never speak of
    domain: str | None  # the branch domain it names, else the user's
    named_domain: bool  # the question names the domain itself (not the user's profile)
    sections: tuple[str, ...]  # that domain's names, as its sections are headed
    boost: tuple[str, ...]  # words added to the keyword query (the user's domain; a follow-up's own words)
    terms: Terms
    rare: tuple[tuple[str, ...], ...]  # forms of the things it names that few passages hold ("备案")
    items: int | None  # how many items a list question names ("哪五强": 5)
    counted: str | None  # what a count asks the number of ("几个委员": 委员)
    defines: bool  # asks what a term means ("…具体指啥")
    prefer: tuple[str, ...] = ()  # passages of the previous answer (for "这个钱谁来出")

    @property
    def focus(self) -> str | None:
        """A follow-up's own words, when they differ from what is searched."""
        return self.asks if self.asks != self.text else None


@dataclass
class Reading:
    """The whole message: its parts, or the item of the previous answer it points at."""

    message: str
    parts: list[Analysis]
    resolution: Resolution
    corrections: tuple[Correction, ...] = ()
    continuation: Analysis | None = None  # a short question read against the topic (asked when it helps)
    leans: bool = False  # …and it names nothing of its own: the topic reading is preferred
    topic: str | None = None


def analyse(search, text: str, this_year: int, *, asks: str | None = None, domain: str | None = None,
            prefer: tuple[str, ...] = ()) -> Analysis:
    """One question analysed once (`search`: the HybridSearch, for the corpus and the IDF of words)."""
    asks = asks or text
    yes_no = asks_yes_no(asks)
    named = domain_mentions(text)
    key = named[0][1] if named else domain
    sections = tuple(alias for alias in domain_terms(key) if len(alias) > 1) if key else ()
    boost = tuple(domain_terms(domain)[:1]) if domain and not named else ()
    if asks != text:  # a follow-up's own words (and their text forms) weigh most in the keyword query too
        boost += tuple(form for word, forms, _ in key_terms(asks) if len(word) > 1 for form in forms)
    kind = None if yes_no else answer_type(asks)
    terms = Terms.of(without_slot(kind, text), search, without_slot(kind, asks) if asks != text else None)
    return Analysis(text, asks, kind, yes_no, tuple(years_asked(text, this_year)),
                    tuple(constraints(text, search.corpus_text, search.corpus_years, this_year)), key, bool(named),
                    sections, boost, terms, rare_terms(terms, search), items_named(asks) if kind == "list" else None,
                    counted_thing(asks) if kind in ("count", "quantity") else None, asks_definition(asks), prefer)


def rare_terms(terms: Terms, search) -> tuple[tuple[str, ...], ...]:
    """The things the question names (nouns of two characters or more) that few passages hold."""
    return tuple(forms for word, forms, noun in zip(terms.words, terms.forms, terms.nouns)
                 if noun and len(word) > 1 and 0 < search.passages_with(word) <= RARE_PASSAGES)


def read(search, message: str, context: dict | None, domain: str | None, this_year: int) -> Reading:
    """The message analysed: typos corrected, the follow-up resolved against `context`, split into parts."""
    corrected, corrections = correct(message, search)
    resolution = resolve(corrected, context)
    topic = context.get("topic") if context else None
    if resolution.focus and resolution.follow_up and topic:
        swapped = swap_sibling(corrected, topic, listed_together(search.generation))
        resolution = replace(resolution, question=swapped, focus=None) if swapped else resolution
    reading = Reading(message, [], resolution, corrections, topic=topic)
    if resolution.ref is not None:
        return reading
    prefer = resolution.prefer
    if resolution.focus:
        reading.parts = [analyse(search, resolution.question, this_year, asks=resolution.focus, domain=domain, prefer=prefer)]
        return reading
    reading.parts = [analyse(search, text, this_year, asks=asks, domain=domain, prefer=prefer)
                     for text, asks in _parts(resolution.question, search)]
    if topic and not resolution.follow_up and len(reading.parts) == 1 and _short(corrected):
        # "一年评几次" after "最强党支部一般谁来评": a short question that names nothing of its own, or
        # does not stand alone, continues the topic.
        reading.leans = leans_on(corrected, search)
        reading.continuation = analyse(search, joined(topic, corrected), this_year, asks=corrected, domain=domain)
    return reading


def _parts(question: str, search) -> list[tuple[str, str]]:
    """(question, what it asks) for each part: a later piece that leans on the one before ("这钱从哪出")
    is read against it but still asks its own kind of answer."""
    pieces = split_pieces(question)
    parts = [(part, part) for part in split_each(pieces[0])]
    for previous, piece in zip(pieces, pieces[1:]):
        restates = answer_type(piece) is not None and answer_type(piece) == answer_type(previous)
        if len(parts) == 1 and (asks_yes_no(piece) or restates) and not is_ellipsis(piece) and leans_on(piece, search):
            # "…有啥奖励？是发钱吗", "啥时候出的，哪年哪月": a tail that names nothing of its own and asks
            # yes/no or the same kind again stays one question.
            parts = [(joined(parts[0][0], piece), parts[0][1])]
        elif leans_on(piece, search) and not leans_on(previous, search):
            parts.append((rewrite(piece, previous), piece))  # "…有啥奖励？这钱从哪出": of the piece before
        elif leans_on(piece, search):
            parts.append((piece, piece))  # "多久评一次？一般谁来评？": the piece before names nothing to lean on
        else:
            parts += [(part, part) for part in split_each(piece)]
    return parts


def leans_on(piece: str, search) -> bool:
    """A piece continues the one before when it names nothing of its own that the texts speak of
    ("哪几颗必须有？", "这钱从哪出") or says it continues ("那社区呢")."""
    if is_ellipsis(piece):
        return True
    return not any(noun and len(word) > 1 and search.passages_with(word) for word, _, noun in key_terms(piece))


@lru_cache(maxsize=4)
def listed_together(generation) -> tuple[tuple[str, ...], ...]:
    """The texts' "、" series, as their items ("组织评定、党员评议、群众评判、社会评价"), longest first."""
    from knowledge.judge import top_level

    found = set()
    for passage in generation.passages:
        for run in _SERIES.findall(chinese_punctuation(passage.text)):
            items = tuple(item.strip() for item in top_level(run, "、") if item.strip())
            if len(items) >= 3:
                found.add(items)
    return tuple(sorted(found, key=lambda items: (-len(items), items)))


def _short(question: str) -> bool:
    return len(_CONTENT.findall(question)) <= SHORT_QUESTION
