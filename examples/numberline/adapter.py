"""Serve NumberlineEnv over HTTP: ``python adapter.py --port 8765``."""

from __future__ import annotations

import argparse

from env import NumberlineEnv  # local import: the harness runs this file with cwd = this folder

from pytest_mesocosm.sdk import serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    serve(NumberlineEnv, host=args.host, port=args.port)
