"""Plans and apply results as text (like ``terraform plan``) and Markdown (for a PR comment).

Pure functions from values to strings. Colours are added only when asked (the CLI asks on
a TTY, unless ``NO_COLOR`` is set). What each action says (its headline and detail lines,
secret-looking runtime values masked) comes from ``controller.engine.descriptions``.

Names, usernames, descriptions, warnings and reasons come from pull requests and from other
DataRobot users, so nothing is interpolated as it is: control characters (a newline, an
escape sequence, a bidirectional override) are shown escaped in every form; in Markdown,
HTML and Markdown syntax are escaped, ``@mentions`` are broken with a zero-width space, code
is fenced longer than any backtick run inside it, so the comment keeps its structure (one
``<details>`` per action) whatever the values hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TextIO

from controller.engine.descriptions import detail_lines, headline
from controller.engine.outcomes import ApplyResult, Outcome
from controller.model.desired import ResourceKey
from controller.model.plans import (
    MARKDOWN_LIMIT,
    MARKDOWN_MARKER,
    Action,
    ActionKind,
    Plan,
)
from controller.model.values import Location

_SYMBOL = {
    ActionKind.CREATE_MODEL: "+",
    ActionKind.CREATE_JOB: "+",
    ActionKind.ADOPT_MODEL: "@",
    ActionKind.ADOPT_JOB: "@",
    ActionKind.UPDATE_MODEL: "~",
    ActionKind.UPDATE_JOB: "~",
    ActionKind.UPDATE_VERSION_METADATA: "~",
    ActionKind.UPDATE_MODEL_SHARING: "~",
    ActionKind.UPDATE_JOB_SHARING: "~",
    ActionKind.CREATE_VERSION: "^",
    ActionKind.BUILD_DEPENDENCIES: "^",
    ActionKind.TEST_VERSION: "^",
    ActionKind.DELETE_MODEL: "-",
    ActionKind.DELETE_JOB: "-",
    ActionKind.BLOCKED: "!",
    ActionKind.REGISTER_VERSION: "^",
    ActionKind.UPDATE_REGISTERED_MODEL: "~",
    ActionKind.CREATE_DEPLOYMENT: "+",
    ActionKind.REPLACE_DEPLOYMENT_MODEL: "~",
    ActionKind.UPDATE_DEPLOYMENT: "~",
    ActionKind.UPDATE_DEPLOYMENT_SETTINGS: "~",
    ActionKind.UPDATE_DEPLOYMENT_SHARING: "~",
    ActionKind.DELETE_DEPLOYMENT: "-",
}
_COLOUR = {"+": "32", "@": "36", "~": "33", "^": "36", "-": "31", "!": "1;31"}
_EMOJI = {"+": "🟢", "@": "🔵", "~": "🟡", "^": "🔷", "-": "🔴", "!": "⛔"}


# --- text --------------------------------------------------------------------------------


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The plan for a terminal or a CI log."""
    return "".join(text_chunks(plan, color=color))


def write_text(plan: Plan, out: TextIO, *, color: bool = False) -> None:
    """:func:`render_text`'s text, written an action at a time: at 10,000 models the text
    is megabytes, and building it whole took several times that (issue 20)."""
    out.writelines(text_chunks(plan, color=color))


def text_chunks(plan: Plan, *, color: bool = False) -> Iterator[str]:
    """:func:`render_text`'s text in pieces (the head, then one piece per action, then the
    summary), each a whole number of lines."""
    head = [visible(_title(plan)), ""]
    for warning in plan.warnings:
        head.append(_paint("!", f"warning: {visible(warning)}", color))
    if plan.warnings:
        head.append("")
    yield _lines(head)
    for action in plan.actions:
        symbol = _SYMBOL[action.kind]
        heading = visible(f"  {symbol} {action.key}  {headline(action)}")
        out = [_paint(symbol, heading, color), f"      # {visible(action.reason)}"]
        out.extend(f"      {visible(detail)}" for detail in detail_lines(action))
        yield _lines(out)
    if plan.actions:
        yield "\n"
    yield _paint("!" if plan.counts()["blocked"] else "", plan.summary_line(), color) + "\n"


def _lines(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def _title(plan: Plan) -> str:
    revision = ""
    if plan.revision:
        revision = f" at {plan.revision.main_branch_commit_sha[:12]}"
        if plan.revision.ref_name:
            revision += f" ({plan.revision.ref_name})"
    return f"dr-gitops plan for namespace {plan.namespace}{revision}"


def _paint(symbol: str, text: str, color: bool) -> str:
    code = _COLOUR.get(symbol)
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


# --- Markdown ----------------------------------------------------------------------------


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> list[str]:
    """The plan as one or more PR comments, each under ``limit`` characters.

    Each part starts with a hidden marker (so CI can find and update its own comment) and
    a heading; each action is a collapsible block, so the review page stays short.
    """
    return list(markdown_parts(plan, limit=limit))


def markdown_parts(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> Iterator[str]:
    """:func:`render_markdown`'s parts, each put together when it is asked for: a plan of
    20,000 actions is a hundred parts, and all of them at once cost as much again as the
    blocks (text with emoji takes four bytes a character)."""
    # What production serves changes first, where a reviewer cannot miss it.
    ordered = [a for a in plan.actions if a.kind.is_production]
    ordered += [a for a in plan.actions if not a.kind.is_production]
    head = _markdown_head(plan)
    # Each block is kept as UTF-8 until its part is put together: one emoji makes a str
    # four bytes a character, and 20,000 blocks were then ~24 MB (issue 20).
    parts: list[list[bytes]] = [[]]
    size = 0  # characters in the last part
    for action in ordered:
        block = _markdown_block(action, limit - 2000)
        if size + len(block) + len(head) + 500 > limit:
            parts.append([])
            size = 0
        parts[-1].append(block.encode("utf-8", "surrogatepass"))
        size += len(block)
    total = len(parts)
    for index, part in enumerate(parts, start=1):
        suffix = f" (part {index}/{total})" if total > 1 else ""
        text = b"".join(part).decode("utf-8", "surrogatepass")
        part.clear()  # given out now
        yield f"{MARKDOWN_MARKER}\n{head.replace('{part}', suffix)}{text}"


def _markdown_head(plan: Plan) -> str:
    revision = f" at {_code(plan.revision.main_branch_commit_sha[:12])}" if plan.revision else ""
    lines = [
        f"### dr-gitops plan{{part}} for {_code(plan.namespace)}{revision}",
        "",
        f"**{plan.summary_line()}**",
        "",
    ]
    if plan.blocked:
        lines += [
            f"> ⛔ {len(plan.blocked)} blocked: apply would fail on "
            + ", ".join(_code(str(a.key)) for a in plan.blocked)
            + " until the manifests (or DataRobot) change; each says why below.",
            "",
        ]
    production = [a for a in plan.actions if a.kind.is_production]
    if production:
        lines += [
            f"> 🚀 **{len(production)} production change(s)**: "
            + "; ".join(_code(f"{a.key}") + " " + markdown_text(headline(a)) for a in production),
            "",
        ]
    for warning in plan.warnings:  # a blank line apart, or Markdown joins them into one
        lines += [f"> ⚠️ {markdown_text(warning)}", ""]
    return "\n".join(lines) + "\n"


def _markdown_block(action: Action, size: int) -> str:
    """One action as a collapsible block of at most about ``size`` characters: past it, the
    reason is shortened and detail lines are left out, never a fence or a tag."""
    symbol = _SYMBOL[action.kind]
    title = _html_text(_shortened(headline(action), 1000))
    summary = f"{_EMOJI[symbol]} <code>{_html_text(str(action.key))}</code> — {title}"
    reason = markdown_text(_shortened(action.reason, 4000))
    head = f"<details><summary>{summary}</summary>\n\n_{reason}_\n\n"
    lines = [visible(line) for line in _diff_prefixed(detail_lines(action))]
    fence = "`" * max(3, _longest_backtick_run("".join(lines)) + 1)
    room, kept = size - len(head) - 2 * len(fence) - 200, []
    for line in lines:
        room -= len(line) + 1
        if room < 0:
            kept.append("! (truncated: see the full plan in the CI log)")
            break
        kept.append(line)
    body = f"{fence}diff\n" + "\n".join(kept) + f"\n{fence}\n" if kept else ""
    return f"{head}{body}</details>\n"


def _diff_prefixed(lines: Iterable[str]) -> list[str]:
    # ```diff colours lines by their first character: + green, - red, ! orange.
    return [line if line[:1] in "+-" else f"! {line[2:]}" for line in lines]


# Characters never shown as they are: C0 and C1 controls and DEL (a newline would start a
# new Markdown block or a fake plan line; ESC rewrites a terminal), line and paragraph
# separators, and the bidirectional controls that make text read differently from its bytes.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_BACKTICKS = re.compile("`+")
# What starts emphasis, code, links, images, strikethrough or math inside a line (a value
# never starts a line: newlines are escaped, and it follows `_` or `> ⚠️`).
_MARKDOWN_PUNCTUATION = frozenset("\\`*_[]~!$")


def visible(text: str) -> str:
    """``text`` with control, separator and bidirectional characters escaped (``\\n``,
    ``\\x1b``, ``\\u202e``): one line that reads as what it holds."""
    return _INVISIBLE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown inline text: on one line, the characters of emphasis,
    code, links, images, strikethrough and math escaped, HTML as entities (no tag, no
    ``<!--``), and ``@`` followed by a zero-width space (no mention, no e-mail link)."""
    out = []
    for char in visible(text):
        if char in _MARKDOWN_PUNCTUATION:
            out.append("\\" + char)
        elif char == "@":
            out.append("@&#8203;")
        else:
            out.append(_HTML.get(char, char))
    return "".join(out)


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _html_text(text: str) -> str:
    """``text`` inside raw HTML (a ``<summary>``): entities for markup, no mention."""
    return "".join(_HTML.get(c, c) for c in visible(text)).replace("@", "@&#8203;")


def _code(text: str) -> str:
    """``text`` as a Markdown code span: delimited by more backticks than any run inside,
    padded when it starts or ends with one, on one line."""
    text = visible(text)
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def _shortened(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


# --- apply results -----------------------------------------------------------------------


def render_result(
    result: ApplyResult,
    *,
    color: bool = False,
    locations: Mapping[ResourceKey, Location] | None = None,
) -> str:
    """What applying did: each action with its outcome, then a summary line. A failed or
    blocked action names its manifest when ``locations`` has it."""
    return "".join(result_chunks(result, color=color, locations=locations))


def write_result(
    result: ApplyResult,
    out: TextIO,
    *,
    color: bool = False,
    locations: Mapping[ResourceKey, Location] | None = None,
) -> None:
    """:func:`render_result`'s text, written a line at a time (as :func:`write_text`)."""
    out.writelines(result_chunks(result, color=color, locations=locations))


def result_chunks(
    result: ApplyResult,
    *,
    color: bool = False,
    locations: Mapping[ResourceKey, Location] | None = None,
) -> Iterator[str]:
    """:func:`render_result`'s text in pieces, one per action, then the summary."""
    for r in result.results:
        if r.outcome is Outcome.DONE:
            yield (
                _paint("+", visible(f"  ✓ {r.action.key}  {r.detail or headline(r.action)}"), color)
                + "\n"
            )
        else:
            symbol = "~" if r.outcome in (Outcome.SKIPPED, Outcome.PENDING) else "!"
            # A failed build or test carries its log's tail: one indented line per line.
            first, *tail = r.message.split("\n") or [""]
            text = visible(f"  {symbol} {r.action.key}  {headline(r.action)}: {first}")
            text += "".join(f"\n      | {visible(line)}" for line in tail)
            where = (locations or {}).get(r.action.key)
            if where is not None and r.outcome in (Outcome.FAILED, Outcome.BLOCKED):
                text += f"\n      (declared at {where.file}:{where.line})"
            yield _paint(symbol, text, color) + "\n"
    counts = {o: result.count(o) for o in Outcome}
    numbers = (
        f"{counts[Outcome.DONE]} done, {counts[Outcome.FAILED]} failed, "
        f"{counts[Outcome.BLOCKED]} blocked, {counts[Outcome.SKIPPED]} skipped"
        + (f", {counts[Outcome.PENDING]} pending" if counts[Outcome.PENDING] else "")
    )
    if result.ok:
        yield _paint("+", f"\nApply complete: {numbers}.", color) + "\n"
    elif result.stopped:
        yield _paint("!", f"\nApply stopped before the end: {numbers}.", color) + "\n"
    else:
        yield _paint("!", f"\nApply finished with failures: {numbers}.", color) + "\n"
