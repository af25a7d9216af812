"""Spreadsheet bombs uploaded to 批量评估 by a viewer, four at once: the console's memory and how long each takes.

Serves `zhibu console` (a separate process) on a fresh `ZHIBU_HOME`, signs four viewers in, and has them upload
at the same moment (1) a small XLSX whose shared strings unpack to 190 MB (the probe's bomb), refused from its
zip directory, and (2) one that unpacks to just under ZHIBU_MAX_UNPACKED_MB (60 MB), which the `zhibu batch`
child parses under its memory limit. Prints each round's wall time, the console's peak resident memory
(VmHWM) and the largest child's. Goal: the console's peak stays under 500 MiB.

    .venv/bin/python benchmarks/bench_console_uploads.py [--uploads 4]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx
from console_process import ZHIBU, start_console

GOAL_RSS_MIB = 500


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SHARED = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SHARED_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def xlsx_bomb(path: Path, unpacked_mb: int) -> Path:
    """A real workbook (a header and one branch, every cell a shared string) whose branch name is `unpacked_mb`
    MB of one letter: a few hundred KB on disk."""
    from openpyxl import Workbook

    plain = path.with_suffix(".plain.xlsx")
    workbook = Workbook()
    workbook.active.append(["domain", "year", "name"])
    workbook.save(plain)
    texts = ["domain", "year", "name", "gacha_village", "2024", "A" * (unpacked_mb * 1024 * 1024)]
    strings = (f'<sst xmlns="{_MAIN}" count="{len(texts)}" uniqueCount="{len(texts)}">'
               + "".join(f"<si><t>{text}</t></si>" for text in texts) + "</sst>")
    cells = lambda row, first: "".join(f'<c r="{column}{row}" t="s"><v>{first + number}</v></c>'
                                       for number, column in enumerate("ABC"))
    sheet = (f'<worksheet xmlns="{_MAIN}"><sheetData><row r="1">{cells(1, 0)}</row><row r="2">{cells(2, 3)}</row>'
             "</sheetData></worksheet>")
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in source.infolist():
            data = source.read(item).decode()
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet
            elif item.filename == "[Content_Types].xml":
                data = data.replace("</Types>", f'<Override PartName="/xl/sharedStrings.xml" '
                                                f'ContentType="{_SHARED}"/></Types>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace("</Relationships>", f'<Relationship Id="rIdS" Type="{_SHARED_REL}" '
                                                        'Target="sharedStrings.xml"/></Relationships>')
            bomb.writestr(item.filename, data)
        bomb.writestr("xl/sharedStrings.xml", strings)
    plain.unlink()
    return path


def peak_mib(pid: int) -> float:
    try:
        return int(re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
    except (OSError, AttributeError):
        return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=4)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="zhibu-bench-uploads-"))
    environment = {**os.environ, "ZHIBU_HOME": str(home), "ZHIBU_EMBEDDING": "none"}
    subprocess.run([ZHIBU, "console", "add-user", "查看员", "--role", "viewer"], input="benchmark-password\n",
                   text=True, env=environment, check=True, capture_output=True)
    server, url = start_console(environment)
    try:
        clients = []
        for number in range(args.uploads):
            client = httpx.Client(base_url=url, follow_redirects=True, timeout=600,
                                  transport=httpx.HTTPTransport(local_address=f"127.0.0.{20 + number}"))
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            page = client.post("/login", data={"name": "查看员", "password": "benchmark-password", "csrf_token": token})
            clients.append((client, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)))
        folder = Path(tempfile.mkdtemp(prefix="zhibu-bombs-"))
        print(f"console at rest: peak {peak_mib(server.pid):.0f} MiB")
        for label, unpacked in (("190 MB shared strings (refused from the zip directory)", 190),
                                ("60 MB shared strings (parsed by the child)", 60)):
            bomb = xlsx_bomb(folder / f"名单{unpacked}.xlsx", unpacked)
            content = bomb.read_bytes()
            answers: list[tuple[int, str]] = []
            child_peak = [0.0]
            done = threading.Event()

            def upload(client: httpx.Client, csrf: str) -> None:
                response = client.post("/batch", data={"csrf_token": csrf},
                                       files={"file": ("名单.xlsx", content, "application/octet-stream")})
                message = re.search(r'role="alert">([^<]+)<', response.text)
                answers.append((response.status_code, message.group(1) if message else ""))

            def watch() -> None:
                while not done.is_set():
                    for child in children(server.pid):
                        child_peak[0] = max(child_peak[0], peak_mib(child))
                    time.sleep(0.05)

            watcher = threading.Thread(target=watch)
            watcher.start()
            started = time.perf_counter()
            threads = [threading.Thread(target=upload, args=pair) for pair in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            done.set()
            watcher.join()
            print(f"{args.uploads} × {label}, {len(content) / 1024:.0f} KB each: {elapsed:.1f} s in all; "
                  f"console peak {peak_mib(server.pid):.0f} MiB, largest child peak {child_peak[0]:.0f} MiB")
            for status, message in sorted(set(answers)):
                print(f"  {status} {message[:100]}")
        peak = peak_mib(server.pid)
        verdict = "met" if peak < GOAL_RSS_MIB else "MISSED"
        print(f"goal: console peak < {GOAL_RSS_MIB} MiB → {verdict} ({peak:.0f} MiB)")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
