# Sourced by run.sh, test.sh and bench.sh: installs and starts the pinned Azurite on loopback,
# on free ports, and stops exactly what it started. Needs only Node.js and npm.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AZURITE_PID=""

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# Installs node_modules from the lockfile when they are missing or older than the lockfile.
ensure_azurite_installed() {
  local bin="$REPO_ROOT/node_modules/.bin/azurite"
  if [[ ! -x "$bin" || "$REPO_ROOT/package-lock.json" -nt "$REPO_ROOT/node_modules/.package-lock.json" ]]; then
    log "installing Azurite from package-lock.json (npm ci)"
    (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}

port_is_free() {
  # Bash's /dev/tcp connect succeeds only when something listens there.
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a port that is free on 127.0.0.1, preferring $1 when it is free.
free_port() {
  local preferred="${1:-0}"
  if [[ "$preferred" != 0 ]] && port_is_free "$preferred"; then echo "$preferred"; return; fi
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();});"
}

wait_for_port() {
  local port="$1" tries=0
  until ! port_is_free "$port"; do
    tries=$((tries + 1))
    if (( tries > 200 )); then log "Azurite did not open port $port"; return 1; fi
    if [[ -n "$AZURITE_PID" ]] && ! kill -0 "$AZURITE_PID" 2>/dev/null; then log "Azurite exited early"; return 1; fi
    sleep 0.1
  done
}

# start_azurite memory|DIR : starts Azurite and exports AzureWebJobsStorage for it.
start_azurite() {
  local where="$1"
  ensure_azurite_installed
  local blob queue table
  blob=$(free_port 10000); queue=$(free_port 10001)
  while [[ "$queue" == "$blob" ]]; do queue=$(free_port 0); done
  table=$(free_port 10002)
  while [[ "$table" == "$blob" || "$table" == "$queue" ]]; do table=$(free_port 0); done

  local args=(--blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue"
              --tableHost 127.0.0.1 --tablePort "$table" --skipApiVersionCheck --disableTelemetry --silent)
  if [[ "$where" == memory ]]; then
    args+=(--inMemoryPersistence)
  else
    mkdir -p "$where"; args+=(--location "$where")
  fi
  # Its own session: a Ctrl-C meant for one copy of the API must not stop an Azurite others share.
  setsid "$REPO_ROOT/node_modules/.bin/azurite" "${args[@]}" >"${AZURITE_LOG:-/dev/null}" 2>&1 &
  AZURITE_PID=$!
  wait_for_port "$blob" && wait_for_port "$queue" && wait_for_port "$table" || { stop_azurite; return 1; }

  # The well-known Azurite development account; it is public and grants nothing outside this machine.
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  export AzureWebJobsStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
  log "Azurite $(cd "$REPO_ROOT" && node -p "require('./node_modules/azurite/package.json').version") on 127.0.0.1 (blob $blob, queue $queue, table $table), pid $AZURITE_PID"
}

# SIGTERM, never SIGKILL: Azurite flushes acknowledged writes on a clean stop.
stop_azurite() {
  if [[ -n "$AZURITE_PID" ]] && kill -0 "$AZURITE_PID" 2>/dev/null; then
    kill -TERM "$AZURITE_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$AZURITE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$AZURITE_PID" 2>/dev/null && kill -KILL "$AZURITE_PID" 2>/dev/null
    wait "$AZURITE_PID" 2>/dev/null || true
    log "Azurite stopped"
  fi
  AZURITE_PID=""
}

# Shared Azurite for ./run.sh: copies of the API started from one checkout share one Azurite on one
# data folder (two Azurites on one folder would corrupt it). The first copy starts it; the last to
# stop, stops it.
use_shared_azurite() {
  local dir="$1"
  mkdir -p "$dir/users"
  exec 9>"$dir/.lock"
  flock 9
  if [[ -f "$dir/azurite.env" ]]; then
    # shellcheck disable=SC1091
    source "$dir/azurite.env"
    if kill -0 "${SHARED_AZURITE_PID:-0}" 2>/dev/null && ! port_is_free "${SHARED_AZURITE_TABLE_PORT:-0}"; then
      export AzureWebJobsStorage
      log "joining the Azurite already serving $dir (pid $SHARED_AZURITE_PID)"
      touch "$dir/users/$$"
      flock -u 9
      return
    fi
  fi
  start_azurite "$dir"
  local table_port="${AzureWebJobsStorage##*TableEndpoint=http://127.0.0.1:}"
  {
    printf 'SHARED_AZURITE_PID=%q\n' "$AZURITE_PID"
    printf 'SHARED_AZURITE_TABLE_PORT=%q\n' "${table_port%%/*}"
    printf 'AzureWebJobsStorage=%q\n' "$AzureWebJobsStorage"
  } > "$dir/azurite.env"
  # Azurite outlives this script if other copies still use it, so it is not treated as our child.
  AZURITE_PID=""
  touch "$dir/users/$$"
  flock -u 9
}

release_shared_azurite() {
  local dir="$1"
  exec 9>"$dir/.lock"
  flock 9
  rm -f "$dir/users/$$"
  for user in "$dir"/users/*; do
    [[ -e "$user" ]] || continue
    kill -0 "$(basename "$user")" 2>/dev/null || rm -f "$user"
  done
  if [[ -z "$(ls -A "$dir/users")" && -f "$dir/azurite.env" ]]; then
    # shellcheck disable=SC1091
    source "$dir/azurite.env"
    AZURITE_PID="$SHARED_AZURITE_PID"
    if kill -0 "$AZURITE_PID" 2>/dev/null; then
      kill -TERM "$AZURITE_PID" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$AZURITE_PID" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$AZURITE_PID" 2>/dev/null && kill -KILL "$AZURITE_PID" 2>/dev/null
      log "Azurite stopped (last copy of the API)"
    fi
    rm -f "$dir/azurite.env"
    AZURITE_PID=""
  fi
  flock -u 9
}
