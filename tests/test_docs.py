"""The README and the pages of docs/: every relative link resolves, to a file and, where it names one, a heading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")


def prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code spans, where brackets are not links."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(out)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (letters, digits, spaces, - and _ kept), spaces to -."""
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip()).lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file (a repeated heading gets -1, -2 …, as GitHub numbers them)."""
    seen: dict[str, int] = {}
    out = set()
    for line in prose(path.read_text()).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(page: Path) -> list[str]:
    return [m.group(1) for m in LINK.finditer(prose(page.read_text()))]


def test_the_slug_is_githubs():
    assert slug("The chroma + HPSS BiLSTM") == "the-chroma--hpss-bilstm"
    assert slug("4Q-400, `cpu` preset, every method, 10 folds") == "4q-400-cpu-preset-every-method-10-folds"
    assert slug("Units of work: resume, more folds, parallel models") == "units-of-work-resume-more-folds-parallel-models"
    assert slug("What’s new — intervals") == "whats-new--intervals"


def test_the_docs_exist_and_the_readme_links_to_each_page():
    assert len(PAGES) > 5
    linked = {(REPO / link.split("#")[0]).resolve() for link in links(REPO / "README.md") if not re.match(r"[a-z]+:", link)}
    assert {p.resolve() for p in PAGES[1:]} <= linked  # no page the README does not lead to


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(page):
    broken = []
    for link in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto: …: not checked offline
            continue
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{link}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{link}: no heading #{anchor} in {path.relative_to(REPO)}")
        elif not path.resolve().is_relative_to(REPO):
            broken.append(f"{link}: outside the repository")
    assert not broken, "\n".join(broken)


def test_the_readme_is_a_front_door():
    assert len((REPO / "README.md").read_text().splitlines()) <= 300


def test_ci_runs_exactly_the_readmes_test_command():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    (command,) = [b for b in blocks if b.endswith("python -m pytest")]
    assert command in (REPO / ".ci" / "run").read_text().splitlines()


@pytest.mark.parametrize("page", [*PAGES, REPO / "mer" / "shipped" / "embed_svm" / "MODEL_CARD.md"], ids=lambda p: p.name)
def test_no_figure_is_left_as_a_placeholder(page):
    """Figures are written in, not left as tokens to fill (the README once said "EMBED_V / EMBED_A" for scores)."""
    import re

    left = re.findall(r"\b[A-Z]{2,}_[A-Z]{1,2}\b|\bTODO\b|\bTBD\b", page.read_text())
    assert not left, f"{page.name}: {left}"
