#!/usr/bin/env bash
# Local gpumesh networks: N validators on loopback, each a real
# `gpumeshd start` process.
#
#   scripts/localnet.sh start [--validators N]   fresh network (default N=1)
#   scripts/localnet.sh stop                     stop every node this script started
#   scripts/localnet.sh stop-node I              stop node I only
#   scripts/localnet.sh start-node I             restart node I of the existing network
#   scripts/localnet.sh status                   pids, heights and endpoints
#
# Environment:
#   LOCALNET_DIR          parent of the node homes (default: <repo>/.localnet)
#   LOCALNET_PORT_OFFSET  added to every port (default 0); node i listens on
#                         the default ports + 100*i + offset
#   LOCALNET_CHAIN_ID     chain id (default gpumesh-local-1)
#   LOCALNET_BLOCK_TIME   block time (default 1s)
#   LOCALNET_PROVIDER_UNBONDING  x/stakingslash unbonding time (default 30s)
#   LOCALNET_MIN_DEPOSIT_SECONDS x/market min_deposit_seconds (default 60)
#   LOCALNET_CHALLENGE_N         proof-of-compute matrix size of every class (default 256)
#   LOCALNET_POC_EPOCH_BLOCKS    x/proofofcompute epoch_blocks (default 600)
#   LOCALNET_POC_SAMPLE_RATE     x/proofofcompute sample_rate (default 0.25)
#   LOCALNET_INVARIANTS_EVERY    check the invariants every N blocks, stopping at a
#                                broken one (default 1; 0 = never)
#   GPUMESHD              gpumeshd binary (default: <repo>/build/gpumeshd, built if stale)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$(realpath -m "${LOCALNET_DIR:-$ROOT/.localnet}")
OFFSET=${LOCALNET_PORT_OFFSET:-0}
CHAIN_ID=${LOCALNET_CHAIN_ID:-gpumesh-local-1}
BLOCK_TIME=${LOCALNET_BLOCK_TIME:-1s}
PROVIDER_UNBONDING=${LOCALNET_PROVIDER_UNBONDING:-30s}
MIN_DEPOSIT_SECONDS=${LOCALNET_MIN_DEPOSIT_SECONDS:-60}
CHALLENGE_N=${LOCALNET_CHALLENGE_N:-256}
POC_EPOCH_BLOCKS=${LOCALNET_POC_EPOCH_BLOCKS:-600}
POC_SAMPLE_RATE=${LOCALNET_POC_SAMPLE_RATE:-0.25}
INVARIANTS_EVERY=${LOCALNET_INVARIANTS_EVERY:-1}
BIN=${GPUMESHD:-$ROOT/build/gpumeshd}
START_TIMEOUT=${LOCALNET_START_TIMEOUT:-90}

die() { echo "localnet: $*" >&2; exit 1; }
log() { echo "localnet: $*"; }

usage() {
  sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

is_uint "$OFFSET" || die "LOCALNET_PORT_OFFSET=$OFFSET: want a non-negative integer"
is_uint "$INVARIANTS_EVERY" || die "LOCALNET_INVARIANTS_EVERY=$INVARIANTS_EVERY: want a non-negative integer"

# Ports of node i, in the order: p2p rpc proxy-app metrics grpc api.
node_ports() {
  local d=$((OFFSET + 100 * $1))
  echo $((26656 + d)) $((26657 + d)) $((26658 + d)) $((26660 + d)) $((9090 + d)) $((1317 + d))
}
rpc_port() { echo $((26657 + OFFSET + 100 * $1)); }
grpc_port() { echo $((9090 + OFFSET + 100 * $1)); }
api_port() { echo $((1317 + OFFSET + 100 * $1)); }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

home_of() { echo "$DIR/node$1"; }
pidfile_of() { echo "$DIR/node$1/gpumeshd.pid"; }

# A pid counts as ours only if it is alive and is a gpumeshd started for
# that home; a stale pid file never makes us signal an unrelated process.
our_pid() {
  local i=$1 pf pid
  pf=$(pidfile_of "$i")
  [[ -f $pf ]] || return 1
  pid=$(<"$pf")
  is_uint "$pid" || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "gpumeshd start --home $(home_of "$i")" || return 1
  echo "$pid"
}

node_count() {
  local n=0
  while [[ -d $DIR/node$n ]]; do n=$((n + 1)); done
  echo "$n"
}

height_of() {
  curl -s -m 2 "http://127.0.0.1:$(rpc_port "$1")/status" 2>/dev/null |
    grep -o '"latest_block_height":"[0-9]*"' | grep -o '[0-9]*' || true
}

build_if_needed() {
  if [[ -n ${GPUMESHD:-} ]]; then
    [[ -x $BIN ]] || die "GPUMESHD=$BIN is not an executable"
    return
  fi
  if [[ ! -x $BIN ]] || [[ -n $(find "$ROOT/app" "$ROOT/cmd" "$ROOT/x" "$ROOT/go.mod" "$ROOT/go.sum" \
    -newer "$BIN" -print -quit 2>/dev/null) ]]; then
    log "building $BIN"
    make -C "$ROOT" build >/dev/null
  fi
}

stop_node() {
  local i=$1 pid
  pid=$(our_pid "$i") || { rm -f "$(pidfile_of "$i")"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "localnet: node$i (pid $pid) ignored SIGTERM; killing" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pidfile_of "$i")"
  log "stopped node$i (pid $pid)"
}

stop_all() {
  local n i
  n=$(node_count)
  for ((i = 0; i < n; i++)); do stop_node "$i"; done
}

check_ports_free() {
  local i p
  for i in "$@"; do
    for p in $(node_ports "$i"); do
      if port_in_use "$p"; then
        die "port $p (node$i) is already in use on 127.0.0.1; stop what holds it or set LOCALNET_PORT_OFFSET"
      fi
    done
  done
}

launch_node() {
  local i=$1 home
  home=$(home_of "$i")
  nohup "$BIN" start --home "$home" >>"$home/gpumeshd.log" 2>&1 &
  echo $! >"$(pidfile_of "$i")"
}

# Waits until every listed node answers RPC with a height >= min_height; on
# a node exiting or the timeout, it reports which and returns 1.
wait_nodes() {
  local min_height=$1; shift
  local deadline=$((SECONDS + START_TIMEOUT)) i h pending
  while :; do
    pending=()
    for i in "$@"; do
      if ! our_pid "$i" >/dev/null; then
        echo "localnet: node$i exited during start-up; last log lines:" >&2
        tail -n 15 "$(home_of "$i")/gpumeshd.log" >&2 || true
        return 1
      fi
      h=$(height_of "$i")
      if [[ -z $h || $h -lt $min_height ]]; then pending+=("$i"); fi
    done
    [[ ${#pending[@]} -eq 0 ]] && return 0
    if ((SECONDS >= deadline)); then
      echo "localnet: node(s) ${pending[*]} did not reach height $min_height within ${START_TIMEOUT}s" >&2
      for i in "${pending[@]}"; do tail -n 5 "$(home_of "$i")/gpumeshd.log" >&2 || true; done
      return 1
    fi
    sleep 0.5
  done
}

cmd_start() {
  local validators=1
  while [[ $# -gt 0 ]]; do
    case $1 in
      --validators)
        [[ $# -ge 2 ]] || die "--validators needs a value"
        validators=$2; shift 2 ;;
      --validators=*) validators=${1#*=}; shift ;;
      -h | --help) usage; exit 0 ;;
      *) die "start: unknown argument '$1' (usage: start [--validators N])" ;;
    esac
  done
  is_uint "$validators" && ((validators >= 1 && validators <= 20)) ||
    die "--validators '$validators': want an integer from 1 to 20"

  local n i running=()
  n=$(node_count)
  for ((i = 0; i < n; i++)); do
    if pid=$(our_pid "$i"); then running+=("node$i:$pid"); fi
  done
  [[ ${#running[@]} -eq 0 ]] || die "already running (${running[*]}); run '$0 stop' first"

  check_ports_free $(seq 0 $((validators - 1)))
  build_if_needed

  rm -rf "$DIR"
  mkdir -p "$DIR"
  "$BIN" testnet init-files --validators "$validators" --output-dir "$DIR" --chain-id "$CHAIN_ID" \
    --port-offset "$OFFSET" --block-time "$BLOCK_TIME" \
    --provider-unbonding-time "$PROVIDER_UNBONDING" --min-deposit-seconds "$MIN_DEPOSIT_SECONDS" \
    --challenge-n "$CHALLENGE_N" --poc-epoch-blocks "$POC_EPOCH_BLOCKS" --poc-sample-rate "$POC_SAMPLE_RATE" \
    --invariants-every "$INVARIANTS_EVERY" >/dev/null

  log "starting $validators validator(s) of $CHAIN_ID in $DIR"
  for ((i = 0; i < validators; i++)); do launch_node "$i"; done
  if ! wait_nodes 2 $(seq 0 $((validators - 1))); then
    echo "localnet: start failed; stopping the nodes it started" >&2
    stop_all >&2
    exit 1
  fi
  cmd_status
}

cmd_start_node() {
  [[ $# -eq 1 ]] && is_uint "$1" || die "start-node: want a node index, got '${*:-}'"
  local i=$1
  [[ -d $(home_of "$i") ]] || die "node$i does not exist in $DIR"
  if pid=$(our_pid "$i"); then die "node$i is already running (pid $pid)"; fi
  check_ports_free "$i"
  [[ -x $BIN ]] || die "$BIN is missing; run '$0 start' first"
  launch_node "$i"
  # A restarted node must catch up to the others before it counts as up.
  local target=0 j h
  for ((j = 0; j < $(node_count); j++)); do
    h=$(height_of "$j"); [[ -n $h && $h -gt $target ]] && target=$h
  done
  if ! wait_nodes "$target" "$i"; then
    stop_node "$i" >&2
    exit 1
  fi
  log "node$i is up (pid $(our_pid "$i")) at height $(height_of "$i")"
}

cmd_stop_node() {
  [[ $# -eq 1 ]] && is_uint "$1" || die "stop-node: want a node index, got '${*:-}'"
  [[ -d $(home_of "$1") ]] || die "node$1 does not exist in $DIR"
  our_pid "$1" >/dev/null || die "node$1 is not running"
  stop_node "$1"
}

cmd_status() {
  local n i pid h
  n=$(node_count)
  [[ $n -gt 0 ]] || { log "no local network in $DIR"; return 0; }
  echo "chain $CHAIN_ID, $n node(s) in $DIR"
  printf '%-6s %-8s %-7s %-24s %-22s %s\n' node pid height rpc grpc rest
  for ((i = 0; i < n; i++)); do
    if pid=$(our_pid "$i"); then h=$(height_of "$i"); else pid=stopped; h=-; fi
    printf '%-6s %-8s %-7s %-24s %-22s %s\n' "node$i" "$pid" "${h:--}" \
      "tcp://127.0.0.1:$(rpc_port "$i")" "127.0.0.1:$(grpc_port "$i")" "http://127.0.0.1:$(api_port "$i")"
  done
  echo "keys (test keyring): --home $(home_of 0) --keyring-backend test   [alice bob provider1 provider2 provider3]"
}

[[ $# -ge 1 ]] || { usage; exit 2; }
sub=$1; shift
case $sub in
  start) cmd_start "$@" ;;
  stop)
    [[ $# -eq 0 ]] || die "stop: unexpected argument '$1' (use stop-node I for one node)"
    stop_all ;;
  start-node) cmd_start_node "$@" ;;
  stop-node) cmd_stop_node "$@" ;;
  status)
    [[ $# -eq 0 ]] || die "status: unexpected argument '$1'"
    cmd_status ;;
  -h | --help | help) usage ;;
  *) usage >&2; die "unknown command '$sub'" ;;
esac
