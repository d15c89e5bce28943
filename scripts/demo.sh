#!/bin/sh
# demo.sh: the README's first command. Installs what spamsift needs (as root,
# with apt-get), builds it, and parses the sample message: the decoded
# structure as JSON, then the visible text.
set -eu
cd "$(dirname "$0")/.."
if ! command -v make >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		echo "demo.sh: 'make' is missing; run as root: apt-get install -y make" >&2
		exit 1
	fi
	apt-get update -qq && apt-get install -y -qq --no-install-recommends make >/dev/null
fi
make demo
