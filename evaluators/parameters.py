"""Dated parameters: policy figures that hold for given years (OpenFisca parameters, Catala validity windows).

The rulebook's figures live in `rules/parameters.yaml`, each value with its validity window and clause.
Organisation-department staff may add or override values in `$ZHIBU_HOME/parameters.yaml` (written by the
staff console; format below); it is re-read whenever its modification time changes, so a running bot uses
a new value at once. A bad staff file never breaks a check: its bad entries are skipped and reported.

    - parameter: gacha_village.collective_income   # a name from rules/parameters.yaml
      year: 2026
      value: 60000                                 # 元; a share is written 0–1 (0.6 = 60%)
      source: {doc_id: ..., document: ..., doc_number: ..., section: ..., quote: ...}
      entered_by: 张三
      entered_at: "2026-11-30T10:00:00+08:00"
      without_basis: ...                           # only when its document left the knowledge base: not applied

This module knows nothing of the rulebook that holds the table (`rulebook.py` builds it); what needs the
loaded rulebook (the console's list, the year notes) is in `coverage.py`.

For a year without a value, `resolve` says how the figure was chosen (`basis`):
exact / staff (a documented value for that year), user_supplied (the figure the branch's 上级 announced,
given in the profile's `parameters`), latest_documented / nearest_documented (another year's documented
figure, used until the year's own figure is confirmed).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from functools import lru_cache
from typing import Any, Callable, NamedTuple

from evaluators.checks import percent, plain_number
from evaluators.yaml_text import parse_yaml
from zhibu.filemodes import default_home

EXACT, STAFF, USER_SUPPLIED, LATEST, NEAREST = "exact", "staff", "user_supplied", "latest_documented", "nearest_documented"
TO_CONFIRM = frozenset({LATEST, NEAREST})
KINDS = {"share": "", "money": "元"}
STAFF_FILE_NAME = "parameters.yaml"
# What a staff-entered figure may be, per kind, like the rulebook's own: a share of at least 1% and at most
# 100%; an amount of 1元 to 1亿元 (the texts' standards are 万元 figures). The console refuses anything else
# at the form; a file edited by hand that holds one is not used for that entry (the documented figure is,
# marked 待确认).
STAFF_RANGES = {"share": (0.01, 1.0), "money": (1.0, 100_000_000.0)}
STAFF_YEARS = range(2020, 2101)


class DatedValue(NamedTuple):
    start: int
    end: int
    value: float
    source: dict[str, str]  # document, doc_number, section, quote, doc_id (as a criterion's citation)
    origin: str = "rulebook"  # or "staff"
    entered_by: str | None = None
    entered_at: str | None = None

    def covers(self, year: int) -> bool:
        return self.start <= year <= self.end


class Parameter(NamedTuple):
    name: str
    label: str
    kind: str  # share | money
    wording: str  # "超过{value}"
    domains: tuple[str, ...]  # where the self-check judges with it; () = only for summaries (targets)
    values: tuple[DatedValue, ...]

    @property
    def unit(self) -> str:
        return KINDS[self.kind]

    def show(self, value: float) -> str:
        return self.wording.format(value=show_value(self.kind, value))


def show_value(kind: str, value: float) -> str:
    """0.3 → '30%'; 50000 → '5万元'; 12345 → '12,345元'."""
    if kind == "share":
        return percent(value)
    if value >= 10_000 and (value / 10_000) * 10 == int((value / 10_000) * 10):
        return plain_number(value / 10_000).replace(",", "") + "万元"
    return plain_number(value) + "元"


class Resolved(NamedTuple):
    """The figure one criterion (or the yearly target) is judged against, and where it comes from."""

    name: str
    label: str
    year: int  # the assessment year asked about
    year_used: int  # the year whose figure is used
    value: float
    basis: str
    shown: str  # "超过5万元"
    source: dict[str, str] | None  # the clause (None when the user supplied the figure)
    entered_by: str | None = None

    @property
    def to_confirm(self) -> bool:
        return self.basis in TO_CONFIRM

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "label": self.label, "year": self.year, "year_used": self.year_used,
                "value": self.value, "shown": self.shown, "basis": self.basis, "to_confirm": self.to_confirm,
                "source": dict(self.source) if self.source else None}
        if self.entered_by:
            data["entered_by"] = self.entered_by
        return data


class ParameterTable:
    """The rulebook's dated parameters with the staff file laid over them (re-read when it changes)."""

    def __init__(self, parameters: dict[str, Parameter], staff_path: Callable[[], Path | None] = lambda: None):
        self.parameters = parameters
        self._staff_path = staff_path
        self._staff_key: tuple | None = None
        self._staff: dict[str, tuple[DatedValue, ...]] = {}
        self.staff_problems: list[str] = []

    def __contains__(self, name: str) -> bool:
        return name in self.parameters

    def for_domain(self, domain: str) -> list[Parameter]:
        return [parameter for parameter in self.parameters.values() if domain in parameter.domains]

    def values(self, name: str) -> tuple[DatedValue, ...]:
        """Every documented value, staff ones first (they override the rulebook for their year)."""
        self._refresh()
        return self._staff.get(name, ()) + self.parameters[name].values

    def documented_years(self, name: str) -> list[int]:
        return sorted({year for value in self.values(name) for year in range(value.start, value.end + 1)})

    def resolve(self, name: str, year: int, supplied: float | None = None) -> Resolved:
        parameter = self.parameters[name]
        values = self.values(name)
        exact = next((value for value in values if value.covers(year)), None)
        if exact is not None:
            return self._resolved(parameter, year, year, exact, STAFF if exact.origin == "staff" else EXACT)
        if supplied is not None:
            return Resolved(name, parameter.label, year, year, supplied, USER_SUPPLIED, parameter.show(supplied), None)
        earlier = [value for value in values if value.end < year]
        if earlier:  # max() keeps the first of equals: a staff value wins over the rulebook's
            latest = max(earlier, key=lambda value: value.end)
            return self._resolved(parameter, year, latest.end, latest, LATEST)
        nearest = min(values, key=lambda value: value.start)
        return self._resolved(parameter, year, nearest.start, nearest, NEAREST)

    @staticmethod
    def _resolved(parameter: Parameter, year: int, year_used: int, value: DatedValue, basis: str) -> Resolved:
        return Resolved(parameter.name, parameter.label, year, year_used, value.value, basis,
                        parameter.show(value.value), value.source, value.entered_by)

    def _refresh(self) -> None:
        path = self._staff_path()
        try:
            stat = path.stat() if path else None
        except OSError:
            stat = None
        key = (str(path), stat.st_mtime_ns, stat.st_size) if stat else None
        if key == self._staff_key:
            return
        self._staff_key = key
        if key is None:
            self._staff, self.staff_problems = {}, []
            return
        entries, self.staff_problems = load_staff_file(path, self.parameters)
        grouped: dict[str, list[DatedValue]] = {}
        for name, value in entries:  # a later entry for the same year replaces an earlier one
            kept = [old for old in grouped.get(name, []) if old.start != value.start]
            grouped[name] = [value, *kept]
        self._staff = {name: tuple(values) for name, values in grouped.items()}


def load_staff_file(path: Path, parameters: dict[str, Parameter]) -> tuple[list[tuple[str, DatedValue]], list[str]]:
    """(valid entries, problems in Chinese) of a staff parameter file; never raises."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        return [], [f"{path.name}：无法读取（{error}）"]
    except Exception as error:  # yaml.YAMLError and its many subclasses
        return [], [f"{path.name}：不是有效的 YAML（{str(error).splitlines()[0]}）"]
    return validate_staff_parameters(data, parameters, path.name)


def validate_staff_parameters(
    data: Any, parameters: dict[str, Parameter], where: str = STAFF_FILE_NAME
) -> tuple[list[tuple[str, DatedValue]], list[str]]:
    """Check staff-entered parameter values against the rulebook's `parameters` (name → Parameter)."""
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [f"{where}：应为列表，每项一个年度数值（parameter、year、value、source）"]
    entries, problems = [], []
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict) and item.get("without_basis"):
            continue  # its document left the knowledge base: not applied, the year is judged as 待确认 again
        entry, problem = _staff_entry(item, parameters)
        if problem:
            problems.append(f"{where} 第{number}项：{problem}，此项未采用")
        else:
            entries.append(entry)
    return entries, problems


def _staff_entry(item: Any, parameters: dict[str, Parameter]) -> tuple[tuple[str, DatedValue] | None, str | None]:
    if not isinstance(item, dict):
        return None, "应为键值对（parameter、year、value、source）"
    name = item.get("parameter")
    if name not in parameters:
        return None, f"parameter（参数）{name!r} 不存在，可选：" + "、".join(f"{key}（{p.label}）" for key, p in parameters.items())
    parameter = parameters[name]
    year, value, source = item.get("year"), item.get("value"), item.get("source")
    if type(year) is not int or year not in STAFF_YEARS:
        return None, f"year（年度）应为四位年份（{STAFF_YEARS.start}—{STAFF_YEARS.stop - 1}），收到 {year!r}"
    not_finite = isinstance(value, float) and not math.isfinite(value)  # .inf, .nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not_finite:
        return None, f"value（数值）应为数字，收到 {value!r}"
    low, high = STAFF_RANGES[parameter.kind]
    if parameter.kind == "share" and not low <= value <= high:
        return None, f"value（{parameter.label}）是比例，应写0到1之间的小数（如0.6表示60%，至少{low}），收到 {value!r}"
    if parameter.kind == "money" and value < 0:
        return None, f"value（{parameter.label}）不能为负数，收到 {value!r}"
    if parameter.kind == "money" and not low <= value <= high:
        return None, f"value（{parameter.label}）应在{low:g}元到{high / 1e8:g}亿元之间，收到 {value!r}"
    if not isinstance(source, dict) or not str(source.get("document") or "").strip():
        return None, "source（依据）须写明文件名称 document（可再写 doc_number 文号、section 章节、quote 原文）"
    citation = {key: str(source.get(key) or "") for key in ("document", "doc_number", "section", "quote", "doc_id")}
    entered_by, entered_at = item.get("entered_by"), item.get("entered_at")
    return (name, DatedValue(year, year, value, citation, "staff", _text(entered_by), _text(entered_at))), None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def staff_file() -> Path:
    return zhibu_home() / STAFF_FILE_NAME


def zhibu_home() -> Path:
    """$ZHIBU_HOME from the environment or `.env`, as zhibu.settings reads it (without loading the settings)."""
    home = os.environ.get("ZHIBU_HOME") or _dotenv_home()
    return (Path(home) if home else default_home()).expanduser()


@lru_cache(maxsize=1)  # resolve() asks for the staff file on every evaluation; .env does not change at run time
def _dotenv_home() -> str | None:
    env = Path(".env")
    if not env.is_file():
        return None
    from dotenv import dotenv_values  # only when a .env exists; zhibu.settings reads the same file

    return dotenv_values(env).get("ZHIBU_HOME")


def year_span(years: list[int]) -> str:
    """[2020, 2021, 2022, 2023, 2026] → '2020—2023年、2026年'."""
    runs: list[list[int]] = []
    for year in sorted(set(years)):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return "、".join(f"{run[0]}—{run[-1]}年" if len(run) > 1 else f"{run[0]}年" for run in runs)
