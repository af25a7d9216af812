"""LLMComposer against a fake OpenAI-compatible server: the real ChatOpenAI/HTTP path, scripted replies."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from knowledge.answer import Answer, Citation
from knowledge.llm import NOT_COVERED, LLMComposer
from zhibu.settings import Settings

PLAN = "筑牢新时代北疆基层战斗堡垒建设“最强党支部”方案"
PLAN_NUMBER = "内组通字〔2020〕4号"
MEMBERS = Citation(PLAN, PLAN_NUMBER, "三、综合评价 > （一）探索建立“四评”工作机制 > 2．党员评议",
                   "2．党员评议。通过党支部民主评议制度予以落实，上级党组织结合党支部实际合理确定民主评议指标项目，"
                   "“最强党支部”的党员评价优秀等次所占比例应达到参加评议党员总数的90%以上。",
                   0.91, "plan-2020-04#12", "方案")
ORGANISATION = Citation(PLAN, PLAN_NUMBER, "三、综合评价 > （一）探索建立“四评”工作机制 > 1．组织评定",
                        "1．组织评定。上级党组织根据日常了解和年度述职评议考核情况，对党支部工作予以评定，"
                        "“最强党支部”的组织评价等次必须为优秀。",
                        0.74, "plan-2020-04#11", "方案")
FUNDING = Citation(PLAN, PLAN_NUMBER, "四、激励保障 > （三）建立经费保障的倾斜机制",
                   "被旗县级以上党委评定为“最强党支部”的，在本地区单位党支部的一般保障标准基础上，"
                   "上浮30—50%予以倾斜，年下拨经费不少于5000元，用于支持党支部开展党的活动。",
                   0.52, "plan-2020-04#19", "方案")
QUESTION = "最强党支部的党员评议优秀比例要达到多少？"
HANG_SECONDS = 10


@pytest.fixture
def extractive() -> Answer:
    text = (f"方案·{MEMBERS.section}：““最强党支部”的党员评价优秀等次所占比例应达到参加评议党员总数的90%以上。”[1]\n"
            f"方案·{ORGANISATION.section}：““最强党支部”的组织评价等次必须为优秀。”[2]\n"
            f"方案·{FUNDING.section}：“年下拨经费不少于5000元，用于支持党支部开展党的活动。”[3]")
    return Answer(QUESTION, True, text, [MEMBERS, ORGANISATION, FUNDING])


class FakeOpenAIServer:
    """Answers POST /v1/chat/completions with whatever `behaviour` says; records every request."""

    def __init__(self) -> None:
        self.behaviour = self.reply("")
        self.requests: list[dict] = []
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                status, payload = fake.behaviour()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the timeout test's client has given up already: nothing to answer

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port per test
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @staticmethod
    def reply(content: str):
        completion = {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake-model",
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                      "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return lambda: (200, json.dumps(completion, ensure_ascii=False).encode())

    def hang(self):
        self.release.wait(HANG_SECONDS)
        return self.reply("“最强党支部”的组织评价等次必须为优秀。[P2]")()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_server():
    server = FakeOpenAIServer()
    yield server
    server.close()


@pytest.fixture
def composer(fake_server, tmp_path, monkeypatch) -> LLMComposer:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)  # 127.0.0.1 must not go through a developer's proxy
    settings = Settings(_env_file=None, zhibu_home=tmp_path, zhibu_llm_base_url=fake_server.url,
                        zhibu_llm_model="fake-model", zhibu_llm_api_key=None, zhibu_llm_timeout=1)
    return LLMComposer(settings)


def test_fake_server_good_reply_is_renumbered_and_request_carries_passages_and_rules(fake_server, composer, extractive):
    fake_server.behaviour = fake_server.reply(
        "“最强党支部”的党员评价优秀等次所占比例应达到参加评议党员总数的90%以上[P1]。"
        "同时，组织评价等次必须为优秀。[P2]")

    answer = composer.compose(QUESTION, extractive)

    assert answer.mode == "llm" and answer.found and answer.question == QUESTION
    assert answer.answer == ("“最强党支部”的党员评价优秀等次所占比例应达到参加评议党员总数的90%以上[1]。"
                             "同时，组织评价等次必须为优秀。[2]")
    assert answer.citations == [MEMBERS, ORGANISATION]

    [request] = fake_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer not-needed"
    body = request["body"]
    assert body["model"] == "fake-model" and body["temperature"] == 0 and not body.get("stream")
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert NOT_COVERED in system["content"] and "[P1]" in system["content"] and "不得使用段落以外的任何知识" in system["content"]
    assert "不是指令" in system["content"]  # the prompt-injection rule
    assert f"[P1] 《{PLAN}》（{PLAN_NUMBER}） {MEMBERS.section}\n{MEMBERS.text}" in user["content"]
    assert f"[P3] 《{PLAN}》（{PLAN_NUMBER}） {FUNDING.section}\n{FUNDING.text}" in user["content"]
    assert QUESTION in user["content"] and QUESTION not in system["content"]


def test_fake_server_citations_keep_best_first_order(fake_server, composer, extractive):
    fake_server.behaviour = fake_server.reply("年下拨经费不少于5000元。[P3]\n党员评价优秀等次所占比例应达到90%以上。[P1]")

    answer = composer.compose(QUESTION, extractive)

    assert answer.citations == [MEMBERS, FUNDING]  # only cited passages, in retrieval order
    assert answer.answer == "年下拨经费不少于5000元。[2]\n党员评价优秀等次所占比例应达到90%以上。[1]"


def test_fake_server_uncited_sentences_are_dropped(fake_server, composer, extractive):
    fake_server.behaviour = fake_server.reply(
        "根据我的了解，各地通常从严掌握。党员评价优秀等次所占比例应达到参加评议党员总数的90%以上。[P1]建议提前准备材料！")

    answer = composer.compose(QUESTION, extractive)

    assert answer.mode == "llm"
    assert answer.answer == "党员评价优秀等次所占比例应达到参加评议党员总数的90%以上。[1]"
    assert answer.citations == [MEMBERS]


def test_fake_server_invented_citation_ids_are_dropped(fake_server, composer, extractive):
    fake_server.behaviour = fake_server.reply(
        "组织评价等次必须为优秀。[P2]评定结果须报自治区备案。[P9]党员评议须全员参加。[P1][P9]")

    answer = composer.compose(QUESTION, extractive)

    assert answer.answer == "组织评价等次必须为优秀。[1]"
    assert answer.citations == [ORGANISATION]


def test_fake_server_numbers_not_in_the_cited_passage_are_dropped(fake_server, composer, extractive):
    # 5000 is real policy text, but in P3, not in the P1 this sentence cites; 80% appears nowhere.
    fake_server.behaviour = fake_server.reply(
        "优秀比例应达到80%以上。[P1]年下拨经费不少于5000元。[P1]上浮30—50%予以倾斜。[P3]")

    answer = composer.compose(QUESTION, extractive)

    assert answer.answer == "上浮30—50%予以倾斜。[1]"
    assert answer.citations == [FUNDING]


def test_fake_server_all_sentences_invalid_falls_back(fake_server, composer, extractive, caplog):
    fake_server.behaviour = fake_server.reply("一般要求80%左右。各地可自行掌握。[P7]\n[P1]")

    with caplog.at_level(logging.WARNING, logger="knowledge.llm"):
        answer = composer.compose(QUESTION, extractive)

    assert answer is extractive and answer.mode == "extractive"
    assert "grounded" in caplog.text


@pytest.mark.parametrize("content", [NOT_COVERED, "", "<think>资料里有[P1]吗？</think>NOT_COVERED"])
def test_fake_server_not_covered_or_empty_falls_back(fake_server, composer, extractive, content, caplog):
    fake_server.behaviour = fake_server.reply(content)

    with caplog.at_level(logging.WARNING, logger="knowledge.llm"):
        answer = composer.compose(QUESTION, extractive)

    assert answer is extractive
    assert NOT_COVERED in caplog.text


def test_fake_server_http_500_falls_back_without_retry(fake_server, composer, extractive, caplog):
    fake_server.behaviour = lambda: (500, b'{"error": {"message": "internal error", "type": "server_error"}}')

    with caplog.at_level(logging.WARNING, logger="knowledge.llm"):
        answer = composer.compose(QUESTION, extractive)

    assert answer is extractive
    assert len(fake_server.requests) == 1
    assert "LLM call failed" in caplog.text


def test_fake_server_hang_times_out_and_falls_back(fake_server, composer, extractive, caplog):
    fake_server.behaviour = fake_server.hang

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="knowledge.llm"):
        answer = composer.compose(QUESTION, extractive)
    elapsed = time.monotonic() - started

    assert answer is extractive
    assert elapsed < HANG_SECONDS / 2  # timeout is 1 s; the server would answer only after 10 s
    assert "Timeout" in caplog.text


def test_fake_server_malformed_json_falls_back(fake_server, composer, extractive, caplog):
    fake_server.behaviour = lambda: (200, b'{"choices": [{"message": ')

    with caplog.at_level(logging.WARNING, logger="knowledge.llm"):
        answer = composer.compose(QUESTION, extractive)

    assert answer is extractive
    assert "LLM call failed" in caplog.text


def test_importing_the_module_does_not_load_langchain_openai():
    code = "import sys, knowledge.llm; assert 'langchain_openai' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
