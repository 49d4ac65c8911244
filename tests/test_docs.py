"""The user docs name only what the checkout holds: every markdown link and every backticked
repository path in README.md, docs/*.md and molecules/README.md exists, and nothing points
outside the checkout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "molecules" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Top-level directories of the checkout: a backticked token starting with one of these is a
#: repository path (``results/`` is what a run writes, so it is not among them).
REPO_DIRS = ("src/", "tests/", "bench/", "workflows/", "molecules/", "profiles/", "docs/", ".ci/")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
#: A path token: no spaces, no placeholders (``<stage>``), no globs or braces.
PATHLIKE = re.compile(r"^[\w.+\-/]+$")


def missing_paths(text: str, base: Path, root: Path = ROOT) -> list[str]:
    """Relative markdown link targets (resolved against ``base``) and backticked repository
    paths (resolved against ``root``) in ``text`` that do not exist."""
    missing = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor in the same page
        path = target.split("#", 1)[0]
        if not (base / path).exists():
            missing.append(target)
    for token in CODE.findall(text):
        token = token.split("::", 1)[0]  # tests/test_x.py::test_name
        if token.startswith(REPO_DIRS) and PATHLIKE.match(token) and not (root / token).exists():
            missing.append(token)
    return missing


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_doc_names_exists(doc):
    assert missing_paths(doc.read_text(), doc.parent) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_doc_points_outside_the_checkout(doc):
    text = doc.read_text()
    for outside in ("../shared", "shared/reference", "DESIGN.md", "measured_facts.md"):
        assert outside not in text, outside


def test_the_path_check_finds_what_is_missing(tmp_path):
    (tmp_path / "there.md").write_text("")
    text = ("[ok](there.md) [ok](there.md#part) [gone](gone.md) [web](https://example.org/x.md) [anchor](#x)\n"
            "`tests/test_docs.py::test_x` `bench/no_such_bench.py` `results/report.html` "
            "`workflows/rules/<stage>.smk` `src/solvscreen/gone/`")
    assert missing_paths(text, tmp_path) == ["gone.md", "bench/no_such_bench.py", "src/solvscreen/gone/"]


def test_readme_is_a_short_user_guide_that_keeps_its_two_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 160
    # .ci/run runs these two lines of the README as they are
    assert 'pip install -e . && snakemake --cores all' in lines[3]
    assert 'pip install -e ".[test]" && pytest' in lines[4]
