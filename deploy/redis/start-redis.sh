#!/bin/sh
# Entrypoint of the compose Redis: writes the ACL (redis-acl.sh, from the passwords in the
# environment) into the data folder, then starts the image's own entrypoint with it, so Redis runs
# as the unprivileged "redis" user as usual. Extra arguments go to redis-server.
set -eu
umask 077
sh "$(dirname "$0")/redis-acl.sh" > /data/users.acl
exec docker-entrypoint.sh redis-server --aclfile /data/users.acl "$@"
