"""Settings: defaults here, overridden from the environment with the prefix CRM_."""

from pathlib import Path
from typing import Any

from flask import Flask


class Defaults:
    # Caseload bounds: each instructor guides 5 to 10 branches (每人重点联系指导5—10个).
    ASSIGNMENT_MIN = 5
    ASSIGNMENT_MAX = 10
    DEMO_PASSWORD = "Ganzhou@2026"  # noqa: S105  (the demo's only, documented; `demo load` alone reads it)
    # Password policy (crm/accounts/passwords.py): "dengbao" (等保 2.0) or "asvs" (OWASP ASVS).
    PASSWORD_POLICY = "dengbao"  # noqa: S105  (a policy's name, not a password)
    PASSWORD_MAX_AGE_DAYS = 90
    PASSWORD_HISTORY = 3
    # Sign-in lockout: this many failures in a row lock the account for this many minutes.
    LOCKOUT_FAILURES = 5  # in a row from one address: that address is locked out of the account
    LOCKOUT_ACCOUNT_FAILURES = 20  # from any addresses since the last success: the whole account
    LOCKOUT_MINUTES = 15
    # Roles that must give a TOTP code at sign-in (others may choose to): 三权分立's three.
    TOTP_REQUIRED_ROLES = ("admin", "security_admin", "auditor")
    # Sessions end after this long without a request, and this long after sign-in regardless.
    SESSION_IDLE_MINUTES = 30
    SESSION_MAX_HOURS = 12
    # Files no record claims (photos of forms never saved, previews never confirmed) are
    # deleted by the nightly sweep once they are this old.
    SWEEP_AFTER_HOURS = 48
    # Backups (`flask backup create`, and nightly at 02:30): kept this many days in BACKUP_DIR
    # (default instance/backups). PostgreSQL's pg_dump and pg_restore are taken from PG_BIN
    # when there, else from PATH.
    BACKUP_KEEP_DAYS = 14
    PG_BIN = "/usr/lib/postgresql/15/bin"
    # PostgreSQL: the role the web servers and the scheduler connect as, when the migrations run
    # as another (deploy/postgres.sql: crm_app). Each `flask db upgrade` and `backup restore`
    # gives it its privileges on the tables as they then are, takes the audit log's UPDATE and
    # DELETE away, and checks both. None: one role does everything.
    DATABASE_APP_ROLE = None
    # A month's reports (the scheduler's batches, `flask reports monthly`) are made on this
    # many worker processes; 0 makes them in the process that asks.
    REPORT_WORKERS = 2
    # Keep computed figures in each process until the records change (crm.core.kept); off,
    # every page counts afresh (to compare, or to rule the cache out).
    KEEP_FIGURES = True
    DEMO_SEED = 20220620
    PAGE_SIZE = 50
    # argon2id's parameters (argon2.PasswordHasher's keywords); none: the library's current
    # ones, which a stored hash is brought up to at its next sign-in.
    PASSWORD_HASHING: dict = {}
    # The caseload table and the alerts are counted on each request up to this many
    # instructors in the reviewer's scope; beyond it (a province, the nation) they are read
    # from figures the scheduler counts for everyone every REVIEW_REFRESH_MINUTES
    # (crm.review.scale). Counted, an alert list over 1,250 instructors took 480–530 ms
    # (PostgreSQL, bench/national.py --scale 0.1): the review pages' goal is 500.
    REVIEW_LIVE_LIMIT = 1000
    REVIEW_REFRESH_MINUTES = 10
    # Reminders (crm.reminders): the address their links point at, the hours nothing is sent.
    # The admin's switches (channels used, digests sent, days a problem is stuck) are stored.
    PUBLIC_URL = "http://localhost:5000"
    REMINDER_QUIET_HOURS = (21, 8)  # from 21:00 to 08:00 nothing is sent
    REMINDER_RATES = {"wecom": 10, "sms": 5, "email": 5}  # messages a second, each channel
    REMINDER_MAX_ATTEMPTS = 6  # then given up, with the reason, for the admin
    REMINDER_LEASE_MINUTES = 10  # a message claimed this long ago by a sender that died
    # The channels: secrets from the environment only (never stored, shown or logged).
    WECOM_API = "https://qyapi.weixin.qq.com"
    WECOM_CORP_ID = ""
    WECOM_AGENT_ID = ""
    WECOM_SECRET = ""
    SMS_API = "https://dysmsapi.aliyuncs.com"
    SMS_ACCESS_KEY_ID = ""
    SMS_ACCESS_KEY_SECRET = ""
    SMS_SIGN_NAME = ""
    SMS_TEMPLATE_DAILY = ""  # approved templates: a code and named parameters, never free text
    SMS_TEMPLATE_WEEKLY = ""
    SMS_TEMPLATE_RATING = ""  # a secretary's rating link: branch, instructor, year, until, url
    SMTP_HOST = ""
    SMTP_PORT = 25
    SMTP_FROM = ""
    SMTP_USER = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    # The instructor's working rules (DOMAIN.md), each a setting.
    REPORTS_BACKFILL_MONTHS = 11  # at start-up, the months before the due one still unmade
    VISIT_CADENCE_DAYS = 30  # at least one on-site visit a month
    CONFIRMATION_LINK_DAYS = 14  # a secretary's confirmation link expires after this
    GOAL_CARD_YEAR_END = "12-01"  # goal cards' self-assessment and rating open on this day
    BACKFILL_DAYS = 7  # a visit entered later than this after its date is 补录
    RETURN_FIX_DAYS = 7  # a visit sent back and corrected within this many days: in time
    RATING_MIN_DAYS = 60  # a branch rates each instructor who held it this many days of a year
    APPEAL_WORKDAYS = 10  # an instructor may appeal their grade this many working days after
    PROBLEM_DUE_DAYS = 30
    VISIT_FAR_METERS = 1000  # farther from the branch's registered place is flagged
    VANGUARD_POINTS_MIN = 1  # points of one 先锋储绩卡 entry
    VANGUARD_POINTS_MAX = 10
    SPOT_CHECKS_PER_INSTRUCTOR = 2  # visits drawn per instructor per quarter
    FLAGGED_VISIT_DAYS = 90  # how far back the flagged-visit alert looks
    PAIRINGS_PER_AGENCY_MAX = 5  # an agency branch holding more pairings in force is flagged
    # Photos: at most 6 a record, 10 MB each, stored shrunk to 1600 px.
    PHOTOS_PER_RECORD = 6
    PHOTO_MAX_BYTES = 10 * 1024 * 1024
    PHOTO_MAX_SIDE = 1600
    MAX_CONTENT_LENGTH = 80 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # Secure anyway on every request that came over TLS
    # How many proxies (nginx) stand in front and set X-Forwarded-For/-Proto: 0 trusts none.
    PROXY_COUNT = 0
    # The proxies whose X-Forwarded-* headers are believed (addresses or networks); from any
    # other peer they are dropped. docs/deploy.md.
    TRUSTED_PROXIES = ("127.0.0.1", "::1")
    # Sign-in attempts per client address; the store is memory:// for one server, a
    # redis://host:6379 URI shared by several (deploy/).
    LOGIN_RATE_LIMIT = "10 per minute; 50 per hour"
    # The pages a secretary's personal link opens (crm.core.links): a link is used in a few
    # requests; trying tokens is not.
    LINK_RATE_LIMIT = "20 per minute; 100 per hour"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # The token lives as long as the session: a form filled slowly on a phone must still post.
    WTF_CSRF_TIME_LIMIT = None
    WTF_I18N_ENABLED = False


class MissingSecretKeyError(RuntimeError):
    """The application has no CRM_SECRET_KEY and is not under test."""


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Read defaults, then the environment (or the test settings), then derive the rest.

    Raises MissingSecretKeyError outside tests when no secret key is set.
    """
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_prefixed_env("CRM")
    else:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config.get("DATABASE_URL") or _default_database(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _postgresql_options(
            app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        )
    app.config.setdefault("MEDIA_DIR", str(Path(app.instance_path) / "media"))
    app.config.setdefault("REPORTS_DIR", str(Path(app.instance_path) / "reports"))
    app.config.setdefault("BACKUP_DIR", str(Path(app.instance_path) / "backups"))
    # Spreadsheets between their preview and their import: on storage every server shares when
    # there are several (a preview on one server is imported on whichever takes the next post).
    app.config.setdefault("UPLOADS_DIR", str(Path(app.instance_path) / "uploads"))
    if not app.config.get("SECRET_KEY") and not app.testing:
        raise MissingSecretKeyError(
            "CRM_SECRET_KEY is not set. `make run` keeps one in instance/secret_key; "
            "a deployment must set its own."
        )


def _postgresql_options(options: dict[str, Any]) -> dict[str, Any]:
    """Our connections run with PostgreSQL's JIT compiler off. Its cost model counts rows, not
    time: on the review pages' statements over a few thousand branches it spent 30–600 ms
    compiling to save a few (one alert list 808 ms with it, 206 without, at a tenth of
    national scale). A deployment's own `options` are kept, after ours."""
    connect_args = dict(options.get("connect_args", {}))
    connect_args["options"] = f"-c jit=off {connect_args.get('options', '')}".strip()
    return {**options, "connect_args": connect_args}


def _default_database(app: Flask) -> str:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / 'crm.sqlite3'}"
