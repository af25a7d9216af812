"""The branch profile (contract: branch-profile.md): its keys, read as pydantic models, plus flat/nested key helpers.

Lenient about how a value is written (是/否, Chinese enum labels, "8万元", "35%", "场所、设施"), strict
about keys: an unknown key is rejected by name, so a typo can never pass as a missing fact.
Each key is a `FieldSpec` (plain data); the pydantic models are built from them on first need. A profile
whose every value is already in its final form once Zhibu's own readers have run (是 → True, 优秀 →
excellent, "8万" → 80000.0) is read without pydantic, which would return exactly the same (importing
pydantic is most of a cold `zhibu check`; tests/evaluators/test_evaluator_profile.py compares the two
on generated profiles). Anything else goes to pydantic, which also words the problems.
Problems are raised as `InvalidProfile` (key + Chinese problem); the engine adds the labels from the
rulebook and turns them into `BadInput`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Annotated, Any, Callable, Literal, NamedTuple

from zhibu.text import normalize_chars
from zhibu.errors import quoted, quoted_value

# Contract enums: value → Chinese label, in the contract's order.
DOMAINS: dict[str, str] = {
    "gacha_village": "嘎查村",
    "community": "社区",
    "state_enterprise": "国有企业和集体企业",
    "university": "高等学校",
    "private_enterprise": "非公有制企业",
    "social_organization": "社会组织",
    "public_hospital": "公立医院",
    "school": "中小学校",
    "other_institution": "其他事业单位",
    "government_organ": "各级党和国家机关",
    "floating_members": "流动党员",
    "retired_staff": "离退休干部职工",
}
# Everyday names of the domains (after 党支部/党组织 is dropped): 村 → 嘎查村, 国企 → 国有企业和集体企业 …
DOMAIN_ALIASES = {
    "村": "gacha_village", "嘎查": "gacha_village", "行政村": "gacha_village", "农村": "gacha_village",
    "国企": "state_enterprise", "国有企业": "state_enterprise", "集体企业": "state_enterprise",
    "高校": "university", "大学": "university", "学院": "university",
    "民企": "private_enterprise", "非公": "private_enterprise", "非公企业": "private_enterprise",
    "私营企业": "private_enterprise", "民营企业": "private_enterprise",
    "医院": "public_hospital", "学校": "school", "中小学": "school", "中学": "school", "小学": "school",
    "事业单位": "other_institution", "机关": "government_organ", "党政机关": "government_organ",
    "离退休": "retired_staff", "退休": "retired_staff", "离退休党员": "retired_staff",
}
_DOMAIN_SUFFIXES = re.compile(r"(的)?(党支部|党组织|支部|党委|领域)$")

ORG_RATINGS = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}
# "other": a 高校 branch that is neither (机关、后勤、离退休): the 教师-only requirement does not apply to it.
BRANCH_KINDS = {"teacher": "教师党支部", "student": "学生党支部", "other": "其他党支部（如机关、后勤、离退休党支部）"}
SIX_HAVES = {item: item for item in ("场所", "设施", "标志", "党旗", "书报", "制度")}
EIGHT_HAVES = {item: item for item in ("党旗", "党员名册", "规章制度", "电教设备", "桌椅", "计算机", "图书资料", "档案柜")}
# The basic standards a branch can state (工作指南 四(一) “五个基本”, 四(二) “五强”; rules/basic.yaml).
BASIC_DONE = {item: item for item in ("按期换届", "书记轮训", "三会一课", "组织生活会", "民主评议党员", "主题党日",
                                      "谈心谈话", "党费收缴管理")}
FIVE_STRONG = {item: item for item in ("政治功能强", "队伍建设强", "组织生活强", "作用发挥强", "群众工作强")}

# Keys that name the branch and its year rather than describe it; no rule needs to judge them.
IDENTITY_KEYS = ("domain", "year", "name")
# Accepted beyond the contract and not needed by every domain: read by a benefit, or by a criterion of some domains.
EXTRA_KEYS = ("team_annual_pay_yuan", "secretary_annual_pay_yuan", "basic.returned_dues_used")
# Cross-field bounds from the contract: the first key may not exceed the second.
UPPER_BOUNDS = {"members_rating_excellent": "members_reviewing"}

# A name goes into reports and chat: a NUL or another control character (category Cc) is a broken export.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f-\x9f]*$"
_LIST_SEPARATORS = re.compile(r"[、,，;；\s]+")
# Everyday number answers: 8万元, 大概8万左右, 第5名, 九颗, 两名, 三十人, 一万二.
_HEDGES = re.compile(r"^(?:大概|大约|约|差不多|将近|接近|估计|应该是|一共|总共|共|合计|超过|不少于|不低于|至少|第)+"
                     r"|(?:左右|上下|多|余|以上)+$")
_UNIT = re.compile(r"(?:颗星|个人|名党员|块钱|元|块|人|名|位|个|次|星|颗|分|项)$")
_NUMBER = re.compile(r"^([-+]?\d+(?:\.\d+)?)(万)?$")
_CHINESE_NUMERALS = frozenset("零〇一二两三四五六七八九十百千万亿点壹贰叁肆伍陆柒捌玖拾佰仟.0123456789")
_PERCENT_WORDS = re.compile(r"^百分之(.+)$")
# Dates as people write them: 2008-05-01, 2008年5月1日, 2008.5, 2008年5月, 2008年, 今年, 去年3月.
_DATE = re.compile(r"^(\d{4}|\d{2}(?=年)|今年|去年|前年)\s*年?\s*(?:[-/.]?\s*(\d{1,2})\s*(?:月份?)?\s*(?:[-/.]?\s*(\d{1,2})\s*[日号]?)?)?$")
_SPOKEN_MONTH = re.compile(r"(?<=年)([一二三四五六七八九十]{1,3})(?=月)")  # 去年五月 → 去年5月
_RELATIVE_YEARS = {"今年": 0, "去年": 1, "前年": 2}
_BOOL_WORDS = {"是": True, "true": True, "True": True, "TRUE": True, "1": True,
               "否": False, "false": False, "False": False, "FALSE": False, "0": False}


class InvalidProfile(Exception):
    """Every problem found in one profile, as (dotted key, Chinese problem) pairs."""

    def __init__(self, problems: list[tuple[str, str]], domain: str | None):
        super().__init__("; ".join(f"{key}: {text}" for key, text in problems))
        self.problems = problems
        self.domain = domain


@dataclass(frozen=True)
class AskAs:
    """How the self-check asks for a field; enum/multi fields carry their (value, label) choices."""

    kind: str
    choices: tuple[tuple[str, str], ...] = ()


def typed(value: str) -> str:
    """Input as typed with a Chinese input method (full-width digits, ％, ，) in plain form."""
    return normalize_chars(value).strip()


def parse_number(text: str) -> int | float:
    """'80,000元' → 80000, '8万' → 80000, '大概8万左右' → 80000, '两名' → 2, '第5名' → 5; ValueError otherwise."""
    core = _UNIT.sub("", _HEDGES.sub("", typed(text).replace(",", "").replace(" ", "")))
    return core_number(_HEDGES.sub("", core), text)  # 8万多元 → 8万


def core_number(core: str, text: str) -> int | float:
    """A bare number: digits (with 万: 8万, 1.5万) or Chinese numerals (三十, 一万二); `text` names it in errors."""
    match = _NUMBER.match(core)
    if match:
        number = float(match.group(1)) * (10_000 if match.group(2) else 1)
    elif core and set(core) <= _CHINESE_NUMERALS and not core.isascii():
        number = float(_chinese_number(core, text))
    else:
        raise ValueError(f"“{quoted(text)}”不是有效的数字")
    return int(number) if number.is_integer() else number


def _chinese_number(core: str, text: str) -> float:
    import cn2an  # only for Chinese numerals: importing it costs ~0.3 s, which `zhibu check` should not pay

    try:
        return cn2an.cn2an(core, "smart")
    except (ValueError, KeyError, IndexError):
        raise ValueError(f"“{quoted(text)}”不是有效的数字") from None


def parse_share(text: str) -> float:
    """'35%' → 0.35, '百分之三十' → 0.3, '0.35' → 0.35; a bare number above 1 is read as a percentage."""
    word = typed(text)
    spoken = _PERCENT_WORDS.match(word)
    if spoken or word.endswith("%"):
        return parse_number(spoken.group(1) if spoken else word[:-1]) / 100
    number = parse_number(word)
    return number / 100 if number > 1 else number


def parse_date(text: str, today: date | None = None) -> date:
    """A day, or the first day of the month or year when only those are given (enough for 组建满一年)."""
    today = today or date.today()
    match = _DATE.match(_SPOKEN_MONTH.sub(_month_digits, typed(text)))
    try:
        head, month, day = match.groups()  # type: ignore[union-attr]
        if head in _RELATIVE_YEARS:
            year = today.year - _RELATIVE_YEARS[head]
        else:  # 08年 → 2008, 98年 → 1998: a two-digit year is the latest such year up to now
            year = int(head) if len(head) == 4 else 2000 + int(head) - (100 if 2000 + int(head) > today.year else 0)
        return date(year, int(month or 1), int(day or 1))
    except (AttributeError, ValueError):
        raise ValueError(f"“{quoted(text)}”不是有效日期，请写成“2015年6月1日”“2015年6月”或“2015-06-01”") from None


def _month_digits(match: re.Match) -> str:
    return str(_chinese_number(match.group(1), match.group(0)))


def _to_bool(value: Any) -> Any:
    if type(value) is str:
        known = _BOOL_WORDS.get(value)
        return known if known is not None else _BOOL_WORDS.get(typed(value).lower(), value)
    return value


def _to_number(value: Any) -> Any:
    return parse_number(value) if isinstance(value, str) else value


def _to_share(value: Any) -> Any:
    if isinstance(value, str):
        text = typed(value)
        return parse_share(text) if text.endswith("%") or text.startswith("百分之") else parse_number(text)
    return value


def _to_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return parse_date(value)
    raise ValueError("应为日期，如 2015-06-01")  # a bare number would otherwise be read as a Unix timestamp


def resolve_domain(text: Any) -> str | None:
    """A domain from its value, its label or an everyday name: 嘎查村党支部, 村, 社区, 国企, 机关党支部."""
    if not isinstance(text, str):
        return None
    word = typed(text)
    if word in DOMAINS:
        return word
    word = _DOMAIN_SUFFIXES.sub("", word) or word
    by_label = {label: value for value, label in DOMAINS.items()}
    if word in by_label or word in DOMAIN_ALIASES:
        return by_label.get(word) or DOMAIN_ALIASES[word]
    partial = [value for value, label in DOMAINS.items() if word and (word in label or label in word)]
    return partial[0] if len(partial) == 1 else None


def _choice(labels: dict[str, str]):
    """Accept a value or its Chinese label (and, for list items, a leading 有: 有党旗 → 党旗)."""
    by_label = {label: value for value, label in labels.items()}

    def to_value(item: Any) -> Any:
        if type(item) is not str or item in labels:
            return item
        text = typed(item)
        if text in labels:
            return text
        return by_label.get(text) or by_label.get(text.removeprefix("有"), text)

    return to_value


def split_items(text: str) -> list[str]:
    """'场所、设施,党旗;书报' → its items (separators 、 , ; and their full-width forms, spaces)."""
    return [item for item in _LIST_SEPARATORS.split(typed(text)) if item]


def _to_list(value: Any) -> Any:
    return split_items(value) if isinstance(value, str) else value


def _name_text(value: Any) -> Any:
    return str(value) if isinstance(value, (int, float)) else value


def _domain_value(value: Any) -> Any:
    return resolve_domain(value) or value


class FieldSpec(NamedTuple):
    """One profile key: its kind (how the self-check asks for it, or domain / year / name), bounds,
    choices (value → label), default, and Zhibu's own reader that runs before the type is checked."""

    kind: str
    low: float | None = None
    high: float | None = None
    choices: dict[str, str] | None = None
    default: Any = None
    read: Callable[[Any], Any] | None = None
    read_item: Callable[[Any], Any] | None = None  # a list's items (multi)
    required: bool = False


def _enum(labels: dict[str, str]) -> FieldSpec:
    return FieldSpec("enum", choices=labels, read=_choice(labels))


def _items(labels: dict[str, str]) -> FieldSpec:
    return FieldSpec("multi", choices=labels, read=_to_list, read_item=_choice(labels))


Flag = FieldSpec("bool", read=_to_bool)
Count = FieldSpec("int", low=0)
Money = FieldSpec("number", low=0, read=_to_number)
Share = FieldSpec("ratio", low=0, high=1, read=_to_share)
Day = FieldSpec("date", read=_to_date)
_ASKED_KINDS = frozenset({"bool", "int", "number", "ratio", "date", "enum", "multi"})

NEGATIVE_FIELDS = {
    "accountability": Flag,
    "major_negative_publicity": Flag,
    "leader_disciplined": Flag,
    "leader_under_investigation": Flag,
}
# Not in the contract, all optional: the basic standards every domain shares (rules/basic.yaml).
BASIC_FIELDS = {"done": _items(BASIC_DONE), "returned_dues_used": Flag, "five_strong": _items(FIVE_STRONG)}
PROFILE_FIELDS = {
    "domain": FieldSpec("domain", choices=DOMAINS, read=_domain_value, required=True),
    "year": FieldSpec("year", low=2000, high=2100, required=True),
    "name": FieldSpec("name", read=_name_text),
    "founded_on": Day,
    "weak_and_lax": Flag,
    "points_score": FieldSpec("number", low=0, high=100, read=_to_number),
    "org_rating": _enum(ORG_RATINGS),
    "members_reviewing": Count,
    "members_rating_excellent": Count,
    "public_dissatisfaction_verified": Flag,
    "social_review_adverse": Flag,
    "social_review_exempt": FieldSpec("bool", default=False, read=_to_bool),
    # Not in the contract: the 班子 annual pay, to compute the one-off bonus of a qualifying 嘎查村/社区.
    "team_annual_pay_yuan": Money,
    "secretary_annual_pay_yuan": Money,  # …or the 书记's own, which the clause allows (可按党组织书记)
}
# Not in the contract: a yearly standard the branch's 上级 announced for a year the texts do not cover
# (parameter name → value, e.g. gacha_village.collective_income: 60000); the engine checks the names.
PARAMETER_VALUE = FieldSpec("number", low=0, read=_to_number, required=True)


# The 附件2 facts of each domain (contract: branch-profile.md, "Domain keys").
FACT_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "gacha_village": {
        "stars": FieldSpec("int", low=0, high=10),
        "star_strong_team": Flag,
        "star_harmony_stability": Flag,
        "star_public_satisfaction": Flag,
        "collective_income_yuan": Money,
        "service_center_up_to_standard": Flag,
        "three_affairs_public": Flag,
        "committee_college_graduates": Count,
        "committee_clean": Flag,
        "no_clan_or_gang_control": Flag,
        "no_inspection_notice": Flag,
    },
    "community": {
        "implements_party_line": Flag,
        "member_posts_and_pledges": Flag,
        "grid_five_in_place": Flag,
        "co_building_mechanism": Flag,
        "service_center_and_funding": Flag,
    },
    "state_enterprise": {
        "drives_development": Flag,
        "brand_and_innovation": Flag,
        "worker_care_mechanism": Flag,
        "has_activity_venue": Flag,
        "party_funds_yuan": Money,
        "last_year_payroll_yuan": Money,
        "four_excellent_members": Count,
    },
    "university": {
        "branch_kind": _enum(BRANCH_KINDS),
        "promotion_award_rate": Share,
        "school_average_rate": Share,
        "secretary_double_leader": Flag,
        "support_mechanism": Flag,
        "funds_and_rooms": Flag,
    },
    "private_enterprise": {
        "no_labor_disputes": Flag,
        "themed_activities_culture": Flag,
        "good_performance_no_accidents": Flag,
        "six_haves": _items(SIX_HAVES),
    },
    "social_organization": {
        "party_building_in_charter": Flag,
        "care_for_members": Flag,
        "eight_haves": _items(EIGHT_HAVES),
    },
    "public_hospital": {
        "themed_activities": Flag,
        "centred_on_hospital_work": Flag,
        "care_and_satisfaction": Flag,
        "funds_and_rooms": Flag,
    },
    "school": {
        "party_building_integrated": Flag,
        "party_master_teacher_ratio": Share,
        "school_master_teacher_ratio": Share,
        "activities_and_care": Flag,
        "funds_and_rooms": Flag,
    },
    "other_institution": {
        "reform_direction": Flag,
        "participates_in_decisions": Flag,
        "funds_and_venue": Flag,
    },
    "government_organ": {
        "political_building_first": Flag,
        "mechanism_and_secretary": Flag,
        "brand_and_pioneer_activities": Flag,
        "organizational_life_rules": Flag,
        "mass_line": Flag,
        "volunteers": Count,
        "in_service_members": Count,
        "volunteer_activities": Count,
        "internal_ranking": FieldSpec("int", low=1),
    },
    "floating_members": {
        "lost_contact_members": Count,
        "regular_study_and_life": Flag,
        "guides_duties": Flag,
        "transfers_relations": Flag,
        "reports_to_home_branch": Flag,
    },
    "retired_staff": {
        "conveys_policy": Flag,
        "has_venue_and_activities": Flag,
        "flexible_study": Flag,
        "heart_to_heart_talks": Flag,
        "care_for_sick_and_poor": Flag,
    },
}


_CONTAINERS = {"negative": NEGATIVE_FIELDS, "basic": BASIC_FIELDS, "facts": None, "parameters": None}


def contract_fields(domain: str) -> dict[str, FieldSpec]:
    """Every key a profile of `domain` may carry, dotted, in contract order, with its spec."""
    fields = dict(PROFILE_FIELDS)
    fields.update({f"negative.{key}": spec for key, spec in NEGATIVE_FIELDS.items()})
    fields.update({f"facts.{key}": spec for key, spec in FACT_FIELDS[domain].items()})
    fields.update({f"basic.{key}": spec for key, spec in BASIC_FIELDS.items()})
    return fields


def ask_as(spec: FieldSpec) -> AskAs | None:
    if spec.kind not in _ASKED_KINDS:
        return None
    return AskAs(spec.kind, tuple(spec.choices.items()) if spec.choices else ())


def bounds(spec: FieldSpec) -> tuple[float | None, float | None]:
    return spec.low, spec.high


# ---- pydantic: every problem of a profile, worded -------------------------------------------------

@lru_cache(maxsize=1)
def _models() -> SimpleNamespace:
    """The pydantic models of the profile (facts: `facts_model`), built from the specs on first need."""
    from pydantic import BaseModel, ConfigDict, Field

    class Strict(BaseModel):
        # defer_build: a `zhibu check` builds the schemas of the two or three models it uses, not all 14.
        model_config = ConfigDict(extra="forbid", defer_build=True, allow_inf_nan=False)

    def model(name: str, specs: dict[str, FieldSpec], **more: Any) -> type[BaseModel]:
        fields = {key: (_annotation(spec), ... if spec.required else spec.default) for key, spec in specs.items()}
        return _create_model(name, Strict, {**fields, **more})

    negative, basic = model("Negative", NEGATIVE_FIELDS), model("Basic", BASIC_FIELDS)
    profile = model(
        "Profile", PROFILE_FIELDS,
        negative=(negative, Field(default_factory=negative)),
        basic=(basic, Field(default_factory=basic)),
        facts=(dict[str, Any], Field(default_factory=dict)),  # validated against facts_model(domain)
        parameters=(dict[str, _annotation(PARAMETER_VALUE)], Field(default_factory=dict)),
    )
    return SimpleNamespace(Strict=Strict, Negative=negative, Basic=basic, Profile=profile)


def _create_model(name: str, base: type, fields: dict[str, tuple]) -> type:
    from pydantic import create_model

    return create_model(name, __base__=base, **fields)


def _annotation(spec: FieldSpec) -> Any:
    """The pydantic type of a spec: Zhibu's reader first, then the type and its bounds."""
    from pydantic import BeforeValidator, Field

    limits = {name: value for name, value in (("ge", spec.low), ("le", spec.high)) if value is not None}
    optional = not spec.required and spec.default is None
    if spec.kind in ("enum", "domain"):
        kind = Literal[tuple(spec.choices)]
    elif spec.kind == "multi":
        kind = list[Annotated[Literal[tuple(spec.choices)], BeforeValidator(spec.read_item)]]
    else:
        kind = _PYTHON_TYPES[spec.kind]
    metadata = [Field(**limits)] if limits else []
    if spec.read is not None:
        metadata.append(BeforeValidator(spec.read))
    if spec.kind == "name":
        metadata.append(Field(pattern=NO_CONTROL_CHARACTERS))
    kind = (kind | None) if optional else kind
    return Annotated[kind, *metadata] if metadata else kind


_PYTHON_TYPES = {"bool": bool, "int": int, "year": int, "number": float, "ratio": float, "date": date, "name": str}


@lru_cache(maxsize=None)
def facts_model(domain: str) -> type:
    """The pydantic model of `domain`'s facts (every fact optional)."""
    fields = {name: (_annotation(spec), None) for name, spec in FACT_FIELDS[domain].items()}
    return _create_model(f"{domain}_facts", _models().Strict, fields)


def _build(*models: type) -> None:
    """Build the validators of deferred models not built yet, without pydantic's search for plugins: it
    reads the entry points of every installed package (~25 ms of a cold `zhibu check`) for observability
    plugins Zhibu does not use. typer builds its own validators the same way."""
    pending = [model for model in models if not model.__pydantic_complete__]
    if not pending:
        return
    previous = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        for model in pending:
            model.model_rebuild()
    finally:
        if previous is None:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        else:
            os.environ["PYDANTIC_DISABLE_PLUGINS"] = previous


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{'negative.accountability': x} → {'negative': {'accountability': x}}."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        head, _, rest = key.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            nested[key] = value
    return nested


def _without_blanks(data: dict[str, Any]) -> dict[str, Any]:
    """None and empty strings mean 'not known': drop them so every missing fact looks the same."""
    kept = {}
    for key, value in data.items():
        if value is None or (type(value) is str and not value.strip()):
            continue
        kept[key] = _without_blanks(value) if type(value) is dict and key in _CONTAINERS else value
    return kept


def _problems(error: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, dict]]:
    """(dotted key, pydantic error) pairs; list positions are dropped from the key."""
    return [
        (quoted(".".join(prefix + tuple(str(part) for part in item["loc"] if not isinstance(part, int))), 80), item)
        for item in error.errors(include_url=False)
    ]


def validate_profile(data: Any) -> dict[str, Any]:
    """The profile's known facts as a flat dict of dotted keys; `InvalidProfile` lists every problem."""
    if not isinstance(data, dict):
        raise InvalidProfile([("", "档案应为一个对象（JSON/YAML 键值对）")], None)
    data = _without_blanks(data)
    flat = read_plain(data)
    if flat is None:
        flat = read_with_pydantic(data)
    _check_upper_bounds(flat, flat["domain"])
    return flat


def read_with_pydantic(data: dict[str, Any]) -> dict[str, Any]:
    """A profile (blanks dropped) through the pydantic models: every problem worded in `InvalidProfile`."""
    from pydantic import ValidationError

    models = _models()
    dotted = _dotted_keys(data)
    data = dict(data)
    raw_facts = data.pop("facts", {})
    problems: list[tuple[str, dict]] = []
    _build(models.Negative, models.Basic, models.Profile)  # Negative and Basic too: Profile's defaults construct them
    try:
        profile = models.Profile.model_validate(data)
    except ValidationError as error:
        problems += _problems(error)
        profile = None
    domain = profile.domain if profile else _known_domain(data.get("domain"))
    facts = None
    if domain:
        _build(facts_model(domain))
        try:
            facts = facts_model(domain).model_validate(raw_facts)
        except ValidationError as error:
            problems += _problems(error, ("facts",))
    if problems or profile is None or facts is None:
        texts = [(key, dotted.get(key) or _problem_text(key, item, domain)) for key, item in problems]
        raise InvalidProfile(texts, domain)
    return _flatten(profile, facts)


def _known_domain(value: Any) -> str | None:
    """The domain a broken profile names, if any, so its facts can still be checked and explained."""
    return resolve_domain(value)


def _dotted_keys(data: dict[str, Any]) -> dict[str, str]:
    """`facts.stars: 9` written at the top of a YAML file: say where it belongs (CSV columns are nested before)."""
    found = {}
    for key in data:
        head, _, rest = key.partition(".")
        if rest and head in _CONTAINERS:
            found[key] = f"应写在 {head}: 下面（另起一行缩进两格写 {rest}: {data[key]}）"
    return found


def _flatten(profile: Any, facts: Any) -> dict[str, Any]:
    flat = {key: value for key, value in profile.__dict__.items() if value is not None and key not in _CONTAINERS}
    flat.update({f"negative.{k}": v for k, v in profile.negative.__dict__.items() if v is not None})
    flat.update({f"facts.{k}": v for k, v in facts.__dict__.items() if v is not None})
    flat.update({f"basic.{k}": v for k, v in profile.basic.__dict__.items() if v is not None})
    flat.update({f"parameters.{k}": v for k, v in profile.parameters.items()})
    return flat


# ---- without pydantic: a profile already in its final form ------------------------------------------

class _NotPlain(Exception):
    """A value pydantic would convert or refuse: it reads the whole profile."""


def read_plain(data: dict[str, Any]) -> dict[str, Any] | None:
    """What `read_with_pydantic` returns for `data` (blanks dropped), when every value is already of its
    final type once Zhibu's own reader has run; None otherwise. The keys come in the same order."""
    unknown = data.keys() - PROFILE_FIELDS.keys() - _CONTAINERS.keys()
    if unknown or "domain" not in data or "year" not in data:
        return None
    try:
        flat = _plain_fields("", PROFILE_FIELDS, data)
        domain = flat["domain"]
        flat.update(_plain_fields("negative.", NEGATIVE_FIELDS, _plain_container(data, "negative", NEGATIVE_FIELDS)))
        flat.update(_plain_fields("facts.", FACT_FIELDS[domain], _plain_container(data, "facts", FACT_FIELDS[domain])))
        flat.update(_plain_fields("basic.", BASIC_FIELDS, _plain_container(data, "basic", BASIC_FIELDS)))
        parameters = data.get("parameters", {})
        if type(parameters) is not dict or any(type(key) is not str for key in parameters):
            return None
        flat.update({f"parameters.{key}": _plain(PARAMETER_VALUE, value) for key, value in parameters.items()})
    except _NotPlain:
        return None
    return flat


def _plain_container(data: dict[str, Any], name: str, specs: dict[str, FieldSpec]) -> dict[str, Any]:
    values = data.get(name, {})
    if type(values) is not dict or values.keys() - specs.keys():
        raise _NotPlain
    return values


def _plain_fields(prefix: str, specs: dict[str, FieldSpec], values: dict[str, Any]) -> dict[str, Any]:
    """Known values in the specs' order (as pydantic's models keep them); a default that is not None counts."""
    flat = {}
    for key, spec in specs.items():
        value = _plain(spec, values[key]) if key in values else spec.default
        if value is not None:
            flat[prefix + key] = value
    return flat


_PLAIN_TEXT = re.compile(r"[^\x00-\x1f\x7f-\x9f\ud800-\udfff]*")  # no control characters, no lone surrogates
_EXACT_FLOAT = 2 ** 53  # larger integers change when pydantic makes them floats: let it


def _plain(spec: FieldSpec, value: Any) -> Any:
    """The value pydantic's model gives for `value`, or _NotPlain."""
    if spec.read is not None:
        try:
            value = spec.read(value)
        except Exception:  # pydantic words the reader's error
            raise _NotPlain from None
    kind, kind_of = spec.kind, type(value)
    if kind == "bool" and kind_of is bool or kind == "date" and kind_of is date:
        return value
    if kind in ("enum", "domain") and kind_of is str and value in spec.choices:
        return value
    if kind == "multi" and kind_of is list:
        items = [spec.read_item(item) for item in value]
        if all(type(item) is str and item in spec.choices for item in items):
            return items
    elif kind == "name" and kind_of is str and _PLAIN_TEXT.fullmatch(value):
        return value
    elif kind in ("int", "year") and kind_of is int:
        return _within(spec, value)
    elif kind in ("number", "ratio") and (kind_of is float and math.isfinite(value)
                                          or kind_of is int and abs(value) <= _EXACT_FLOAT):
        return _within(spec, float(value))
    raise _NotPlain


def _within(spec: FieldSpec, value: int | float) -> int | float:
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise _NotPlain
    return value


def _check_upper_bounds(flat: dict[str, Any], domain: str) -> None:
    problems = [
        (key, f"不能大于 {limit}（{flat[key]} > {flat[limit]}）")
        for key, limit in UPPER_BOUNDS.items()
        if key in flat and limit in flat and flat[key] > flat[limit]
    ]
    if problems:
        raise InvalidProfile(problems, domain)


_PROBLEM_TEXTS = {
    "bool_parsing": "应为 是/否（或 true/false、1/0）",
    "bool_type": "应为 是/否（或 true/false、1/0）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "string_type": "应为文字",
    "string_pattern_mismatch": "含有控制字符（如 NUL），请删去后重试",
    "list_type": "应为列表（各项用“、”分隔）",
    "dict_type": "应为对象（键值对）",
    "model_type": "应为对象（键值对）",
    "model_attributes_type": "应为对象（键值对）",
    "date_type": "应为日期，如 2015-06-01",
    "date_from_datetime_inexact": "应为日期，如 2015-06-01（不带时间）",
    "extra_forbidden": "是未知字段",
    "missing": "必须填写",
}


def _problem_text(key: str, item: dict, domain: str | None) -> str:
    kind, context = item["type"], item.get("ctx", {})
    if kind == "value_error":
        return str(context.get("error"))
    if kind == "extra_forbidden":
        return "是未知字段" + _did_you_mean(key, domain)
    if kind == "greater_than_equal":
        text = "不能为负数" if context["ge"] == 0 else f"不能小于 {context['ge']}"
    elif kind == "less_than_equal":
        text = f"不能大于 {context['le']}"
    elif kind == "literal_error":
        text = "取值无效，可选：" + "、".join(
            value if value == label else f"{value}（{label}）" for value, label in _choices(key, domain)
        )
    else:
        text = _PROBLEM_TEXTS.get(kind, item["msg"])
    return text if kind == "missing" else f"{text}；收到 {quoted_value(item['input'])}"


def _choices(key: str, domain: str | None) -> tuple[tuple[str, str], ...]:
    if key == "domain" or domain not in DOMAINS:
        return tuple(DOMAINS.items())
    info = contract_fields(domain).get(key)
    spec = ask_as(info) if info else None
    return spec.choices if spec else ()


def _did_you_mean(key: str, domain: str | None) -> str:
    import difflib  # only on this error path

    known = list(contract_fields(domain)) if domain in DOMAINS else [*PROFILE_FIELDS, *_CONTAINERS]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    where = f"{domain} 档案中" if domain in DOMAINS else "档案中"
    return f"（{where}没有这个字段" + (f"，是否想写 {close[0]}？）" if close else "；请检查拼写）")
