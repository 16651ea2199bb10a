#!/usr/bin/env bash
# `make demo`: the gpumesh chain on a fresh single-validator local network.
#
# It builds gpumeshd, starts a validator in .demo/ (ports of node0: RPC 26657,
# gRPC 9090, REST 1317), shows the chain over REST, sends 1000uusdc from alice
# to bob through the CLI with real keyring signing, checks bob's balance grew
# by exactly 1000 over REST, reads the gpumesh modules' parameters over REST,
# onboards provider1 (register, an 8×H100 inventory from
# docs/examples/inventory-dgx-h100.json, the required bond), shows it by GPU
# class and in the supply, shows provider2 refused when it lists the same
# GPUs, lets alice order 2× H100 in uusdc and provider1 win the auction, shows
# the lease's endpoint, the provider's exact per-second earnings after fees
# and alice's refund when she closes it, unbonds part of the collateral and
# waits for it to come back, and stops every process it started, whatever
# happens. Sidecars and proofs join this demo as they land.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LOCALNET_DIR=${DEMO_DIR:-$ROOT/.demo}
export GPUMESHD=$ROOT/build/gpumeshd
export LOCALNET_PROVIDER_UNBONDING=${LOCALNET_PROVIDER_UNBONDING:-10s}
INVENTORY=$ROOT/docs/examples/inventory-dgx-h100.json
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
  params=$(rest "/gpumesh/$m/v1/params")
  ((${#params} <= 110)) || params="${params:0:107}..."
  printf '  %-15s %s\n' "$m" "$params"
done

# tx ARGS…: sign with the test keyring, broadcast, wait for the block and
# print "code|raw_log" of the result.
tx() {
  local out hash res
  out=$(gpumeshd tx "$@" --keyring-backend test --yes -o json --gas 400000 2>&1) || fail "gpumeshd tx $*: $out"
  if [[ $(grep -o '"code": *[0-9]*' <<<"$out" | head -n1 | grep -o '[0-9]*$') != 0 ]]; then
    echo "$(grep -o '"code": *[0-9]*' <<<"$out" | head -n1 | grep -o '[0-9]*$')|$(json_field raw_log <<<"$out")"
    return
  fi
  hash=$(json_field txhash <<<"$out")
  # Poll the tx index (q wait-tx can miss a tx whose block event fired
  # before it subscribed but which was not yet indexed).
  local i
  for ((i = 0; i < 200; i++)); do
    res=$(gpumeshd q tx "$hash" -o json 2>&1) && break
    sleep 0.15
  done
  ((i < 200)) || fail "tx $hash was not included within 30s: $res"
  echo "$(grep -o '"code": *[0-9]*' <<<"$res" | head -n1 | grep -o '[0-9]*$')|$(json_field raw_log <<<"$res")"
}
must_tx() {
  local r; r=$(tx "$@")
  [[ ${r%%|*} == 0 ]] || fail "gpumeshd tx $* failed: ${r#*|}"
}
umesh() { rest "/cosmos/bank/v1beta1/balances/$1/by_denom?denom=umesh" | json_field amount; }

provider1=$(gpumeshd keys show provider1 -a --keyring-backend test)
say "provider1 registers and lists one DGX H100 node (8× h100-sxm-80g)"
must_tx provider register --moniker acme-dgx --host-uri https://acme-dgx.example.com:8443 --region US-east1 \
  --contact ops@acme.example.com --from provider1
must_tx provider set-inventory "$INVENTORY" --from provider1
echo "  registered $provider1; inventory from ${INVENTORY#"$ROOT"/}"

say "provider1 bonds the collateral its GPUs require"
required=$(rest "/gpumesh/stakingslash/v1/bonds/$provider1" | json_field required)
[[ -n $required && $required != 0 ]] || fail "no required bond for provider1"
must_tx stakingslash bond "${required}umesh" --from provider1
bond=$(rest "/gpumesh/stakingslash/v1/bonds/$provider1")
grep -q '"eligible": *true' <<<"$bond" || fail "provider1 is not eligible after bonding: $bond"
echo "  bonded $(json_field bonded <<<"$bond") umesh of $required required: eligible to bid"

say "provider1 over REST: by GPU class and in the supply"
listed=$(rest "/gpumesh/provider/v1/providers?gpu_class=h100-sxm-80g")
grep -q "$provider1" <<<"$listed" || fail "provider1 is not listed under h100-sxm-80g: $listed"
echo "  GET /gpumesh/provider/v1/providers?gpu_class=h100-sxm-80g → $(json_field moniker <<<"$listed")"
supply=$(rest /gpumesh/provider/v1/supply | tr -d ' \n' | grep -o '{"class":"h100-sxm-80g"[^}]*}')
grep -q '"available":"8"' <<<"$supply" || fail "the supply does not show 8 available H100s: $supply"
echo "  GET /gpumesh/provider/v1/supply → $supply"

say "provider2 tries to list the same GPUs: refused by the chain"
must_tx provider register --moniker copycat --host-uri https://copycat.example.com --region DE --from provider2
r=$(tx provider set-inventory "$INVENTORY" --from provider2)
[[ ${r%%|*} != 0 ]] || fail "provider2 listed provider1's GPUs"
echo "  code ${r%%|*}: ${r#*|}"

say "alice orders 2× H100 SXM (max 2.50 USDC per GPU-hour, 6 s auction); provider1 bids 2.00 USDC"
order_file=$LOCALNET_DIR/order.yaml
cat >"$order_file" <<'YAML'
gpu_classes: [h100-sxm-80g]
gpus_per_node: 2
regions: [US, EU]
max_price_per_gpu_hour: 2500000uusdc
bid_window: 6s
YAML
must_tx market create-order "$order_file" --deposit 5000000uusdc --from alice
order_id="$alice/1"
mapfile -t uuids < <(grep -o '"uuid": *"[^"]*"' "$INVENTORY" | sed 's/.*: *"\(.*\)"/\1/')
((${#uuids[@]} >= 2)) || fail "no GPU UUIDs in $INVENTORY"
must_tx market create-bid "$order_id" 2000000uusdc --gpus "${uuids[0]},${uuids[1]}" --from provider1
echo "  order $order_id: deposit 5000000uusdc in escrow; bid of provider1 on ${uuids[0]}, ${uuids[1]}"
lease=""
for _ in $(seq 1 40); do
  if lease=$(curl -sf -m 5 "$REST/gpumesh/market/v1/leases/$alice/1"); then break; fi
  lease=""; sleep 0.5
done
[[ -n $lease ]] || fail "no lease 20 s after the order"
grep -q '"state": *"LEASE_STATE_ACTIVE"' <<<"$lease" || fail "the lease is not active: $lease"
echo "  the window closed: lease $order_id with provider1 at $(json_field amount <<<"$lease")uusdc per GPU-hour"

say "provider1 publishes the access endpoint, lets the lease run, and withdraws"
must_tx market set-lease-access "$order_id" ssh://tenant@acme-dgx.example.com:2222 --from provider1
echo "  endpoint: $(rest "/gpumesh/market/v1/leases/$alice/1" | json_field access_endpoint)"
sleep 4
usdc() { rest "/cosmos/bank/v1beta1/balances/$1/by_denom?denom=uusdc" | json_field amount; }
p1_usdc=$(usdc "$provider1")
must_tx escrow withdraw "$order_id" --from provider1
account=$(rest "/gpumesh/escrow/v1/accounts/$alice/1")
paid=$(json_field paid <<<"$account")
start=$(date -d "$(json_field stream_start <<<"$account")" +%s)
settled=$(date -d "$(json_field settled_at <<<"$account")" +%s)
secs=$((settled - start))
((paid == 2000000 * 2 * secs / 3600)) || fail "escrow paid $paid for $secs s, not floor(2000000×2×$secs/3600)"
got=$(($(usdc "$provider1") - p1_usdc))
((got == paid - paid / 10 - paid * 25 / 10000)) || fail "provider1 received $got of $paid (fees 10% + 0.25%)"
echo "  $secs s × 2 GPUs × 2.00 USDC/h = $paid uusdc; provider1 received $got after the 10% take and 0.25% reserve"
echo "  market stats: $(rest /gpumesh/market/v1/stats | tr -d ' \n' | grep -o '{"denom":"uusdc"[^}]*}')"

say "alice closes the lease: the rest of her deposit comes back, the GPUs are free"
alice_usdc=$(usdc "$alice")
must_tx market close-lease "$order_id" --from alice
account=$(rest "/gpumesh/escrow/v1/accounts/$alice/1")
refunded=$(json_field refunded <<<"$account")
(($(usdc "$alice") - alice_usdc == refunded)) || fail "alice was not refunded $refunded uusdc"
[[ -z $(rest "/gpumesh/provider/v1/gpus/${uuids[0]}" | json_field allocated_to) ]] || fail "${uuids[0]} is still allocated"
echo "  paid $(json_field paid <<<"$account") uusdc in total, refunded $refunded uusdc; ${uuids[0]} is free again"

say "provider1 unbonds a quarter of its bond (unbonding time $LOCALNET_PROVIDER_UNBONDING here)"
part=$((required / 4))
before=$(umesh "$provider1")
must_tx stakingslash unbond "${part}umesh" --from provider1
[[ $(umesh "$provider1") == "$before" ]] || fail "unbonded collateral was paid before the unbonding time"
echo "  unbonding ${part}umesh; balance unchanged until it completes…"
paid=""
for _ in $(seq 1 60); do
  now=$(umesh "$provider1")
  if [[ $now != "$before" ]]; then paid=$now; break; fi
  sleep 0.5
done
[[ -n $paid ]] || fail "the unbonding entry was not paid within 30 s"
((paid - before == part)) || fail "provider1 got $((paid - before))umesh back, not $part"
echo "  paid out: +${part}umesh"

say "Done"
cat <<EOF
The transfer moved exactly 1000uusdc; provider1 is listed with 8 H100s and
bonded, provider2 could not reuse its GPUs, alice leased 2 H100s through the
auction and paid by the second out of escrow, and unbonded collateral came
back after the unbonding time. Every process started is being stopped now.

Try it yourself:
  make localnet-start                      # or: scripts/localnet.sh start --validators 4
  build/gpumeshd q bank balances <addr> --home .localnet/node0
  build/gpumeshd q provider providers --gpu-class h100-sxm-80g --home .localnet/node0
  build/gpumeshd q stakingslash bond <provider-addr> --home .localnet/node0
  build/gpumeshd q market orders --state open --home .localnet/node0
  build/gpumeshd q market leases --tenant <addr> --home .localnet/node0
  curl $REST/gpumesh/market/v1/stats
  curl $REST/gpumesh/provider/v1/supply
  curl $REST/cosmos/bank/v1beta1/balances/<addr>
  make localnet-stop
Docs: docs/architecture.md, docs/localnet.md, x/provider/README.md, x/stakingslash/README.md,
      x/market/README.md, x/escrow/README.md, x/proofofcompute/README.md
EOF
