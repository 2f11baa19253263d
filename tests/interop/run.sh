#!/usr/bin/env bash
# Interop suite: the official OCI TypeScript SDK (npm, pinned 2.139.1) against a real
# tresord on loopback. TRESORD=/path/to/tresord overrides <repo>/build/tresord.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm test
