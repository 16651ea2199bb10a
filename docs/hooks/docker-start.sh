#!/usr/bin/env bash
# gpumesh-provider on_lease_start hook: one Docker container per lease,
# with exactly the leased GPUs and an SSH server for the tenant.
#
#   leases:
#     on_lease_start: /etc/gpumesh/hooks/docker-start.sh
#     on_lease_end: /etc/gpumesh/hooks/docker-end.sh
#
# Needs Docker with the NVIDIA Container Toolkit. The image must run sshd on
# port 22 and install the key given in $SSH_PUBLIC_KEY for user $SSH_USER
# (set GPUMESH_IMAGE; the default is a placeholder you must replace).
# The last line printed on stdout is the lease's access endpoint, which the
# sidecar posts on chain; everything else goes to stderr.
#
# The hook is idempotent: if the sidecar restarts while it runs, it is run
# again for the same lease and finds the container it already made.
set -euo pipefail

image=${GPUMESH_IMAGE:-registry.example.com/gpumesh/cuda-sshd:12.4}
user=${GPUMESH_SSH_USER:-gpumesh}
host=${GPUMESH_PUBLIC_HOST:-$(hostname -f)}

: "${GPUMESH_TENANT:?not run by gpumesh-provider}" "${GPUMESH_LEASE_SEQ:?}" "${GPUMESH_GPU_UUIDS:?}"
if [[ -z ${GPUMESH_SSH_PUBKEY:-} ]]; then
  echo "lease $GPUMESH_LEASE_ID has no SSH public key; refusing to start a container nobody can reach" >&2
  exit 1
fi

# Container names allow [a-zA-Z0-9_.-]: a bech32 address and a number fit.
name="gpumesh-${GPUMESH_TENANT}-${GPUMESH_LEASE_SEQ}"

if ! docker container inspect "$name" >/dev/null 2>&1; then
  echo "starting $name on GPUs $GPUMESH_GPU_UUIDS" >&2
  # --gpus takes a quoted device list; UUIDs pin the exact leased GPUs.
  docker run --detach --name "$name" \
    --gpus "\"device=${GPUMESH_GPU_UUIDS}\"" \
    --label gpumesh.lease="$GPUMESH_LEASE_ID" \
    --label gpumesh.provider="$GPUMESH_PROVIDER" \
    --restart unless-stopped \
    --publish 22 \
    --env SSH_USER="$user" \
    --env SSH_PUBLIC_KEY="$GPUMESH_SSH_PUBKEY" \
    "$image" >&2
else
  echo "$name already exists; reusing it" >&2
  docker start "$name" >&2
fi

# The host port Docker picked for the container's port 22.
port=$(docker port "$name" 22/tcp | sed -n '1s/.*://p')
[[ -n $port ]] || { echo "no host port published for $name" >&2; exit 1; }
echo "ssh://${user}@${host}:${port}"
