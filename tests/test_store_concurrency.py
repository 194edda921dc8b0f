"""Writers on several threads (two store syncs, the webhook receiver) wait for each other instead of failing."""

from __future__ import annotations

import threading

from cftui.store.models import Meta, database


def test_concurrent_read_then_write_transactions_do_not_fail(db):
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(50):
                # Read first, then write, inside one transaction: the pattern of
                # every upsert. A deferred BEGIN fails here with "database is locked".
                with database.atomic():
                    Meta.select().count()
                    Meta.insert(key=f"t{n}-{i}", value="x").execute()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Meta.select().where(Meta.key.startswith("t")).count() == 200
