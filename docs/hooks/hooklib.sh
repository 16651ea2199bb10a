# shellcheck shell=bash
# shellcheck disable=SC2034 # the need_* functions set globals for the hooks
# Shared by the example lease hooks in this directory; sourced, not run.
# Install it next to them (the hooks source it from their own directory).
#
# Every value a hook uses is checked here before it reaches a file or a
# command, and the hook stops (exit 1, the reason on stderr) on the first
# one that does not fit. Lease values come from the chain through the
# sidecar, operator settings from leases.hook_env; both are checked.

export LC_ALL=C
umask 077

die() {
  printf '%s: %s\n' "${0##*/}" "$*" >&2
  exit 1
}

# quote VALUE: VALUE made safe to print (no raw newlines or escapes), cut
# to 120 bytes.
quote() {
  local v=$1
  if ((${#v} > 120)); then v="${v:0:120}..."; fi
  printf '%q' "$v"
}

# Bech32 (BIP-173): a lowercase prefix, the separator 1, then data in
# qpzry9x8gf2tvdw0s3jn54khce6mua7l (no 1, b, i or o).
readonly bech32_re='^[a-z]{1,20}1[02-9ac-hj-np-z]{6,100}$'

# need_lease: GPUMESH_TENANT, GPUMESH_LEASE_SEQ and GPUMESH_LEASE_ID, which
# must agree, into $tenant, $seq and $lease_id.
need_lease() {
  tenant=${GPUMESH_TENANT-}
  seq=${GPUMESH_LEASE_SEQ-}
  lease_id=${GPUMESH_LEASE_ID-}
  [[ $tenant =~ $bech32_re ]] ||
    die "GPUMESH_TENANT $(quote "$tenant") is not a bech32 address (not run by gpumesh-provider?)"
  [[ $seq =~ ^[1-9][0-9]{0,19}$ ]] ||
    die "GPUMESH_LEASE_SEQ $(quote "$seq") is not a lease sequence number (1 or more)"
  [[ $lease_id == "$tenant/$seq" ]] ||
    die "GPUMESH_LEASE_ID $(quote "$lease_id") is not GPUMESH_TENANT/GPUMESH_LEASE_SEQ ($tenant/$seq)"
}

# need_provider: GPUMESH_PROVIDER into $provider.
need_provider() {
  provider=${GPUMESH_PROVIDER-}
  [[ $provider =~ $bech32_re ]] ||
    die "GPUMESH_PROVIDER $(quote "$provider") is not a bech32 address"
}

# need_gpus: GPUMESH_GPU_UUIDS, 1 to 64 NVML UUIDs joined by commas, into
# $gpus, and their number into $gpu_count.
need_gpus() {
  local uuids
  gpus=${GPUMESH_GPU_UUIDS-}
  [[ $gpus =~ ^GPU-[0-9a-f-]+(,GPU-[0-9a-f-]+)*$ ]] ||
    die "GPUMESH_GPU_UUIDS $(quote "$gpus") is not a comma-separated list of GPU UUIDs (GPU-<hex and dashes>)"
  IFS=, read -r -a uuids <<<"$gpus"
  gpu_count=${#uuids[@]}
  if ((gpu_count > 64 || ${#gpus} > 64 * 69)); then
    die "GPUMESH_GPU_UUIDS lists $gpu_count GPUs in ${#gpus} bytes, at most 64 GPUs"
  fi
}

# need_close_reason: GPUMESH_CLOSE_REASON (may be empty) into $close_reason.
need_close_reason() {
  close_reason=${GPUMESH_CLOSE_REASON-}
  [[ $close_reason =~ ^[a-z_]{0,32}$ ]] ||
    die "GPUMESH_CLOSE_REASON $(quote "$close_reason") is not a close reason (lowercase letters and _)"
  close_reason=${close_reason:-unknown}
}

# Key types accepted in GPUMESH_SSH_PUBKEY. No certificates, no DSA.
readonly ssh_key_types=' ssh-ed25519 sk-ssh-ed25519@openssh.com ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 sk-ecdsa-sha2-nistp256@openssh.com ssh-rsa '

# need_ssh_key: GPUMESH_SSH_PUBKEY into $ssh_key as "<type> <base64>", a
# line fit for authorized_keys. The key must start with an allowed type
# (so no options prefix), be one line, and its base64 blob must decode to
# a key of that type. A comment after the blob is dropped, not checked.
need_ssh_key() {
  local key=${GPUMESH_SSH_PUBKEY-} type blob hex want
  [[ -n $key ]] || die "lease $lease_id has no SSH public key (GPUMESH_SSH_PUBKEY is empty); nobody could log in"
  ((${#key} <= 8192)) || die "GPUMESH_SSH_PUBKEY is ${#key} bytes, at most 8192"
  # (Length bounds stay out of the patterns: glibc expands {m,n} and a
  # large n costs seconds.)
  [[ $key =~ ^([a-z0-9@.-]+)\ +([A-Za-z0-9+/]+={0,2})(\ [^[:cntrl:]]*)?$ ]] ||
    die "GPUMESH_SSH_PUBKEY $(quote "$key") is not one authorized_keys line \"<type> <base64> [comment]\""
  type=${BASH_REMATCH[1]} blob=${BASH_REMATCH[2]}
  [[ $ssh_key_types == *" $type "* ]] ||
    die "GPUMESH_SSH_PUBKEY key type $(quote "$type") is not one of:$ssh_key_types"
  # The blob starts with the key type as an SSH string: a 4-byte length,
  # then the name.
  hex=$(printf '%s' "$blob" | base64 -d | od -An -v -tx1 | tr -d ' \n') ||
    die "GPUMESH_SSH_PUBKEY blob $(quote "$blob") is not base64"
  want=$(printf '%08x' "${#type}")$(printf '%s' "$type" | od -An -v -tx1 | tr -d ' \n')
  [[ ${hex:0:${#want}} == "$want" ]] ||
    die "GPUMESH_SSH_PUBKEY blob does not hold a $type key"
  ssh_key="$type $blob"
}

# setting VAR DEFAULT REGEX: print the operator setting $VAR (from
# leases.hook_env), or DEFAULT when it is unset or empty; it must match
# REGEX. Use it as x=$(setting ...): a bad value stops the hook.
setting() {
  local var=$1 default=$2 re=$3 value
  value=${!var:-$default}
  [[ $value =~ $re ]] || die "$var $(quote "$value") does not match $re (set it in leases.hook_env)"
  printf '%s\n' "$value"
}

# public_host: print GPUMESH_PUBLIC_HOST, or this host's name.
public_host() {
  local fallback=""
  if [[ -z ${GPUMESH_PUBLIC_HOST:-} ]]; then fallback=$(hostname -f); fi
  setting GPUMESH_PUBLIC_HOST "$fallback" '^([A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\[[0-9a-fA-F:.]{2,45}\])$'
}
