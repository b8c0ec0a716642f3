/work/main/.venv/bin/python: can't open file '/work/main/../harness.py': [Errno 2] No such file or directory
