#!/bin/sh
# The compose "cluster" profile's one-shot job: joins the nodes named as arguments into a Redis
# Cluster of masters with one replica each (`redis-cli --cluster create`, the first half become the
# masters), unless they already form one. REDISCLI_AUTH is the default user's password.
set -eu
if redis-cli -h "$1" cluster info | grep -q '^cluster_state:ok'; then
  echo "create-cluster.sh: already a cluster"
  exit 0
fi
nodes=""
for name in "$@"; do
  # redis-cli --cluster create wants addresses: resolve the service names.
  ip=$(getent hosts "$name" | cut -d ' ' -f 1)
  [ -n "$ip" ] || {
    echo "create-cluster.sh: cannot resolve $name" >&2
    exit 1
  }
  nodes="$nodes $ip:6379"
done
# shellcheck disable=SC2086 # one argument per node, on purpose
redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes
