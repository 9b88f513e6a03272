"""Broken on purpose: every step's reward is NaN."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hosted_adapter import Flaws, main

if __name__ == "__main__":
    main(Flaws(nan_reward=True))
