"""Configuration from environment variables and an optional `.env` file (names per the CLI contract)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from zhibu.errors import quoted
from zhibu.filemodes import default_home, tighten_home


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    zhibu_home: Path = Field(default_factory=default_home)
    zhibu_embedding: str = "e5-small"
    zhibu_chroma_host: str | None = None
    zhibu_chroma_port: int = 8000
    zhibu_llm_base_url: str | None = None
    zhibu_llm_api_key: SecretStr | None = None
    zhibu_llm_model: str | None = None
    zhibu_llm_timeout: float = 20.0
    telegram_bot_token: SecretStr | None = None
    zhibu_telegram_api_url: str | None = None
    zhibu_admins: str = ""
    zhibu_webhook_url: str | None = None
    zhibu_webhook_secret: SecretStr | None = None
    zhibu_webhook_port: int = 8443
    zhibu_max_upload_mb: int = 20
    zhibu_webhook_listen: str = "0.0.0.0"
    # Per-user flood limit of the bot: at most this many messages in the window (0 turns it off).
    zhibu_flood_messages: int = 20
    zhibu_flood_window_s: float = 10.0
    # Bot-wide Bot API requests per second (Telegram allows about 30); 0 turns the limiter's cap off.
    zhibu_bot_rate_limit: float = 30.0
    # Records (question log, feedback, targets, console users): SQLite under ZHIBU_HOME unless a URL is set.
    zhibu_database_url: SecretStr | None = None
    zhibu_log_salt: SecretStr | None = None  # else generated once into $ZHIBU_HOME/records/log_salt (0600)
    zhibu_log_retention_days: int = Field(180, ge=1)
    # Caps on the files given to `zhibu check` and `zhibu batch`: larger files are refused before parsing.
    zhibu_max_profile_kb: int = Field(256, ge=64)  # smaller profiles are read without loading settings
    zhibu_max_batch_mb: int = Field(20, gt=0)
    zhibu_max_batch_rows: int = Field(100_000, gt=0)
    # The Word template of the 申报表 (docxtpl); a replacement saved from the console under ZHIBU_HOME wins.
    # Read by evaluators/application.py straight from the environment / .env, like ZHIBU_RULES_DIR.
    zhibu_application_template: Path | None = None
    # Ingest caps (owned by the knowledge base; README "Operations"): a document over one is refused
    # before anything is built. Text is the extracted text in UTF-8; unpacked is what a .docx/.pdf decompresses to.
    zhibu_max_text_mb: float = 4.0
    zhibu_max_unpacked_mb: float = 64.0
    zhibu_max_passages_per_doc: int = 5000
    zhibu_max_extract_s: float = Field(60.0, gt=0)  # reading the text out of one .pdf/.docx
    # A bot upload runs in a child process stopped after this long or when it needs more memory.
    zhibu_upload_timeout_s: float = 1800.0
    zhibu_upload_memory_mb: int = 3072
    # Times are stored in UTC and shown to staff in this zone (an IANA name).
    zhibu_timezone: str = "Asia/Shanghai"
    # The staff console: host names it answers to (DNS rebinding), and the memory of the process that reads
    # an uploaded roster (docs/console.md).
    zhibu_console_hosts: str = "localhost,127.0.0.1"
    zhibu_batch_memory_mb: int = Field(1024, ge=256)
    # The secretaries' web chat (`zhibu web`, docs/webchat.md): its public address (for invitation links), how
    # long a browser stays signed in, and the intranet mode without invitations (anyone who reaches it may chat).
    zhibu_web_url: str | None = None
    zhibu_web_session_days: int = Field(90, ge=1)
    zhibu_web_open: bool = False

    @field_validator("zhibu_chroma_host", "zhibu_llm_base_url", "zhibu_telegram_api_url", "zhibu_webhook_url",
                     "zhibu_web_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("zhibu_admins")
    @classmethod
    def _admins_are_ids(cls, value: str) -> str:
        bad = [part for part in value.replace(" ", "").split(",") if part and not part.lstrip("-").isdigit()]
        if bad:
            raise ValueError(f"应为逗号分隔的 Telegram 数字用户 id，不能是 {quoted('、'.join(bad))}")
        return value

    @field_validator("zhibu_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"不是已知的时区名称（如 Asia/Shanghai）：{quoted(value)}") from None
        return value

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.zhibu_timezone)

    @property
    def admin_ids(self) -> frozenset[int]:
        return frozenset(int(part) for part in self.zhibu_admins.replace(" ", "").split(",") if part)

    @property
    def kb_dir(self) -> Path:
        return self.zhibu_home / "kb"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = Settings()
    tighten_home(settings.zhibu_home)
    return settings


_SETTING_PROBLEMS = {
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
}


def setting_problems(error: ValidationError) -> list[str]:
    """One Chinese line per wrong setting, naming its environment variable. Inputs are not echoed:
    a secret may be among them."""
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        variable = str(item["loc"][0]).upper() if item["loc"] else ".env"
        context = item.get("ctx", {})
        problem = (str(context["error"]) if item["type"] == "value_error"
                   else _SETTING_PROBLEMS.get(item["type"], "取值无效").format(**context))
        lines.append(f"{variable} {problem}")
    return lines
