"""`zhibu` — a thin face over the four packages; every command imports its package lazily.

Exit status per the contract: 0 success, 2 bad input (message on stderr), 1 internal error.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

import typer

from zhibu.running import guarded, prepare_process, report_error

app = typer.Typer(add_completion=False, no_args_is_help=True, options_metavar="[选项]", subcommand_metavar="命令 [参数]...",
                  help="支部 Zhibu：“最强党支部”政策问答与自查助手。")
rules_app = typer.Typer(no_args_is_help=True, options_metavar="[选项]", subcommand_metavar="命令 [参数]...",
                        help="规则书维护。")
app.add_typer(rules_app, name="rules")


@app.command(options_metavar="[选项]")
def ingest(
    paths: list[Path] = typer.Argument(None, help="要新增或替换的文件或文件夹（不写则只同步自带的政策文件）。"),
    remove: list[str] = typer.Option([], "--remove", help="按文件编号（doc_id）删除一份文件。"),
    no_corpus: bool = typer.Option(False, "--no-corpus", help="不同步自带的政策文件。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出结果。"),
) -> None:
    """（重新）建立知识库；可重复运行，原子切换。"""
    from knowledge.cli_commands import run_ingest

    run_ingest(paths or [], remove=remove, include_corpus=not no_corpus, as_json=as_json)


@app.command(options_metavar="[选项]")
def ask(
    question: Optional[str] = typer.Argument(None, help="问题"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出结果。"),
    k: int = typer.Option(5, "--k", min=1, max=20, help="最多引用的段落数。"),
    questions: Optional[Path] = typer.Option(None, "--questions", help="问题文件：每行一个问题，或每行一个含 question 字段的 JSON。"),
) -> None:
    """依据政策原文回答并注明出处；文件没有规定的如实说明。"""
    from knowledge.cli_commands import run_ask

    run_ask(question, as_json=as_json, k=k, questions_file=questions)


@app.command("eval-qa", options_metavar="[选项]")
def eval_qa(
    file: Path = typer.Argument(..., help="问题集（JSONL，格式同 qa_dev.jsonl）。"),
    k: int = typer.Option(5, "--k", help="计算命中率时看前几个段落。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出结果。"),
    min_hit5: float = typer.Option(0.0, "--min-hit5", help="hit@5 低于此值时以状态 1 退出。"),
    judged: Optional[Path] = typer.Option(None, "--judged", help="读者对答句的评判（JSONL：question、line、right）。"),
    to_judge: Optional[Path] = typer.Option(None, "--to-judge", help="把还没有评判的答句写到这个文件，供读者评判。"),
) -> None:
    """在问题集上评估检索与拒答质量。"""
    from knowledge.cli_commands import run_eval_qa

    run_eval_qa(file, k=k, as_json=as_json, min_hit5=min_hit5, judged=judged, to_judge=to_judge)


@app.command(options_metavar="[选项]")
def check(
    profile: Optional[str] = typer.Argument(None, metavar="档案文件",
                                            help="党支部档案文件（JSON 或 YAML），- 表示从标准输入读取。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出结果。"),
    details: bool = typer.Option(False, "--details", help="逐项列出全部评定条件及其依据原文。"),
    template: Optional[str] = typer.Option(None, "--template", metavar="领域",
                                           help="打印该领域可填写的档案模板（YAML，每项附中文说明），如 --template 嘎查村。"),
    docx: Optional[Path] = typer.Option(None, "--docx", metavar="申报表.docx",
                                        help="同时写出可修改的申报表（Word 文档）。"),
    chinese_keys: bool = typer.Option(False, "--chinese-keys", help="模板的字段名用中文（与 --template 一起用）。"),
) -> None:
    """按“最强党支部”评定条件检查一个党支部的档案。"""
    from evaluators.cli_commands import print_template, run_check

    if template is not None:
        print_template(template, chinese_keys=chinese_keys)
    else:
        run_check(profile, as_json=as_json, details=details, docx=docx)


@app.command(options_metavar="[选项]")
def batch(
    file: Path = typer.Argument(..., help="CSV 或 XLSX 文件：第一行为字段名（嵌套字段用点号，如 facts.stars），每行一个党支部。"),
    out: Optional[Path] = typer.Option(None, "--out", help="写出 XLSX 报告（旁边另存 PNG 图表）。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出结果。"),
) -> None:
    """批量检查多个党支部，并与年度比例目标比较。"""
    from evaluators.cli_commands import run_batch

    run_batch(file, out=out, as_json=as_json)


@rules_app.command("check", options_metavar="[选项]")
def rules_check() -> None:
    """核对规则书：引用的原文都在政策文件中，每个档案字段都有规则读取。"""
    from evaluators.cli_commands import run_rules_check

    run_rules_check()


@app.command(options_metavar="[选项]")
def chat() -> None:
    """在终端里使用与机器人相同的对话（不需要令牌和网络）。"""
    from bot.terminal import run_terminal_chat

    run_terminal_chat()


@app.command("bot", options_metavar="[选项]")
def run_bot() -> None:
    """运行 Telegram 机器人（配置取自环境变量）。"""
    from bot.telegram_app import run_telegram_bot

    run_telegram_bot()


console_app = typer.Typer(help="组织部工作人员的网页控制台。", options_metavar="[选项]")
app.add_typer(console_app, name="console")


@console_app.callback(invoke_without_command=True)
def console(
    context: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（对外请放在 HTTPS 反向代理之后，保持 127.0.0.1）"),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="端口"),
    forwarded_allow_ips: str = typer.Option("", "--forwarded-allow-ips",
                                            help="HTTPS 反向代理的地址（逗号分隔）：只相信它们转来的 X-Forwarded-* 头"),
) -> None:
    """启动工作人员控制台（默认 http://127.0.0.1:8080/）。"""
    if context.invoked_subcommand is None:
        from console.server import run_console

        run_console(host, port, forwarded_allow_ips or None)


@console_app.command("add-user", options_metavar="[选项]")
def console_add_user(
    name: str = typer.Argument(..., help="用户名"),
    role: str = typer.Option("viewer", "--role", help="viewer（只读）或 admin（可修改文档和年度目标）"),
) -> None:
    """新建控制台账号或重设密码（密码从提示输入，或从标准输入读取）。"""
    from console.server import add_user

    add_user(name, role)


answers_app = typer.Typer(no_args_is_help=True, options_metavar="[选项]", subcommand_metavar="命令 [参数]...",
                          help="标准答案（问答对）：导出、导入。")
app.add_typer(answers_app, name="answers")


@answers_app.command("export", options_metavar="[选项]")
def answers_export(file: Path = typer.Argument(..., help="写入的 YAML 文件。")) -> None:
    """把全部标准答案导出为 YAML。"""
    from knowledge.curated import run_export

    run_export(file)


@answers_app.command("import", options_metavar="[选项]")
def answers_import(
    file: Optional[Path] = typer.Argument(None, help="要导入的 YAML 文件（格式同导出）。"),
    starter: bool = typer.Option(False, "--starter", help="导入随程序提供的初始标准答案。"),
) -> None:
    """导入标准答案：逐条核对依据条款与知识库原文一致，有误则一条也不导入；问题相同的更新。"""
    from knowledge.curated import run_import

    run_import(file, starter=starter)


web_app = typer.Typer(help="党支部书记使用的网页对话（手机浏览器）。", options_metavar="[选项]")
app.add_typer(web_app, name="web")


@web_app.callback(invoke_without_command=True)
def web(
    context: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（对外请放在 HTTPS 反向代理之后，保持 127.0.0.1）"),
    port: int = typer.Option(8090, "--port", min=1, max=65535, help="端口"),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="进程数（多个进程请用 PostgreSQL）"),
) -> None:
    """启动书记们使用的网页对话（默认 http://127.0.0.1:8090/）。"""
    if context.invoked_subcommand is None:
        from webchat.server import run_web

        run_web(host, port, workers)


@web_app.command("invite", options_metavar="[选项]")
def web_invite(
    name: str = typer.Argument(..., help="邀请对象：党支部名称或书记姓名"),
    days: int = typer.Option(7, "--days", min=1, max=365, help="邀请链接的有效天数"),
    uses: int = typer.Option(1, "--uses", min=1, max=10000, help="可以用它进入的浏览器数"),
    kind: str = typer.Option("branch", "--for", help="branch（党支部，默认）或 person（个人）"),
) -> None:
    """生成一个邀请链接（只显示一次）；在管理台“邀请码”页可以查看和收回。"""
    from webchat.server import check_kind, invite

    invite(name, days, uses, check_kind(kind))


# Usage errors from typer's click, in Chinese (the flag names stay as typed).
def _suggest(name: str | None) -> str:
    return f"（您是想输入 {name} 吗？）" if name else ""


_VALUE_ERRORS = (
    (re.compile(r".*valid integer.*"), "应为整数"),
    (re.compile(r".*valid number.*"), "应为数字"),
    (re.compile(r".*valid boolean.*"), "应为 是/否"),
    (re.compile(r".*less than or equal to (\S+)"), "不能大于 {0}"),
    (re.compile(r".*greater than or equal to (\S+)"), "不能小于 {0}"),
)


def _value_error(text: str) -> str:
    for pattern, template in _VALUE_ERRORS:
        match = pattern.fullmatch(text.strip())
        if match:
            return template.format(*match.groups())
    return text


_USAGE_ERRORS = (
    (re.compile(r"Missing argument '(.+?)'\.?"), lambda m: f"缺少参数 {m[1]}"),
    (re.compile(r"Missing option '(.+?)'\.?"), lambda m: f"缺少选项 {m[1]}"),
    (re.compile(r"No such option: (\S+?)\.?(?: Did you mean '?(\S+?)'?\?| \(Possible options: (.+)\))?"),
     lambda m: f"没有这个选项：{m[1]}" + _suggest(m[2] or m[3])),
    (re.compile(r"No such command '(.+?)'\.?(?: Did you mean '(.+?)'\?)?"), lambda m: f"没有这个命令：{m[1]}" + _suggest(m[2])),
    (re.compile(r"Option '(.+?)' requires an argument\.?"), lambda m: f"选项 {m[1]} 后面需要一个值"),
    (re.compile(r"Got unexpected extra arguments? \((.+)\)"), lambda m: f"多余的参数：{m[1]}"),
    (re.compile(r"Invalid value for '(.+?)': (.+)"),
     lambda m: f"{m[1]} 的取值无效：{_value_error(m[2])}"),
)


def _usage_error(exc: Exception) -> int:
    if type(exc).__name__ == "NoArgsIsHelpError":  # a bare `zhibu` or `zhibu rules`: the help was the answer
        sys.stderr.write(exc.format_message() + "\n")
        return 0
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    for pattern, translate in _USAGE_ERRORS:
        match = pattern.fullmatch(message.strip())
        if match:
            message = translate(match)
            break
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "zhibu"
    sys.stderr.write(f"错误：{message}\n用法见：{path} --help\n")
    return getattr(exc, "exit_code", 2)


def _report(exc: Exception) -> int:
    """typer's exits and usage errors; any other error as every command reports it."""
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, typer.Abort):
        sys.stderr.write("已中止\n")
        return 130
    if isinstance(exc, typer.TyperException) and hasattr(exc, "show"):  # usage errors carry their status (2)
        return _usage_error(exc)
    return report_error(exc)


def _chinese_help(command) -> None:
    """Help screens in Chinese: the usage line, panel titles and the --help option's text (typer leaves them English)."""
    from typer import rich_utils

    try:  # typer ≥ 0.2x carries its own click
        from typer._click.core import Context
        from typer._click.formatting import HelpFormatter
    except ImportError:
        from click import Context, HelpFormatter

    class ChineseUsage(HelpFormatter):
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    Context.formatter_class = ChineseUsage
    rich_utils.ARGUMENTS_PANEL_TITLE, rich_utils.OPTIONS_PANEL_TITLE = "参数", "选项"
    rich_utils.COMMANDS_PANEL_TITLE, rich_utils.ERRORS_PANEL_TITLE = "命令", "错误"
    rich_utils.REQUIRED_LONG_STRING, rich_utils.DEFAULT_STRING = "[必填]", "[默认：{}]"
    for sub in [command, *getattr(command, "commands", {}).values()]:
        option = sub.get_help_option(typer.Context(sub))
        if option is not None:
            option.help = "显示本帮助并退出。"
        if sub is not command and hasattr(sub, "commands"):
            _chinese_help(sub)


def main() -> None:
    """Every command through typer (the console script, zhibu.launch.main, runs a plain `check` itself)."""
    prepare_process()
    command = typer.main.get_command(app)
    if len(sys.argv) < 2 or {"--help", "-h"} & set(sys.argv[1:]) or sys.argv[1:] == ["rules"]:
        _chinese_help(command)
    guarded(lambda: command(standalone_mode=False), _report)
