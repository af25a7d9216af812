"""The records store on SQLite (the default) and on a real PostgreSQL server the tests start."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from records.database import database_url, engine_for
from records.models import DOWN, UP
from records.store import BUDGETS, FIRST_WAIT_S, Records, now
from zhibu.errors import BadInput
from zhibu.settings import Settings

SOURCE = {"doc_id": "notice-2026", "document": "关于2026年度工作的通知", "doc_number": "内组通字〔2026〕1号",
          "section": "一、", "quote": "到2026年底达到60%以上"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Records:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = Settings(_env_file=None, zhibu_home=tmp_path / f"home-{request.param}", zhibu_database_url=url)
    records = Records(settings)
    if url:  # one server for the session: every test starts from empty tables
        with engine_for(database_url(settings)).begin() as connection:
            tables = ("questions, feedback, selfcheck_events, targets, console_users, console_sessions, kb_changes, "
                      "login_throttle")
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return records


def ask(store: Records, question: str, *, status: str = "not_covered", chat: int = 42, user: int = 4242,
        days_ago: float = 0, wording: str | None = None) -> int:
    return store.log_question(channel="telegram", chat_id=chat, user_id=user, question=question, answer="……",
                              status=status, cited=["plan-2020-04#3"], generation="g1", wording=wording or question,
                              asked_at=now() - timedelta(days=days_ago))


def test_migrations_create_every_table_with_its_indexes(store):
    engine = engine_for(database_url(store.settings))
    inspector = inspect(engine)
    assert {"questions", "feedback", "selfcheck_events", "targets", "console_users", "console_sessions",
            "kb_changes", "alembic_version"} <= set(inspector.get_table_names())
    assert "ix_questions_pending" in {index["name"] for index in inspector.get_indexes("questions")}


def test_ids_are_stored_only_as_salted_hashes(store, tmp_path):
    question_id = ask(store, "咱村集体收入要多少", chat=123456789, user=987654321)
    row = store.question(question_id)
    assert "123456789" not in row.chat_hash and "987654321" not in row.user_hash
    assert row.chat_hash == store.hash_id(123456789)
    other_salt = Records(Settings(_env_file=None, zhibu_home=tmp_path / "elsewhere", zhibu_log_salt="another salt"))
    assert other_salt.hash_id(123456789) != row.chat_hash


def test_the_generated_salt_is_private_to_its_owner(store):
    if store.settings.zhibu_database_url:
        pytest.skip("the salt file is the same on every database")
    salt = store.settings.zhibu_home / "records" / "log_salt"
    assert not salt.exists()  # made on first use: opening the store touches nothing
    store.hash_id(1)
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600 and len(salt.read_bytes()) == 64


def test_feedback_is_one_per_person_and_can_change(store):
    question_id = ask(store, "评最强要几颗星", status="answered")
    assert store.rate(question_id, 42, 4242, UP)
    assert store.rate(question_id, 42, 4242, DOWN, "内容不全")
    assert store.rate(question_id, 42, 777, DOWN)
    given = sorted((f.rating, f.reason or "") for f in store.feedback_of(question_id))
    assert given == [(DOWN, ""), (DOWN, "内容不全")]
    assert store.question(question_id).rating == DOWN
    assert not store.rate(question_id, 43, 4242, UP)  # a button forged in another chat
    with pytest.raises(BadInput):
        store.rate(question_id, 42, 4242, DOWN, "不喜欢")


def test_pending_questions_are_grouped_by_wording_and_can_be_handled(store):
    for _ in range(3):
        ask(store, "咱村集体收入要多少", wording="收入 村集体")
    ask(store, "村集体收入要多少？", status="partial", wording="收入 村集体")
    liked = ask(store, "最强党支部多长时间评一次", status="answered", wording="一次 最强党支部 评")
    disliked = ask(store, "党员评议优秀比例", status="answered", wording="优秀 党员评议 比例")
    store.rate(liked, 42, 4242, UP)
    store.rate(disliked, 42, 4242, DOWN, "答非所问")
    groups = {group.wording: group for group in store.pending_groups()}
    assert set(groups) == {"收入 村集体", "优秀 党员评议 比例"}  # an answered, 👍 question needs no one
    income = groups["收入 村集体"]
    assert (income.count, income.not_covered, income.partial, income.thumbs_down) == (4, 3, 1, 0)
    assert income.example == "村集体收入要多少？" and income.cited == ["plan-2020-04#3"]
    assert groups["优秀 党员评议 比例"].reasons == {"答非所问": 1} and income.reasons == {}
    assert store.mark_handled(["收入 村集体"], "管理员甲") == 4
    assert [group.wording for group in store.pending_groups()] == ["优秀 党员评议 比例"]


def test_purge_removes_questions_past_the_retention_with_their_feedback(store):
    old = ask(store, "去年的问题", days_ago=200)
    store.rate(old, 42, 4242, DOWN)
    recent = ask(store, "昨天的问题", days_ago=1)
    assert store.purge() == 1  # default retention: 180 days
    assert store.question(old) is None and store.feedback_of(old) == []
    assert store.question(recent) is not None
    assert store.purge(retention_days=1) == 1


def test_statistics_count_days_statuses_ratings_and_self_checks(store):
    ask(store, "一", status="answered")
    ask(store, "二", status="partial")
    rated = ask(store, "三", status="not_covered")
    ask(store, "四", days_ago=40)
    store.rate(rated, 42, 4242, DOWN)
    store.count_selfcheck("started")
    store.count_selfcheck("started")
    store.count_selfcheck("finished")
    stats = store.stats(30)
    assert stats["statuses"] == {"answered": 1, "partial": 1, "not_covered": 1}
    assert sum(count for _, count in stats["per_day"]) == 3
    assert (stats["up"], stats["down"], stats["started"], stats["finished"]) == (0, 1, 2, 1)
    assert sum(count for _, count in store.stats(90)["per_day"]) == 4


def test_one_target_per_parameter_and_year(store):
    store.set_target(parameter="targets.share", year=2026, value=0.5, source=SOURCE, entered_by="管理员甲")
    store.set_target(parameter="targets.share", year=2026, value=0.6, source=SOURCE, entered_by="管理员丙")
    store.set_target(parameter="targets.share", year=2027, value=0.7, source=SOURCE, entered_by="管理员甲")
    assert [(t.year, t.value, t.entered_by) for t in store.targets()] == [(2026, 0.6, "管理员丙"), (2027, 0.7, "管理员甲")]
    assert store.delete_target("targets.share", 2027) and not store.delete_target("targets.share", 2027)


def test_accounts_hash_passwords_and_end_sessions(store):
    store.add_user("管理员甲", "correct horse 2026", "admin")
    user = store.users()[0]
    assert user.password_hash.startswith("$argon2") and "correct horse" not in user.password_hash
    assert store.check_password("管理员甲", "wrong") == (None, True)
    assert store.check_password("无此人", "whatever") == (None, False)
    user, known = store.check_password("管理员甲", "correct horse 2026")
    assert known and user.name == "管理员甲"
    token, csrf = store.open_session(user)
    assert store.session_user(token)[1] == csrf
    store.close_session(token)
    assert store.session_user(token) is None


def test_a_password_reset_ends_every_session_of_the_account(store):
    store.add_user("管理员甲", "correct horse 2026", "admin")
    user, _ = store.check_password("管理员甲", "correct horse 2026")
    sessions = [store.open_session(user)[0] for _ in range(3)]
    store.add_user("管理员甲", "a new password", "admin")  # `zhibu console add-user` after a leak
    assert [store.session_user(token) for token in sessions] == [None, None, None]
    assert store.check_password("管理员甲", "correct horse 2026")[0] is None


def test_sign_in_budgets_slow_down_and_never_lock(store):
    name_budget = BUDGETS["name"]
    keys = {"client": "203.0.113.7", "name": "管理员甲"}
    assert [store.login_wait(keys) for _ in range(name_budget.free)] == [0] * name_budget.free
    assert 0 < store.login_wait(keys) <= FIRST_WAIT_S  # the next one waits seconds, not fifteen minutes
    assert store.login_wait({"client": "198.51.100.1", "name": "其他人"}) == 0  # other names, other clients go on
    assert store.login_wait({"device": "a browser that signed in as 管理员甲"}) == 0  # its owner goes on too
    store.login_succeeded(keys)
    assert store.login_wait(keys) == 0


def test_sign_in_waits_are_counted_on_the_database_clock(store, monkeypatch):
    """A console whose clock runs a year ahead neither waits a year nor skips the wait."""
    import records.store as store_module

    keys = {"client": "203.0.113.9", "name": "管理员乙"}
    for _ in range(BUDGETS["name"].free):
        store.login_wait(keys)
    monkeypatch.setattr(store_module, "now", lambda: store_module.datetime.now(store_module.timezone.utc)
                        + timedelta(days=365))
    assert 0 < store.login_wait(keys) <= FIRST_WAIT_S
    store.add_user("管理员乙", "correct horse 2026", "admin")
    user, _ = store.check_password("管理员乙", "correct horse 2026")
    token, _ = store.open_session(user)
    assert store.session_user(token) is not None  # not expired by a clock a year ahead


def test_accounts_need_a_printable_name_and_a_long_password(store):
    with pytest.raises(BadInput):
        store.add_user("短", "short", "admin")
    with pytest.raises(BadInput):
        store.add_user("管理员\x00甲", "a long password", "admin")
