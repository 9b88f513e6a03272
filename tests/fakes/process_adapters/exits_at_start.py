"""Fails at import time, as an adapter with a missing dependency does: 20 lines, exit 3."""

import sys

for number in range(20):
    print(f"noise line {number}", file=sys.stderr)
print("ModuleNotFoundError: No module named 'wordlist'", file=sys.stderr)
sys.exit(3)
