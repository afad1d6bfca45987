"""CompanyRepository against the real database: optimistic locking, atomic compare-and-set, audit trail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, select, text, update

from bot.demo import DEMO_ACCOUNT
from store import Store
from store.company import COMPANY_UPDATE, CompanyConflict
from store.domain.company import CompanyChange, CompanyDetails
from store.tables import CompanyInfoRow

NEW = CompanyDetails(
    country="TW",
    address="台北市信義區市府路45號",
    website="https://example.tw",
    contact_person="林小美",
    contact_number="+886223456789",
    email="mei@example.tw",
)


async def audit_count(store: Store) -> int:
    return len(await store.audit.recent(DEMO_ACCOUNT, action=COMPANY_UPDATE, limit=100))


async def test_a_save_stores_bumps_the_version_and_audits_each_changed_field(demo: Store) -> None:
    before = await demo.company.get(DEMO_ACCOUNT)
    assert before is not None
    changed = before.model_copy(update={"contact_person": "Ada Lovelace", "email": "ada@example.com"})

    saved = await demo.company.save(
        DEMO_ACCOUNT, changed, expected_version=before.version, actor="U0DEMOADMIN"
    )

    assert saved.changes == (
        CompanyChange(field="contact_person", before="Mei Ling Chan", after="Ada Lovelace"),
        CompanyChange(field="email", before="it-admin@harbourlights.example", after="ada@example.com"),
    )
    stored = await demo.company.get(DEMO_ACCOUNT)
    assert stored == saved.info
    assert stored.version == before.version + 1
    assert stored.updated_by == "U0DEMOADMIN"
    assert stored.updated_at is not None
    assert stored.updated_at.tzinfo is not None
    [revision] = await demo.company.history(DEMO_ACCOUNT)
    assert revision.actor == "U0DEMOADMIN"
    assert revision.changes == saved.changes


async def test_unicode_round_trips(demo: Store) -> None:
    before = await demo.company.get(DEMO_ACCOUNT)
    assert before is not None
    await demo.company.save(DEMO_ACCOUNT, NEW, expected_version=before.version, actor="U1")
    stored = await demo.company.get(DEMO_ACCOUNT)
    assert stored is not None
    assert CompanyDetails.model_validate(stored.model_dump()) == NEW


async def test_a_stale_version_is_refused_and_changes_nothing(demo: Store) -> None:
    before = await demo.company.get(DEMO_ACCOUNT)
    assert before is not None
    await demo.company.save(DEMO_ACCOUNT, NEW, expected_version=before.version, actor="U1")

    with pytest.raises(CompanyConflict) as refused:
        await demo.company.save(
            DEMO_ACCOUNT,
            before.model_copy(update={"contact_person": "Too Late"}),
            expected_version=before.version,
            actor="U2",
        )

    assert refused.value.current is not None
    assert refused.value.current.contact_person == NEW.contact_person
    stored = await demo.company.get(DEMO_ACCOUNT)
    assert stored is not None
    assert stored.contact_person == NEW.contact_person
    assert await audit_count(demo) == 1


async def test_saving_what_is_already_stored_writes_nothing(demo: Store) -> None:
    before = await demo.company.get(DEMO_ACCOUNT)
    assert before is not None
    saved = await demo.company.save(DEMO_ACCOUNT, before, expected_version=before.version, actor="U1")
    assert saved.changes == ()
    assert await demo.company.get(DEMO_ACCOUNT) == before
    assert await audit_count(demo) == 0


async def test_the_first_save_creates_the_information(store: Store) -> None:
    from bot.demo import demo_document
    from tests.support.clock import DEMO_NOW

    await store.accounts.upsert("bare", demo_document(DEMO_NOW).model_copy(update={"company": None}))
    assert await store.company.get("bare") is None

    saved = await store.company.save("bare", NEW, expected_version=0, actor="U1")

    assert saved.info.version == 1
    assert [change.before for change in saved.changes] == [None] * 6
    with pytest.raises(CompanyConflict):
        await store.company.save(
            "bare", NEW.model_copy(update={"email": "x@example.com"}), expected_version=0, actor="U2"
        )


async def test_two_concurrent_saves_from_the_same_version_only_one_wins(demo: Store) -> None:
    before = await demo.company.get(DEMO_ACCOUNT)
    assert before is not None
    attempts = [
        demo.company.save(
            DEMO_ACCOUNT,
            before.model_copy(update={"contact_person": name}),
            expected_version=before.version,
            actor=actor,
        )
        for actor, name in [("U1", "First Person"), ("U2", "Second Person")]
    ]
    results = await asyncio.gather(*attempts, return_exceptions=True)

    wins = [r for r in results if not isinstance(r, BaseException)]
    assert len(wins) == 1
    assert [type(r) for r in results if isinstance(r, BaseException)] == [CompanyConflict]
    stored = await demo.company.get(DEMO_ACCOUNT)
    assert stored is not None
    assert stored.contact_person == wins[0].info.contact_person
    assert stored.version == before.version + 1
    assert await audit_count(demo) == 1


@pytest.fixture
async def rival(database_url: str) -> AsyncIterator[Store]:
    """A second connection pool on the same database: another server process saving at the same time."""
    other = Store.from_url(database_url)
    yield other
    await other.close()


async def test_the_version_check_and_the_write_are_one_atomic_step(
    demo: Store, rival: Store, backend: str
) -> None:
    """A save that read the old version before the rival committed must still lose at its UPDATE."""
    if backend == "sqlite":
        pytest.skip("SQLite writers take the write lock at BEGIN IMMEDIATE: a save cannot start mid-rival")
    before = await demo.company.get(DEMO_ACCOUNT)
    assert before is not None
    reached_update = asyncio.Event()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE COMPANY_INFO"):
            reached_update.set()

    event.listen(demo.db.engine.sync_engine, "before_cursor_execute", on_execute)
    async with rival.db.session() as session:
        # The rival's change is written but not committed: the save below reads the old version...
        await session.execute(
            update(CompanyInfoRow)
            .where(CompanyInfoRow.account_id == DEMO_ACCOUNT)
            .values(contact_person="Rival", version=CompanyInfoRow.version + 1)
        )
        late = asyncio.create_task(
            demo.company.save(
                DEMO_ACCOUNT,
                before.model_copy(update={"contact_person": "Late"}),
                expected_version=before.version,
                actor="U2",
            )
        )
        # ...passes the early check, and reaches its compare-and-set while the rival still holds the row.
        await asyncio.wait_for(reached_update.wait(), timeout=5)
    # The rival has committed.
    with pytest.raises(CompanyConflict) as refused:
        await asyncio.wait_for(late, timeout=10)
    assert refused.value.current is not None
    assert refused.value.current.contact_person == "Rival"  # what won, for the loser to compare

    async with demo.db.session() as session:
        person = await session.scalar(
            select(CompanyInfoRow.contact_person).where(CompanyInfoRow.account_id == DEMO_ACCOUNT)
        )
        assert person == "Rival"
        assert (await session.execute(text("SELECT count(*) FROM audit_log"))).scalar_one() == 0
