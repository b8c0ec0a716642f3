"""``autograd-lab slides``: the lessons as reveal.js slide decks that work offline.

Each ``lessons/NN_*.ipynb`` becomes ``build/slides/NN_*.slides.html``, cut into
slides by the cells' slide metadata (slide / subslide / fragment / skip / notes),
plus an ``index.html`` that links them. The decks load nothing from the network:
reveal.js comes from the npm registry at build time (``npm pack``, cached), is
copied next to the decks, and the page template drops nbconvert's CDN scripts
(require.js, jQuery, MathJax, Mermaid, the widget manager). Widgets cannot run in
a static page; the lessons pair each one with a static ``draw()`` of its graph.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbconvert import SlidesExporter

REVEAL_VERSION = "5.2.1"
REVEAL_DIR = "reveal.js"  # where the decks find reveal.js, relative to them
# The files a deck uses, inside the npm package (the white theme loads its fonts from beside it).
REVEAL_FILES = ("LICENSE", "dist/reveal.css", "dist/reveal.js", "dist/theme/white.css",
                "dist/theme/fonts/source-sans-pro/", "plugin/notes/notes.js")

# The canvas: 16:9, the shape of a classroom projector; reveal.js scales it to the window.
WIDTH, HEIGHT = 1280, 720
# Each slide is fitted when shown: a tall graph sits beside its code; graphs take the room the text leaves
# (between these shares of their own size: a small graph grows for the back row, a big one shrinks but stays
# legible), then, if the slide is still too tall, the whole slide shrinks, to no less than MIN_ZOOM. What still
# does not fit needs a shorter cell.
MIN_IMAGE_SCALE = 0.6
MAX_IMAGE_SCALE = 1.6
MIN_ZOOM = 0.8

# nbconvert's reveal template, minus every script it would fetch from a CDN. Text is sized for a projector
# (24 px body, 19 px code on the 1280x720 canvas); navigation is linear: the right arrow visits every slide,
# vertical ones included. Cells marked "notes" become speaker notes (press S).
TEMPLATE = """{%- extends 'index.html.j2' -%}
{% block html_head_js %}{% endblock html_head_js %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}
{% block html_head_css %}
<style>
:root { --jp-content-font-size1: 24px; --jp-code-font-size: 19px; --jp-content-line-height: 1.4;
        --jp-cell-prompt-width: 0px; }
.reveal .slides { text-align: left; }
.reveal .slides > section, .reveal .slides > section > section { max-height: 100%; overflow-y: auto; padding: 0; }
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt { display: none; }
.reveal .jp-RenderedHTMLCommon h1 { font-size: 46px; } .reveal .jp-RenderedHTMLCommon h2 { font-size: 38px; }
.reveal .jp-RenderedHTMLCommon h3 { font-size: 31px; }
.reveal .jp-RenderedHTMLCommon p, .reveal .jp-RenderedHTMLCommon li { font-size: 24px; line-height: 1.4; }
.reveal .jp-RenderedHTMLCommon pre, .reveal .jp-RenderedText pre { font-size: 17px; line-height: 1.3; }
.reveal .jp-OutputArea-output img { max-width: 100% !important; height: auto; }
.reveal .jp-CodeCell.al-beside { display: flex; align-items: flex-start; gap: 16px; }
.reveal .jp-CodeCell.al-beside > .jp-Cell-inputWrapper { flex: 0 1 auto; min-width: 0; max-width: 70%; }
.reveal .jp-CodeCell.al-beside > .jp-Cell-outputWrapper { flex: 1 1 30%; min-width: 0; }
.reveal table.al-side-by-side { font-size: 18px; margin: 0; table-layout: fixed; width: 100%; }
.reveal table.al-side-by-side th { font-size: 19px; }
.reveal table.al-side-by-side pre { font-size: 18px; box-shadow: none; width: auto; margin: 0; }
</style>
{% endblock html_head_css %}
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
// Fit the slide on show. A tall picture (a graph drawn top to bottom) goes beside its code rather than under it.
// Pictures then get the largest scale, between MIN and MAX_IMAGE_SCALE of their own size, at which the slide fits
// (a bisection: each try is one layout); if it still does not fit, the whole slide shrinks, to MIN_ZOOM at most.
function fitSlide(slide) {
  const limit = Reveal.getConfig().height;
  slide.style.zoom = "";
  const images = Array.from(slide.querySelectorAll(".jp-OutputArea-output img"));
  if (images.some(img => !img.complete)) {
    images.forEach(img => img.addEventListener("load", () => fitSlide(slide), {once: true}));
  }
  images.forEach(img => { img.style.width = ""; img.style.height = ""; });
  slide.querySelectorAll(".jp-CodeCell").forEach(cell => {
    const img = cell.querySelector(".jp-OutputArea-output img");
    const tall = img && img.naturalHeight > 1.2 * img.naturalWidth && !cell.querySelector("table");
    cell.classList.toggle("al-beside", Boolean(tall));
  });
  const widths = images.map(img => img.offsetWidth);
  const scaleTo = scale => images.forEach((img, k) => {
    img.style.width = Math.floor(widths[k] * scale) + "px";
    img.style.height = "auto";
  });
  if (images.length) {
    let low = MIN_IMAGE_SCALE, high = MAX_IMAGE_SCALE;
    scaleTo(high);
    if (slide.scrollHeight > limit) {
      for (let k = 0; k < 8; k++) {
        const middle = (low + high) / 2;
        scaleTo(middle);
        if (slide.scrollHeight > limit) { high = middle; } else { low = middle; }
      }
      scaleTo(low);
    }
  }
  let zoom = 1;  // the slide's own px are zoomed px: its height on the canvas is scrollHeight * zoom
  while (slide.scrollHeight * zoom > limit && zoom > MIN_ZOOM) {  // text reflows as it shrinks: measure again
    zoom = Math.max(MIN_ZOOM, Math.floor(1000 * Math.min(zoom - 0.005, limit / slide.scrollHeight)) / 1000);
    slide.style.zoom = zoom;
  }
  Reveal.layout();
}
const MIN_IMAGE_SCALE = __MIN_IMAGE_SCALE__, MAX_IMAGE_SCALE = __MAX_IMAGE_SCALE__, MIN_ZOOM = __MIN_ZOOM__;
Reveal.initialize({
  controls: true, progress: true, hash: true, center: true, slideNumber: "c/t", transition: "none",
  navigationMode: "linear", width: __WIDTH__, height: __HEIGHT__, margin: 0.04,
  plugins: [RevealNotes],
}).then(() => fitSlide(Reveal.getCurrentSlide()));
Reveal.on("slidechanged", event => fitSlide(event.currentSlide));
</script>
{% endblock footer_js %}
""".replace("__WIDTH__", str(WIDTH)).replace("__HEIGHT__", str(HEIGHT)).replace(
    "__MIN_IMAGE_SCALE__", str(MIN_IMAGE_SCALE)).replace("__MAX_IMAGE_SCALE__", str(MAX_IMAGE_SCALE)).replace(
    "__MIN_ZOOM__", str(MIN_ZOOM))
TEMPLATE_NAME = "autograd_lab_slides.html.j2"


class SlidesError(Exception):
    """A deck could not be built; the message says why and what to do."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lessons", type=Path, default=Path("lessons"), help="default: %(default)s")
    parser.add_argument("--out", type=Path, default=Path("build/slides"), help="default: %(default)s")
    parser.add_argument("--cache", type=Path, default=Path("build/cache"),
                        help="where the reveal.js package is kept between builds (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Build every lesson's deck and the index; 0 on success."""
    try:
        decks = build_decks(sorted(args.lessons.glob("[0-9][0-9]_*.ipynb")), args.out, args.cache)
    except SlidesError as error:
        print(f"autograd-lab slides: {error}", file=sys.stderr)
        return 1
    for deck in decks:
        print(f"wrote {deck}")
    print(f"open {args.out / 'index.html'} in a browser (works offline)")
    return 0


def build_decks(lessons: list[Path], out: Path, cache: Path) -> list[Path]:
    """Write one deck per lesson, reveal.js and an index into ``out``; return the decks' paths."""
    if not lessons:
        raise SlidesError("no lessons found (expected NN_name.ipynb files; run from the course folder "
                          "or pass --lessons)")
    out.mkdir(parents=True, exist_ok=True)
    install_reveal(out / REVEAL_DIR, cache)
    exporter = _exporter()
    decks = []
    for lesson in lessons:
        body, _ = exporter.from_filename(str(lesson))
        deck = out / f"{lesson.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
    (out / "index.html").write_text(_index(lessons, decks), encoding="utf-8")
    return decks


def install_reveal(target: Path, cache: Path) -> None:
    """Put reveal.js's files in ``target``, from the npm package (downloaded once into ``cache``)."""
    tarball = cache / f"reveal.js-{REVEAL_VERSION}.tgz"
    if not tarball.exists():
        _npm_pack(tarball)
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers()
                   if m.isfile() and any(m.name.startswith("package/" + f) for f in REVEAL_FILES)]
        for member in members:
            member.name = member.name.removeprefix("package/")
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.10.12 / 3.11.4
        archive.extractall(target, members=members, **safe)


def _npm_pack(tarball: Path) -> None:
    """Fetch reveal.js's package from the npm registry with npm's own client."""
    npm = shutil.which("npm")
    if npm is None:
        raise SlidesError(f"reveal.js is not in {tarball.parent} and npm is not installed. Install Node.js "
                          f"(which brings npm), or put reveal.js-{REVEAL_VERSION}.tgz there "
                          f"(`npm pack reveal.js@{REVEAL_VERSION}` on a machine that has npm).")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([npm, "pack", f"reveal.js@{REVEAL_VERSION}", "--pack-destination",
                             str(tarball.parent)], capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0 or not tarball.exists():
        raise SlidesError(f"`npm pack reveal.js@{REVEAL_VERSION}` failed:\n{result.stderr.strip()}")


def _exporter() -> SlidesExporter:
    """nbconvert's slides exporter with our template (nbconvert is imported only when decks are built)."""
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    # %%side_by_side cells hold Python: highlight them as Python (IPython's lexer leaves a cell magic's body plain).
    config = Config({"HighlightMagicsPreprocessor": {"languages": {"%%side_by_side": "python"}}})
    return SlidesExporter(config=config, extra_loaders=[DictLoader({TEMPLATE_NAME: TEMPLATE})],
                          template_file=TEMPLATE_NAME, reveal_url_prefix=REVEAL_DIR, reveal_theme="white",
                          reveal_transition="none")


def _index(lessons: list[Path], decks: list[Path]) -> str:
    """A page linking every deck, titled by each lesson's first heading (its markdown rendered: `code` as code)."""
    import nbformat
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    items = []
    for lesson, deck in zip(lessons, decks):
        notebook = nbformat.read(lesson, as_version=4)
        title = next((line.lstrip("# ") for cell in notebook.cells if cell.cell_type == "markdown"
                      for line in cell.source.splitlines() if line.startswith("# ")), lesson.stem)
        title_html = markdown2html_mistune(title).strip().removeprefix("<p>").removesuffix("</p>")
        items.append(f'<li><a href="{html.escape(deck.name)}">{title_html}</a></li>')
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>autograd-lab slides</title>'
            '<style>body{font:20px/1.5 sans-serif;max-width:42em;margin:2em auto}code{font-size:90%;'
            'background:#f2f2f2;padding:0 3px;border-radius:3px}</style></head>\n<body>\n'
            '<h1>autograd-lab: the lessons as slides</h1>\n<ul style="list-style:none;padding:0">\n' +
            "\n".join(items) + "\n</ul>\n<p>Keys: the right arrow (or space) goes through every slide; "
            "<b>S</b> opens the speaker notes; <b>F</b> full screen; <b>Esc</b> the overview.</p>\n</body></html>\n")
