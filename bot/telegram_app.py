"""The Telegram transport: a thin python-telegram-bot v22 `Application` over the dialogue core.

The conversation's state machine lives in the core (`bot.dialogue`), so this module has plain
handlers only: each turns an update into an `Event`, hands it to the core with the user's state
(`user_data`, persisted in SQLite) and renders the replies. Updates of one user are processed in
order, those of different users concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import traceback
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from urllib.parse import urlsplit

from telegram import (BotCommand, BotCommandScopeChat, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup,
                      InputFile, Message, MessageEntity, Update)
from telegram.constants import ChatAction, ChatType
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (AIORateLimiter, Application, ApplicationHandlerStop, BaseUpdateProcessor, CallbackQueryHandler,
                          CommandHandler, ContextTypes, MessageHandler, TypeHandler, filters)

from bot.admin import COMMANDS as ADMIN_COMMANDS
from bot.admin import Admin
from bot.dialogue import COMMANDS, Dialogue
from bot.events import Event, Reply
from bot.feedback import Feedback, Origin
from bot.flood import FloodGate, Verdict
from bot.library import Library
from bot.persistence import SqlitePersistence
from bot.text import MESSAGE_LIMIT, split_message
from zhibu.errors import BadInput
from zhibu.keyed_locks import KeyedLocks
from zhibu.settings import Settings, get_settings

log = logging.getLogger(__name__)

APOLOGY = "抱歉，处理您的消息时出了点问题，请稍后再试。问题已报告给管理员。"
FLOOD_WARNING = "您发送得太快了，请稍等片刻再继续。"
TYPING_REFRESH_S = 4.5  # Telegram shows "typing…" for about five seconds per chat action
CONCURRENT_UPDATES = 64
# httpx scans its whole connection pool on every request: PTB's default of 256 connections costs more
# CPU than it saves. A small pool with a patient pool timeout keeps up with Telegram's 30 requests/s.
CONNECTION_POOL = 8
POOL_TIMEOUT_S = 30.0
KEPT_KEYBOARDS = 300  # per group chat: whose keyboard each recent message carries
FOREIGN_KEYBOARD = "这是其他成员的自检，您的操作不会改变它。要自检请发送 /check。"
SHARED_BUTTONS = ("src|",)  # 查看原文 reads a passage and changes no one's state: anyone in the group may press it
REDACTED = "[令牌已隐去]"
TOKEN_REJECTED = ("Telegram 拒绝了 TELEGRAM_BOT_TOKEN 中的令牌（401 未授权）：请在 BotFather 处核对或重新生成令牌，"
                  "改好环境变量或 .env 后再启动。")


class PerUserOrder(BaseUpdateProcessor):
    """Concurrent across users, in arrival order within one user (their dialogue state is shared)."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks = KeyedLocks()

    async def do_process_update(self, update: object, coroutine) -> None:
        key = _user_key(update)
        if key is None:
            await coroutine
            return
        async with self._locks.hold(key):
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _user_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_user:
            return update.effective_user.id
        if update.effective_chat:
            return update.effective_chat.id
    return None


def file_url_for(base_url: str) -> str:
    """The file-download base of a Bot API server: `…/bot` → `…/file/bot` (Telegram's own layout)."""
    root = base_url.rstrip("/")
    root = root[: -len("/bot")] if root.endswith("/bot") else root
    return f"{root}/file/bot"


def webhook_options(settings: Settings) -> dict:
    """Arguments for `run_webhook`/`start_webhook`; without a configured secret one is made per run
    (setWebhook is called on every start, so Telegram always learns the current one)."""
    url = settings.zhibu_webhook_url
    secret = settings.zhibu_webhook_secret.get_secret_value() if settings.zhibu_webhook_secret else secrets.token_urlsafe(32)
    return {"listen": settings.zhibu_webhook_listen, "port": settings.zhibu_webhook_port,
            "url_path": urlsplit(url).path.lstrip("/"), "webhook_url": url, "secret_token": secret}


def _bind_keyboards(chat_data: dict, message_ids: list[int], user_id: int) -> None:
    """In a group, remember who each keyboard belongs to (the newest few hundred per chat)."""
    owners = chat_data.setdefault("keyboards", {})
    owners.update({str(message_id): user_id for message_id in message_ids})
    for old in list(owners)[:-KEPT_KEYBOARDS]:
        del owners[old]


def _keyboard_owner(chat_data: dict | None, message: Message | None) -> int | None:
    if chat_data is None or message is None:
        return None
    return chat_data.get("keyboards", {}).get(str(message.message_id))


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in reply.buttons])


async def send_replies(bot, chat_id: int, replies: list[Reply], query: CallbackQuery | None = None,
                       keyboards: list[int] | None = None) -> str | None:
    """Render the dialogue's replies as Bot API calls; returns the text of a notice (shown as the
    toast of the button press). Long texts go out in pieces, the buttons under the last one; the ids
    of messages sent with buttons are added to `keyboards`."""
    notice = None
    for reply in replies:
        if reply.kind == "notice" and query is not None:
            notice = reply.text
        elif reply.kind == "edit" and query is not None and query.message is not None:
            await _edit(query, reply)
        elif reply.kind == "document":
            document = InputFile(reply.document.content, filename=reply.document.filename)
            await bot.send_document(chat_id, document, caption=reply.text[:1024])
        elif reply.kind != "edit":  # an edit without its message has nothing left to change
            pieces = split_message(reply.text, MESSAGE_LIMIT)
            for number, piece in enumerate(pieces, 1):
                markup = _markup(reply) if number == len(pieces) else None
                sent = await bot.send_message(chat_id, piece, reply_markup=markup)
                if markup is not None and keyboards is not None:
                    keyboards.append(sent.message_id)
    return notice


async def _edit(query: CallbackQuery, reply: Reply) -> None:
    if reply.text == query.message.text:
        await query.edit_message_reply_markup(_markup(reply))
    else:
        await query.edit_message_text(reply.text, reply_markup=_markup(reply))


class ZhibuBot:
    """Handlers of the Telegram transport; one instance per Application, no module state."""

    def __init__(self, settings: Settings, library: Library) -> None:
        self._library = library
        self._feedback = Feedback(settings)
        self._dialogue = Dialogue(library, feedback=self._feedback)
        self._admin = Admin(library, settings)
        self._flood = FloodGate(settings.zhibu_flood_messages, settings.zhibu_flood_window_s)
        self._redact = TokenRedactor(_token(settings)).redact
        self._background: set[asyncio.Task] = set()

    def register(self, app: Application) -> None:
        private = filters.ChatType.PRIVATE
        app.add_handler(TypeHandler(Update, self.guard_flood), group=-1)
        app.add_handler(CommandHandler("docs", self.on_docs))
        app.add_handler(CommandHandler("reload", self.on_reload))
        app.add_handler(CommandHandler("remove", self.on_remove))
        app.add_handler(CommandHandler([name for name, _ in COMMANDS], self.on_command))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND & private, self.on_command))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.Document.ALL & private, self.on_document))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, self.on_text))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_error_handler(self.on_error)

    async def post_init(self, app: Application) -> None:
        user_commands = [BotCommand(name, description) for name, description in COMMANDS]
        await app.bot.set_my_commands(user_commands)
        admin_commands = user_commands + [BotCommand(name, description) for name, description in ADMIN_COMMANDS]
        for admin_id in self._admin.ids:
            try:
                await app.bot.set_my_commands(admin_commands, scope=BotCommandScopeChat(admin_id))
            except TelegramError as exc:  # e.g. an admin who has not opened a chat with the bot yet
                log.warning("admin command menu for %s not set: %s", admin_id, exc)
        await self._library.warm_up()
        self._schedule_purge(app)

    # ---- the question log ----------------------------------------------------------------
    def _schedule_purge(self, app: Application) -> None:
        """Old questions leave the log daily, the first time right after start."""
        app.job_queue.run_repeating(self._purge, interval=timedelta(days=1), first=timedelta(seconds=1),
                                    name="purge-question-log")

    async def _purge(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._feedback.purge()

    # ---- guards --------------------------------------------------------------------------
    async def guard_flood(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_user is None:
            return
        verdict = self._flood.check(update.effective_user.id)
        if verdict is Verdict.PASS:
            return
        if verdict is Verdict.WARN and update.effective_chat:
            log.info("flood limit hit by user %s", update.effective_user.id)
            await context.bot.send_message(update.effective_chat.id, FLOOD_WARNING)
        raise ApplicationHandlerStop

    @staticmethod
    def _addressed_text(message: Message, bot_id: int, username: str) -> str | None:
        """The text meant for the bot: all of it in a private chat; in a group only when the bot is
        mentioned (the mention removed) or the message replies to one of the bot's messages."""
        text = message.text or ""
        if message.chat.type == ChatType.PRIVATE:
            return text
        mention = f"@{username}".lower()
        mentioned = any(value.lower() == mention for value in message.parse_entities([MessageEntity.MENTION]).values())
        replied_to = message.reply_to_message.from_user if message.reply_to_message else None
        replied = replied_to is not None and replied_to.id == bot_id
        if not (mentioned or replied):
            return None
        return text.replace(f"@{username}", "").strip() if mentioned else text

    # ---- the dialogue --------------------------------------------------------------------
    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = self._addressed_text(update.effective_message, context.bot.id, context.bot.username)
        if text is not None:
            await self._converse(update, context, Event(text=text))

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._converse(update, context, Event.from_text(update.effective_message.text))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        owner = _keyboard_owner(context.chat_data, query.message)
        reading = (query.data or "").startswith(SHARED_BUTTONS)
        if owner is not None and owner != update.effective_user.id and not reading:
            with suppress(TelegramError):
                await query.answer(FOREIGN_KEYBOARD)
            return
        await self._converse(update, context, Event(button=query.data or ""), query)

    async def _converse(self, update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event,
                        query: CallbackQuery | None = None) -> None:
        chat_id = update.effective_chat.id
        # One state per user and chat: a self-check in a group does not disturb one in private.
        state = context.user_data.setdefault("chats", {}).setdefault(str(chat_id), {})
        notice = None
        keyboards: list[int] = []
        try:
            user = update.effective_user
            origin = Origin("telegram", chat_id, user.id if user else chat_id)
            replies = await self._dialogue.handle(state, event, busy=lambda: self._typing(context.bot, chat_id),
                                                  origin=origin)
            notice = await send_replies(context.bot, chat_id, replies, query, keyboards)
            if update.effective_chat.type != ChatType.PRIVATE:
                _bind_keyboards(context.chat_data, keyboards, update.effective_user.id)
        finally:
            if query is not None:
                with suppress(TelegramError):  # only a spinner on the user's button is at stake
                    await query.answer(notice)

    @asynccontextmanager
    async def _typing(self, bot, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" while the body runs. The task is not cancelled on exit, so a chat action
        already on its way is not torn off mid-request; it only stops repeating."""
        done = asyncio.Event()

        async def keep_typing() -> None:
            while not done.is_set():
                try:
                    await bot.send_chat_action(chat_id, ChatAction.TYPING)
                except TelegramError as exc:
                    log.debug("chat action failed: %s", exc)
                    return
                with suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), TYPING_REFRESH_S)

        task = asyncio.create_task(keep_typing())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        try:
            yield
        finally:
            done.set()

    # ---- admins --------------------------------------------------------------------------
    async def on_docs(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._admin_reply(update, context, self._admin.docs(update.effective_user.id))

    async def on_reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._admin_reply(update, context, self._admin.reload(update.effective_user.id))

    async def on_remove(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._admin_reply(update, context, self._admin.remove(update.effective_user.id, list(context.args or ())))

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        document = update.effective_message.document

        async def fetch(path) -> None:
            telegram_file = await context.bot.get_file(document.file_id)
            await telegram_file.download_to_drive(path)

        work = self._admin.upload(update.effective_user.id, document.file_name, document.file_size, fetch)
        await self._admin_reply(update, context, work)

    async def _admin_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE, work: Awaitable[str]) -> None:
        chat_id = update.effective_chat.id
        async with self._typing(context.bot, chat_id):
            text = await work
        await send_replies(context.bot, chat_id, [Reply(text)])

    # ---- errors --------------------------------------------------------------------------
    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("error while handling an update", exc_info=context.error)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None:
            with suppress(TelegramError):
                await context.bot.send_message(chat.id, APOLOGY)
        user = update.effective_user if isinstance(update, Update) else None
        trace = self._redact("".join(traceback.format_exception(context.error)))
        report = (f"⚠️ 处理更新时出错（用户 {user.id if user else '-'}，聊天 {chat.id if chat else '-'}）\n"
                  f"{trace[-(MESSAGE_LIMIT - 200):]}")
        for admin_id in self._admin.ids:
            with suppress(TelegramError):
                await context.bot.send_message(admin_id, report)


def build_application(settings: Settings, library: Library | None = None) -> Application:
    """The configured Application (not started). Raises BadInput without a token."""
    if not _token(settings):
        raise BadInput("未设置 TELEGRAM_BOT_TOKEN：请把 BotFather 给出的令牌写入环境变量或 .env 文件（见 README）。")
    zhibu = ZhibuBot(settings, library or Library(settings))
    builder = (Application.builder()
               .token(_token(settings))
               .persistence(SqlitePersistence(settings.zhibu_home / "bot" / "state.sqlite3"))
               .rate_limiter(AIORateLimiter(overall_max_rate=settings.zhibu_bot_rate_limit, max_retries=3))
               .concurrent_updates(PerUserOrder(CONCURRENT_UPDATES))
               .connection_pool_size(CONNECTION_POOL).pool_timeout(POOL_TIMEOUT_S)
               .post_init(zhibu.post_init))
    if settings.zhibu_telegram_api_url:
        builder = builder.base_url(settings.zhibu_telegram_api_url).base_file_url(file_url_for(settings.zhibu_telegram_api_url))
    app = builder.build()
    zhibu.register(app)
    return app


def run_telegram_bot() -> None:
    """`zhibu bot`: long polling, or a webhook server when ZHIBU_WEBHOOK_URL is set."""
    settings = get_settings()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury everything else
    redactor = redact_token_in_logs(_token(settings))
    app = build_application(settings)
    starting = app.post_init

    async def post_init(application: Application) -> None:
        redactor.starting = False  # the token was accepted: a later rejection is logged like any error
        await starting(application)

    app.post_init = post_init
    wanted = [Update.MESSAGE, Update.CALLBACK_QUERY]  # the only updates the handlers read
    try:
        if settings.zhibu_webhook_url:
            app.run_webhook(**webhook_options(settings), allowed_updates=wanted)
        else:
            app.run_polling(allowed_updates=wanted)
    except InvalidToken:  # its message quotes the token
        raise BadInput(TOKEN_REJECTED) from None
    except Exception:  # through the log handlers, whose redactor keeps the token out of the traceback
        log.exception("the bot stopped on an error")
        raise SystemExit(1) from None


def _token(settings: Settings) -> str:
    return settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""


class TokenRedactor(logging.Filter):
    """Takes the bot token out of every record a handler emits: the message, its arguments, the
    traceback (PTB quotes a rejected token) and httpx's request lines (the token is in every URL).
    The secret half is matched alone and in any case: PTB capitalises error texts."""

    def __init__(self, token: str) -> None:
        super().__init__()
        secrets_ = [part for part in (token, token.partition(":")[2]) if len(part) >= 8]
        self._pattern = re.compile("|".join(map(re.escape, secrets_)), re.IGNORECASE) if secrets_ else None
        self.starting = True

    def redact(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern else text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.starting and record.exc_info and isinstance(record.exc_info[1], InvalidToken):
            return False  # rejected at start: run_telegram_bot says so in one line of its own
        try:
            record.msg, record.args = self.redact(record.getMessage()), None
        except (TypeError, ValueError):  # a malformed record: leave it to logging's own error report
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def redact_token_in_logs(token: str) -> TokenRedactor:
    """Install the redactor on every handler of the root logger (handler filters see the records of
    all loggers; a logger's filter would see only its own)."""
    redactor = TokenRedactor(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor
