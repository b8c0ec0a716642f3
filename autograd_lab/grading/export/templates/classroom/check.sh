#!/usr/bin/env bash
# One check of one exercise: prints its verdicts; exit 0 earns the step's points.
#   check.sh exercises/02_mul.ipynb mul-forward
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=config.sh
. "$here/config.sh"
exec "$HOME/.autograd-lab/venv/bin/python" -m autograd_lab.grading.export.classroom_check "$1" "$2" \
    --pristine "$here/exercises/$(basename "$1")" --timeout "$CELL_TIMEOUT"
