"""The 申报表 in the console: a batch run's per-branch Word documents as a ZIP, and the 申报模板 an admin
replaces (validated before it is used; the next documents use it)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from docx import Document
from fastapi.testclient import TestClient

from console.app import create_app
from tests.console.conftest import ADMIN, LOCAL, PASSWORD

ROSTER = ("domain,year,name,founded_on,weak_and_lax,basic.done,basic.five_strong\n"
          "社区,2023,新华社区党支部,2015-06-01,否,按期换届、书记轮训、三会一课、组织生活会、民主评议党员、主题党日、谈心谈话、"
          "党费收缴管理,政治功能强、队伍建设强、组织生活强、作用发挥强、群众工作强\n"
          "嘎查村,2023,乌兰嘎查党支部,2015-06-01,是,,\n"
          "不存在的领域,2023,坏行,,,,\n")


@pytest.fixture
def client(settings, records):
    with TestClient(create_app(settings), base_url=LOCAL) as test_client:
        yield test_client


def signed_in(client: TestClient) -> str:
    login = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    assert client.post("/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": token}).status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/documents").text).group(1)


def docx_with(paragraph: str) -> bytes:
    document = Document()
    document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def text_of(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)


def run_roster(client: TestClient, csrf: str) -> str:
    page = client.post("/batch", data={"csrf_token": csrf}, files={"file": ("名单.csv", ROSTER.encode(), "text/csv")})
    assert page.status_code == 200 and "下载各党支部申报表" in page.text
    return re.search(r'href="(/batch/[^"]+/applications\.zip)"', page.text).group(1)


def test_a_batch_run_downloads_one_application_per_valid_branch(client):
    csrf = signed_in(client)
    archive = zipfile.ZipFile(io.BytesIO(client.get(run_roster(client, csrf)).content))
    names = sorted(archive.namelist())
    assert names == ["第1行-申报表-新华社区党支部-2023年度.docx", "第2行-申报表-乌兰嘎查党支部-2023年度.docx"]
    community = text_of(archive.read(names[0]))
    assert "信息不全" in community and "新华社区党支部" in community and "佐证材料" in community
    assert "暂不符合评定条件" in text_of(archive.read(names[1]))  # 软弱涣散


def test_an_admin_replaces_the_template_and_the_next_documents_use_it(client):
    csrf = signed_in(client)
    assert "当前使用：默认模板" in client.get("/documents").text
    refused = client.post("/documents/application-template", data={"csrf_token": csrf},
                          files={"file": ("坏模板.docx", docx_with("{% for %}"), "application/octet-stream")})
    assert "申报模板未更换：模板无法生成申报表" in refused.text
    done = client.post("/documents/application-template", data={"csrf_token": csrf},
                       files={"file": ("旗委模板.docx", docx_with("旗委组织部申报表 {{ name }} {{ verdict }}"), "x")})
    assert "申报模板已更换" in done.text and "当前使用：本地上传的模板" in done.text
    assert "旗委组织部申报表" in text_of(client.get("/documents/application-template.docx").content)
    archive = zipfile.ZipFile(io.BytesIO(client.get(run_roster(client, csrf)).content))
    first = sorted(archive.namelist())[0]
    assert text_of(archive.read(first)).startswith("旗委组织部申报表 新华社区党支部")
    reset = client.post("/documents/application-template/reset", data={"csrf_token": csrf})
    assert "已恢复默认申报模板" in reset.text and "当前使用：默认模板" in reset.text
