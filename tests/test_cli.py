"""The `zhibu` command's exit-status contract for usage and configuration errors, and the plain `check`
the console script runs without typer."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from tests.conftest import ZHIBU, run_zhibu


def test_usage_error_exits_2_without_a_traceback(tmp_path):
    result = run_zhibu("ask", "问题", "--k", "99", home=tmp_path / "home")
    assert result.returncode == 2
    assert "--k" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("错误：--k 的取值无效：不能大于 20")


def test_unknown_command_exits_2(tmp_path):
    result = run_zhibu("nosuch", home=tmp_path / "home")
    assert result.returncode == 2 and result.stderr.startswith("错误：没有这个命令：nosuch")


def test_bad_admin_ids_are_a_configuration_error(tmp_path):
    result = run_zhibu("ask", "问题", home=tmp_path / "home", env={"ZHIBU_ADMINS": "12345,abc"})
    assert result.returncode == 2
    assert "ZHIBU_ADMINS" in result.stderr and "Traceback" not in result.stderr


def test_no_package_imports_the_cli_module():
    """`zhibu.cli` imports the packages' commands lazily; they must not import it back (an import circle)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    importers = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or path.parts[-2] == "tests":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        names += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        if "zhibu.cli" in names and path.relative_to(root).as_posix() not in ("zhibu/__main__.py", "zhibu/launch.py"):
            importers.append(path.relative_to(root).as_posix())
    assert importers == []


# ---- a plain `zhibu check` runs without typer (zhibu/launch.py); typer parses every other form ----------

_PROFILE = {"domain": "社区", "year": 2024, "name": "新华社区党支部", "org_rating": "优秀", "weak_and_lax": "否",
            "founded_on": "2015年6月", "facts": {"grid_five_in_place": "是"}}
_THROUGH_TYPER = "import sys; from zhibu.cli import main; main()"


def _profiles(folder):
    files = {"json": folder / "branch.json", "yaml": folder / "branch.yaml", "bad": folder / "bad.json",
             "binary": folder / "binary.json", "empty": folder / "empty.json"}
    files["json"].write_text(json.dumps(_PROFILE, ensure_ascii=False), encoding="utf-8")
    files["yaml"].write_text(yaml.safe_dump(_PROFILE, allow_unicode=True), encoding="utf-8")
    files["bad"].write_text('{"domain": "community", "year": 2021, "facts": {"stars": 9}}', encoding="utf-8")
    files["binary"].write_bytes(b"\xff\xfe\x00bad")
    files["empty"].write_text("", encoding="utf-8")
    return files


_CASES = [  # (arguments with {name} for a profile file, stdin)
    (["check", "{json}", "--json"], None),
    (["check", "{json}"], None),
    (["check", "--details", "{yaml}"], None),
    (["check", "--json", "--details", "{json}", "--json"], None),
    (["check", "-", "--json"], "domain: 嘎查村\nyear: 2021\nweak_and_lax: 是\n"),
    (["check", "-"], '{"domain": "community", "year": 2021}'),
    (["check", "-"], "{broken json"),
    (["check", "-"], "domain: [1\n"),
    (["check", "{bad}", "--json"], None),
    (["check", "{binary}"], None),
    (["check", "{empty}"], None),
    (["check", "missing.json"], None),
    (["check", "有 空格/和中文.yaml"], None),
]


def test_plain_check_gives_what_typer_gives(tmp_path):
    """The console script runs `check FILE [--json] [--details]` itself: same stdout, stderr and exit status
    as the typer app for every contract case, good and bad."""
    files = _profiles(tmp_path)
    env = {**os.environ, "ZHIBU_HOME": str(tmp_path / "home"), "COLUMNS": "120"}
    for arguments, stdin in _CASES:
        args = [arg.format_map({name: str(path) for name, path in files.items()}) for arg in arguments]
        direct = subprocess.run([ZHIBU, *args], env=env, input=stdin, capture_output=True, text=True, cwd=tmp_path)
        typer = subprocess.run([sys.executable, "-c", _THROUGH_TYPER, *args], env=env, input=stdin,
                               capture_output=True, text=True, cwd=tmp_path)
        assert (direct.returncode, direct.stdout, direct.stderr) == (typer.returncode, typer.stdout, typer.stderr), args
        assert direct.returncode in (0, 2) and (direct.stdout or direct.stderr), args


def test_only_plain_checks_skip_typer():
    from zhibu.launch import plain_check

    assert plain_check(["check", "a.json"]) == {"profile": "a.json", "as_json": False}
    assert plain_check(["check", "--json", "-", "--details"]) == {"profile": "-", "as_json": True, "details": True}
    for args in ([], ["check"], ["check", "--help"], ["check", "-h", "a.json"], ["check", "a.json", "b.json"],
                 ["check", "--template", "社区"], ["check", "a.json", "--docx", "x.docx"], ["check", "--", "a.json"],
                 ["check", "--json=1", "a.json"], ["check", "-x"], ["check", ""], ["ask", "a.json"], ["batch", "a.csv"]):
        assert plain_check(args) is None, args


def test_a_plain_check_loads_neither_typer_nor_pyyaml_for_json(tmp_path):
    profile = tmp_path / "branch.json"
    profile.write_text(json.dumps(_PROFILE, ensure_ascii=False), encoding="utf-8")
    script = ("import sys\nfrom zhibu.launch import main\nsys.argv = ['zhibu', 'check', sys.argv[1], '--json']\n"
              "try:\n    main()\nfinally:\n"
              "    print(sorted({'typer', 'click', 'rich', 'yaml'} & set(sys.modules)), file=sys.stderr)\n")
    env = {**os.environ, "ZHIBU_HOME": str(tmp_path / "home")}
    runs = [subprocess.run([sys.executable, "-c", script, str(profile)], env=env, capture_output=True, text=True)
            for _ in range(2)]  # the first fills $ZHIBU_HOME/cache/rules
    assert [run.returncode for run in runs] == [0, 0]
    assert json.loads(runs[1].stdout)["domain"] == "community"
    assert runs[1].stderr.splitlines()[-1] == "[]"
    assert list((tmp_path / "home" / "cache" / "rules").glob("*.json"))
