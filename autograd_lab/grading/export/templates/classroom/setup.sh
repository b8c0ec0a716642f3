#!/usr/bin/env bash
# Installs what grading needs, once per workflow run (every check step calls it; the first one
# installs): a venv in ~/.autograd-lab with the pinned CPU-only torch and autograd-lab from the
# wheel beside this script. When python3 already has torch and the grading packages (a prepared
# runner, or a local test), that python's packages are used and only our wheel is installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$HOME/.autograd-lab/venv"
# shellcheck source=config.sh
. "$here/config.sh"
wheel=$(ls "$here"/autograd_lab-*.whl)

if [ -x "$venv/bin/python" ]; then
    exit 0
fi
if python3 -c 'import torch, ipykernel, jupyter_client, IPython' 2>/dev/null; then
    python3 -m venv --without-pip "$venv"
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/prepared_python.pth"
    "$venv/bin/python" -m pip install -q --no-deps --no-index --disable-pip-version-check "$wheel"
else
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$TORCH_SPEC" --index-url "$TORCH_INDEX"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel[grade]"
fi
