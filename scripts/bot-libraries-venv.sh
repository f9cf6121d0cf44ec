#!/usr/bin/env bash
# Prepares the Python virtualenv with the real bot libraries the proxy tests drive
# (Tests/BotLibraries/requirements.txt), cached in .build/bot-libraries-venv. Installs python3-venv with
# apt when the machine lacks it. Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/bot-libraries-venv
requirements=Tests/BotLibraries/requirements.txt

if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo=sudo
        $sudo apt-get update -qq >&2
        $sudo apt-get install -y -qq python3-venv >&2
    fi
    mkdir -p .build
    python3 -m venv "$venv" >&2
fi
# pip is quick when everything is installed already; the stamp skips even that while requirements are unchanged.
if ! cmp -s "$requirements" "$venv/requirements.installed"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
    cp "$requirements" "$venv/requirements.installed"
fi
echo "$PWD/$venv/bin/python"
