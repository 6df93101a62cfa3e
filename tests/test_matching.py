"""Compatibility, eligibility and learning: parts in [0, 1], tags that are not skills ignored, outcomes
changing later matches, figures independent of the order outcomes are read in."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdist.config import MatchingConfig
from taskdist.factors import required_skills
from taskdist.learning import OutcomeRecord, learn, neutral
from taskdist.matching import Compatibility, agent_state, compatibility, distinct_sets, why_not
from taskdist.models import Agent

CFG = MatchingConfig()


def agents() -> list[Agent]:
    return [
        Agent("ann", "Ann", {"python": 0.9, "backend": 0.8}, capacity_hours=40, max_tasks=3, aliases=("Annie",)),
        Agent("ben", "Ben", {"python": 0.9, "backend": 0.8}, capacity_hours=40, max_tasks=3),
        Agent("cy", "Cy", {"frontend": 0.95}, capacity_hours=10, max_tasks=1, availability=0.5),
        Agent("dee", "Dee", {"python": 1.0}, availability=0.0),
    ]


def done(
    ticket: str,
    name: str,
    skills: tuple[str, ...] = ("python", "backend"),
    *,
    order: int = 1,
    source: str = "event",
    estimate: float | None = 4.0,
    actual: float | None = 4.0,
) -> OutcomeRecord:
    return OutcomeRecord("p", ticket, name, True, source, skills, estimate, actual, order)


def failed(ticket: str, name: str, order: int = 1) -> OutcomeRecord:
    return OutcomeRecord("p", ticket, name, False, "event", ("python",), 4.0, None, order)


def compat_for(
    roster: list[Agent],
    required: list[tuple[str, ...]],
    learned: dict[str, object] | None = None,
    held: tuple[list[float], list[int]] | None = None,
) -> Compatibility:
    hours, tasks = held or ([0.0] * len(roster), [0] * len(roster))
    state = agent_state(roster, learned or {}, np.array(hours), np.array(tasks), CFG)  # type: ignore[arg-type]
    return compatibility(required, state, CFG)


def test_tags_that_no_agent_has_are_not_skills_and_no_skill_means_anyone() -> None:
    roster = agents()
    vocabulary = {s for a in roster for s in a.skills}
    needed = required_skills(
        [("python", "migration"), (), ("python", "migration")], np.array([False, False, True]), vocabulary
    )
    assert needed == [("python",), (), ("migration", "python")]
    compat = compat_for(roster, needed)
    assert compat.skill[0].tolist() == pytest.approx([0.9, 0.9, 0.0, 1.0])
    assert compat.skill[1].tolist() == [1.0, 1.0, 1.0, 1.0]  # needing no skill: anyone matches fully
    # An explicit skill nobody has counts as 0: nobody reaches 0.8.
    assert not compat.capable[2].any()


def test_eligibility_needs_skill_availability_and_room() -> None:
    roster = agents()
    compat = compat_for(roster, [("python",), ("frontend",)], held=([38.0, 0.0, 0.0, 0.0], [1, 3, 0, 0]))
    assert why_not(compat, 0, 0, 4.0) == "no room: 38.0 of 40.0 h held, needs 4.0 h"
    assert why_not(compat, 0, 1, 1.0) == "no room: holds 3 of 3 tickets"
    assert why_not(compat, 0, 2, 1.0) == "skill 0.00 < 0.80: weak python"
    assert why_not(compat, 0, 3, 1.0) == "away (availability 0)"
    assert why_not(compat, 0, 0, 2.0) is None
    # Capacity is capacity_hours x availability: Cy has 5 h.
    assert why_not(compat, 1, 2, 5.0) is None and why_not(compat, 1, 2, 5.5) is not None


@settings(max_examples=50, deadline=None)
@given(
    levels=st.lists(st.floats(0, 1), min_size=3, max_size=3),
    held_hours=st.lists(st.floats(0, 80), min_size=3, max_size=3),
    held_tasks=st.lists(st.integers(0, 8), min_size=3, max_size=3),
    outcomes=st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.floats(0.1, 10)), max_size=12),
)
def test_every_part_and_the_compatibility_stay_in_0_1(
    levels: list[float], held_hours: list[float], held_tasks: list[int], outcomes: list[tuple[int, bool, float]]
) -> None:
    roster = [Agent(f"a{k}", f"a{k}", {"python": levels[k]}, max_tasks=3) for k in range(3)]
    records = [
        OutcomeRecord("p", f"T{n}", f"a{who}", ok, "event", ("python",), 2.0, 2.0 * ratio, n)
        for n, (who, ok, ratio) in enumerate(outcomes)
    ]
    learned = learn(records, roster, CFG)
    compat = compat_for(roster, [("python",), ()], learned, (held_hours, held_tasks))  # type: ignore[arg-type]
    for part in (compat.skill, compat.experience, compat.total):
        assert np.all((part >= 0) & (part <= 1 + 1e-12))
    for values in (compat.state.performance, compat.state.load, compat.state.availability):
        assert np.all((values >= 0) & (values <= 1))


def test_a_new_agent_is_neutral_and_outcomes_move_its_figures() -> None:
    roster = agents()
    learned = learn([], roster, CFG)
    assert learned["ann"] == neutral(CFG)
    assert learned["ann"].success_rate == pytest.approx(0.8) and learned["ann"].speed == 1.0
    good = learn([done("T1", "ann", actual=2.0), done("T2", "Annie", order=2, actual=2.0)], roster, CFG)["ann"]
    assert (good.done, good.speed_samples, good.skills) == (2, 2, {"backend": 2, "python": 2})
    assert good.success_rate > 0.8 and good.speed < 1.0 and good.performance > neutral(CFG).performance
    bad = learn([failed("T1", "ann"), failed("T2", "ann", 2)], roster, CFG)["ann"]
    assert bad.failed == 2 and bad.performance < neutral(CFG).performance


def test_a_done_event_wins_over_the_import_and_order_does_not_matter() -> None:
    roster = agents()
    records = [
        done("T1", "ann", source="import", actual=8.0),
        done("T1", "ben", order=5, actual=2.0),  # the ledger's event for the same ticket wins
        done("T2", "Ann", source="import", estimate=None),  # assumed estimate: no speed sample
        failed("T3", "ben", 7),
        done("T9", "stranger"),  # not on the roster: ignored
    ]
    figures = learn(records, roster, CFG)
    assert (figures["ann"].done, figures["ann"].speed_samples) == (1, 0)
    assert (figures["ben"].done, figures["ben"].failed, figures["ben"].speed_samples) == (1, 1, 1)
    for _ in range(5):
        shuffled = records[:]
        random.shuffle(shuffled)
        assert learn(shuffled, roster, CFG) == figures


def test_a_later_match_changes_because_of_an_outcome() -> None:
    roster = agents()
    sets, _ = distinct_sets([("backend", "python")])
    before = compat_for(roster, sets)
    assert before.total[0, 0] == pytest.approx(before.total[0, 1])  # Ann and Ben look the same
    learned = learn([done("T1", "ben", actual=3.0), done("T2", "ben", order=2, actual=3.0)], roster, CFG)
    after = compat_for(roster, sets, learned)  # type: ignore[arg-type]
    assert after.total[0, 1] > after.total[0, 0]  # Ben's success and experience now count
    assert after.parts(0, 1)["experience"] > 0 and after.parts(0, 0)["experience"] == 0
    learned = learn([failed("T1", "ben"), failed("T2", "ben", 2)], roster, CFG)
    worse = compat_for(roster, sets, learned)  # type: ignore[arg-type]
    assert worse.total[0, 1] < worse.total[0, 0]
