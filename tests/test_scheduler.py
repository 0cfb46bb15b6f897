"""The op scheduler's SimPy building blocks (accsim.system)."""
import random

import pytest
import simpy

from accsim.system import _UnitGroup

pytestmark = pytest.mark.unit


def _grants(make_group, seed: int) -> list[tuple[int, int]]:
    """(user, time) of every grant, in grant order, when random users take random
    groups: some at the same instant as a release, some holding for no time at all,
    some a few event steps (zero-time timeouts) after others at the same instant."""
    rng = random.Random(seed)
    env = simpy.Environment()
    groups = [make_group(env) for _ in range(2)]
    grants = []

    def user(number: int, arrive: int, group, hold: int, steps: int):
        yield env.timeout(arrive)
        for _ in range(steps):
            yield env.timeout(0)
        request = group.request()
        yield request
        grants.append((number, env.now))
        yield env.timeout(hold)
        group.release(request)

    for number in range(200):
        env.process(user(number, rng.choice([0, 0, 1, 2, 5]), rng.choice(groups), rng.choice([0, 0, 1, 3]),
                         rng.choice([0, 1, 2, 3])))
    env.run()
    return grants


class _Simpy:
    """simpy.Resource(capacity=1) behind the same request/release calls."""

    def __init__(self, env):
        self.resource = simpy.Resource(env, capacity=1)

    def request(self):
        return self.resource.request()

    def release(self, request):
        self.resource.release(request)


class _Ours:
    def __init__(self, env):
        self.group = _UnitGroup(env)

    def request(self):
        return self.group.request()

    def release(self, _request):
        self.group.release()


@pytest.mark.parametrize("seed", range(20))
def test_unit_group_grants_like_a_simpy_resource(seed):
    assert _grants(_Ours, seed) == _grants(_Simpy, seed)
