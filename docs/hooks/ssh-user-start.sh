#!/usr/bin/env bash
# gpumesh-provider on_lease_start hook: a plain Unix account per lease on
# the GPU host, reached over the host's own sshd, with the leased GPUs
# selected by CUDA_VISIBLE_DEVICES.
#
#   leases:
#     on_lease_start: /etc/gpumesh/hooks/ssh-user-start.sh
#     on_lease_end: /etc/gpumesh/hooks/ssh-user-end.sh
#
# The sidecar must run as root (or with sudo rights for useradd/userdel).
# CUDA_VISIBLE_DEVICES is not a security boundary: a tenant who unsets it
# sees every GPU. Use it on single-tenant hosts, or use the Docker hooks.
# The last line on stdout is the access endpoint; the rest goes to stderr.
# Idempotent: a second run for the same lease reuses the account.
set -euo pipefail

host=${GPUMESH_PUBLIC_HOST:-$(hostname -f)}
port=${GPUMESH_SSH_PORT:-22}

: "${GPUMESH_TENANT:?not run by gpumesh-provider}" "${GPUMESH_LEASE_SEQ:?}" "${GPUMESH_GPU_UUIDS:?}"
if [[ -z ${GPUMESH_SSH_PUBKEY:-} ]]; then
  echo "lease $GPUMESH_LEASE_ID has no SSH public key; nobody could log in" >&2
  exit 1
fi

# A short, stable user name per lease (Linux allows 32 characters).
user="gm$(printf '%s' "$GPUMESH_TENANT" | sha256sum | cut -c1-10)s${GPUMESH_LEASE_SEQ}"

if ! id "$user" >/dev/null 2>&1; then
  echo "creating user $user for lease $GPUMESH_LEASE_ID" >&2
  useradd --create-home --shell /bin/bash --comment "gpumesh lease $GPUMESH_LEASE_ID" "$user"
fi
home=$(getent passwd "$user" | cut -d: -f6)

install -d -m 700 -o "$user" -g "$user" "$home/.ssh"
printf '%s\n' "$GPUMESH_SSH_PUBKEY" > "$home/.ssh/authorized_keys"
chown "$user:$user" "$home/.ssh/authorized_keys"
chmod 600 "$home/.ssh/authorized_keys"

# CUDA accepts GPU UUIDs in CUDA_VISIBLE_DEVICES.
cat > "$home/.gpumesh-env" <<ENV
export CUDA_VISIBLE_DEVICES=${GPUMESH_GPU_UUIDS}
export NVIDIA_VISIBLE_DEVICES=${GPUMESH_GPU_UUIDS}
export GPUMESH_LEASE_ID=${GPUMESH_LEASE_ID}
ENV
for rc in .profile .bashrc; do
  touch "$home/$rc"
  grep -q 'gpumesh-env' "$home/$rc" || echo '. "$HOME/.gpumesh-env"' >> "$home/$rc"
done
chown "$user:$user" "$home/.gpumesh-env" "$home/.profile" "$home/.bashrc"

echo "ssh://${user}@${host}:${port}"
