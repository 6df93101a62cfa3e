"""Every value shape FORMATS.md lists, read through `read_ticket` from small inline files.

Each test writes the frontmatter a real tool writes (or a real file breaks) and checks the
normalised ticket: status, priority, dates, effort, ids, assignees, relations, skills, checkboxes,
and the leniency real files need (`@` values, `content:` copies, absolute `file_path:`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from taskdist import timestamps
from taskdist.config import Config, EffortConfig, SkillsConfig
from taskdist.errors import ParseError
from taskdist.models import Kind, Priority, Status, Ticket
from taskdist.tickets import normalize as nz
from taskdist.tickets.marker import NO_HINTS, ProjectHints
from taskdist.tickets.reader import ReadResult, read_ticket

CONFIG = Config()


def read(
    front: str,
    body: str = "# Title from the body\n",
    path: str = "tasks/tasks/TSK-0001-some-slug.md",
    config: Config = CONFIG,
    hints: ProjectHints = NO_HINTS,
) -> ReadResult:
    """Read a file made of `front` (YAML, dedented) between fences and `body`."""
    text = f"---\n{dedent(front).strip()}\n---\n{dedent(body)}"
    return read_ticket(text, path, "proj", f"/work/proj/{path}", config, hints)


def ticket(front: str, **kwargs: Any) -> Ticket:
    result = read(front, **kwargs)
    assert result.ticket is not None
    return result.ticket


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --- status -------------------------------------------------------------------------------------

# The 26 spellings of FORMATS.md, each with the status it must fold into.
STATUS_SPELLINGS = {
    "planning": Status.OPEN,
    "active": Status.IN_PROGRESS,
    "completed": Status.DONE,
    "archived": Status.DONE,
    "todo": Status.OPEN,
    "pending": Status.OPEN,
    "open": Status.OPEN,
    "new": Status.OPEN,
    "backlog": Status.OPEN,
    "in_progress": Status.IN_PROGRESS,
    "in-progress": Status.IN_PROGRESS,
    "in-review": Status.REVIEW,
    "review": Status.REVIEW,
    "ready": Status.OPEN,
    "resolved": Status.DONE,
    "done": Status.DONE,
    "complete": Status.DONE,
    "closed": Status.DONE,
    "cancelled": Status.CANCELLED,
    "won't_do": Status.CANCELLED,
    "won_t_do": Status.CANCELLED,
    "blocked": Status.BLOCKED,
    "draft": Status.OPEN,
    "not_started": Status.OPEN,
    "on_hold": Status.BLOCKED,
    "testing": Status.REVIEW,
}
STATE_VALUES = {
    "ready_for_engineering": Status.OPEN,
    "ready_for_qa": Status.REVIEW,
    "ready_for_deployment": Status.REVIEW,
    "ready_for_review": Status.REVIEW,
    "won_t_do": Status.CANCELLED,
    "done": Status.DONE,
}


def test_all_26_status_spellings_are_listed() -> None:
    assert len(STATUS_SPELLINGS) == 26


@pytest.mark.parametrize(("raw", "expected"), sorted(STATUS_SPELLINGS.items()))
def test_status_spelling(raw: str, expected: Status) -> None:
    result = read(f"issue_id: ISS-0001\nstatus: {raw}")
    assert result.ticket is not None
    assert result.ticket.status is expected
    assert result.ticket.status_raw == raw
    assert result.warnings == []


def test_remembered_answers_are_the_answers() -> None:
    """Statuses, priorities, ids and assignees are remembered by text: asked again, the answer is
    what the normaliser itself gives; values that are not text are read every time."""
    texts = [*STATUS_SPELLINGS, "P1", "high", "TSK-1", "@alice", "unassigned", "", " x ", "{{id}}", "N/A"] * 3
    for normalise in (nz.normalize_status, nz.normalize_priority, nz.normalize_id, nz.normalize_assignee):
        itself = normalise.__wrapped__  # type: ignore[attr-defined]
        assert [normalise(t) for t in texts] == [itself(t) for t in texts]
        assert normalise(["@bob"]) == itself(["@bob"]) and normalise(7) == itself(7)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("In Progress", Status.IN_PROGRESS),
        ("IN-PROGRESS", Status.IN_PROGRESS),
        ("Done", Status.DONE),
        ("COMPLETED", Status.DONE),
        ("Won't Do", Status.CANCELLED),
        ("On Hold", Status.BLOCKED),
        ("To Do", Status.OPEN),  # Backlog.md
    ],
)
def test_status_any_case_and_separator(raw: str, expected: Status) -> None:
    assert ticket(f'issue_id: ISS-0001\nstatus: "{raw}"').status is expected


@pytest.mark.parametrize(("state", "expected"), sorted(STATE_VALUES.items()))
def test_state_wins_over_the_legacy_status(state: str, expected: Status) -> None:
    t = ticket(f"task_id: TSK-0001\nissue_id: ISS-0001\nstatus: active\nstate: {state}")
    assert t.status is expected
    assert t.status_raw == state


def test_unknown_state_falls_back_to_status() -> None:
    assert ticket("issue_id: ISS-1\nstatus: completed\nstate: something_else").status is Status.DONE


@pytest.mark.parametrize("front", ["issue_id: ISS-1\nstatus:", "issue_id: ISS-1\nstatus: ''", "issue_id: ISS-1"])
def test_empty_or_missing_status_is_open_without_warning(front: str) -> None:
    result = read(front)
    assert result.ticket is not None
    assert result.ticket.status is Status.OPEN
    assert result.warnings == []


def test_unknown_status_is_open_with_a_warning_and_the_raw_value_kept() -> None:
    result = read("issue_id: ISS-1\nstatus: PASSED - all checks green")
    assert result.ticket is not None
    assert result.ticket.status is Status.OPEN
    assert result.ticket.status_raw == "PASSED - all checks green"
    assert any("unknown status" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("✅ Completed", Status.DONE),
        ("✅ COMPLETE", Status.DONE),
        ("🚧 In Progress", Status.IN_PROGRESS),
        ("❌ Cancelled", Status.CANCELLED),
        ("Completed (2025-07-03)", Status.DONE),
        ("**Done**", Status.DONE),
    ],
)
def test_status_with_emoji_and_decoration(raw: str, expected: Status) -> None:
    assert ticket(f'issue_id: ISS-1\nstatus: "{raw}"').status is expected


def test_bold_line_file_without_frontmatter() -> None:
    text = dedent(
        """\
        # T-011: Fix the cache invalidation

        **Status**: ✅ Completed
        **Priority**: CRITICAL
        **Story Points**: 21
        **Assignee**: @alex-dev

        - [x] reproduce
        - [ ] fix
        """
    )
    result = read_ticket(text, "trackdown/issues/T-011-fix-cache.md", "p", "/x/T-011-fix-cache.md", CONFIG)
    t = result.ticket
    assert t is not None
    assert (t.id, t.dialect, t.title) == ("T-011", "D", "Fix the cache invalidation")
    assert (t.status, t.status_raw) == (Status.DONE, "✅ Completed")
    assert (t.priority, t.priority_raw) == (Priority.CRITICAL, "CRITICAL")
    assert (t.estimate_hours, t.estimate_source, t.estimate_assumed) == (21 * 4.0, "story_points", False)
    assert t.assignee == "alex-dev"
    assert (t.checklist_done, t.checklist_total) == (1, 2)


def test_legacy_file_with_heading_fields_and_its_id_in_heading_and_name() -> None:
    text = "# **[T-045]** Fix test suite failures\n\n- [ ] fix\n\n## Status: CLOSED\n\n**Story Points**: 8 (est.)\n"
    t = read_ticket(text, "trackdown/issues/T-045-fix-tests.md", "p", "/x/T-045-fix-tests.md", CONFIG).ticket
    assert t is not None
    assert (t.id, t.title, t.status, t.status_raw) == ("T-045", "Fix test suite failures", Status.DONE, "CLOSED")
    assert (t.estimate_hours, t.estimate_source) == (32.0, "story_points")
    # Without any field line, the heading must name the id the file name starts with.
    bare = "# [T-046] Open work\n\nSome prose.\n"
    assert read_ticket(bare, "issues/T-046-open.md", "p", "/x/T-046-open.md", CONFIG).ticket is not None
    with pytest.raises(ParseError, match="not a ticket"):
        read_ticket(bare, "issues/NOTES.md", "p", "/x/NOTES.md", CONFIG)
    with pytest.raises(ParseError, match="not a ticket"):
        read_ticket("# Summary of T-001 to T-010\n", "T-001-summary.md", "p", "/x/T-001-summary.md", CONFIG)


def test_file_without_frontmatter_or_bold_fields_is_an_error() -> None:
    with pytest.raises(ParseError, match="no YAML frontmatter"):
        read_ticket("# Notes\n\nJust prose.\n", "tasks/notes.md", "p", "/x/notes.md", CONFIG)


# --- priority -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("low", Priority.LOW),
        ("LOW", Priority.LOW),
        ("medium", Priority.MEDIUM),
        ("Medium", Priority.MEDIUM),
        ('"medium"', Priority.MEDIUM),
        ("high", Priority.HIGH),
        ("HIGH", Priority.HIGH),
        ("critical", Priority.CRITICAL),
        ("Critical", Priority.CRITICAL),
        ("CRITICAL", Priority.CRITICAL),
        ("urgent", Priority.CRITICAL),
        ("Urgent", Priority.CRITICAL),
        ("P0", Priority.CRITICAL),
        ("p2", Priority.MEDIUM),
    ],
)
def test_priority_labels(raw: str, expected: Priority) -> None:
    result = read(f"issue_id: ISS-1\npriority: {raw}")
    assert result.ticket is not None
    assert result.ticket.priority is expected
    assert result.warnings == []


@pytest.mark.parametrize("front", ["issue_id: ISS-1\npriority:", "issue_id: ISS-1\npriority: ''", "issue_id: ISS-1"])
def test_empty_or_missing_priority_is_unknown(front: str) -> None:
    result = read(front)
    assert result.ticket is not None
    assert result.ticket.priority is None
    assert result.warnings == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, Priority.LOW), (3, Priority.LOW), (4, Priority.MEDIUM), (5, Priority.MEDIUM), (6, Priority.HIGH),
     (8, Priority.CRITICAL), (10, Priority.CRITICAL)],
)  # fmt: skip
def test_integer_priority_as_in_yoda(value: int, expected: Priority) -> None:
    t = ticket(f"schema_version: '2.00'\nstatus: done\ntitle: Specify intake\npriority: {value}", path="yoda/0015.md")
    assert t.priority is expected
    assert t.priority_raw == str(value)


def test_dialect_b_severity_when_priority_is_empty() -> None:
    t = ticket(
        """
        id: BUG-0001
        assignees: []
        created_at: '2025-07-25T15:03:00.000000'
        priority: ''
        metadata:
          severity: high
          issue_type: bug
        """
    )
    assert (t.priority, t.priority_raw, t.kind) == (Priority.HIGH, "high", Kind.BUG)


def test_explicit_priority_wins_over_severity() -> None:
    t = ticket("id: BUG-1\nassignees: []\ncreated_at: ''\npriority: low\nmetadata: {severity: critical}")
    assert t.priority is Priority.LOW


def test_unknown_priority_warns_and_keeps_the_raw_value() -> None:
    result = read("issue_id: ISS-1\npriority: whenever")
    assert result.ticket is not None
    assert (result.ticket.priority, result.ticket.priority_raw) == (None, "whenever")
    assert any("unknown priority" in w for w in result.warnings)


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2025-07-08T07:46:00.000Z", utc(2025, 7, 8, 7, 46)),  # unquoted: PyYAML gives a datetime
        ("'2025-07-08T07:46:00.000Z'", utc(2025, 7, 8, 7, 46)),
        ("2025-07-08T07:46:00Z", utc(2025, 7, 8, 7, 46)),
        ('"2025-07-08T07:46:00Z"', utc(2025, 7, 8, 7, 46)),
        ("'2025-07-25T15:03:00.000000'", utc(2025, 7, 25, 15, 3)),  # naive with microseconds = UTC
        ("'2025-07-25T15:03:00'", utc(2025, 7, 25, 15, 3)),
        ("2025-07-08", utc(2025, 7, 8)),  # unquoted: PyYAML gives a date
        ("'2025-07-08'", utc(2025, 7, 8)),
        ("'2025-07-08 14:30'", utc(2025, 7, 8, 14, 30)),
        ("2025-07-08 14:30", utc(2025, 7, 8, 14, 30)),
        ("'2025-07-08T10:00:00+02:00'", utc(2025, 7, 8, 8, 0)),
        ("'2025-07-08T10:00:00.123456-03:00'", utc(2025, 7, 8, 13, 0, 0, 123456)),
        ("2025-07-08T10:00:00-05:00", utc(2025, 7, 8, 15, 0)),  # unquoted with offset: aware datetime
        ("2025-07-08T07:46:00Z  # Updated during migration", utc(2025, 7, 8, 7, 46)),
        ("'2025-07-08T07:46:00Z # set by hand'", utc(2025, 7, 8, 7, 46)),  # a comment inside the quotes
    ],
)
def test_date_shapes(line: str, expected: datetime) -> None:
    t = ticket(f"issue_id: ISS-1\nupdated_date: {line}")
    assert t.updated == expected
    assert t.updated is not None and t.updated.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "line", ["''", '""', "", "null", "YYYY-MM-DDTHH:mm:ssZ", "'YYYY-MM-DD'", '"{{ updated_date }}"', "soon", "[]"]
)
def test_empty_and_placeholder_dates_are_unknown(line: str) -> None:
    result = read(f"issue_id: ISS-1\nupdated_date: {line}")
    assert result.ticket is not None
    assert result.ticket.updated is None


@pytest.mark.parametrize("key", ["due_date", "due", "deadline", "target_date"])
def test_due_date_from_any_of_its_keys(key: str) -> None:
    assert ticket(f"issue_id: ISS-1\n{key}: 2026-12-01").due == utc(2026, 12, 1)


@pytest.mark.parametrize(
    ("created_key", "updated_key"),
    [("created_date", "updated_date"), ("created_at", "updated_at"), ("created", "updated")],
)
def test_created_and_updated_keys_of_each_dialect(created_key: str, updated_key: str) -> None:
    t = ticket(f"issue_id: ISS-1\n{created_key}: '2025-01-02'\n{updated_key}: '2025-01-01'")
    # `updated` earlier than `created` happens in real files: both are kept as written.
    assert (t.created, t.updated) == (utc(2025, 1, 2), utc(2025, 1, 1))


def test_closed_date_from_dialect_b_metadata() -> None:
    t = ticket("id: TSK-1\nassignees: []\ncreated_at: ''\nmetadata: {completed_at: '2025-07-30T10:00:00.000000'}")
    assert t.closed == utc(2025, 7, 30, 10)


def test_stored_datetime_round_trip() -> None:
    value = utc(2025, 7, 8, 7, 46, 59)
    assert timestamps.parse_stored_datetime(timestamps.format_datetime(value)) == value
    assert timestamps.format_datetime(value) == "2025-07-08T07:46:59Z"


# --- effort -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "hours", "source"),
    [
        ("estimated_hours: 6", 6.0, "estimated_hours"),
        ("estimated_hours: 2.5", 2.5, "estimated_hours"),
        ("time_estimate: 2 hours", 2.0, "time_estimate"),
        ("time_estimate: 4 hours", 4.0, "time_estimate"),
        ("time_estimate: 3h", 3.0, "time_estimate"),
        ("time_estimate: 30m", 0.5, "time_estimate"),
        ("time_estimate: 1d", 8.0, "time_estimate"),
        ("time_estimate: 2 weeks", 80.0, "time_estimate"),
        ("time_estimate: 1h 30m", 1.5, "time_estimate"),
        ("time_estimate: 2-3 days", 24.0, "time_estimate"),
        ("story_points: 5", 20.0, "story_points"),
        ("estimated_tokens: 5000", 0.5, "estimated_tokens"),
        ("estimate: 3", 12.0, "estimate (points)"),  # a bare number under `estimate` is story points
        ("estimate: 6h", 6.0, "estimate"),
    ],
)
def test_effort_forms(line: str, hours: float, source: str) -> None:
    t = ticket(f"task_id: TSK-1\nissue_id: ISS-1\n{line}")
    assert t.estimate_hours == pytest.approx(hours)
    assert (t.estimate_source, t.estimate_assumed) == (source, False)


def test_effort_precedence_hours_before_strings_before_points_before_tokens() -> None:
    t = ticket("task_id: T-1\nissue_id: I-1\nestimated_tokens: 90000\nstory_points: 3\ntime_estimate: 2h")
    assert (t.estimate_hours, t.estimate_source) == (2.0, "time_estimate")
    t = ticket("task_id: T-1\nissue_id: I-1\nestimated_tokens: 90000\nstory_points: 3\nestimated_hours: 7")
    assert (t.estimate_hours, t.estimate_source) == (7.0, "estimated_hours")


@pytest.mark.parametrize(
    "line", ["", "estimated_hours: null", "estimated_hours: 0", "time_estimate: ''", "time_estimate: soon-ish"]
)
def test_no_estimate_gives_the_configured_default_marked_assumed(line: str) -> None:
    config = CONFIG._replace(effort=EffortConfig(default_hours=3.0))
    t = ticket(f"task_id: TSK-1\nissue_id: ISS-1\n{line}", config=config)
    assert (t.estimate_hours, t.estimate_source, t.estimate_assumed) == (3.0, "default", True)


def test_conversions_come_from_the_configuration() -> None:
    config = CONFIG._replace(effort=EffortConfig(hours_per_day=6.0, hours_per_point=2.0, tokens_per_hour=1000.0))
    assert ticket("task_id: T-1\nissue_id: I-1\ntime_estimate: 2d", config=config).estimate_hours == 12.0
    assert ticket("task_id: T-1\nissue_id: I-1\nstory_points: 3", config=config).estimate_hours == 6.0
    assert ticket("task_id: T-1\nissue_id: I-1\nestimated_tokens: 2500", config=config).estimate_hours == 2.5


def test_dialect_b_estimate_and_actual_hours() -> None:
    t = ticket("id: TSK-1\nassignees: []\ncreated_at: ''\nestimated_hours: 5\nactual_hours: 7.5")
    assert (t.estimate_hours, t.actual_hours) == (5.0, 7.5)


def test_time_spent_is_actual_hours() -> None:
    assert ticket("task_id: T-1\nissue_id: I-1\ntime_spent: 90m").actual_hours == 1.5


# --- ids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "expected_id", "kind"),
    [
        ("epic_id: 012", "012", Kind.EPIC),  # YAML 1.1 would load 10 (octal): the literal text wins
        ("epic_id: '012'", "012", Kind.EPIC),
        ('epic_id: "012"', "012", Kind.EPIC),
        ("issue_id: 42", "42", Kind.ISSUE),
        ("epic_id: EP-0001", "EP-0001", Kind.EPIC),
        ("issue_id: ISS-0001\nepic_id: EP-0001", "ISS-0001", Kind.ISSUE),
        ("task_id: TSK-0013\nissue_id: ISS-0001", "TSK-0013", Kind.TASK),
        ("pr_id: PR-0002\nissue_id: ISS-0001", "PR-0002", Kind.PR),
        ("project_id: PROJ-0001\ntype: project", "PROJ-0001", Kind.PROJECT),
        ("id: ISS-LEGACY-001", "ISS-LEGACY-001", Kind.ISSUE),
        ("id: TSK-0001\nassignees: []\ncreated_at: ''", "TSK-0001", Kind.TASK),
        ("id: EP-0001\nassignees: []\ncreated_at: ''", "EP-0001", Kind.EPIC),
        ("id: ISSUE-001\ntype: issue\ncreated: 2025-01-01", "ISSUE-001", Kind.ISSUE),
        ("id: X-9\nassignees: []\ncreated_at: ''\nmetadata: {type: epic}", "X-9", Kind.EPIC),
    ],
)
def test_ids_are_strings_and_kinds_follow_the_keys(front: str, expected_id: str, kind: Kind) -> None:
    t = ticket(front, path="somewhere/file.md")
    assert t.id == expected_id
    assert isinstance(t.id, str)
    assert t.kind is kind


def test_id_inside_the_file_wins_over_the_file_name() -> None:
    assert ticket("issue_id: ISS-0007", path="tasks/issues/ISS-0001-slug.md").id == "ISS-0007"


def test_id_from_the_file_name_when_the_file_has_none() -> None:
    result = read("title: Only a title\nstatus: open", path="trackdown/issues/T-011-some-slug.md")
    assert result.ticket is not None
    assert result.ticket.id == "T-011"
    assert any("taken from the file name" in w for w in result.warnings)


@pytest.mark.parametrize("value", ["PR-XXX", "'{{id}}'", "''", "null"])
def test_placeholder_ids_are_not_ids(value: str) -> None:
    with pytest.raises(ParseError, match="no ticket id"):
        read(f"pr_id: {value}\ntitle: template", path="prs/pr-template.md")


def test_project_marker_prefixes_decide_the_kind() -> None:
    hints = ProjectHints(prefixes=(("STORY", Kind.ISSUE), ("EP", Kind.TASK)), folders=(("stories", Kind.ISSUE),))
    assert ticket("id: STORY-12\ntitle: x", path="work/STORY-12.md", hints=hints).kind is Kind.ISSUE
    assert ticket("id: EP-1\ntitle: x", path="work/EP-1.md", hints=hints).kind is Kind.TASK  # the marker wins
    assert ticket("id: ZZ-1\ntitle: x", path="stories/ZZ-1.md", hints=hints).kind is Kind.ISSUE
    assert ticket("id: ZZ-1\ntitle: x", path="stories/ZZ-1.md").kind is Kind.TASK


# --- assignees ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("assignee: masa", "masa"),
        ("assignee: Engineer Agent", "Engineer Agent"),
        ("assignee: QA Engineer", "QA Engineer"),
        ("assignee: devops-team", "devops-team"),
        ("assignee: '@alex-dev'", "alex-dev"),
        ("assignee: unassigned", None),
        ("assignee: Unassigned", None),
        ("assignee: ''", None),
        ("assignee:", None),
        ("assignee: []", None),
        ("assignee: '[]'", None),
        ("assignees: []", None),
        ("assignees: [alice, bob]", "alice"),
        ("assignees: ['', unassigned, carol]", "carol"),
        ("title: nobody", None),
    ],
)
def test_assignee_forms(line: str, expected: str | None) -> None:
    assert ticket(f"issue_id: ISS-1\n{line}").assignee == expected


def test_dialect_b_assignee_list_keeps_the_raw_list() -> None:
    t = ticket("id: TSK-1\nassignees:\n- alice\n- bob\ncreated_at: ''")
    assert (t.assignee, t.assignee_raw) == ("alice", "['alice', 'bob']")


def test_unquoted_at_value_is_repaired_with_a_warning() -> None:
    result = read("id: ISSUE-001\ntype: issue\ncreated: 2025-01-01\nassignee: @alex-dev\nowner: @alex-dev")
    assert result.ticket is not None
    assert result.ticket.assignee == "alex-dev"
    assert result.ticket.frontmatter["owner"] == "@alex-dev"
    assert len(result.warnings) == 1
    assert "'@'" in result.warnings[0] and "line 5, 6" in result.warnings[0]


def test_unquoted_at_values_in_a_flow_list_are_repaired() -> None:
    result = read("id: ISSUE-002\ntype: issue\ncreated: 2025-01-01\nreviewers: [@ux-team, @bob]\nassignee: @carol")
    assert result.ticket is not None
    assert result.ticket.frontmatter["reviewers"] == ["@ux-team", "@bob"]
    assert result.ticket.assignee == "carol"
    assert any("'@'" in w for w in result.warnings)


def test_at_value_in_a_block_list_is_repaired() -> None:
    result = read("issue_id: ISS-1\nreviewers:\n  - @ux-team\n  - bob")
    assert result.ticket is not None
    assert result.ticket.frontmatter["reviewers"] == ["@ux-team", "bob"]


def test_yaml_broken_for_another_reason_stays_an_error_with_its_line() -> None:
    with pytest.raises(ParseError) as caught:
        read("issue_id: ISS-1\ntitle: 'never closed\nassignee: @bob")
    assert "invalid YAML" in caught.value.reason
    assert caught.value.line is not None


def test_yaml_error_line_is_the_file_line() -> None:
    with pytest.raises(ParseError) as caught:
        read("issue_id: ISS-1\ntitle: `backtick`")  # file line 1 is '---': the backtick is on line 3
    assert caught.value.line == 3


# --- relations ----------------------------------------------------------------------------------


def test_relations_unioned_from_every_dialect_a_field() -> None:
    t = ticket(
        """
        task_id: TSK-0005
        issue_id: ISS-0002
        epic_id: EP-0001
        dependencies: [TSK-0001]
        depends_on: [TSK-0004]
        blocked_by: TSK-0002, TSK-0003
        blocks: [TSK-0006]
        subtasks: [TSK-0007]
        related_tasks: [TSK-0008]
        related_issues: [ISS-0009]
        related_prs: [PR-0001]
        parent_task: TSK-0000
        """
    )
    assert t.depends_on == ("TSK-0001", "TSK-0004", "TSK-0002", "TSK-0003")
    assert t.blocks == ("TSK-0006",)
    assert t.parent == "TSK-0000"
    assert t.relations == {
        "dependencies": ["TSK-0001"],
        "depends_on": ["TSK-0004"],
        "blocked_by": ["TSK-0002", "TSK-0003"],
        "blocks": ["TSK-0006"],
        "subtasks": ["TSK-0007"],
        "related_issues": ["ISS-0009"],
        "related_tasks": ["TSK-0008"],
        "related_prs": ["PR-0001"],
        "parent_task": ["TSK-0000"],
        "epic_id": ["EP-0001"],
        "issue_id": ["ISS-0002"],
    }


def test_relations_from_dialect_b_top_level_and_metadata() -> None:
    t = ticket(
        """
        id: TSK-0001
        assignees: []
        created_at: ''
        dependencies: [TSK-0002]
        parent: ISS-0003
        metadata:
          parent_issue: ISS-0003
          parent_epic: EP-0001
          epic: EP-0001
          blocked_by: [TSK-0009, TSK-0002]
          blocks: [TSK-0010]
          relates_to: [TSK-0011]
          subtasks: [TSK-0012]
        """
    )
    assert t.depends_on == ("TSK-0002", "TSK-0009")
    assert t.blocks == ("TSK-0010",)
    assert t.parent == "ISS-0003"
    assert t.relations["relates_to"] == ["TSK-0011"]
    assert t.relations["subtasks"] == ["TSK-0012"]
    assert t.relations["parent_epic"] == ["EP-0001"]


def test_dialect_c_epic_and_issue_parents() -> None:
    t = ticket("id: TASK-001\ntype: task\ncreated: 2025-01-01\nepic: EPIC-001\nissue: ISSUE-001\nparents: []")
    assert t.parent == "ISSUE-001"
    assert t.relations == {"epic": ["EPIC-001"], "issue": ["ISSUE-001"]}


def test_legacy_depends_on_and_dangling_references_are_kept() -> None:
    t = ticket("id: T-011\ntitle: x\ndepends_on: [T-001, T-999]", path="trackdown/issues/T-011-x.md")
    assert t.depends_on == ("T-001", "T-999")


def test_a_ticket_never_depends_on_itself() -> None:
    assert ticket("issue_id: ISS-1\ndependencies: [ISS-1, ISS-2]").depends_on == ("ISS-2",)


# --- titles, odd shapes, body copies ------------------------------------------------------------


def test_title_that_parses_as_a_list() -> None:
    assert ticket("issue_id: ISS-1\ntitle: [Issue Title]").title == "Issue Title"


def test_title_from_the_body_heading_when_missing() -> None:
    assert ticket("issue_id: ISS-1", body="# Issue: Fix the login flow\n").title == "Fix the login flow"


def test_ai_context_as_a_scalar_and_sync_status_as_a_mapping() -> None:
    t = ticket("issue_id: ISS-1\nai_context: python\nsync_status:\n  github: synced\n  jira: local")
    assert t.skills == ("python",)
    assert t.frontmatter["sync_status"] == {"github": "synced", "jira": "local"}


def test_content_copy_of_the_body_is_ignored_and_file_path_not_trusted() -> None:
    result = read(
        """
        issue_id: ISS-0001
        title: Copy
        content: |-
          # Real body

          - [ ] one
        file_path: /Users/someone/project/tasks/issues/ISS-0001-old-name.md
        """,
        body="# Real body\n\n- [ ] one\n",
        path="tasks/issues/ISS-0001-new-name.md",
    )
    t = result.ticket
    assert t is not None
    assert t.body == "# Real body\n\n- [ ] one\n"
    assert t.path == "/work/proj/tasks/issues/ISS-0001-new-name.md"
    assert t.frontmatter["content"] != t.body  # not stored twice
    assert t.frontmatter["file_path"].startswith("/Users/someone")  # kept verbatim, never used
    assert (t.checklist_done, t.checklist_total) == (0, 1)
    assert result.warnings == []


def test_unknown_keys_are_kept_verbatim_as_json() -> None:
    t = ticket("issue_id: ISS-1\nsprint: 7\ncreated_date: 2025-07-08T07:46:00.000Z\ntoken_usage: {total: 5}")
    assert t.frontmatter["sprint"] == 7
    assert t.frontmatter["token_usage"] == {"total": 5}
    assert isinstance(t.frontmatter["created_date"], str)  # dates become ISO text, JSON-safe


# --- skills -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["required_skills", "skills", "required_capabilities"])
def test_explicit_skill_fields_win_over_tags(key: str) -> None:
    t = ticket(f"issue_id: ISS-1\n{key}: [Python, Security]\ntags: [frontend]")
    assert (t.skills, t.skills_source) == (("python", "security"), "explicit")


def test_skills_from_tags_labels_and_ai_context_through_the_map() -> None:
    config = CONFIG._replace(skills=SkillsConfig(map={"api": ["backend"], "py": ["python"]}, ignore=("bug",)))
    t = ticket(
        "issue_id: ISS-1\ntags: [api, bug]\nlabels: [py]\nai_context: [context/requirements, testing]", config=config
    )
    assert (t.skills, t.skills_source) == (("backend", "python", "testing"), "tags")


def test_template_values_are_not_skills() -> None:
    t = ticket(
        "issue_id: ISS-1\nai_context:\n  - context/requirements\n  - context/constraints\n  - '{{context}}'\n"
        "labels: ['area:auth']"
    )
    assert (t.skills, t.skills_source) == ((), "none")


def test_only_mapped_tags_count_without_from_tags() -> None:
    config = CONFIG._replace(skills=SkillsConfig(map={"api": ["backend"]}, from_tags=False))
    assert ticket("issue_id: ISS-1\ntags: [api, frontend]", config=config).skills == ("backend",)


def test_default_map_is_the_one_init_writes() -> None:
    assert ticket("issue_id: ISS-1\ntags: [py, api, ui, ci, qa, documentation]").skills == (
        "python",
        "backend",
        "frontend",
        "devops",
        "testing",
        "docs",
    )


# --- checkboxes ---------------------------------------------------------------------------------


def test_checkbox_counts() -> None:
    body = """
    # Task

    - [ ] open one
    - [x] done one
    * [X] done two
    + [ ] open two
    1. [x] numbered
      - [ ] nested
    - [] not a checkbox
    text - [ ] not at line start

    ```markdown
    - [ ] an example inside a code block
    ```
    """
    t = ticket("issue_id: ISS-1", body=body)
    assert (t.checklist_done, t.checklist_total) == (3, 6)


@pytest.mark.parametrize(
    ("body", "expected"),
    [("", (0, 0)), ("- [x] a\n~~~\n- [ ] b\n~~~\n", (1, 1)), ("```\n- [ ] unclosed fence\n", (0, 0))],
)
def test_checkbox_counts_edge_cases(body: str, expected: tuple[int, int]) -> None:
    assert nz.count_checkboxes(body) == expected


# The checkbox pattern as a line-start (`^`) pattern, which `_CHECKBOX` matches as a newline instead.
_LINE_START_CHECKBOX = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\[([ xX])\]", re.MULTILINE)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["- [x] a", "* [ ]", "1. [X]", "  + [ ] b", "-[ ]", "x - [ ]", " ", "\t", "\n", "\r"])))
@example(["- [x] a", "\n", "- [ ] b"])
def test_checkboxes_are_matched_at_every_line_start(parts: list[str]) -> None:
    body = "".join(parts)
    marks = _LINE_START_CHECKBOX.findall(body)
    assert nz.count_checkboxes(body) == (sum(1 for m in marks if m in "xX"), len(marks))


def _cleaned_then_read(value: str) -> datetime | None:
    """What `normalize_datetime` gave for text before it tried `fromisoformat` on the text as it is."""
    parsed = nz._from_text(value)
    if parsed is None:
        return None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


_DATE_PARTS = st.sampled_from(
    ["2026", "-", "11", "03", "T", " ", "#", "t", "Z", "z", "+", "05:30", ":", "10", ".", "123", "'", "W", "1", "0"]
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.lists(_DATE_PARTS, max_size=12).map("".join), st.text(max_size=30)))
@example("2026-11-03#10:00")  # fromisoformat would take the `#` for the `T`
@example("2026-11-03 10:00:00Z")
@example("20261103T1000")
def test_dates_read_as_the_cleaning_reads_them(text: str) -> None:
    assert nz.normalize_datetime(text) == _cleaned_then_read(text)
