"""Broken on purpose: step answers {"obs", "r", "done"} instead of the contract."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hosted_adapter import Flaws, main

if __name__ == "__main__":
    main(Flaws(wrong_shape=True))
