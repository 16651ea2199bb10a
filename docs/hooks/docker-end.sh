#!/usr/bin/env bash
# gpumesh-provider on_lease_end hook for docker-start.sh: removes the
# lease's container (with its anonymous volumes) and its network.
#
# Gone or fail: exit 0 only when no container and no network labelled
# with the lease is left, also when they were already gone; exit 1 with
# the reason on stderr when Docker fails (a daemon outage must not make
# the sidecar forget a container that restarts later). The sidecar
# retries.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=hooklib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/hooklib.sh"

need_lease
need_close_reason
label="gpumesh.lease=$lease_id"

# list KIND: the ids of the lease's containers or networks; fails when
# Docker does.
list() {
  docker "$1" ls --quiet --no-trunc ${2:+"$2"} --filter "label=$label" ||
    die "cannot list the ${1}s of lease $lease_id (docker failed)"
}

containers=$(list container --all)
networks=$(list network)
if [[ -z $containers && -z $networks ]]; then
  echo "lease $lease_id: container and network already gone" >&2
  exit 0
fi
echo "removing the container and network of lease $lease_id (closed: $close_reason)" >&2
for id in $containers; do
  docker container rm --force --volumes "$id" >&2 ||
    die "cannot remove container $id of lease $lease_id"
done
for id in $networks; do
  docker network rm "$id" >&2 || die "cannot remove network $id of lease $lease_id"
done

containers=$(list container --all)
networks=$(list network)
[[ -z $containers && -z $networks ]] ||
  die "lease $lease_id still has containers ($(quote "$containers")) or networks ($(quote "$networks"))"
echo "lease $lease_id: container and network removed" >&2
