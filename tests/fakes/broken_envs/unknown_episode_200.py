"""Broken on purpose: step on an unknown episode answers 200 instead of 404."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hosted_adapter import Flaws, main

if __name__ == "__main__":
    main(Flaws(unknown_episode_ok=True))
