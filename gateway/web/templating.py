"""Jinja2 templates and static files: where they live, and the few filters the pages use."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import cache
from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_PATH = "/static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_register)


def _register(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(hm=hours_minutes, signed_hm=signed_hours_minutes, day_label=day_label, utc=utc_text)
    env.globals["static"] = static_url


def hours_minutes(minutes: int) -> str:
    """420 -> "7:00"; durations and totals read as hours and minutes."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"


def signed_hours_minutes(minutes: int) -> str:
    """A balance: "+1:30", "-0:15", "±0:00"."""
    if minutes == 0:
        return "±0:00"
    return ("+" if minutes > 0 else "") + hours_minutes(minutes)


def day_label(day: date) -> str:
    return day.strftime("%a %d %b")


def utc_text(moment: datetime | None) -> str:
    """An instant as UTC text; the page's script shows it in the browser's time zone."""
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def static_url(path: str) -> str:
    """The URL of a static file with its content hash, so browsers may cache it for as long as it is unchanged."""
    return f"{STATIC_PATH}/{path}?v={_content_hash(path)}"


@cache
def _content_hash(path: str) -> str:
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]
