#!/usr/bin/env bash
# gpu-check.sh: check the sidecar's CUDA prover on a machine with an NVIDIA
# GPU and driver. Run from anywhere inside the repository:
#
#   scripts/gpu-check.sh            # GPU 0
#   GPU=1 scripts/gpu-check.sh      # another GPU (nvidia-smi index)
#
# Steps: (a) build build/gpumesh-provider if it is missing and list the
# GPUs NVML sees; (b) run the golden vectors through the CUDA backend;
# (c) bench one challenge with the CUDA backend at the production n and m
# of the GPU's class (the chain's default class table,
# DefaultGPUClasses in x/provider/types/params.go; override with N=... M=...);
# (d) compare the multiply-adds/s with the GPU's dense int8 peak.
#
# It exits non-zero, saying why, when nvidia-smi or the driver is missing,
# when the golden-vector test fails or skips, or when the bench does not
# run on CUDA. Not yet run on hardware by the gpumesh developers.
set -euo pipefail

die() {
	echo "gpu-check: $*" >&2
	exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
gpu=${GPU:-0}
bin=build/gpumesh-provider
classes=x/provider/types/params.go

# --- the GPU and its driver ---------------------------------------------
command -v nvidia-smi >/dev/null 2>&1 ||
	die "nvidia-smi not found: this check needs an NVIDIA GPU with its driver installed"
if ! smi=$(nvidia-smi --query-gpu=index,name,pci.device_id,driver_version --format=csv,noheader -i "$gpu" 2>&1); then
	die "nvidia-smi cannot query GPU $gpu (driver not loaded, or no such GPU): $smi"
fi
IFS=, read -r _ gpu_name pci_full driver <<<"$smi"
gpu_name=$(echo "$gpu_name" | sed 's/^ *//; s/ *$//')
driver=$(echo "$driver" | tr -d ' ')
# nvidia-smi prints the PCI id as 0xDDDDVVVV (device, then vendor 10DE);
# the chain's classes key on the device half, lowercase: 0xdddd.
pci_full=$(echo "$pci_full" | tr -d ' ' | tr '[:upper:]' '[:lower:]')
[[ $pci_full =~ ^0x[0-9a-f]{8}$ ]] || die "unexpected PCI id from nvidia-smi: '$pci_full'"
pci="0x${pci_full:2:4}"
echo "GPU $gpu: $gpu_name, PCI device id $pci, driver $driver"

# CUDA numbers devices fastest first unless told otherwise; make its
# ordinals follow nvidia-smi's (PCI bus order) so --cuda-device is $gpu.
export CUDA_DEVICE_ORDER=PCI_BUS_ID

# --- (a) build and inventory --------------------------------------------
if [[ ! -x $bin ]]; then
	echo "== building ($bin is missing): make build"
	make build
fi
echo "== (a) $bin inventory --nvml real"
"$bin" inventory --nvml real

# --- (b) golden vectors on the GPU --------------------------------------
echo "== (b) golden vectors through the CUDA backend"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! go test -count=1 ./cmd/gpumesh-provider/cuda/ -run TestGoldenVectorsOnGPU -v 2>&1 | tee "$log"; then
	die "TestGoldenVectorsOnGPU failed: the CUDA backend does not match the reference"
fi
if grep -q -- '--- SKIP' "$log"; then
	die "TestGoldenVectorsOnGPU skipped: CUDA found no device although nvidia-smi sees one"
fi

# --- (c) bench at the class's production size ---------------------------
# The class table's entries read, one class per two lines:
#   {Name: "h100-sxm-80g", ...
#       PciDeviceIds: []string{"0x2330"}, RewardWeight: 1000, ChallengeN: 65536, ChallengeM: 2},
# These are a new chain's defaults; a live chain's governance may differ
# (gpumeshd query provider params shows them).
entry=$(grep -B1 "\"$pci\"" "$classes" || true)
class=$(echo "$entry" | sed -n 's/.*Name: "\([^"]*\)".*/\1/p' | head -n1)
class_n=$(echo "$entry" | sed -n 's/.*ChallengeN: \([0-9]*\).*/\1/p' | head -n1)
class_m=$(echo "$entry" | sed -n 's/.*ChallengeM: \([0-9]*\).*/\1/p' | head -n1)
if [[ -z $class ]]; then
	class=unknown
	echo "PCI device id $pci is in no default GPU class ($classes)"
fi
n=${N:-$class_n}
m=${M:-$class_m}
[[ -n $n && -n $m ]] ||
	die "no challenge size for class '$class': set N and M (for example N=32768 M=1) to bench anyway"
echo "== (c) bench: class $class, n=$n m=$m, CUDA device $gpu"
# --yes: the production sizes are estimated (from a small calibration
# run) at over the 10 minutes bench runs without confirmation.
bench_json=$("$bin" bench --backend cuda --cuda-device "$gpu" --n "$n" --m "$m" --k 16 --yes -o json) ||
	die "bench failed"
echo "$bench_json"
backend=$(echo "$bench_json" | sed -n 's/^ *"backend": *"\(.*\)",*$/\1/p')
rate=$(echo "$bench_json" | sed -n 's/^ *"multiply_adds_per_second": *\([0-9.eE+-]*\),*$/\1/p')
proof_rate=$(echo "$bench_json" | sed -n 's/^ *"proof_multiply_adds_per_second": *\([0-9.eE+-]*\),*$/\1/p')
[[ -n $rate ]] || die "no multiply_adds_per_second in the bench output"
case $backend in
cuda*) ;;
*) die "bench ran on '$backend', not CUDA (the cuda backend falls back to the CPU when CUDA is absent)" ;;
esac

# --- (d) against the int8 peak ------------------------------------------
# Dense (no 2:4 sparsity) int8 tensor-core peak in TOPS, from NVIDIA's
# datasheets (the sparse figure they print is twice these): H100 SXM and
# H100 PCIe (H100 datasheet), H200 SXM (H200 datasheet), A100 SXM and PCIe
# (A100 datasheet, 40 and 80 GB alike), L40S (L40S datasheet); RTX 4090
# from NVIDIA's Ada Lovelace architecture whitepaper (boost clock). "unknown"
# where we have no number we trust. One multiply-add is 2 ops, so the peak
# in multiply-adds/s is TOPS × 10¹² / 2.
peak_tops() {
	case $1 in
	h100-sxm-80g) echo 1979 ;;
	h100-pcie-80g) echo 1513 ;;
	h200-sxm-141g) echo 1979 ;;
	a100-sxm-80g | a100-sxm-40g | a100-pcie-80g) echo 624 ;;
	l40s-48g) echo 733 ;;
	rtx4090-24g) echo 660.6 ;;
	*) echo unknown ;;
	esac
}
tops=$(peak_tops "$class")
echo "== (d) multiply-adds/s against the int8 peak"
if [[ $tops == unknown ]]; then
	awk -v r="$rate" -v p="$proof_rate" -v c="$class" 'BEGIN {
		printf "multiply stage: %.3g multiply-adds/s; whole proof: %.3g multiply-adds/s; int8 peak of %s: unknown\n", r, p, c }'
else
	awk -v r="$rate" -v p="$proof_rate" -v t="$tops" -v c="$class" 'BEGIN {
		peak = t * 1e12 / 2
		printf "int8 dense peak of %s: %s TOPS = %.3g multiply-adds/s\n", c, t, peak
		printf "multiply stage: %.3g multiply-adds/s = %.1f%% of peak\n", r, 100 * r / peak
		printf "whole proof (with hashing): %.3g multiply-adds/s = %.1f%% of peak\n", p, 100 * p / peak }'
fi
