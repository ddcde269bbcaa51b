#!/usr/bin/env bash
# Makes `pnpm` run the version package.json's "packageManager" pins, on a machine with Node 20+ and
# npm, whether pnpm is absent, already installed, or corepack's shim (whose signature check can fail
# against the registry). The README's quick start and .ci/run both start here:
#   bash scripts/setup.sh && pnpm install && pnpm demo
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(node -p 'require("./package.json").packageManager.replace(/^pnpm@/, "").split("+")[0]')
major=${version%%.*}
# Corepack's built-in registry keys can lag the registry's ("No compatible signature found",
# "Cannot find matching keyid"): skip that check for the download here. Corepack keeps what it
# downloaded, so later runs of the shim (`pnpm install` in your shell) need no such setting.
export COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0

# pnpm runs and is of the pinned major (pnpm 9.7+ itself switches to the exact pinned version).
pnpm_runs() {
  hash -r
  local found
  found=$(pnpm --version 2>/dev/null) || return 1
  [ "${found%%.*}" = "$major" ]
}

if pnpm_runs; then
  echo "setup: pnpm $(pnpm --version) is ready"
  exit 0
fi

# No pnpm yet: corepack (shipped with Node 20) installs a shim for the pinned version.
if ! command -v pnpm >/dev/null 2>&1 && command -v corepack >/dev/null 2>&1; then
  if corepack enable pnpm >/dev/null 2>&1 && pnpm_runs; then
    echo "setup: pnpm $(pnpm --version) is ready (corepack)"
    exit 0
  fi
  echo "setup: corepack could not provide pnpm $version; installing it with npm"
fi

# npm, with --force: it replaces a `pnpm` already there (corepack's shim that does not work, or an
# old version), where plain `npm install -g pnpm` stops with EEXIST.
npm install -g --force --no-fund --no-audit "pnpm@$version"
if pnpm_runs; then
  echo "setup: pnpm $(pnpm --version) is ready (npm install -g)"
  exit 0
fi
echo "setup: installed pnpm@$version with npm, but \`pnpm\` on PATH still does not run it:" >&2
echo "  $(command -v pnpm || echo 'no pnpm on PATH'); npm's global bin is $(npm prefix -g)/bin" >&2
exit 1
