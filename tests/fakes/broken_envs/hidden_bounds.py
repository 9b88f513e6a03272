"""Not broken, but suspicious: the first observation is the same for every seed.

Like Wordle, the seed only picks hidden state; the checker warns.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hosted_adapter import Flaws, main

if __name__ == "__main__":
    main(Flaws(hidden_bounds=True))
