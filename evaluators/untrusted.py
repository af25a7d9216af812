"""Reading the files people give `zhibu check` and `zhibu batch`, and writing the batch report, as if
every file were hostile: sizes, rows, columns and nesting are bounded before anything big is built,
every failure is one Chinese `BadInput`, and a report is written whole or not at all.

The caps live in `zhibu.settings` (ZHIBU_MAX_PROFILE_KB, ZHIBU_MAX_BATCH_MB, ZHIBU_MAX_BATCH_ROWS).
"""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from zhibu.errors import BadInput, quoted
from zhibu.filemodes import user_file_mode
from zhibu.untrusted_yaml import AliasFound, load_untrusted_yaml

MAX_COLUMNS = 1000  # a profile has about 60 keys; a wider header is not a branch table
# An XLSX is a zip archive; what it unpacks to is held in memory (shared strings), so it is capped
# at this multiple of the file cap (real workbooks unpack to 5–10 times their size).
XLSX_EXPANSION = 10
CSV_FIELD_LIMIT_KB = csv.field_size_limit() // 1024
# Characters no text file exported from a spreadsheet contains; XML (XLSX) cannot hold them either.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# ---- sizes ---------------------------------------------------------------------------------------

def read_capped(path: Path, limit: int, setting: str) -> bytes:
    """The file's bytes, or BadInput when it is larger than `limit` (checked before reading)."""
    check_size(path, limit, setting)
    return path.read_bytes()


def check_size(path: Path, limit: int, setting: str) -> None:
    size = path.stat().st_size
    if size > limit:
        raise BadInput(f"{quoted(path.name)} 有 {_amount(size)}，超过上限 {_amount(limit)}"
                       f"（可用环境变量 {setting} 调整）")


def _amount(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


# ZHIBU_MAX_PROFILE_KB may not go below this; a profile under it is read without loading the settings
# (pydantic-settings would add a third to a cold `zhibu check`).
PROFILE_CAP_FLOOR = 64 * 1024


def read_profile_file(path: Path) -> bytes:
    if path.stat().st_size <= PROFILE_CAP_FLOOR:
        return path.read_bytes()
    return read_capped(path, _settings().zhibu_max_profile_kb * 1024, "ZHIBU_MAX_PROFILE_KB")


def read_profile_stdin() -> str:
    text = sys.stdin.read(PROFILE_CAP_FLOOR + 1)
    if len(text.encode("utf-8")) <= PROFILE_CAP_FLOOR:
        return text
    limit = _settings().zhibu_max_profile_kb * 1024
    text += sys.stdin.read(limit + 1 - len(text))
    if len(text.encode("utf-8")) > limit:
        raise BadInput(f"标准输入的档案超过上限 {_amount(limit)}（可用环境变量 ZHIBU_MAX_PROFILE_KB 调整）")
    return text


def _settings():
    from zhibu.settings import get_settings

    return get_settings()


# ---- profiles: JSON and YAML ---------------------------------------------------------------------

def parse_profile(text: str, name: str, as_json: bool) -> Any:
    """A profile parsed as JSON or YAML; every way it can be broken is a BadInput naming the file."""
    try:
        return json.loads(text) if as_json else load_untrusted_yaml(text)
    except AliasFound as found:
        raise BadInput(f"{quoted(name)} 第 {found.line} 行使用了 YAML 别名（*名称），档案中不允许别名：请直接写出取值") from None
    except RecursionError:
        raise BadInput(f"{quoted(name)} 的嵌套层数过多，不是一份档案") from None
    except json.JSONDecodeError:  # a ValueError; yaml.YAMLError is none and passes by itself
        raise  # the caller knows which format to try next
    except ValueError as error:  # int('9' * 5000), a date like 2024-02-30
        problem = "有位数过多的数字" if "digits" in str(error) else "有无法识别的取值（例如不存在的日期）"
        raise BadInput(f"{quoted(name)} {problem}") from None


# ---- batch tables: CSV and XLSX ------------------------------------------------------------------

def batch_limit() -> int:
    return _settings().zhibu_max_batch_mb * 1024 * 1024


def csv_rows(text: str, name: str) -> Iterator[list[str]]:
    """The rows of a CSV text; control characters, oversized cells and too many rows are refused."""
    control = _CONTROL_CHARACTERS.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise BadInput(f"{quoted(name)} 第 {line} 行含有控制字符（如 NUL），不像是表格导出的文本文件")
    reader = csv.reader(text.splitlines())
    try:
        yield from bounded_rows(reader, name)
    except csv.Error:
        raise BadInput(f"{quoted(name)} 第 {reader.line_num} 行有一个单元格超过 {CSV_FIELD_LIMIT_KB} KB，"
                       "不是一份党支部名单") from None


def check_xlsx(path: Path) -> None:
    """Refuse, from the zip directory and before any parsing, a workbook over the file cap, or that is no
    zip archive, or unpacks to more than XLSX_EXPANSION × the file cap or ZHIBU_MAX_UNPACKED_MB (the
    documents' cap and message). Every part counts: the workbook's relations may name any part as its
    shared strings or a sheet, whatever it is called."""
    from ingest.loaders import Limits

    check_size(path, batch_limit(), "ZHIBU_MAX_BATCH_MB")
    limit = batch_limit() * XLSX_EXPANSION
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise BadInput(f"无法读取 {quoted(path.name)}：不是有效的 .xlsx 文件") from None
    unpacked = sum(member.file_size for member in members)
    if unpacked > limit:
        raise BadInput(f"{quoted(path.name)} 解压后有 {_amount(unpacked)}，超过上限 {_amount(limit)}"
                       "（上限为 ZHIBU_MAX_BATCH_MB 的 10 倍）")
    Limits.from_settings(_settings()).check_unpacked(unpacked, path.name)


def sheet_rows(sheet: Any, name: str) -> Iterator[tuple]:
    """A read-only openpyxl sheet's rows, read only as wide as its header and only as far as the row
    cap: the sheet's own dimension (it may claim XFD1048576) is never trusted."""
    header = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS + 1, values_only=True), ())
    width = header_width(header, name)
    yield header[:width]
    rows_allowed = _settings().zhibu_max_batch_rows
    yield from bounded_rows(sheet.iter_rows(min_row=2, max_row=rows_allowed + 2, max_col=width, values_only=True),
                            name, header_read=True)


def header_width(header: Iterable, name: str) -> int:
    """How many columns the header names (empty cells at its end do not count); more than
    MAX_COLUMNS is refused, for a CSV as for an XLSX."""
    width = max((number for number, cell in enumerate(header, 1) if cell not in (None, "")), default=1)
    if width > MAX_COLUMNS:
        raise BadInput(f"{quoted(name)} 的第一行有 {width} 列，超过上限 {MAX_COLUMNS} 列，不是一份党支部名单")
    return width


def bounded_rows(rows: Iterable, name: str, header_read: bool = False) -> Iterator:
    """The rows (header first unless already read), refusing a table with more data rows than the cap."""
    rows_allowed = _settings().zhibu_max_batch_rows
    for number, row in enumerate(rows, start=1 if header_read else 0):
        if number > rows_allowed:
            raise BadInput(f"{quoted(name)} 超过 {rows_allowed} 行（可用环境变量 ZHIBU_MAX_BATCH_ROWS 调整上限）")
        yield row


def refuse_duplicate_columns(header: list[str], name: str) -> None:
    """Two columns of one name would silently lose one of them: say which, and where."""
    seen: dict[str, list[int]] = {}
    for number, key in enumerate(header, 1):
        if key:
            seen.setdefault(key, []).append(number)
    repeated = [f"{quoted(key, 40)}（第 {'、'.join(map(str, numbers))} 列）"
                for key, numbers in seen.items() if len(numbers) > 1]
    if repeated:
        raise BadInput(f"{quoted(name)} 的第一行有重复的列名：{'；'.join(repeated)}。请每个字段只保留一列")


# ---- the report ----------------------------------------------------------------------------------

def store_text_as_text(workbook: Any) -> None:
    """Every text cell is stored as text, so a branch name like =HYPERLINK(…) or =cmd|' /C calc'!A0
    never becomes a live formula when staff open the report (OWASP: CSV/formula injection)."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"


def check_report_path(out: Path, source: Path) -> None:
    """Refuse, before any work, a report path that would overwrite the input, a folder or a device.
    Paths are compared resolved: `sub/../in.xlsx` names the input even while `sub` does not exist
    (the report's folder is created before the move)."""
    for target in (out, out.with_suffix(".png")):
        if target.exists() and not target.is_file():
            raise BadInput(f"{quoted(str(target), 300)} 已存在且不是普通文件（是文件夹或设备），不会写到那里")
    if out.suffix.lower() != ".xlsx":
        raise BadInput(f"报告 {quoted(str(out), 300)} 应以 .xlsx 结尾")
    if out.resolve() == source.resolve() or (out.exists() and source.exists() and os.path.samefile(out, source)):
        raise BadInput(f"报告 {quoted(str(out), 300)} 就是输入文件本身，不会覆盖它：请换一个文件名")


def write_whole(out: Path, write: Callable[[Path], Path]) -> Path:
    """Run `write(path)` (it makes the report and its chart) in a fresh folder beside `out`, then move
    what it made into place: a full disk or a failure leaves any earlier report as it was."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".zhibu-report-", dir=out.parent))
    except OSError as error:
        raise BadInput(f"无法写入报告 {quoted(str(out), 300)}：{os_reason(error)}") from None
    try:
        made = write(staging / out.name)
        for item in staging.iterdir():
            item.chmod(user_file_mode())
        for item in sorted(staging.iterdir(), key=lambda item: item.name == out.name):  # the report last
            os.replace(item, out.parent / item.name)
        return out.parent / made.name
    except OSError as error:
        raise BadInput(f"无法写入报告 {quoted(str(out), 300)}：{os_reason(error)}；原有文件未改动") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


_OS_REASONS = {
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EFBIG: "文件超过系统允许的大小",
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.EROFS: "文件系统只读",
    errno.ENOENT: "路径不存在",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EISDIR: "目标是文件夹",
}


def os_reason(error: OSError) -> str:
    return _OS_REASONS.get(error.errno, f"系统错误 {errno.errorcode.get(error.errno, error.errno)}")
