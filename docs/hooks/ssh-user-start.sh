#!/usr/bin/env bash
# gpumesh-provider on_lease_start hook: a fresh Unix account per lease on
# the GPU host, reached over the host's own sshd, with the leased GPUs
# selected by CUDA_VISIBLE_DEVICES.
#
#   leases:
#     on_lease_start: /etc/gpumesh/hooks/ssh-user-start.sh
#     on_lease_end: /etc/gpumesh/hooks/ssh-user-end.sh
#
# Runs as root. CUDA_VISIBLE_DEVICES is NOT an isolation boundary: a
# tenant who unsets it uses every GPU of the host. See README.md.
#
# Create fresh or fail: the account name comes from the whole lease id,
# and the hook refuses when that account, its group, its home or its
# record already exists (the sidecar runs on_lease_end before it retries a
# failed start). The uid comes from a counter under the state directory
# and is never handed out twice. Root never writes inside the tenant's
# home: the files there are written as the tenant (setpriv).
#
# The last line on stdout is the access endpoint; the rest goes to stderr.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=hooklib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/hooklib.sh"
# shellcheck source=ssh-user-lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/ssh-user-lib.sh"

need_lease
need_gpus
need_ssh_key
public_host=$(public_host)
ssh_port=$(setting GPUMESH_SSH_PORT 22 '^[1-9][0-9]{0,4}$')
account_settings
account_names "$lease_id"

lock_state
refuse_existing
uid=$(allocate_uid)
printf 'uid=%s\n' "$uid" >"$record"

echo "creating user $user (uid $uid) for lease $lease_id" >&2
groupadd --gid "$uid" "$user"
# -l: no lastlog/faillog entry (sparse files sized by the uid); the
# SUB_*_COUNT overrides give the account no subordinate uid range, so
# every process it can run has its own uid and dies at teardown.
useradd --no-log-init --no-create-home --home-dir "$home" --uid "$uid" --gid "$uid" \
  --shell /bin/bash --comment "gpumesh lease $lease_id" \
  -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user"
# mkdir fails on anything already there, a planted link included; the
# base is root's (account_settings checked), so nobody can swap it.
mkdir -m 700 -- "$home"
chown -h -- "$uid:$uid" "$home"

as_tenant() {
  setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}
# write_as_tenant PATH: stdin into a new file PATH (mode 600), as the
# tenant.
write_as_tenant() {
  # shellcheck disable=SC2016 # $1 is for sh
  as_tenant sh -c 'umask 077 && set -C && cat >"$1"' sh "$1"
}

as_tenant cp -R -- /etc/skel/. "$home/"
as_tenant mkdir -m 700 -- "$home/.ssh"
printf '%s\n' "$ssh_key" | write_as_tenant "$home/.ssh/authorized_keys"
# CUDA accepts GPU UUIDs in CUDA_VISIBLE_DEVICES.
printf 'export CUDA_VISIBLE_DEVICES=%s\nexport NVIDIA_VISIBLE_DEVICES=%s\nexport GPUMESH_LEASE_ID=%s\n' \
  "$gpus" "$gpus" "$lease_id" | write_as_tenant "$home/.gpumesh-env"
for rc in .profile .bashrc; do
  # shellcheck disable=SC2016 # $HOME is for the tenant's shell
  printf '. "$HOME/.gpumesh-env"\n' | as_tenant sh -c 'cat >>"$1"' sh "$home/$rc"
done

echo "ssh://${user}@${public_host}:${ssh_port}"
