"""What the lesson tests share: the lessons, their built slide decks, and an offline Chromium page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
LESSONS = sorted((REPO / "lessons").glob("[0-9][0-9]_*.ipynb"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes ``lesson`` runs once per lesson notebook."""
    if "lesson" in metafunc.fixturenames:
        metafunc.parametrize("lesson", LESSONS, ids=[path.stem for path in LESSONS])


@pytest.fixture(scope="session")
def lessons() -> list[Path]:
    return LESSONS


@pytest.fixture
def notebook(lesson: Path) -> nbformat.NotebookNode:
    """The stored (executed) lesson."""
    return nbformat.read(lesson, as_version=4)


@pytest.fixture(scope="session")
def slides_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The decks of every lesson, built as ``autograd-lab slides`` builds them (reveal.js cached in build/cache)."""
    from autograd_lab.slides import build_decks

    out = tmp_path_factory.mktemp("slides")
    build_decks(LESSONS, out, REPO / "build" / "cache")
    return out


@pytest.fixture
def offline_page(browser: Any) -> Iterator[Any]:
    """A page of the session's Chromium that may load file:// URLs only; ``page.blocked`` lists every other request."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.blocked, page.errors = [], []
    page.on("pageerror", lambda error: page.errors.append(str(error)))

    def local_only(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()
    page.route("**/*", local_only)
    yield page
    context.close()
