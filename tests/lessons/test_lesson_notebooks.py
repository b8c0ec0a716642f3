"""The lessons as stored: executed, with slide metadata, without noise, and honest about differences."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
# DeprecationWarnings a lesson shows on purpose (the 2018 API); any other one is noise.
DELIBERATE_DEPRECATIONS = ("'saved_variables' is deprecated; use 'saved_tensors'",
                           "should not be instantiated. Methods on autograd functions are all static")
# A line only the book's code has (its printed spacing): those cells are quoted whole.
BOOK_QUOTE = "w,x = ctx.saved_variables"
REPO = Path(__file__).resolve().parents[2]
# The exercise that follows each lesson (lesson 00 maps them all).
EXERCISES = {"01": "01_backward_engine", "02": "02_mul", "03": "03_multiply_add", "04": "04_double_backward",
             "05": "05_train_chosen_layers", "06": "06_derive_backward", "07": "07_broadcasting"}
# Side-by-side cells whose two columns differ on purpose, each explained in its lesson.
EXPECTED_DIFFERENCES = {
    ("00_how_to_use_this_course", "print(torch.__name__)"),  # the demo that the two runs are different programs
}


def _outputs_text(notebook: nbformat.NotebookNode) -> list[tuple[nbformat.NotebookNode, str]]:
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", ()):
            text = output.get("text") or output.get("data", {}).get("text/plain") or output.get("evalue", "")
            found.append((cell, text))
    return found


def test_the_course_has_eight_lessons_numbered_00_to_07(lessons: list[Path]) -> None:
    assert [path.name[:3] for path in lessons] == [f"{n:02d}_" for n in range(8)]


def test_every_code_cell_is_stored_executed_in_order(notebook: nbformat.NotebookNode) -> None:
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))  # nbval skips a cell with no count: it would check nothing


def test_every_cell_has_a_slide_type(notebook: nbformat.NotebookNode) -> None:
    types = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in notebook.cells]
    assert all(t in SLIDE_TYPES for t in types), types


def test_the_deck_starts_with_a_title_slide(notebook: nbformat.NotebookNode) -> None:
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.metadata.slideshow.slide_type == "slide"
    assert first.source.startswith("# ")


def test_learning_goals_come_first(notebook: nbformat.NotebookNode) -> None:
    assert "**Learning goals**" in notebook.cells[0].source


def test_no_cell_raised_or_wrote_to_stderr(notebook: nbformat.NotebookNode) -> None:
    kinds = [(output.output_type, output.get("name")) for cell in notebook.cells for output in cell.get("outputs", ())]
    assert ("error", None) not in kinds
    assert ("stream", "stderr") not in kinds


def test_deprecation_warnings_appear_only_where_shown_on_purpose(notebook: nbformat.NotebookNode) -> None:
    for _, text in _outputs_text(notebook):
        for line in re.findall(r"DeprecationWarning: .*", text):
            assert any(message in line for message in DELIBERATE_DEPRECATIONS), line


def test_a_code_cell_shows_one_idea(notebook: nbformat.NotebookNode) -> None:
    """About 15 lines fit a slide (a Function with three methods needs 18); the book's classes are quoted whole."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            limit = 22 if BOOK_QUOTE in cell.source else 18
            assert len(cell.source.splitlines()) <= limit, cell.source


def test_both_engines_print_the_same_except_where_the_lesson_explains_why(lessons: list[Path]) -> None:
    differing = set()
    for lesson in lessons:
        for cell, text in _outputs_text(nbformat.read(lesson, as_version=4)):
            if "✗ the outputs differ" in text:
                differing.add((lesson.stem, next(line for line in cell.source.splitlines()[1:] if line.strip())))
    assert differing == EXPECTED_DIFFERENCES


def _slides(notebook: nbformat.NotebookNode) -> list[list[nbformat.NotebookNode]]:
    """The cells of each slide: a slide or subslide cell and everything up to the next one."""
    slides: list[list[nbformat.NotebookNode]] = []
    for cell in notebook.cells:
        if _slide_type(cell) in ("slide", "subslide") or not slides:
            slides.append([])
        slides[-1].append(cell)
    return slides


def _slide_type(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("slideshow", {}).get("slide_type")


def test_every_slide_has_speaker_notes(notebook: nbformat.NotebookNode) -> None:
    missing = [cells[0].source.splitlines()[0] for cells in _slides(notebook)
               if not any(_slide_type(cell) == "notes" and cell.source.strip() for cell in cells)]
    assert not missing, missing


def test_lessons_01_to_07_end_with_a_pointer_to_their_exercise(lessons: list[Path]) -> None:
    for lesson in lessons[1:]:
        cells = nbformat.read(lesson, as_version=4).cells
        last = next(cell for cell in reversed(cells) if _slide_type(cell) != "notes")
        name = f"exercises/{EXERCISES[lesson.name[:2]]}.ipynb"
        assert _slide_type(last) == "slide" and name in last.source, lesson.name
        assert f"autograd-lab check {name}" in last.source, lesson.name


def test_every_exercise_a_lesson_points_to_exists(lessons: list[Path]) -> None:
    pointed = {name for lesson in lessons for name in re.findall(r"exercises/\d\d_\w+\.ipynb", lesson.read_text())}
    assert {f"exercises/{name}.ipynb" for name in EXERCISES.values()} <= pointed
    assert all((REPO / name).exists() for name in pointed), sorted(n for n in pointed if not (REPO / n).exists())


def test_lesson_00_maps_each_lesson_to_its_exercise(lessons: list[Path]) -> None:
    course = nbformat.read(lessons[0], as_version=4)
    table = next(cell.source for cell in course.cells if "| lesson | exercise |" in cell.source)
    for number, name in EXERCISES.items():
        assert re.search(rf"^\| {number} \| `{name}\.ipynb` \|", table, re.MULTILINE), name
