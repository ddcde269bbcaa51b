#!/bin/sh
# Entrypoint of the compose Redis: writes the ACL (redis-acl.sh, from the passwords in the
# environment) into the data folder, then starts the image's own entrypoint with it, so Redis runs
# as the unprivileged "redis" user as usual. Extra arguments go to redis-server. With
# REDIS_CLUSTER_NODE=yes (the "cluster" profile's nodes) a config file also gives the node the
# default user's password to replicate from its master (masterauth), kept off the command line.
set -eu
umask 077
sh "$(dirname "$0")/redis-acl.sh" > /data/users.acl
if [ "${REDIS_CLUSTER_NODE:-}" = "yes" ]; then
  printf 'masterauth %s\n' "$REDIS_PASSWORD" > /data/cluster-auth.conf
  exec docker-entrypoint.sh redis-server /data/cluster-auth.conf --aclfile /data/users.acl "$@"
fi
exec docker-entrypoint.sh redis-server --aclfile /data/users.acl "$@"
