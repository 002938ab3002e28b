"""Key-result roll-ups by id: each key result answered once, whatever the list repeats."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.rollups import key_result_progresses, key_result_rollups, repository
from tests import factories


async def test_repeated_and_foreign_ids_give_each_key_result_once(session: AsyncSession) -> None:
    # given two key results with check-ins, and a key result of another organization
    org, other = await factories.create_org(session), await factories.create_org(session)
    objective = await factories.create_objective(
        session, org, await factories.create_cycle(session, org)
    )
    first = await factories.create_key_result(session, objective)
    second = await factories.create_key_result(session, objective)
    foreign = await factories.create_key_result(
        session,
        await factories.create_objective(
            session, other, await factories.create_cycle(session, other)
        ),
    )
    now = datetime.now(UTC)
    await factories.create_check_in(session, first, now - timedelta(hours=1), value=25.0)
    await factories.create_check_in(session, second, now - timedelta(hours=1), value=50.0)

    # when they are asked for with repeats (as a list of many fields' keys may hold them)
    ids = [first.id, second.id, first.id, foreign.id, second.id, first.id]
    rollups = await key_result_rollups(session, org.id, ids, as_of=now)
    progresses = await key_result_progresses(session, org.id, ids, as_of=now)
    loaded, _ = await repository.key_results_with_objectives(session, org.id, ids)

    # then each key result of the organization is loaded and answered once, with its numbers
    assert sorted(kr.id for kr, _ in loaded) == sorted([first.id, second.id])
    assert set(rollups) == set(progresses) == {first.id, second.id}
    assert (rollups[first.id].progress, rollups[second.id].progress) == (0.25, 0.5)
    assert (progresses[first.id].progress, progresses[second.id].progress) == (0.25, 0.5)
