"""Curated answers (问答对): staff's standard answers, given first (marked 经审核) to questions like theirs.

An entry is a standard question, the other wordings of its group, a short answer and the clauses it
rests on; every clause must stand word for word in a document of the knowledge base when it is saved
(`knowledge.clauses`, as `zhibu rules check` compares). The records store is the record; after every
change the entries are published to `$ZHIBU_HOME/curated_answers.json` (with their e5 vectors), which
the answer path reads when it changes — no database on the way to an answer. An entry whose document
is no longer the version it was verified against (replaced or removed) is suspended: never given, and
listed for review on the console until staff check it again.

A question gets an entry when it is close to the standard question or one of the wordings: most of
its words shared (jieba tokens, Jaccard), or many shared and an e5 similarity near paraphrase.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.answer import ANSWERED, Answer, Citation
from knowledge.preanswer import follow_up_context
from knowledge.clauses import locate_clause, passage_holding
from knowledge.eligibility import basis as place
from knowledge.question import answer_type, domain_mentions, years_asked
from knowledge.terms import ASKING
from knowledge.text import tokenize, vocabulary
from zhibu.errors import BadInput
from zhibu.text import chinese_punctuation, quoted

FILE = "curated_answers.json"
STARTER = Path(__file__).parent / "data" / "curated_starter.yaml"
# Conservative on purpose: a wrong curated answer is worse than the ordinary one. Calibrated on the
# starter set against every question of tests/data and the shared dev sets (docs/qa.md).
KEYWORD_ALONE = 0.6  # share of words in common (Jaccard) that suffices by itself
KEYWORD_WITH_DENSE = 0.4  # …or this much, with an e5 similarity of at least
DENSE = 0.95
MAX_CLAUSES = 3
REVIEWED = "（经审核）"


# ---- matching --------------------------------------------------------------------------------
@lru_cache(maxsize=4096)  # the entries' wordings are compared with every question
def _words(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@lru_cache(maxsize=4096)
def _asks(text: str) -> tuple:
    """What a wording asks besides its words: the kind of answer, the years, places, bodies and domains it names."""
    vocab = vocabulary()
    return (answer_type(text), frozenset(years_asked(text, date.today().year)),
            frozenset(p for p in vocab["other_places"] if p in text), frozenset(b for b in vocab["body_suffixes"] if b in text),
            frozenset(domain for _, domain in domain_mentions(text)))


def similarity(question: str, entry: dict, query_vector=None, own_words: str | None = None) -> float:
    """How close `question` is to the entry (0 when not close enough): the best of its texts. A text that
    shares most words but asks another thing ("山东那边…", "2024年…", 谁来评 / 什么时候评) never counts; a
    follow-up asks what its own words ask ("多久评一次？" after "谁来评？")."""
    words, asks = _words(question), _asks(own_words or question)
    own = {word for word in _words(own_words) if not ASKING.search(word)} if own_words else set()  # not "由谁来"
    vector = query_vector(question) if query_vector and entry.get("vectors") else None
    best = 0.0
    for index, text in enumerate([entry["question"], *entry["wordings"]]):
        if _asks(text) != asks or own and not own & _words(text):  # "这个钱由谁来出" is not "谁来评"
            continue
        keyword = _jaccard(words, _words(text))
        dense = _cosine(vector, entry["vectors"][index]) if vector else 0.0
        if keyword >= KEYWORD_ALONE or (keyword >= KEYWORD_WITH_DENSE and dense >= DENSE):
            best = max(best, keyword + dense)
    return best


def suspension(entry: dict, generation) -> str | None:
    """Why the entry is suspended (Chinese), or None while every cited document is the version verified."""
    for clause in entry["clauses"]:
        meta = generation.documents.get(clause["doc_id"]) if generation else None
        if meta is None:
            return f"《{clause['document']}》已从知识库移除"
        if meta.get("version") != clause.get("version"):
            return f"《{clause['document']}》已换成新版本，请核对条款"
    return None


def pre_answer(question: str, context) -> Answer | None:
    """The closest active curated answer, marked 经审核, with its clauses; None when none is close."""
    entries = published(context.home, context.embedding_id)
    if not entries:
        return None
    query_vector = context.query_vector if context.embedding_id != "none" else None
    scored = [(similarity(question, entry, query_vector, context.own_words), entry) for entry in entries
              if suspension(entry, context.generation) is None]
    score, entry = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return as_answer(question, entry, context.generation, score) if score > 0 else None


def as_answer(question: str, entry: dict, generation, score: float) -> Answer:
    citations = [_citation(clause, generation, score) for clause in entry["clauses"]]
    basis = "\n".join(f"依据：{place(c)}：{quoted(c.text)}[{n}]" for n, c in enumerate(citations, start=1))
    return Answer(question=question, found=True, answer=f"答：{entry['answer']}{REVIEWED}\n{basis}", citations=citations,
                  mode="curated", status=ANSWERED, context=follow_up_context(question, citations))


def _citation(clause: dict, generation, score: float) -> Citation:
    passage = passage_holding(generation, clause["doc_id"], clause["quote"])
    return Citation(clause["document"], clause.get("doc_number", ""), clause["section"],
                    chinese_punctuation(clause["quote"].strip()), round(score, 6),
                    passage.chunk_id if passage else "", passage.short_title if passage else "")


# ---- the published file ----------------------------------------------------------------------
def published(home: Path, embedding_id: str = "none") -> list[dict]:
    """The entries as last published (re-read when the file changes); vectors only of the model in use."""
    path = home / FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        return []
    return _read(str(path), stat.st_mtime_ns, stat.st_size, embedding_id)


@lru_cache(maxsize=4)
def _read(path: str, _mtime: int, _size: int, embedding_id: str) -> list[dict]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    same_model = data.get("model") == embedding_id
    return [entry | {"vectors": entry.get("vectors") if same_model else None} for entry in data["entries"]]


def publish(home: Path, entries: list[dict], embeddings=None) -> Path:
    """Write the entries for the answer path, atomically, with the e5 vectors of their texts."""
    from knowledge.embeddings import embedding_id

    rows = []
    for entry in entries:
        texts = [entry["question"], *entry["wordings"]]
        vectors = [embeddings.embed_query(text) for text in texts] if embeddings is not None else None
        rows.append({key: entry[key] for key in ("id", "question", "wordings", "answer", "clauses")} | {"vectors": vectors})
    path = home / FILE
    descriptor, temp = tempfile.mkstemp(dir=home, prefix=f".{FILE}.", suffix=".tmp")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"model": embedding_id(embeddings), "entries": rows}, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


# ---- writing: verify, store, publish ----------------------------------------------------------
def verified_clauses(generation, given: list[dict]) -> list[dict]:
    """Each {doc_id, section, quote} checked against the knowledge base, with its document's title,
    number and version; BadInput (Chinese) for the first that does not stand."""
    given = [clause for clause in given if (clause.get("quote") or "").strip()]
    if not given:
        raise BadInput("请至少摘录一条依据条款的原文。")
    if len(given) > MAX_CLAUSES:
        raise BadInput(f"依据条款最多 {MAX_CLAUSES} 条。")
    clauses = []
    for clause in given:
        if not (clause.get("section") or "").strip():
            raise BadInput("请写明每条条款所在的章节，例如“四、（三）关于负面情形”。")
        found = locate_clause(generation, str(clause.get("doc_id") or ""), clause["quote"], "写标准答案")
        clauses.append(found | {"section": clause["section"].strip(), "quote": clause["quote"].strip()})
    return clauses


def clean_entry(question: str, answer: str, wordings: list[str]) -> tuple[str, str, list[str]]:
    question, answer = question.strip(), answer.strip().removeprefix("答：").strip()
    if not question:
        raise BadInput("请写标准问题（书记们会怎么问）。")
    if not answer:
        raise BadInput("请写简短的标准答案。")
    others = [w.strip() for w in wordings if w.strip() and w.strip() != question]
    return question, answer, list(dict.fromkeys(others))


class CuratedService:
    """What the console and `zhibu answers` do: save, check again, delete, list, export, import."""

    def __init__(self, settings) -> None:
        from records.curated import CuratedAnswers

        self.settings = settings
        self.store = CuratedAnswers(settings)

    def _generation(self):
        from knowledge.store import KnowledgeBase

        return KnowledgeBase(self.settings.zhibu_home).active()

    def publish(self) -> None:
        from knowledge.service import get_qa_service

        publish(self.settings.zhibu_home, [entry.as_dict() for entry in self.store.all()],
                get_qa_service(self.settings).embeddings)

    def save(self, *, question: str, answer: str, wordings: list[str], clauses: list[dict], by: str,
             answer_id: int | None = None):
        question, answer, wordings = clean_entry(question, answer, wordings)
        verified = verified_clauses(self._generation(), clauses)
        entry = self.store.save(question=question, wordings=wordings, answer=answer, clauses=verified, by=by,
                                answer_id=answer_id)
        self.publish()
        return entry

    def check_again(self, answer_id: int, by: str):
        """Verify a suspended entry's clauses against the documents as they are now, and resume it."""
        entry = self.store.get(answer_id)
        if entry is None:
            raise BadInput("没有这条标准答案。")
        return self.save(question=entry.question, answer=entry.answer, wordings=entry.wordings, clauses=entry.clauses,
                         by=by, answer_id=answer_id)

    def delete(self, answer_id: int) -> bool:
        removed = self.store.delete(answer_id)
        self.publish()
        return removed

    def listing(self) -> list[tuple[dict, str | None]]:
        """Every entry with why it is suspended (None: active), suspended ones first."""
        generation = self._generation()
        rows = [(entry.as_dict(), suspension(entry.as_dict(), generation)) for entry in self.store.all()]
        return sorted(rows, key=lambda row: (row[1] is None, row[0]["id"]))

    def export_yaml(self) -> str:
        entries = [{"question": e.question, "wordings": list(e.wordings), "answer": e.answer,
                    "clauses": [{key: c[key] for key in ("doc_id", "section", "quote")} for c in e.clauses]}
                   for e in self.store.all()]
        header = "# 支部 Zhibu 标准答案（问答对）。每条：question 标准问题、wordings 其他问法、answer 简短答案、\n" \
                 "# clauses 依据条款（doc_id 文件编号、section 章节、quote 原文，须与知识库中的文件逐字一致）。\n"
        return header + yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=200)

    def import_yaml(self, text: str, by: str) -> int:
        """Every entry checked first (all problems listed, nothing saved when any); then saved and published."""
        entries = parse_entries(text)
        generation = self._generation()
        problems, ready = [], []
        for number, entry in enumerate(entries, start=1):
            try:
                question, answer, wordings = clean_entry(entry["question"], entry["answer"], entry["wordings"])
                ready.append((question, answer, wordings, verified_clauses(generation, entry["clauses"])))
            except BadInput as error:
                problems.append(f"第{number}条（{str(entry['question'])[:30]}）：{error}")
        if problems:
            raise BadInput("没有导入，请先改正：\n" + "\n".join(problems))
        for question, answer, wordings, clauses in ready:
            self.store.save(question=question, wordings=wordings, answer=answer, clauses=clauses, by=by)
        self.publish()
        return len(ready)


def parse_entries(text: str) -> list[dict]:
    """The YAML of `zhibu answers export`; BadInput (Chinese) for anything of another shape."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BadInput(f"文件不是有效的 YAML：{getattr(error, 'problem', '') or '格式有误'}。") from None
    if not isinstance(data, list) or not data:
        raise BadInput("文件应是标准答案的列表（每条有 question、answer、clauses）。")
    entries = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) or not isinstance(item.get("answer"), str):
            raise BadInput(f"第{number}条：须有文字的 question（标准问题）和 answer（答案）。")
        clauses, wordings = item.get("clauses"), item.get("wordings") or []
        if not isinstance(clauses, list) or not all(isinstance(c, dict) for c in clauses):
            raise BadInput(f"第{number}条：clauses 应是依据条款的列表，每条有 doc_id、section、quote。")
        if not isinstance(wordings, list) or not all(isinstance(w, str) for w in wordings):
            raise BadInput(f"第{number}条：wordings 应是问法的列表。")
        entries.append({"question": item["question"], "answer": item["answer"], "wordings": wordings,
                        "clauses": [{key: str(c.get(key) or "") for key in ("doc_id", "section", "quote")} for c in clauses]})
    return entries


# ---- `zhibu answers export | import` -----------------------------------------------------------
def run_export(path: Path) -> None:
    from zhibu.settings import get_settings

    service = CuratedService(get_settings())
    path.write_text(service.export_yaml(), encoding="utf-8")
    print(f"已导出 {len(service.store.all())} 条标准答案到 {path}")


def run_import(path: Path | None, *, starter: bool = False) -> None:
    from zhibu.settings import get_settings

    if (path is None) == (not starter):
        raise BadInput("请给出一个 YAML 文件，或用 --starter 导入随程序提供的初始标准答案（二者选一）。")
    source = STARTER if starter else path
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"无法读取 {source}：{type(error).__name__}。请给出 UTF-8 编码的 YAML 文件。") from None
    service = CuratedService(get_settings())
    count = service.import_yaml(text, by="命令行导入")
    print(f"已导入 {count} 条标准答案（条款均已与知识库原文核对）。")
