"""Broken on purpose: rewards of 5.0 where the vow promises [0, 1]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hosted_adapter import Flaws, main

if __name__ == "__main__":
    main(Flaws(reward_out_of_range=True))
