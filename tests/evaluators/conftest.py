"""Make `import evaluators` find the package, not this test folder.

pytest (prepend mode) puts tests/ on sys.path for tests/conftest.py, and a bare `.venv/bin/pytest` does
not put the repository root there, so tests/evaluators/ would be imported as a namespace package named
`evaluators`. The project-wide fix is `pythonpath = ["."]` in pyproject's pytest options; until then the
repository root goes first here.
"""

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_REPO]:
    sys.path.insert(0, _REPO)
if getattr(sys.modules.get("evaluators"), "__file__", "") is None:  # already shadowed by this folder
    del sys.modules["evaluators"]
