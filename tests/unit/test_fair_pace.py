"""The send pace shared by every server: turns go round-robin over servers, in order within one."""

from __future__ import annotations

import asyncio

from bot.delivery.pace import FairPace


async def granted(pace: FairPace, waiters: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The order `waiters` (group, n), queued in this order before any is served, get their turns."""
    order: list[tuple[str, int]] = []

    async def one(group: str, n: int) -> None:
        await pace.wait(group)
        order.append((group, n))

    tasks = [asyncio.create_task(one(g, n)) for g, n in waiters]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    return order


async def test_a_busy_servers_many_lanes_hold_up_a_new_server_for_one_turn_at_most() -> None:
    flood = [("A", n) for n in range(200)]
    order = await granted(FairPace(10_000), [*flood, ("B", 0), ("C", 0)])
    # The first turn may already be A's; then B and C each get theirs before A's next ones.
    assert order.index(("B", 0)) <= 1 and order.index(("C", 0)) <= 2, order[:5]
    # Within a server, turns keep the order they were asked in.
    assert [n for g, n in order if g == "A"] == list(range(200))


async def test_a_waiter_that_gave_up_loses_its_turn_and_the_rest_go_on() -> None:
    pace = FairPace(10_000)
    gone = asyncio.create_task(pace.wait("A"))
    await asyncio.sleep(0)
    gone.cancel()
    order = await granted(pace, [("A", 1), ("B", 1)])
    assert sorted(order) == [("A", 1), ("B", 1)]
