#!/usr/bin/env bash
# Gets a machine without a Docker engine or a container registry ready for `npm run test:image`:
# podman (rootful) to build and run the project's Dockerfile, and a local stand-in for the two base
# images it names, node:20-bookworm and node:20-bookworm-slim. Safe to run again: each step is skipped
# when its result is already there (a real node image pulled earlier is used as it is).
#
# The stand-in is a debootstrap minbase of bookworm (the release and glibc of the real images) with this
# machine's node 20 and npm, its CA bundle (the npm registry may be reached through a TLS proxy whose CA
# is only in that bundle), and a `node` user and group with uid and gid 1000, as in the real images.
# Unlike the full node:20-bookworm it has no compilers: every native dependency must come prebuilt. Like
# Debian's own images (debuerreotype), apt deletes the packages it downloaded once they are installed, and
# like the slim ones, dpkg leaves out documentation, manual pages and translations: without both, an
# `apt-get install` layer here would be some 250 MB larger than the same layer on the real base.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Our own containers.conf instead of the system's (see the file for why); the test uses it too.
export CONTAINERS_CONF="$here/containers.conf"

slim=localhost/node:20-bookworm-slim
full=localhost/node:20-bookworm
# Raised whenever the stand-in's recipe changes, so that an older stand-in is made again.
revision=2

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "image-test: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# True when image $1 is there and is either a real node image (no stand-in label) or this revision's
# stand-in.
current() {
  podman image exists "$1" || return 1
  local label
  label="$(podman image inspect --format '{{index .Labels "facedetect.stand-in"}}' "$1")"
  case "$label" in "" | "<no value>" | "$revision") return 0 ;; *) return 1 ;; esac
}
if current node:20-bookworm-slim && current node:20-bookworm; then
  echo "image-test: base images present"
  exit 0
fi

node_version="$(node -p 'process.versions.node')"
case "$node_version" in
  20.*) ;;
  *) echo "image-test: the stand-in copies this machine's node, which must be 20.x, not $node_version" >&2; exit 1 ;;
esac
node_bin="$(readlink -f "$(command -v node)")"
npm_dir="$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca_bundle" ] || { echo "image-test: no CA bundle at $ca_bundle" >&2; exit 1; }

# The mirror this machine's apt uses, so that debootstrap and the image's own apt-get reach what works here.
sources=(/etc/apt/sources.list.d/*.sources)
mirror="$(sed -n 's/^URIs: *\([^ ]*\/debian\)\/\{0,1\}$/\1/p' "${sources[@]}" 2>/dev/null | head -n 1)"
mirror="${mirror:-http://deb.debian.org/debian}"

root="$(mktemp -d /var/tmp/node-bookworm.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "image-test: debootstrap bookworm from $mirror"
# Bounded: a mirror that stops answering fails the run instead of hanging CI (27 s to 1.5 min here).
timeout 900 debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
  || { tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# The image's apt reads the same deb822 sources (bookworm, -updates, -security) as the real images do.
if [ -e "${sources[0]}" ]; then
  rm -f "$root/etc/apt/sources.list"
  cp "${sources[@]}" "$root/etc/apt/sources.list.d/"
fi
printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
  'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/linda/*' \
  'path-exclude /usr/share/lintian/overrides/*' 'path-exclude /usr/share/locale/*' \
  'path-include /usr/share/locale/locale.alias' 'path-exclude /usr/share/man/*' \
  >"$root/etc/dpkg/dpkg.cfg.d/docker"
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/groff" "$root/usr/share/info" "$root/usr/share/lintian/overrides" \
  "$root/usr/share/man" -mindepth 1 -delete 2>/dev/null || true
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
printf '%s\n' "DPkg::Post-Invoke { $clean };" "APT::Update::Post-Invoke { $clean };" \
  'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' >"$root/etc/apt/apt.conf.d/docker-clean"
echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
# Services that packages install are not started inside a build.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

install -D -m 0644 "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
chroot "$root" node --version >/dev/null

# Only the localhost/ names: a stand-in of an older revision goes, a pulled image is not touched.
podman rmi --ignore "$slim" "$full" >/dev/null
tar -C "$root" --numeric-owner -c . \
  | podman import --quiet \
    --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
    --change "ENV NODE_VERSION=$node_version" \
    --change 'CMD ["node"]' \
    --change "LABEL facedetect.stand-in=$revision" \
    --message "stand-in for node:20-bookworm(-slim), made by scripts/image-test/prepare-base.sh" \
    - "$slim" >/dev/null
podman tag "$slim" "$full"
echo "image-test: imported $slim and $full (node $node_version)"
