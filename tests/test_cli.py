"""The `zhibu` command's exit-status contract for usage and configuration errors."""

from __future__ import annotations

from tests.conftest import run_zhibu


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
        if "zhibu.cli" in names and path.relative_to(root).as_posix() != "zhibu/__main__.py":
            importers.append(path.relative_to(root).as_posix())
    assert importers == []
