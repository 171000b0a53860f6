#!/usr/bin/env bash
# Installs the system packages capsize needs (when root), or prints the exact command.
set -euo pipefail
packages=(pkg-config libsqlite3-dev libopenblas-dev ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd libclblast-dev clinfo)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  command="apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && $command >/dev/null || { echo "setup: failed: $command" >&2; exit 1; }
  else
    echo "setup: missing system packages; run as root:" >&2
    echo "  sudo apt-get update && sudo $command" >&2
    exit 1
  fi
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.1 or newer is needed)" >&2; exit 1; }
