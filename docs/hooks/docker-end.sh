#!/usr/bin/env bash
# gpumesh-provider on_lease_end hook for docker-start.sh: removes the
# lease's container. $GPUMESH_CLOSE_REASON says why the lease closed
# (tenant, provider, expired, insufficient_funds, provider_slashed,
# dispute_lost). Removing a container that is already gone succeeds, so a
# repeated teardown is harmless.
set -euo pipefail
: "${GPUMESH_TENANT:?not run by gpumesh-provider}" "${GPUMESH_LEASE_SEQ:?}"
name="gpumesh-${GPUMESH_TENANT}-${GPUMESH_LEASE_SEQ}"
echo "removing $name (lease $GPUMESH_LEASE_ID closed: ${GPUMESH_CLOSE_REASON:-unknown})" >&2
docker rm --force "$name" >/dev/null 2>&1 || true
