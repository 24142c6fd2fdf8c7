"""The documentation stays inside the repository: relative links resolve, nothing links out.

Checked in every markdown file of the repository (README.md, docs/, tests/, any other ``.md``)
and in the markdown cells of ``notebooks/*.ipynb``:

- every relative link ``[text](path)``, ``[text](path#anchor)``, ``[text](#anchor)``, image and
  reference definition names an existing file, and an ``#anchor`` names a heading of that file
  (GitHub's slug) or an ``<a id>``/``<a name>`` in it;
- no link has an absolute target (a scheme such as ``https:``, ``//host`` or ``/path``);
- no ``http://`` or ``https://`` appears anywhere, code spans and code blocks included.

Only markdown is read. The JSON-Schema identifiers in ``simnotify.schema.json`` and
``simnotify/cli.py`` (``$schema``, and ``$id`` = ``https://simnotify.invalid/...``) are URIs that
name the schema, not links a reader follows, so this test leaves them alone on purpose.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
#: ``[text](target)`` and ``![alt](target)``; the text may hold one level of brackets.
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*)[^)]*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*(<[^>]*>|\S+)", re.MULTILINE)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]*:[^>\s]*)>")
_HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_ABSOLUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//|/)")
_URL = re.compile(r"https?://", re.IGNORECASE)


def _skipped(path: Path) -> bool:
    """Virtual environments, git data, caches and build output are not the project's text."""
    parts = path.relative_to(ROOT).parts[:-1]
    return any(p.startswith(".") or p.endswith(".egg-info") or p == "build" for p in parts)


MARKDOWN = sorted(p for p in ROOT.rglob("*.md") if not _skipped(p))
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if not _skipped(p))


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def _prose(text: str) -> str:
    """The text with fenced code blocks blanked out (line numbers kept)."""
    out, fence = [], ""
    for line in text.splitlines():
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
            out.append("")
        elif m:
            fence = m.group(1)
            out.append("")
        else:
            out.append(line)
    return "\n".join(out)


def _without_code_spans(text: str) -> str:
    return _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: formatting and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # \w keeps letters, digits and '_' of any script
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a markdown text defines: heading slugs (numbered when repeated) and
    ``<a id>``/``<a name>`` targets."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    prose = _prose(text)
    for line in prose.splitlines():
        m = _HEADING.match(line)
        if m is None:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    found.update(_HTML_ANCHOR.findall(prose))
    return found


def link_targets(text: str) -> list[str]:
    """Link targets outside code: inline links, images, reference definitions, autolinks."""
    prose = _without_code_spans(_prose(text))
    targets = [t.strip("<>") for t in _INLINE_LINK.findall(prose)]
    targets += [t.strip("<>") for t in _REFERENCE.findall(prose)]
    targets += _AUTOLINK.findall(prose)
    return targets


def link_problems(text: str, base: Path) -> list[str]:
    """What is wrong with the links of a markdown text whose file is in ``base``."""
    problems = []
    for target in link_targets(text):
        if not target:
            problems.append("an empty link target")
            continue
        if _ABSOLUTE.match(target):
            problems.append(f"{target}: links outside the repository")
            continue
        path_part, _, anchor = target.partition("#")
        path = (base / unquote(path_part)).resolve() if path_part else None
        if path is not None:
            if not path.is_relative_to(ROOT):
                problems.append(f"{target}: leaves the repository")
                continue
            if not path.exists():
                problems.append(f"{target}: no such file")
                continue
        if anchor:
            if path is not None and path.suffix != ".md":
                problems.append(f"{target}: an anchor into a file that is not markdown")
                continue
            doc = path.read_text(encoding="utf-8") if path is not None else text
            if unquote(anchor).lower() not in anchors(doc):
                problems.append(f"{target}: no heading with anchor #{anchor}")
    return problems


def url_lines(text: str) -> list[str]:
    return [
        f"line {i}: {line.strip()}"
        for i, line in enumerate(text.splitlines(), 1)
        if _URL.search(line)
    ]


def _markdown_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c.get("cell_type") == "markdown"]


def test_the_documentation_is_found() -> None:
    names = {str(p.relative_to(ROOT)) for p in MARKDOWN}
    assert {"README.md", "docs/semantics.md", "docs/scenario-format.md"} <= names
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", MARKDOWN, ids=_ids(MARKDOWN))
def test_relative_links_resolve(path: Path) -> None:
    problems = link_problems(path.read_text(encoding="utf-8"), path.parent)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", MARKDOWN, ids=_ids(MARKDOWN))
def test_no_url_in_markdown(path: Path) -> None:
    found = url_lines(path.read_text(encoding="utf-8"))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_markdown_stays_inside(path: Path) -> None:
    problems = []
    for i, cell in enumerate(_markdown_cells(path)):
        problems += [f"markdown cell {i}: {p}" for p in link_problems(cell, path.parent)]
        problems += [f"markdown cell {i}: {p}" for p in url_lines(cell)]
    assert not problems, "\n".join(problems)


# -- the checker itself -------------------------------------------------------------------


def test_slugs_follow_github() -> None:
    assert slug("6. The lost-event oracle") == "6-the-lost-event-oracle"
    assert slug("3.5 API calls") == "35-api-calls"
    assert slug("`records_outside_mask`") == "records_outside_mask"
    assert slug("Long runs: `--stream`") == "long-runs---stream"
    assert slug("Plots and notebooks") == "plots-and-notebooks"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}


def test_broken_links_are_caught() -> None:
    doc = ROOT / "docs"
    text = (
        "[ok](semantics.md) [ok](semantics.md#6-the-lost-event-oracle) [ok](#here)\n"
        "# Here\n"
        "[gone](no-such-file.md) [bad anchor](semantics.md#no-such-heading)\n"
        "[out](https://example.invalid/) <https://example.invalid/> [root](/README.md)\n"
        "![missing picture](missing.png)\n"
        "[ref]: also-missing.md\n"
        "`[in code](not-checked.md)`\n"
    )
    problems = link_problems(text, doc)
    assert len(problems) == 7, problems
    assert any("no-such-file.md" in p for p in problems)
    assert any("#no-such-heading" in p for p in problems)
    assert sum("outside the repository" in p for p in problems) == 3
    assert not any("not-checked" in p for p in problems)
    assert url_lines("see `https://example.invalid` here") == [
        "line 1: see `https://example.invalid` here"
    ]


def test_readme_documents_every_field_kind_and_reason_code() -> None:
    """The trace is a contract: every field, kind and reason code is in the README."""
    from simnotify.trace import FIELDS, Kind, Reason

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Trace records") :]
    missing = [f"field {f}" for f in FIELDS if f"| `{f}` |" not in section]
    missing += [f"kind {k}" for k in Kind if f"| `{k}` |" not in section]
    missing += [f"reason {r}" for r in Reason if f"`{r}`" not in section]
    assert not missing, missing
