"""The bare bolt app (bench/bare_app.py) with the stack SPEC §5 and §6 require of ours and nothing of
our own: settings read by pydantic-settings, a SQLAlchemy 2 model read through the async ORM session
(aiosqlite or asyncpg), a pydantic domain object made from it. Its health check reads the database as ours
does. What it weighs idle is the floor under `myplan serve` that no change of ours can lower."""

from __future__ import annotations

import os

from aiohttp import web
from pydantic import BaseModel
from pydantic_settings import BaseSettings
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.bare_app import build as build_bare


class Settings(BaseSettings):
    database_url: str

    @property
    def async_url(self) -> str:
        """postgresql:// as ours takes it: with asyncpg."""
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)


class Base(DeclarativeBase):
    pass


class VersionRow(Base):
    __tablename__ = "alembic_version"
    version_num: Mapped[str] = mapped_column(String(32), primary_key=True)


class Version(BaseModel):
    revision: str


def build() -> web.Application:
    settings = Settings()
    engine = create_async_engine(settings.async_url)
    sessions = async_sessionmaker(engine, class_=AsyncSession)
    app = build_bare()

    async def health(_: web.Request) -> web.Response:
        async with sessions() as session:
            revision = await session.scalar(select(VersionRow.version_num))
        return web.json_response(Version(revision=revision or "").model_dump())

    async def dispose(_: web.Application) -> None:
        await engine.dispose()

    app.router.add_get("/healthz", health)
    app.on_cleanup.append(dispose)
    return app


if __name__ == "__main__":
    web.run_app(build(), host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)
