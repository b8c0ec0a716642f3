#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 22.04 by default).
# It installs a venv with the pinned CPU-only torch and autograd-lab (from the wheel in this zip),
# and creates the unprivileged user that student code runs as.
#
#   AUTOGRADER_ROOT       where Gradescope's /autograder is (default /autograder; a local test sets it)
#   AUTOGRADER_BASE_VENV  a prepared venv that already has torch, ipykernel and jupyter_client: no
#                         system packages and no torch are installed; that venv's packages are used
#                         and only our wheel is installed (offline). For testing this zip locally.
#   AUTOGRADER_PYTHON     with it, the Python the new venv runs (default: the prepared venv's; the same
#                         version), e.g. a system Python that the student user can run
#   TORCH_SPEC, TORCH_INDEX, STUDENT_USER   override the values in config.sh
set -euo pipefail

root="${AUTOGRADER_ROOT:-/autograder}"
source_dir="$root/source"
venv="$root/venv"
# shellcheck source=config.sh
. "$source_dir/config.sh"
wheel=$(ls "$source_dir"/wheels/autograd_lab-*.whl)

if [ -z "${AUTOGRADER_BASE_VENV:-}" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends python3 python3-venv python3-pip ca-certificates
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q "$TORCH_SPEC" --index-url "$TORCH_INDEX"
    "$venv/bin/python" -m pip install -q "$wheel[grade]"
else
    # Its packages, hard-linked (copied where links cannot be made) so that the kernel's jail, which
    # shows it only this venv, sees them; then our wheel, offline.
    "${AUTOGRADER_PYTHON:-$AUTOGRADER_BASE_VENV/bin/python}" -m venv --without-pip "$venv"
    purelib='import sysconfig; print(sysconfig.get_paths()["purelib"])'
    site=$("$venv/bin/python" -c "$purelib")
    base_site=$("$AUTOGRADER_BASE_VENV/bin/python" -c "$purelib")
    if ! cp -al "$base_site/." "$site/" 2>/dev/null; then
        rm -rf "$site" && mkdir -p "$site" && cp -a "$base_site/." "$site/"
    fi
    rm -rf "$site"/autograd_lab "$site"/autograd_lab-*.dist-info "$site"/__editable__*autograd_lab*
    "$venv/bin/python" -m pip install -q --no-deps --no-index --disable-pip-version-check "$wheel"
fi

# Student code runs as this user: it can read neither the master in source/ nor write results/.
if ! id -u "$STUDENT_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$STUDENT_USER"
fi
chmod -R go-rwx "$source_dir"

# Fail the build here, not at the first student's submission.
"$venv/bin/python" -c 'import torch, autograd_lab, autograd_lab.grading.export.autograder; print("torch", torch.__version__, "and autograd_lab", autograd_lab.__version__, "ready")'
