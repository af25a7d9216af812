"""The small vocabulary a rulebook criterion may use as its `check` (no code lives in the YAML).

Each check names the facts it judges (`judged`) and the facts it only compares them with (`compared`),
gives a status for present values, and on request the variables its reason templates may use.
Numbers are compared exactly (Decimal), so 27 of 30 is exactly 90% and 120,000 is exactly 1% of 12 million.
"""

from __future__ import annotations

import operator
from datetime import date
from decimal import Decimal
from typing import Any, Callable, ClassVar, NamedTuple

PASS, FAIL, UNKNOWN, NOT_APPLICABLE = "pass", "fail", "unknown", "not_applicable"

OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
# Template variables every criterion text may use, whatever its check.
COMMON_VARIABLES = frozenset({"requirement", "observed", "value", "label", "year"})


class Words:
    """How one domain's facts read in Chinese: labels, units, value formats, the shared messages."""

    def __init__(self, messages: dict, labels: dict[str, str], units: dict[str, str], kinds: dict[str, Any]):
        self.messages = messages
        self.labels = labels
        self.units = units
        self.kinds = kinds  # dotted key → profile.AskAs

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def show(self, key: str, value: Any) -> str:
        ask = self.kinds.get(key)
        kind = ask.kind if ask else None
        if isinstance(value, bool):
            return self.messages["yes"] if value else self.messages["no"]
        if kind == "enum":
            return dict(ask.choices).get(value, str(value))
        if kind == "multi":
            return "、".join(value) or self.messages["none"]
        if kind == "ratio":
            return percent(value)
        if isinstance(value, date):
            return chinese_date(value)
        if isinstance(value, (int, float)):
            return with_unit(value, self.units.get(key, ""))
        return str(value)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def plain_number(value: float) -> str:
    """80000.0 → '80,000'; 0.5 → '0.5'."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def with_unit(value: float, unit: str) -> str:
    """A number with its unit: "30人", or an ordinal unit written as a pattern ("第{}名" → "第1名")."""
    return unit.format(plain_number(value)) if "{}" in unit else plain_number(value) + unit


def percent(share: float | Decimal) -> str:
    text = f"{float(share) * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def exact(number: Any) -> Any:
    """Floats become the Decimal they were written as; ints stay ints."""
    return Decimal(repr(number)) if isinstance(number, float) else number


class Explanation(NamedTuple):
    variables: dict[str, str]
    template: str | None = None  # a `messages` key, for an unknown that comes from the check itself


class Check:
    """Base of every check. `status` is the fast verdict; `explain` builds the reason's variables and
    is only called when someone reads the reason (a batch of thousands of rows never does).

    Plain classes rather than dataclasses: `zhibu check` starts cold, and each dataclass costs ~1 ms to define.
    """

    TYPE: ClassVar[str]
    FIELDS: ClassVar[tuple[str, ...]]  # required spec keys besides `type`
    OPTIONAL: ClassVar[tuple[str, ...]] = ()
    VARIABLES: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, words: Words, fact: str, **spec: Any):
        self.words = words
        self.fact = fact
        self.__dict__.update(spec)  # the keys `from_spec` has checked against FIELDS and OPTIONAL

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fact!r})"

    @property
    def judged(self) -> tuple[str, ...]:
        return (self.fact,)

    @property
    def compared(self) -> tuple[str, ...]:
        return ()

    def status(self, values: dict[str, Any], year: int) -> str:
        raise NotImplementedError

    def explain(self, values: dict[str, Any], year: int) -> Explanation:
        raise NotImplementedError

    def _explained(self, **variables: str) -> Explanation:
        observed = self.words.messages["observed"][self.TYPE].format(label=self.words.label(self.fact), **variables)
        return Explanation(variables | {"observed": observed})

    def _op(self) -> str:
        return self.words.messages["ops"][self.op]  # type: ignore[attr-defined]


class Equals(Check):
    """A boolean with its expected value, or an enum that must equal one value."""

    TYPE = "equals"
    FIELDS = ("fact", "value")
    value: Any

    def status(self, values, year):
        return PASS if values[self.fact] == self.value else FAIL

    def explain(self, values, year):
        return self._explained(value=self.words.show(self.fact, values[self.fact]))


class Threshold(Check):
    """A number against a fixed limit, or against a dated parameter (`parameters.yaml`) for the year."""

    TYPE = "threshold"
    FIELDS = ("fact", "op")
    OPTIONAL = ("value", "parameter")
    VARIABLES = frozenset({"limit", "op", "standard"})
    op: str
    value: Any = None
    parameter: str | None = None
    table: Any = None  # the rulebook's ParameterTable, for a dated limit

    def resolved(self, values, year):
        """How the year's limit was found (a parameters.Resolved), or None for a fixed limit."""
        if self.parameter is None:
            return None
        return self.table.resolve(self.parameter, year, values.get(f"parameters.{self.parameter}"))

    def status(self, values, year):
        limit = self.value if self.parameter is None else self.resolved(values, year).value
        return PASS if OPS[self.op](exact(values[self.fact]), exact(limit)) else FAIL

    def explain(self, values, year):
        resolved = self.resolved(values, year)
        limit = self.value if resolved is None else resolved.value
        standard = "" if resolved is None else self.words.messages["parameter_basis"][resolved.basis].format(
            year=year, year_used=resolved.year_used, shown=resolved.shown, label=resolved.label)
        return self._explained(value=self.words.show(self.fact, values[self.fact]),
                               limit=self.words.show(self.fact, limit), op=self._op(), standard=standard)


class Ratio(Check):
    """`fact` against `share` × `of` (e.g. 优秀 ≥ 90% of 参加评议党员); `of` is only the base."""

    TYPE = "ratio"
    FIELDS = ("fact", "of", "op", "share")
    VARIABLES = frozenset({"base", "actual", "share", "op"})
    of: str
    op: str
    share: float

    @property
    def compared(self):
        return (self.of,)

    def status(self, values, year):
        part, base = values[self.fact], values[self.of]
        if base == 0:
            return UNKNOWN
        return PASS if OPS[self.op](exact(part), exact(self.share) * exact(base)) else FAIL

    def explain(self, values, year):
        part, base = values[self.fact], values[self.of]
        if base == 0:
            return Explanation({"base_label": self.words.label(self.of)}, "zero_base")
        return self._explained(
            value=self.words.show(self.fact, part),
            base=self.words.show(self.of, base),
            base_label=self.words.label(self.of),
            actual=percent(exact(part) / exact(base)),
            share=percent(self.share),
            op=self._op(),
        )


class Compare(Check):
    """`fact` against another fact (e.g. the branch's rate against the school average)."""

    TYPE = "compare"
    FIELDS = ("fact", "op", "other")
    VARIABLES = frozenset({"other", "op"})
    op: str
    other: str

    @property
    def compared(self):
        return (self.other,)

    def status(self, values, year):
        return PASS if OPS[self.op](exact(values[self.fact]), exact(values[self.other])) else FAIL

    def explain(self, values, year):
        return self._explained(
            value=self.words.show(self.fact, values[self.fact]),
            other=self.words.show(self.other, values[self.other]),
            other_label=self.words.label(self.other),
            op=self._op(),
        )


class ContainsAll(Check):
    """A list that must hold every one of `items` (the 六有 / 八有 standards)."""

    TYPE = "contains_all"
    FIELDS = ("fact", "items")
    VARIABLES = frozenset({"present", "absent"})
    items: tuple[str, ...]

    def status(self, values, year):
        have = values[self.fact]
        return PASS if all(item in have for item in self.items) else FAIL

    def explain(self, values, year):
        have = values[self.fact]
        return self._explained(
            value=self.words.show(self.fact, have),
            present=self.words.show(self.fact, [item for item in self.items if item in have]),
            absent=self.words.show(self.fact, [item for item in self.items if item not in have]),
        )


class DateAge(Check):
    """A date at least `min_years` before 31 December of the assessment year."""

    TYPE = "date_age"
    FIELDS = ("fact", "min_years")
    VARIABLES = frozenset({"cutoff"})
    min_years: int

    def _cutoff(self, year: int) -> date:
        return date(year - self.min_years, 12, 31)

    def status(self, values, year):
        return PASS if values[self.fact] <= self._cutoff(year) else FAIL

    def explain(self, values, year):
        shown = self.words.show(self.fact, values[self.fact])
        return self._explained(value=shown, cutoff=chinese_date(self._cutoff(year)))


CHECKS: dict[str, type[Check]] = {cls.TYPE: cls for cls in (Equals, Threshold, Ratio, Compare, ContainsAll, DateAge)}


def from_spec(spec: Any, words: Words, parameters: Any = None) -> Check:
    """Build a check from its YAML mapping; ValueError names what is wrong with it."""
    if not isinstance(spec, dict) or spec.get("type") not in CHECKS:
        raise ValueError(f"check.type 应为 {'/'.join(CHECKS)} 之一，收到 {spec!r}")
    cls = CHECKS[spec["type"]]
    given = {key: value for key, value in spec.items() if key != "type"}
    absent = [key for key in cls.FIELDS if key not in given]
    extra = [key for key in given if key not in cls.FIELDS + cls.OPTIONAL]
    if absent or extra:
        raise ValueError(f"{cls.TYPE} 检查缺少 {absent} 或含有多余字段 {extra}")
    if "op" in given and given["op"] not in OPS:
        raise ValueError(f"op 应为 {'、'.join(OPS)} 之一，收到 {given['op']!r}")
    if cls is Threshold and ("value" in given) == ("parameter" in given):
        raise ValueError("threshold 检查须有 value 或 parameter（parameters.yaml 中的年度参数）之一")
    if "parameter" in given:
        if parameters is None or given["parameter"] not in parameters:
            raise ValueError(f"parameters.yaml 中没有年度参数 {given['parameter']!r}")
        given["table"] = parameters
    if "items" in given:
        given["items"] = tuple(given["items"])
    return cls(words, **given)
