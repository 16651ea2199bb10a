# shellcheck shell=bash
# Shared by ssh-user-start.sh and ssh-user-end.sh; sourced after
# hooklib.sh, not run.

# account_settings: the operator's settings for lease accounts (from
# leases.hook_env), checked.
account_settings() {
  home_base=$(setting GPUMESH_HOME_BASE /home '^/[A-Za-z0-9._/-]{0,200}$')
  hook_state_dir=$(setting GPUMESH_HOOK_STATE_DIR /var/lib/gpumesh-hooks '^/[A-Za-z0-9._/-]{0,200}$')
  uid_min=$(setting GPUMESH_UID_MIN 1500000000 '^[1-9][0-9]{3,9}$')
  uid_max=$(setting GPUMESH_UID_MAX 1599999999 '^[1-9][0-9]{3,9}$')
  kill_attempts=$(setting GPUMESH_KILL_ATTEMPTS 50 '^[1-9][0-9]{0,3}$')
  ((uid_min <= uid_max && uid_max <= 4294967294)) ||
    die "GPUMESH_UID_MIN $uid_min..GPUMESH_UID_MAX $uid_max is not a range of uids"
  [[ -d $home_base && ! -L $home_base ]] || die "GPUMESH_HOME_BASE $home_base is not a directory"
  local owner_mode
  owner_mode=$(stat -c '%u %a' -- "$home_base")
  # Only root may create or rename entries in the base: otherwise anyone
  # could plant a home for the next lease.
  [[ $owner_mode =~ ^0\ [0-7]?[0-7][0-5][0-5]$ ]] ||
    die "GPUMESH_HOME_BASE $home_base must belong to root and be writable by root only (owner and mode: $owner_mode)"
}

# account_names LEASE_ID: $user, $home and $record for the lease. The name is "gm"
# and 30 hex digits (120 bits) of sha256("<tenant>/<seq>"), the whole
# lease id: 32 characters, the longest name every tool accepts.
account_names() {
  local hash
  hash=$(printf '%s' "$1" | sha256sum)
  user="gm${hash:0:30}"
  home="$home_base/$user"
  record="$hook_state_dir/accounts/$user"
}

# lock_state: create the state directory (root's, mode 700) and hold its
# lock until the hook exits; hooks for different leases take turns.
lock_state() {
  mkdir -p -- "$hook_state_dir/accounts"
  chmod 700 -- "$hook_state_dir" "$hook_state_dir/accounts"
  exec 9>>"$hook_state_dir/lock"
  flock --wait 300 9 || die "could not lock $hook_state_dir/lock in 300 s"
}

# refuse_existing: fail if anything of the account is already there.
refuse_existing() {
  if getent passwd "$user" >/dev/null; then
    die "account $user already exists; refusing to reuse it (run on_lease_end first)"
  fi
  if getent group "$user" >/dev/null; then
    die "group $user already exists; refusing to reuse it (run on_lease_end first)"
  fi
  if [[ -e $home || -L $home ]]; then
    die "home $home already exists; refusing to reuse it (run on_lease_end first)"
  fi
  if [[ -e $record ]]; then
    die "record $record already exists (a start that failed half-way); run on_lease_end first"
  fi
}

# in_subid_range UID FILE: whether UID lies in a subordinate id range of
# FILE (/etc/subuid, /etc/subgid): another user's containers run as those.
in_subid_range() {
  local id=$1 file=$2 first count
  [[ -r $file ]] || return 1
  while IFS=: read -r _ first count; do
    [[ $first =~ ^[0-9]+$ && $count =~ ^[0-9]+$ ]] || continue
    if ((id >= first && id < first + count)); then return 0; fi
  done <"$file"
  return 1
}

# processes_of UID: the live processes with UID as real, effective, saved
# or filesystem uid, one "pid state command" a line. Zombies are dead and
# are left out.
processes_of() {
  ps -e -o pid=,ruid=,euid=,suid=,fsuid=,stat=,comm= |
    awk -v u="$1" '($2 == u || $3 == u || $4 == u || $5 == u) && $6 !~ /^Z/ { print $1, $6, $7 }'
}

# allocate_uid: print the next never-used uid of [uid_min, uid_max] and
# move the counter past it. A uid is skipped when an account, a group, a
# subordinate range or a process already has it.
allocate_uid() {
  local counter="$hook_state_dir/next-uid" next
  if [[ -e $counter ]]; then
    next=$(<"$counter")
    [[ $next =~ ^[0-9]{1,10}$ ]] || die "uid counter $counter holds $(quote "$next"), not a uid; fix it by hand (never lower it)"
    ((next >= uid_min)) || next=$uid_min
  else
    next=$uid_min
  fi
  while :; do
    ((next <= uid_max)) || die "no uid left in GPUMESH_UID_MIN $uid_min..GPUMESH_UID_MAX $uid_max"
    if getent passwd "$next" >/dev/null || getent group "$next" >/dev/null ||
      in_subid_range "$next" /etc/subuid || in_subid_range "$next" /etc/subgid ||
      [[ -n $(processes_of "$next") ]]; then
      next=$((next + 1))
      continue
    fi
    break
  done
  # The counter moves before the account exists: a crash from here on
  # wastes a uid, never reuses one.
  printf '%s\n' $((next + 1)) >"$counter.tmp"
  mv -f -- "$counter.tmp" "$counter"
  printf '%s\n' "$next"
}

# kill_all UID GID: SIGKILL every process of UID until none is left, at
# most $kill_attempts rounds 0.1 s apart. kill(-1) sent as UID reaches all
# its processes at once, so a fork loop cannot outrun it; root's pkill
# then takes those with UID as real or effective uid that UID may not
# signal. Fails naming the survivors.
kill_all() {
  local id=$1 gid=$2 attempt left=""
  for ((attempt = 1; attempt <= kill_attempts; attempt++)); do
    # kill and pkill fail when they find nothing to signal: not an error
    # here, processes_of is the check.
    setpriv --reuid="$id" --regid="$gid" --clear-groups -- bash -c 'kill -KILL -1' 2>/dev/null || true
    left=$(processes_of "$id")
    if [[ -n $left ]]; then
      pkill -KILL --uid "$id" || true
      pkill -KILL --euid "$id" || true
      sleep 0.1
      left=$(processes_of "$id")
    fi
    [[ -n $left ]] || return 0
  done
  printf '%s: %s\n' "${0##*/}" "processes of uid $id survive $kill_attempts rounds of SIGKILL (pid state command):" >&2
  printf '  %s\n' "$left" >&2
  return 1
}
