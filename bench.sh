#!/usr/bin/env bash
# Runs the benchmarks against a fresh in-memory Azurite on free loopback ports and prints the figures.
# Options go to the benchmark program: --seconds N (per figure, default 5), --concurrency N (default 32), --only documents,workflows,…,
# --set Key=Value (an app setting, repeatable), --soak 20m [--rate R] [--warmup 2m].
# AZURITE_STORAGE=disk persists to a temporary folder instead of memory (its queue receive is far faster).
set -euo pipefail
source "$(dirname "$0")/scripts/azurite.sh"
cd "$REPO_ROOT"
trap stop_azurite EXIT
trap 'exit 130' INT TERM
if [[ "${AZURITE_STORAGE:-memory}" == disk ]]; then
  data=$(mktemp -d); trap 'stop_azurite; rm -rf "$data"' EXIT
  start_azurite "$data"
else
  start_azurite memory
fi
dotnet run -c Release --project tests/Benchmarks/BusinessApi.Benchmarks.csproj -- "$@"
