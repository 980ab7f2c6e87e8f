#!/usr/bin/env bash
# Set up (pinned CPU torch first, so pip never pulls a CUDA build) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q torch==2.13.0
python3 -m pip install -q -e ".[dev]"
python3 -m ruff check src tests benchmarks examples scripts
python3 -m pytest tests
