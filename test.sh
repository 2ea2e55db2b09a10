#!/usr/bin/env bash
# Runs the whole test suite against a fresh in-memory Azurite on free loopback ports, then stops it.
# Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Calendar).
set -euo pipefail
source "$(dirname "$0")/scripts/azurite.sh"
cd "$REPO_ROOT"

trap stop_azurite EXIT
trap 'exit 130' INT TERM
start_azurite memory

results="$REPO_ROOT/.testresults"
rm -rf "$results"
status=0
dotnet test Serverless.sln -c Release --logger "trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@" || status=$?

# One plain closing line, summed over every test assembly's .trx report.
if compgen -G "$results/*.trx" >/dev/null; then
  node "$REPO_ROOT/scripts/trx-summary.js" "$results"/*.trx
else
  echo "Tests: 0 passed, 1 failed (no test report was written)"
  [[ $status -eq 0 ]] && status=1
fi
exit $status
