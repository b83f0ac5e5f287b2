#!/usr/bin/env bash
# `npm run image`: builds the `sedna` image with buildah from deploy/image/Containerfile, offline.
#   IMAGE      image name (default localhost/sedna:<package version>)
#   BASE       base image (default scratch: the host's node is copied in; see the Containerfile)
#   OUT        also write an oci-archive there (optional)
# Needs `npm run build` first (dist/), buildah (Debian: buildah), and CONTAINERS_CONF settings of
# deploy/image/containers.conf on hosts like CI's (see the notes in README "Install on Kubernetes").
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="$(node -p "require('$ROOT/package.json').version")"
IMAGE="${IMAGE:-localhost/sedna:$VERSION}"
BASE="${BASE:-scratch}"
# podman reads it for the size below; buildah's COPY-only build runs no container.
export CONTAINERS_CONF="${CONTAINERS_CONF:-$ROOT/deploy/image/containers.conf}"
[ -f "$ROOT/dist/cli/main.js" ] || { echo "build.sh: dist/ is missing; run npm run build first" >&2; exit 1; }
CTX="$(mktemp -d "${TMPDIR:-/tmp}/sedna-image.XXXXXX")"
trap 'rm -rf "$CTX"' EXIT
start=$(date +%s%N)

# app/: what `npm ci --omit=dev` would give, without the network: a hard-linked copy of
# node_modules pruned of dev dependencies, and only this platform's onnxruntime binaries.
mkdir -p "$CTX/app"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$CTX/app/"
cp -r "$ROOT/bin" "$ROOT/dist" "$CTX/app/"
cp -al "$ROOT/node_modules" "$CTX/app/node_modules"
( cd "$CTX/app" && npm prune --omit=dev --offline --no-audit --no-fund --ignore-scripts >/dev/null 2>&1 )
ORT="$CTX/app/node_modules/onnxruntime-node/bin"
if [ -d "$ORT" ]; then
  find "$ORT" -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} +
  find "$ORT" -mindepth 3 -maxdepth 3 -type d ! -name "$(node -p process.arch)" -exec rm -rf {} +
fi
find "$CTX/app/node_modules" -name '*.md' -o -name '*.map' -o -name '*.ts' ! -name '*.d.ts' | xargs -r rm -f
rm -f "$CTX/app/package-lock.json"

# rootfs/: /tmp always; with no base image also node, the libraries it and the addons link, and
# an unprivileged user.
mkdir -p "$CTX/rootfs/tmp"
chmod 1777 "$CTX/rootfs/tmp"
if [ "$BASE" = scratch ]; then
  NODE="$(readlink -f "$(command -v node)")"
  install -D -m 0755 "$NODE" "$CTX/rootfs/usr/local/bin/node"
  { ldd "$NODE"; find "$CTX/app/node_modules" -name '*.node' -exec ldd {} \; ; } 2>/dev/null \
    | grep -o '/[^ ]*\.so[^ ]*' | sort -u | while read -r lib; do
      [ -e "$lib" ] || continue
      case "$lib" in "$CTX"/*) continue ;; esac
      mkdir -p "$CTX/rootfs$(dirname "$lib")"
      cp -L "$lib" "$CTX/rootfs$lib"
    done
  mkdir -p "$CTX/rootfs/etc"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:sedna:/tmp:/sbin/nologin\n' > "$CTX/rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$CTX/rootfs/etc/group"
fi
cp "$ROOT/deploy/image/Containerfile" "$CTX/Containerfile"

buildah build --pull=never --network=none --layers=false --build-arg "BASE=$BASE" -t "$IMAGE" -f "$CTX/Containerfile" "$CTX" >&2
if [ -n "${OUT:-}" ]; then buildah push "$IMAGE" "oci-archive:$OUT:$IMAGE" >&2; fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
size=$(podman image inspect --format '{{.Size}}' "$IMAGE" 2>/dev/null || echo unknown)
echo "image $IMAGE built in $ms ms, $size bytes"
