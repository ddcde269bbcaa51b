#!/bin/sh
# Prints the Redis ACL of the demo apps (the contents of users.acl) from passwords in the
# environment, one user per app:
#
#   REDIS_PASSWORD              user "default": the operator (redis-cli, health checks), every command
#   THERMAL_REDIS_PASSWORD      user "thermal":     keys strata:thermal:*, strata:thermal#lock:*; channels strata:thermal:*
#   DEVICE_INFO_REDIS_PASSWORD  user "device-info": the same under strata:device-info
#   ANALYTICS_REDIS_PASSWORD    user "analytics":   the same under strata:analytics
#
# Each password must have at least 32 characters and not be an example's placeholder. They are
# written as SHA-256 hashes (#...), never in clear: the ACL file can be kept as a Secret of its own.
#
#   sh deploy/redis/redis-acl.sh > users.acl && redis-server --aclfile users.acl
#
# An app's REDIS_URL then names its user: redis://thermal:<THERMAL_REDIS_PASSWORD>@redis:6379
set -eu

# The commands a Strata app sends, and nothing else: no KEYS, FLUSHALL/FLUSHDB, CONFIG, DEBUG,
# MONITOR, SHUTDOWN, CLIENT, MIGRATE/RESTORE, SCRIPT FLUSH/KILL, FUNCTION, MODULE, SELECT.
# Lua scripts (EVAL/EVALSHA) run with the same rights: a script of one app cannot reach another's keys.
# On a Redis Cluster a pod also reads the slot map (CLUSTER SLOTS, CLUSTER INFO) and runs its bus on
# sharded pub/sub (SPUBLISH, SSUBSCRIBE); on one node they are harmless.
COMMANDS='-@all +auth +hello +ping +quit +info +time
  +get +set +mget +del +unlink +exists +pexpire +pttl +scan
  +sadd +srem +sscan +zadd +zcard +zrange +zrangebyscore +zremrangebyscore +zremrangebyrank
  +eval +evalsha +script|load +publish +subscribe +unsubscribe
  +cluster|slots +cluster|info +spublish +ssubscribe +sunsubscribe'

PLACEHOLDERS='change-me change-me-too changeme replace-with-the-output-of-openssl-rand-hex-32'

fail() {
  echo "redis-acl.sh: $*" >&2
  exit 1
}

# The password in variable $1, checked.
password() {
  eval "value=\${$1:-}"
  [ -n "$value" ] || fail "$1 is not set (use e.g. \`openssl rand -hex 32\`)"
  for placeholder in $PLACEHOLDERS; do
    [ "$value" != "$placeholder" ] || fail "$1 is the placeholder \"$placeholder\" from the examples: set a secret of your own"
  done
  [ "${#value}" -ge 32 ] || fail "$1 is ${#value} characters long, fewer than 32 (use e.g. \`openssl rand -hex 32\`)"
  printf '%s' "$value"
}

hashed() {
  printf '%s' "$1" | sha256sum | cut -d ' ' -f 1
}

# user <name> <key prefix without its last ':'> <password>
app_user() {
  # shellcheck disable=SC2086 # the command list is split into words on purpose
  echo "user $1 on #$(hashed "$3") resetkeys ~$2:* ~$2#lock:* resetchannels &$2:*" $COMMANDS
}

# Every password is checked before anything is printed: a bad one leaves no half-written file.
admin=$(password REDIS_PASSWORD)
thermal=$(password THERMAL_REDIS_PASSWORD)
device_info=$(password DEVICE_INFO_REDIS_PASSWORD)
analytics=$(password ANALYTICS_REDIS_PASSWORD)

echo "user default on #$(hashed "$admin") ~* &* +@all"
app_user thermal strata:thermal "$thermal"
app_user device-info strata:device-info "$device_info"
app_user analytics strata:analytics "$analytics"
