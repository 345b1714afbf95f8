"""The walkthrough's and the sandbox's eval suite: the starter suite `playbook init` writes
(bot/cli/starter_eval.py), run from this checkout, so there is one copy of it."""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent.parent / "bot" / "cli" / "starter_eval.py"),
               run_name="__main__")
