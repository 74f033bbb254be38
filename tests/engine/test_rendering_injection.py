"""The plan comment keeps its structure whatever names, usernames, descriptions, warnings
and reasons hold: they come from pull requests and from other DataRobot users.

Each string of ``data/injection-strings.json`` is put into every place a plan interpolates
text; the Markdown is rendered with cmark-gfm (GitHub's Markdown library, raw HTML kept as
GitHub keeps it before sanitising) and the HTML is checked: one ``<details>`` with one
``<summary>`` per action, no tag, comment, link, image or heading of the values' making, no
@mention, the summary line in each part. The text form keeps one line per item.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from controller.engine.descriptions import detail_lines
from controller.engine.render import (
    markdown_text,
    render_markdown,
    render_text,
    visible,
)
from controller.model.desired import ResourceKey
from controller.model.params import (
    ModelAdopt,
    ModelCreate,
    VersionCreate,
    VersionMethod,
    VersionRef,
)
from controller.model.plans import (
    MARKDOWN_MARKER,
    Action,
    ActionKind,
    FieldChange,
    FileChange,
    FileChangeKind,
    GrantChange,
    Plan,
    RuntimeChange,
)
from controller.model.values import Fields
from tests.engine import builders as b

INJECTIONS: list[str] = json.loads(
    (Path(__file__).parent / "data" / "injection-strings.json").read_text(encoding="utf-8")
)
# Tags the renderer itself writes (and cmark-gfm makes of its Markdown).
OURS = {"details", "summary", "code", "pre", "p", "em", "strong", "h3", "blockquote", "br"}
_MENTION = re.compile(r"(^|[^\w`])@[A-Za-z0-9]")


def _actions(value: str) -> list[Action]:
    name = ResourceKey("CustomModel", f"m-{value}")  # a live object's key can hold anything
    grant = GrantChange("user", value, None, "OWNER", new_can_share=True)
    revoke = GrantChange("group", value, "USER", None)
    return [
        Action(
            ActionKind.ADOPT_MODEL,
            ResourceKey("CustomModel", "adopted"),
            reason=f"adopting the model named {value!r}; also {value}",
            target_id="65a000000000000000000001",
            target_name=value,
            fields=(FieldChange("description", value, value + "!"), FieldChange(value, None, 1)),
            params=ModelAdopt(value),
        ),
        Action(
            ActionKind.CREATE_MODEL,
            ResourceKey("CustomModel", "new"),
            reason=value,
            params=ModelCreate(Fields({"name": value})),
        ),
        Action(
            ActionKind.CREATE_VERSION,
            ResourceKey("CustomModel", "versioned"),
            reason=f"1 file changed: {value}",
            files=(FileChange(value, FileChangeKind.ADD, repo_path="x"),),
            runtime=(RuntimeChange(value, "string", value, value + "2"),),
            params=VersionCreate(VersionMethod.FROM_LATEST, False, VersionRef("v1", value)),
        ),
        Action(
            ActionKind.UPDATE_MODEL_SHARING,
            ResourceKey("CustomModel", "shared"),
            reason="sharing differs",
            sharing=(grant, revoke),
        ),
        Action(ActionKind.DELETE_MODEL, name, reason=value, target_id="x", target_name=value),
        Action(ActionKind.BLOCKED, name, reason=f"blocked because {value}"),
    ]


def _plan(values: list[str]) -> Plan:
    actions = tuple(a for v in values for a in _actions(v))
    return Plan(b.NS, b.revision(), actions, warnings=tuple(f"warning: {v}" for v in values))


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[str] = []
        self.ends: list[str] = []
        self.comments: list[str] = []
        self.open_code = 0
        self.text_outside_code: list[str] = []
        self.strong: list[str] = []
        self._in_strong = False
        self.links: list[list[str]] = []  # [href, text]
        self.in_link = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.starts.append(tag)
        if tag == "a":
            self.links.append([dict(attrs).get("href") or "", ""])  # type: ignore[call-overload]
            self.in_link = True
        if tag in ("code", "pre"):
            self.open_code += 1
        self._in_strong = tag == "strong"

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)
        self.in_link = self.in_link and tag != "a"
        if tag in ("code", "pre"):
            self.open_code -= 1
        if tag == "strong":
            self._in_strong = False

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        if self.in_link:
            self.links[-1][1] += data
        if not self.open_code:
            self.text_outside_code.append(data)
        if self._in_strong:
            self.strong.append(data)


def _check_part(part: str, plan: Plan) -> int:
    """Checks one comment; returns the number of actions it shows."""
    assert part.startswith(MARKDOWN_MARKER)
    html = cmarkgfm.github_flavored_markdown_to_html(part, options=Options.CMARK_OPT_UNSAFE)
    parsed = _Html()
    parsed.feed(html)
    parsed.close()
    assert parsed.comments == [MARKDOWN_MARKER[4:-3]], parsed.comments
    assert set(parsed.starts) - {"a"} <= OURS, set(parsed.starts) - OURS
    for href, text in parsed.links:  # GitHub links bare URLs: shown as they are, not hidden
        assert href.removeprefix("http://") == text or href == text, (href, text)
    assert parsed.starts.count("details") == parsed.ends.count("details")
    assert parsed.starts.count("summary") == parsed.starts.count("details")
    assert parsed.starts.count("h3") == 1
    assert plan.summary_line() in parsed.strong
    for text in parsed.text_outside_code:
        assert not _MENTION.search(text), text
    return parsed.starts.count("details")


@pytest.mark.parametrize("value", INJECTIONS, ids=range(len(INJECTIONS)))
def test_the_comment_keeps_its_structure_whatever_a_value_holds(value: str) -> None:
    plan = _plan([value])
    (part,) = render_markdown(plan)
    assert _check_part(part, plan) == len(plan.actions)


def test_the_structure_survives_splitting_into_parts() -> None:
    plan = _plan(INJECTIONS * 3)
    parts = render_markdown(plan, limit=12_000)
    assert len(parts) > 3
    assert sum(_check_part(p, plan) for p in parts) == len(plan.actions)
    for part in parts:
        assert len(part) < 12_000


def test_a_block_too_long_for_a_comment_is_cut_between_lines() -> None:
    value = INJECTIONS[1] * 20
    action = _actions(value)[2]
    many = tuple(RuntimeChange(f"P{i}", "string", value, value + "2") for i in range(200))
    plan = Plan(b.NS, b.revision(), (replace(action, runtime=many),))
    parts = render_markdown(plan, limit=8_000)
    assert sum(_check_part(p, plan) for p in parts) == 1
    assert "truncated" in parts[0]


@pytest.mark.parametrize("value", INJECTIONS, ids=range(len(INJECTIONS)))
def test_the_text_form_keeps_one_line_per_item_and_the_summary_last(value: str) -> None:
    plan = _plan([value])
    text = render_text(plan)
    lines = text.rstrip("\n").split("\n")
    details = sum(2 + len(detail_lines(a)) for a in plan.actions)
    # title, blank, warnings, blank, actions (heading, reason, details), blank, summary
    assert len(lines) == 2 + len(plan.warnings) + 1 + details + 1 + 1
    assert lines[-1] == plan.summary_line()
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]", text)


def test_control_characters_are_shown_escaped() -> None:
    assert visible("a\nb\x1b[2J\u202e") == "a\\nb\\x1b[2J\\u202e"
    assert "\n" not in markdown_text("x\n# y")
