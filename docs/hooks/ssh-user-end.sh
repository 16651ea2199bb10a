#!/usr/bin/env bash
# gpumesh-provider on_lease_end hook for ssh-user-start.sh: locks the
# lease's account, kills every process of its uid, then deletes its home,
# account, group and record.
#
# Gone or fail: exit 0 only when nothing of the lease is left (also when it
# was already gone, so a repeated teardown is harmless); otherwise exit 1
# with the reason on stderr, and the sidecar retries.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=hooklib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/hooklib.sh"
# shellcheck source=ssh-user-lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/ssh-user-lib.sh"

need_lease
need_close_reason
account_settings
account_names "$lease_id"
lock_state

# Only an account this hook's start made is removed: start writes the
# record before it makes anything. Without a record, an account or home
# of this name is someone else's (start refused to reuse it): left alone.
if [[ ! -e $record ]]; then
  if getent passwd "$user" >/dev/null || getent group "$user" >/dev/null || [[ -e $home || -L $home ]]; then
    echo "warning: account, group or home $user exists without a record in $hook_state_dir/accounts; not made for lease $lease_id, left alone" >&2
  fi
  echo "lease $lease_id: no account of it is left" >&2
  exit 0
fi
rec=$(<"$record")
[[ $rec =~ ^uid=([0-9]{1,10})$ ]] || die "record $record holds $(quote "$rec"), not uid=<n>"
uid=${BASH_REMATCH[1]}
# Never kill a uid outside the lease range: a bad record must not make
# this kill root's or a person's processes.
((uid >= uid_min && uid <= uid_max)) ||
  die "record $record: uid $uid is outside GPUMESH_UID_MIN $uid_min..GPUMESH_UID_MAX $uid_max; refusing to kill its processes"
entry=$(getent passwd "$user" || true)
if [[ -n $entry && $(cut -d: -f3 <<<"$entry") != "$uid" ]]; then
  die "account $user has uid $(cut -d: -f3 <<<"$entry"), its record $record says $uid; refusing to remove it"
fi
echo "removing user $user (lease $lease_id closed: $close_reason)" >&2

if [[ -n $entry ]]; then
  # No new logins, cron jobs or su while the processes are killed.
  usermod --lock --expiredate 1 --shell "$(command -v nologin || echo /bin/false)" "$user"
fi
kill_all "$uid" "$uid" || die "could not end the processes of $user (uid $uid); left the account in place"

# Leftovers in root's directories that would start processes again.
rm -f -- "/var/lib/systemd/linger/$user" "/var/spool/cron/crontabs/$user"
# rm does not follow links, and no process of the tenant is left to swap
# directories under it.
if [[ -e $home || -L $home ]]; then
  rm -rf --one-file-system -- "$home"
fi
if getent passwd "$user" >/dev/null; then
  userdel "$user"
fi
if getent group "$user" >/dev/null; then
  groupdel "$user"
fi

# Check, then forget.
if getent passwd "$user" >/dev/null || getent group "$user" >/dev/null || [[ -e $home || -L $home ]]; then
  die "account $user, its group or its home $home is still there"
fi
if [[ -n $(processes_of "$uid") ]]; then
  die "processes of uid $uid appeared again after the kill"
fi
rm -f -- "$record"
echo "lease $lease_id: account $user removed" >&2
