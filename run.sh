#!/usr/bin/env bash
# Runs the Business API on http://127.0.0.1:7071 with a local Azurite; stops Azurite when the API stops.
# Arguments go to the app, e.g. ./run.sh --urls http://127.0.0.1:7080
set -euo pipefail
source "$(dirname "$0")/scripts/azurite.sh"
cd "$REPO_ROOT"

if [[ ! -f local.settings.json ]]; then
  # First run: the sample plus a fresh random operator key (git-ignored file, owner-only).
  key="ops_$(node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")"
  sed "s|<generated-on-first-run>|$key|" local.settings.sample.json > local.settings.json
  chmod 600 local.settings.json
  log "created local.settings.json with a new operator key (Values.Operations:ApiKeys)"
fi

urls_given=false
for arg in "$@"; do [[ "$arg" == --urls* ]] && urls_given=true; done
extra=()
if [[ "$urls_given" == false && -z "${ASPNETCORE_URLS:-}" && -z "${URLS:-}" ]]; then
  port=$(free_port 7071)
  [[ "$port" != 7071 ]] && log "port 7071 is taken: using $port"
  extra=(--urls "http://127.0.0.1:$port")
fi

log "building"
dotnet build functions/BusinessApi.Functions.csproj -c Debug -v quiet -nologo >&2

trap 'release_shared_azurite "$REPO_ROOT/.azurite"' EXIT
use_shared_azurite "$REPO_ROOT/.azurite"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"

# The app runs as our child so INT/TERM to this script reach it, and Azurite stops after it.
dotnet functions/bin/Debug/net10.0/BusinessApi.Functions.dll "${extra[@]}" "$@" &
app=$!
trap 'kill -TERM "$app" 2>/dev/null' INT TERM
status=0
while kill -0 "$app" 2>/dev/null; do wait "$app" || status=$?; done
exit "$status"
