#!/usr/bin/env bash
# Installs the system packages capsize needs (when root), or prints the exact command.
#   scripts/setup.sh        what the tests need too (`make test`): Chromium for the report check, cfn-lint,
#                           boto3 and the AWS CLI (for `capsize serve`)
#   scripts/setup.sh run    only what building and running capsize needs (`make run`)
set -euo pipefail
for_tests=1
[[ ${1:-} == run ]] && for_tests=0
packages=(pkg-config libsqlite3-dev libopenblas-dev ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd libclblast-dev clinfo zlib1g-dev)
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
# Headless Chromium opens the report `capsize run` writes (scripts/report-check.sh, and a test that skips without
# it): optional, installed when root and the package is offered, never a reason to stop.
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.1 or newer is needed)" >&2; exit 1; }
((for_tests)) || exit 0
if ! command -v chromium >/dev/null && [[ $(id -u) -eq 0 ]] && apt-cache show chromium >/dev/null 2>&1; then
  echo "setup: installing chromium (for scripts/report-check.sh)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null \
    || echo "setup: chromium could not be installed; the report check is skipped" >&2
fi
# cfn-lint (PyPI) validates the CloudFormation / SAM templates capsize exports; boto3 and the AWS CLI drive
# `capsize serve` as AWS's own clients; the tests run them all from .venv-tools.
if [[ ! -x .venv-tools/bin/cfn-lint || ! -x .venv-tools/bin/aws ]] \
  || ! .venv-tools/bin/python3 -c 'import boto3' 2>/dev/null; then
  command -v python3 >/dev/null || { echo "setup: python3 is needed for cfn-lint, boto3 and the AWS CLI" >&2; exit 1; }
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    if [[ $(id -u) -eq 0 ]]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv >/dev/null
    else
      echo "setup: run as root: sudo apt-get install -y python3-venv" >&2; exit 1
    fi
  fi
  echo "setup: installing cfn-lint, boto3 and awscli into .venv-tools"
  { [[ -x .venv-tools/bin/pip ]] || python3 -m venv .venv-tools; } \
    && .venv-tools/bin/pip install -q cfn-lint boto3 awscli \
    || { echo "setup: failed: python3 -m venv .venv-tools && .venv-tools/bin/pip install cfn-lint boto3 awscli" >&2
      exit 1; }
fi
# awslambdaric (PyPI), AWS's runtime interface client: `capsize invoke` runs a user's Python handler through it, and the
# tests do. Made from the system's Python: when capsize runs as root the sandbox runs functions as another user, who
# must be able to run the venv's python (a pyenv under /root is out of its reach).
if [[ ! -x .venv-lambda/bin/python3 ]] || ! .venv-lambda/bin/python3 -c 'import awslambdaric' 2>/dev/null; then
  python=python3
  [[ -x /usr/bin/python3 ]] && python=/usr/bin/python3
  echo "setup: installing awslambdaric into .venv-lambda"
  rm -rf .venv-lambda
  "$python" -m venv .venv-lambda && .venv-lambda/bin/pip install -q awslambdaric \
    || { echo "setup: failed: $python -m venv .venv-lambda && .venv-lambda/bin/pip install awslambdaric" >&2; exit 1; }
fi
