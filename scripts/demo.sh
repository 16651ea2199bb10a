#!/usr/bin/env bash
# `make demo`: the gpumesh chain on a fresh single-validator local network.
#
# It builds gpumeshd, starts a validator in .demo/ (ports of node0: RPC 26657,
# gRPC 9090, REST 1317), shows the chain over REST, sends 1000uusdc from alice
# to bob through the CLI with real keyring signing, checks bob's balance grew
# by exactly 1000 over REST, reads the gpumesh modules' parameters over REST,
# and stops every process it started, whatever happens.
#
# The market flow (providers, orders, leases, proofs) joins this demo as the
# market modules land.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LOCALNET_DIR=${DEMO_DIR:-$ROOT/.demo}
export GPUMESHD=$ROOT/build/gpumeshd
LOCALNET=$ROOT/scripts/localnet.sh
HOME0=$LOCALNET_DIR/node0
REST=http://127.0.0.1:$((1317 + ${LOCALNET_PORT_OFFSET:-0}))

step=0
say() { step=$((step + 1)); printf '\n\033[1m[%d] %s\033[0m\n' "$step" "$*"; }
fail() { printf '\ndemo: FAILED at step %d: %s\n' "$step" "$*" >&2; exit 1; }
cleanup() { "$LOCALNET" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

rest() { curl -sf -m 5 "$REST$1" || fail "GET $REST$1 did not answer"; }
json_field() { grep -o "\"$1\": *\"[^\"]*\"" | head -n1 | sed 's/.*: *"\(.*\)"/\1/'; }
gpumeshd() { "$GPUMESHD" "$@" --home "$HOME0"; }

say "Building gpumeshd"
make -C "$ROOT" build >/dev/null || fail "make build failed"
"$GPUMESHD" version --long | grep -E '^(name|version|commit):' || true

say "Starting a single-validator local network (chain gpumesh-local-1)"
"$LOCALNET" start --validators 1 || fail "the local network did not start"

say "Latest block over REST ($REST/cosmos/base/tendermint/v1beta1/blocks/latest)"
height=$(rest /cosmos/base/tendermint/v1beta1/blocks/latest | json_field height)
[[ -n $height ]] || fail "no height in the latest block"
echo "height $height"

alice=$(gpumeshd keys show alice -a --keyring-backend test)
bob=$(gpumeshd keys show bob -a --keyring-backend test)
balance() { rest "/cosmos/bank/v1beta1/balances/$1/by_denom?denom=uusdc" | json_field amount; }

say "Balances before"
alice_before=$(balance "$alice"); bob_before=$(balance "$bob")
printf '  alice %s  %s uusdc\n  bob   %s  %s uusdc\n' "$alice" "$alice_before" "$bob" "$bob_before"

say "alice sends 1000uusdc to bob (CLI, test keyring, signed and broadcast)"
out=$(gpumeshd tx bank send alice "$bob" 1000uusdc --keyring-backend test --chain-id gpumesh-local-1 \
  --yes -o json) || fail "tx bank send failed: $out"
txhash=$(json_field txhash <<<"$out")
code=$(grep -o '"code": *[0-9]*' <<<"$out" | head -n1 | grep -o '[0-9]*$')
[[ $code == 0 ]] || fail "CheckTx rejected the transfer: $out"
echo "tx $txhash"

included=""
for _ in $(seq 1 30); do
  if res=$(curl -sf -m 5 "$REST/cosmos/tx/v1beta1/txs/$txhash"); then included=$res; break; fi
  sleep 0.5
done
[[ -n $included ]] || fail "tx $txhash was not included within 15 s"
txcode=$(grep -o '"code": *[0-9]*' <<<"$included" | head -n1 | grep -o '[0-9]*$')
[[ $txcode == 0 ]] || fail "tx $txhash failed in the block: $included"
echo "included at height $(json_field height <<<"$included")"

say "Balances after"
alice_after=$(balance "$alice"); bob_after=$(balance "$bob")
printf '  alice %s uusdc (%+d)\n  bob   %s uusdc (%+d)\n' "$alice_after" $((alice_after - alice_before)) \
  "$bob_after" $((bob_after - bob_before))
((bob_after - bob_before == 1000)) || fail "bob's balance changed by $((bob_after - bob_before)), not 1000"
((alice_before - alice_after == 1000)) || fail "alice's balance changed by $((alice_after - alice_before)), not -1000"

say "gpumesh modules answer over REST"
for m in provider stakingslash market escrow proofofcompute; do
  printf '  %-15s %s\n' "$m" "$(rest "/gpumesh/$m/v1/params")"
done

say "Done"
cat <<EOF
The transfer moved exactly 1000uusdc; every process started is being stopped now.

Try it yourself:
  make localnet-start                      # or: scripts/localnet.sh start --validators 4
  build/gpumeshd q bank balances <addr> --home .localnet/node0
  curl $REST/cosmos/bank/v1beta1/balances/<addr>
  make localnet-stop
Docs: docs/architecture.md, docs/localnet.md
EOF
