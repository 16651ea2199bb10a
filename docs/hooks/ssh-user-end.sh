#!/usr/bin/env bash
# gpumesh-provider on_lease_end hook for ssh-user-start.sh: ends the
# lease's sessions and processes and deletes its account and home.
# Deleting an account that is already gone succeeds.
set -euo pipefail
: "${GPUMESH_TENANT:?not run by gpumesh-provider}" "${GPUMESH_LEASE_SEQ:?}"
user="gm$(printf '%s' "$GPUMESH_TENANT" | sha256sum | cut -c1-10)s${GPUMESH_LEASE_SEQ}"
if id "$user" >/dev/null 2>&1; then
  echo "removing user $user (lease $GPUMESH_LEASE_ID closed: ${GPUMESH_CLOSE_REASON:-unknown})" >&2
  pkill --signal KILL --uid "$user" || true
  userdel --remove "$user" 2>/dev/null || userdel "$user"
fi
