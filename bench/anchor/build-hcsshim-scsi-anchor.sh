#!/bin/bash
# Builds the anchor of `uvm-bench hotplug --anchor`: hcsshim's own SCSI
# manager (internal/uvm/scsi of github.com/Microsoft/hcsshim, v0.12.5),
# unchanged but for its Windows build tag, driven by scsi_anchor.go with
# fake backends. Nothing of hcsshim is kept in this project: the files are
# taken from the checkout given, in a temporary copy of it.
#
#   bench/anchor/build-hcsshim-scsi-anchor.sh HCSSHIM_CHECKOUT OUTPUT
#   uvm-bench hotplug --latency-us 0 --callers 1 --anchor OUTPUT
#
# Needs Go (Debian: golang-go) and the checkout's vendor/ folder.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 HCSSHIM_CHECKOUT OUTPUT" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
out=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
command -v go > /dev/null || {
  echo "$0: needs Go (apt-get install golang-go)" >&2
  exit 2
}
scsi=$src/internal/uvm/scsi
for f in attach mount manager backend; do
  [ -f "$scsi/$f.go" ] || {
    echo "$0: $scsi/$f.go is missing: not a checkout of hcsshim v0.12.x" >&2
    exit 2
  }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$src/." "$work/"
pkg=$work/internal/uvm/uvmbenchanchor
mkdir -p "$pkg"

# The manager itself, as a main package that builds on Linux. Granting a VM
# access to a disk (wclayer, Windows only) is asked for only with a VM id,
# which the loop never passes.
for f in attach mount manager; do
  sed -e '/^\/\/go:build windows/d' -e 's/^package scsi$/package main/' "$scsi/$f.go" > "$pkg/$f.go"
done
sed -i -e '/internal\/wclayer"/d' \
  -e 's/wclayer\.GrantVmAccess(ctx, vmID, hostPath)/errors.New("granting a VM access is Windows only")/' \
  "$pkg/manager.go"
grep -q wclayer "$pkg/manager.go" && {
  echo "$0: manager.go uses wclayer in a way this script does not know" >&2
  exit 2
}

# From backend.go: the backend interfaces and the guest request builders.
# The HCS and bridge backends give way to the fakes of scsi_anchor.go.
{
  cat << 'GO'
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/Microsoft/hcsshim/internal/protocol/guestrequest"
	"github.com/Microsoft/hcsshim/internal/protocol/guestresource"
)

GO
  awk '/^\/\/ HostBackend provides/ {on = 1} /^var _ attacher/ {on = 0} on' "$scsi/backend.go"
  awk '/^func mountRequest\(/ {on = 1} on' "$scsi/backend.go"
} > "$pkg/backend.go"
cp "$here/scsi_anchor.go" "$pkg/anchor.go"

(cd "$work" && go build -mod=vendor -o "$out" ./internal/uvm/uvmbenchanchor)
echo "$out"
