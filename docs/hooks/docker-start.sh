#!/usr/bin/env bash
# gpumesh-provider on_lease_start hook: one Docker container per lease, on
# its own bridge network, with exactly the leased GPUs, resource limits,
# few capabilities, and an SSH server for the tenant.
#
#   leases:
#     on_lease_start: /etc/gpumesh/hooks/docker-start.sh
#     on_lease_end: /etc/gpumesh/hooks/docker-end.sh
#
# Needs Docker with the NVIDIA Container Toolkit. The image must run sshd on
# port 22 and install the key given in $SSH_PUBLIC_KEY for user $SSH_USER
# (set GPUMESH_IMAGE in leases.hook_env; the default is a placeholder).
# Settings and defaults are in README.md.
#
# Create fresh or fail: the container and network names come from the
# whole lease id, and the hook refuses when a container or network of the
# lease already exists (the sidecar runs on_lease_end before it retries a
# failed start).
#
# The last line printed on stdout is the lease's access endpoint, which the
# sidecar posts on chain; everything else goes to stderr.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=hooklib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/hooklib.sh"

need_lease
need_provider
need_gpus
need_ssh_key
public_host=$(public_host)
image=$(setting GPUMESH_IMAGE registry.example.com/gpumesh/cuda-sshd:12.4 '^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$')
ssh_user=$(setting GPUMESH_SSH_USER gpumesh '^[a-z_][a-z0-9_-]{0,31}$')
# Defaults scale with the leased GPUs; CPUs are capped at the host's.
host_cpus=$(nproc)
cpus=$(setting GPUMESH_CPUS "$((gpu_count * 8 < host_cpus ? gpu_count * 8 : host_cpus))" '^[0-9]{1,4}(\.[0-9]{1,2})?$')
memory=$(setting GPUMESH_MEMORY "$((gpu_count * 64))g" '^[1-9][0-9]{0,12}[bkmg]?$')
shm_size=$(setting GPUMESH_SHM_SIZE 8g '^[1-9][0-9]{0,12}[bkmg]?$')
pids_limit=$(setting GPUMESH_PIDS_LIMIT 4096 '^[1-9][0-9]{0,6}$')
cap_add=$(setting GPUMESH_CAP_ADD AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,KILL,NET_BIND_SERVICE,SETGID,SETUID,SYS_CHROOT \
  '^([A-Z_]{1,32}(,[A-Z_]{1,32}){0,40})?$')

# Container names allow [a-zA-Z0-9_.-]: a bech32 address and a number fit,
# and "-" is in neither, so the name is unique per lease.
name="gpumesh-${tenant}-${seq}"
label="gpumesh.lease=$lease_id"
# The bridge's interface, which the firewall rules match as gml+: "gml"
# and 12 hex digits of sha256 of the lease id (15 characters, the most an
# interface name may have). Two leases whose hashes meet fail to create
# the second bridge; they never share one.
hash=$(printf '%s' "$lease_id" | sha256sum)
bridge="gml${hash:0:12}"

containers=$(docker container ls --all --quiet --filter "label=$label") ||
  die "cannot list the containers of lease $lease_id (docker failed)"
[[ -z $containers ]] ||
  die "lease $lease_id already has a container ($(quote "$containers")); refusing to reuse it (run on_lease_end first)"
networks=$(docker network ls --quiet --filter "label=$label") ||
  die "cannot list the networks of lease $lease_id (docker failed)"
[[ -z $networks ]] ||
  die "lease $lease_id already has a network ($(quote "$networks")); refusing to reuse it (run on_lease_end first)"

echo "creating network $name for lease $lease_id" >&2
# Its own bridge, with traffic between containers on it off; README.md
# has the firewall rules that keep it off the host's own ports.
docker network create --driver bridge \
  --opt com.docker.network.bridge.enable_icc=false \
  --opt "com.docker.network.bridge.name=$bridge" \
  --label "$label" "$name" >&2

# One --cap-add per capability.
cap_args=(--cap-drop ALL)
IFS=, read -r -a caps <<<"$cap_add"
for cap in "${caps[@]}"; do cap_args+=(--cap-add "$cap"); done

echo "starting $name on GPUs $gpus" >&2
# --gpus takes a quoted device list; UUIDs pin the exact leased GPUs.
# --memory-swap equal to --memory: no swap on top.
docker run --detach --name "$name" \
  --gpus "\"device=${gpus}\"" \
  --label "$label" \
  --label "gpumesh.provider=$provider" \
  --network "$name" \
  --memory "$memory" --memory-swap "$memory" \
  --cpus "$cpus" \
  --pids-limit "$pids_limit" \
  --shm-size "$shm_size" \
  "${cap_args[@]}" \
  --security-opt no-new-privileges \
  --restart unless-stopped \
  --publish 22 \
  --env "SSH_USER=$ssh_user" \
  --env "SSH_PUBLIC_KEY=$ssh_key" \
  "$image" >&2

# The host port Docker picked for the container's port 22.
port=$(docker port "$name" 22/tcp | sed -n '1s/.*://p')
[[ $port =~ ^[0-9]{1,5}$ ]] || die "no host port published for $name (docker port said $(quote "$port"))"
echo "ssh://${ssh_user}@${public_host}:${port}"
