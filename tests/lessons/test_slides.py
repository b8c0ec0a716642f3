"""``autograd-lab slides``: one reveal.js deck per lesson, that opens offline and shows the drawings."""

from __future__ import annotations

import argparse
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograd_lab import slides

REPO = Path(__file__).resolve().parents[2]
CDN_HOSTS = re.compile(r"unpkg\.com|jsdelivr\.net|cdnjs\.cloudflare\.com|googleapis\.com|code\.jquery\.com|"
                       r"mathjax\.org|cdn\.plot\.ly|requirejs\.org")
BROWSER_DECK = "02_writing_a_function"  # the book's Mul, with a static drawing of its graph


class _Loads(HTMLParser):
    """Every URL the page would load by itself: scripts, styles, images, frames, and CSS url()/@import."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio", "embed"):
            self.urls.append(attributes.get("src") or "")
        if tag == "link":
            self.urls.append(attributes.get("href") or "")

    def handle_data(self, data: str) -> None:  # style sheets: url(...) and @import url(...)
        self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)


def expected_slide_count(lesson: Path) -> int:
    """What nbconvert makes of the metadata: the first shown cell opens a slide, then each slide/subslide."""
    types = [cell.metadata.slideshow.slide_type for cell in nbformat.read(lesson, as_version=4).cells]
    shown = [t for t in types if t not in ("skip", "notes")]
    return 1 + sum(t in ("slide", "subslide") for t in shown[1:])


def test_there_is_one_deck_per_lesson_and_an_index(slides_dir: Path, lessons: list[Path]) -> None:
    assert sorted(p.name for p in slides_dir.glob("*.slides.html")) == [f"{p.stem}.slides.html" for p in lessons]
    index = (slides_dir / "index.html").read_text()
    assert all(f'href="{p.stem}.slides.html"' in index for p in lessons)


def test_decks_load_nothing_from_the_network(slides_dir: Path) -> None:
    for page in [*slides_dir.glob("*.html"), *slides_dir.glob("reveal.js/**/*.css")]:
        content = page.read_text(encoding="utf-8")
        assert not CDN_HOSTS.search(content), page.name
        parser = _Loads()
        parser.feed(content if page.suffix == ".html" else f"<style>{content}</style>")
        remote = [url for url in parser.urls if re.match(r"([a-z]+:)?//", url) and not url.startswith("data:")]
        assert remote == [], page.name


def test_decks_find_reveal_js_beside_them(slides_dir: Path) -> None:
    deck = (slides_dir / f"{BROWSER_DECK}.slides.html").read_text()
    parser = _Loads()
    parser.feed(deck)
    local = [url for url in parser.urls if url and not url.startswith("data:")]
    assert local and all((slides_dir / url).is_file() for url in local), local


def test_the_static_drawings_show_and_the_widgets_are_left_out(slides_dir: Path, lessons: list[Path]) -> None:
    for lesson in lessons:
        sources = [c.source for c in nbformat.read(lesson, as_version=4).cells if c.cell_type == "code"]
        deck = (slides_dir / f"{lesson.stem}.slides.html").read_text()
        drawings = sum("draw(" in s for s in sources)
        assert deck.count('<img alt="graph of') >= drawings, lesson.stem
        assert "application/vnd.jupyter.widget-view+json" not in deck, lesson.stem


def test_the_command_says_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = argparse.Namespace(lessons=tmp_path, out=tmp_path / "out", cache=tmp_path / "cache")
    assert slides.run(args) == 1
    assert "no lessons found" in capsys.readouterr().err


@pytest.mark.browser
def test_a_deck_runs_offline_in_chromium(slides_dir: Path, offline_page: Any) -> None:
    page = offline_page
    page.goto((slides_dir / f"{BROWSER_DECK}.slides.html").as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()")
    assert page.evaluate("Reveal.getTotalSlides()") == expected_slide_count(REPO / "lessons" / f"{BROWSER_DECK}.ipynb")
    # Go to the slide with the drawing of the book's Mul and keep a picture of it.
    page.evaluate("""() => {
        const slide = document.querySelector('img[alt^="graph of"]').closest('section');
        const {h, v} = Reveal.getIndices(slide);
        Reveal.slide(h, v, 99);
    }""")
    assert page.locator("section.present img[alt^='graph of']").first.is_visible()
    screenshots = REPO / "build" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / f"slides_{BROWSER_DECK}.png"))
    assert page.blocked == []
    assert page.errors == []


def test_side_by_side_cells_keep_their_python_highlighting(slides_dir: Path, lessons: list[Path]) -> None:
    for lesson in lessons:
        deck = (slides_dir / f"{lesson.stem}.slides.html").read_text()
        cells = re.findall(r'<span class="o">%%</span><span class="n">side_by_side</span>(.*?)</pre>', deck, re.S)
        sources = [c.source for c in nbformat.read(lesson, as_version=4).cells
                   if c.cell_type == "code" and c.source.startswith("%%side_by_side")
                   and c.metadata.get("slideshow", {}).get("slide_type") != "skip"]
        assert len(cells) == len(sources), lesson.stem
        assert all('<span class="' in cell for cell in cells), lesson.stem  # lexed as Python, not one plain text


def test_each_notes_cell_becomes_speaker_notes(slides_dir: Path, lessons: list[Path]) -> None:
    for lesson in lessons:
        deck = (slides_dir / f"{lesson.stem}.slides.html").read_text()
        asides = html.unescape(re.sub(r"<[^>]+>", "", "".join(re.findall(r'<aside class="notes">(.*?)</aside>',
                                                                           deck, re.S))))
        for cell in nbformat.read(lesson, as_version=4).cells:
            if cell.metadata.get("slideshow", {}).get("slide_type") == "notes":
                first_words = re.sub(r"[`*#]", "", cell.source.strip().splitlines()[0]).split()[:4]
                assert all(word in asides for word in first_words), (lesson.stem, first_words)


def test_the_index_renders_the_titles_markdown(slides_dir: Path) -> None:
    items = re.findall(r"<li>(.*?)</li>", (slides_dir / "index.html").read_text())
    assert items and not any("`" in item for item in items)


# Reveal's state, measured on the slide being shown: its height on the canvas (content height times the zoom
# the deck applied to fit it), the smallest text size on it, and its first line.
MEASURE = """() => {
  const slide = Reveal.getCurrentSlide(), zoom = parseFloat(slide.style.zoom || "1");
  const sizes = Array.from(slide.querySelectorAll(".jp-RenderedMarkdown p, .jp-RenderedMarkdown li"))
    .filter(e => e.offsetHeight > 0).map(e => parseFloat(getComputedStyle(e).fontSize) * zoom);
  return {indices: Reveal.getIndices(), height: slide.scrollHeight * zoom, smallest_text: Math.min(...sizes, 99),
          first_line: (slide.innerText || "").trim().split("\\n")[0].slice(0, 80)};
}"""
AT_THE_END = "() => Reveal.isLastSlide() && !Reveal.availableFragments().next"
MOVED = "before => JSON.stringify(Reveal.getIndices()) !== JSON.stringify(before)"


@pytest.mark.browser
def test_the_right_arrow_visits_every_slide_and_every_slide_fits_the_canvas(slides_dir: Path, lessons: list[Path],
                                                                             offline_page: Any) -> None:
    """At 1280x720, as a projector shows it: the right arrow alone reaches every slide of every deck (linear
    navigation), and no slide is taller than the 720 px canvas or has text smaller than 18 px.
    The slides that do not fit are listed in build/slide_overflow.txt."""
    page = offline_page
    page.set_viewport_size({"width": 1280, "height": 720})
    too_tall, too_small, unvisited = [], [], {}
    for lesson in lessons:
        page.goto((slides_dir / f"{lesson.stem}.slides.html").as_uri())
        page.wait_for_function("() => window.Reveal && Reveal.isReady() && document.readyState === 'complete'")
        assert page.evaluate("Reveal.getConfig().height") == slides.HEIGHT
        seen: dict[tuple[int, int], dict] = {}
        while True:
            shown = page.evaluate(MEASURE)
            seen.setdefault((shown["indices"]["h"], shown["indices"]["v"]), shown)
            if page.evaluate(AT_THE_END):
                break
            before = shown["indices"]
            page.keyboard.press("ArrowRight")
            page.wait_for_function(MOVED, arg=before)
        total = page.evaluate("Reveal.getTotalSlides()")
        if len(seen) != total:
            unvisited[lesson.stem] = (len(seen), total)
        for number, slide in enumerate(seen.values(), 1):
            where = f"{lesson.stem} slide {number}/{total}: {slide['first_line']!r}"
            if slide["height"] > slides.HEIGHT:
                too_tall.append(f"{where}: {slide['height']:.1f} px of content for a {slides.HEIGHT} px canvas")
            if slide["smallest_text"] < 18:
                too_small.append(f"{where}: text at {slide['smallest_text']:.1f} px")
    report = REPO / "build" / "slide_overflow.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("".join(line + "\n" for line in too_tall))
    assert unvisited == {}, f"the right arrow missed slides (visited, total): {unvisited}"
    assert too_small == [], "\n".join(too_small)
    assert too_tall == [], "slides taller than the canvas (also in build/slide_overflow.txt):\n" + "\n".join(too_tall)
    assert page.blocked == [] and page.errors == []


def test_a_stepper_shown_on_a_slide_is_its_picture(tmp_path: Path) -> None:
    """A deck has no widget state, so nbconvert passes over the widget view to the stepper's text/html picture."""
    widget = {"model_id": "0" * 32, "version_major": 2, "version_minor": 0}
    cell = nbformat.v4.new_code_cell("GraphStepper(z)", outputs=[nbformat.v4.new_output(
        "execute_result", execution_count=1, data={"application/vnd.jupyter.widget-view+json": widget,
                                                   "text/html": '<div class="al-stepper-picture">the graph</div>',
                                                   "text/plain": "<GraphStepper of z>"})])
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A lesson"), cell]),
                   lessons / "00_a.ipynb")
    (deck,) = slides.build_decks(sorted(lessons.glob("*.ipynb")), tmp_path / "out", REPO / "build" / "cache")
    assert '<div class="al-stepper-picture">the graph</div>' in deck.read_text()
