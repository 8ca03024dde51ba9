from sqlalchemy import text

from bot.storage.db import create_engine


async def test_migrated_database_answers(database_url):
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
