"""Sloppy on purpose: bare reset body, "1"/"false" booleans and string rewards.

Lenient clients cope, so the conformance checker warns rather than fails.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hosted_adapter import Flaws, main

if __name__ == "__main__":
    main(Flaws(loose=True))
