#!/usr/bin/env bash
# Builds the lab's own pod images from e2e/tools/labimages (standard library Go, no dependencies):
#   metallb-ts/lab-pause:<tag>  the pod sandbox process (runs as 65535, like the upstream pause)
#   metallb-ts/lab-echo:<tag>   the HTTP backend answering "<pod> on <node>" (runs as 65534)
# <tag> is a short hash of the sources and of this script, so any change gives new images and an
# unchanged tree rebuilds nothing. The static binaries are cached in
# ~/.cache/metallb-ts/labimages-<tag>/; each is wrapped, from scratch, into an OCI archive under
# build/images/lab/<name>.oci.tar with Debian's buildah (vfs storage, chroot isolation: no daemon).
# Progress goes to stderr; the last stdout line is one JSON object (also written to
# build/images/lab/images.json): {"tag","bin","images":[{"name","ref","archive",...}]}.
#   --binaries-only   build (or find) the binaries and print {"tag","bin"} only; buildah not needed
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src="$root/e2e/tools/labimages"
out="$root/build/images/lab"
say() { echo "[lab-images] $*" >&2; }
binaries_only=0
case "${1:-}" in
  --binaries-only) binaries_only=1 ;;
  '') ;;
  *) echo "usage: $0 [--binaries-only]" >&2; exit 2 ;;
esac
names=(pause echo)

# Tests do not change what is built, so they are not part of the tag.
tag=$(cd "$root" && {
  find e2e/tools/labimages -type f \( -name '*.go' -o -name go.mod \) ! -name '*_test.go' -print
  echo e2e/scripts/build-lab-images.sh
} | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
bin="${METALLB_TS_CACHE:-$HOME/.cache/metallb-ts}/labimages-$tag"

missing=()
for n in "${names[@]}"; do [ -x "$bin/$n" ] || missing+=("$n"); done
if [ ${#missing[@]} -eq 0 ]; then
  say "binaries cached: $bin"
else
  command -v go >/dev/null || { say "go is required to build ${missing[*]}"; exit 1; }
  say "building ${missing[*]} (tag $tag) into $bin"
  mkdir -p "$bin.tmp"
  cd "$src"
  export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
  for n in "${missing[@]}"; do
    t0=$(date +%s)
    go build -trimpath -ldflags "-s -w -buildid= -X main.version=$tag" -o "$bin.tmp/$n" "./$n"
    say "built $n in $(($(date +%s) - t0))s ($(stat -c %s "$bin.tmp/$n") bytes)"
  done
  mkdir -p "$bin"
  for n in "${missing[@]}"; do mv "$bin.tmp/$n" "$bin/$n"; done
  rmdir "$bin.tmp" 2>/dev/null || true
fi

if [ "$binaries_only" = 1 ]; then
  printf '{"tag":"%s","bin":"%s"}\n' "$tag" "$bin"
  exit 0
fi

command -v buildah >/dev/null || { say "buildah is required (scripts/setup.sh installs it)"; exit 1; }
buildah() { BUILDAH_ISOLATION=chroot command buildah --storage-driver vfs "$@"; }
# The name:tag an OCI archive holds (its index.json's ref.name annotation), or nothing.
archive_ref() {
  tar -xOf "$1" index.json 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const m=JSON.parse(s).manifests[0];process.stdout.write(m.annotations["org.opencontainers.image.ref.name"]??"")}catch{}})'
}
# "<archive bytes> <compressed layer bytes>" of an OCI archive.
archive_sizes() {
  local digest
  digest=$(tar -xOf "$1" index.json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).manifests[0].digest.replace(/^sha256:/,"")))')
  echo "$(stat -c %s "$1") $(tar -xOf "$1" "blobs/sha256/$digest" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(String(JSON.parse(s).layers.reduce((a,l)=>a+l.size,0))))')"
}

mkdir -p "$out"
entries=()
for n in "${names[@]}"; do
  archive="$out/$n.oci.tar"
  ref="metallb-ts/lab-$n:$tag"
  if [ -f "$archive" ] && [ "$(archive_ref "$archive")" = "$ref" ]; then
    say "$ref: archive present, not rebuilt"
  else
    case "$n" in
      pause) user=65535:65535 extra=() ;;
      echo) user=65534:65534 extra=(--port 8080/tcp --env PORT=8080) ;;
    esac
    t0=$(date +%s)
    ctr=$(buildah from --isolation chroot scratch)
    if ! {
      buildah copy --quiet "$ctr" "$bin/$n" "/$n" >/dev/null &&
        buildah config --created-by "e2e/scripts/build-lab-images.sh" --entrypoint "[\"/$n\"]" --cmd '' --user "$user" --workingdir / "${extra[@]}" \
          --label "org.opencontainers.image.title=metallb-ts-lab-$n" \
          --label "org.opencontainers.image.version=$tag" \
          --label "org.opencontainers.image.description=metallb-ts lab image ($n), built from e2e/tools/labimages" \
          "$ctr" &&
        buildah commit --quiet --format oci --disable-compression=false --timestamp 0 --rm "$ctr" "oci-archive:$archive.tmp:$ref" >/dev/null
    }; then
      buildah rm "$ctr" >/dev/null 2>&1 || true
      rm -f "$archive.tmp"
      say "buildah failed for $ref"
      exit 1
    fi
    mv "$archive.tmp" "$archive"
    say "$ref: built $archive in $(($(date +%s) - t0))s"
  fi
  read -r archive_bytes compressed_bytes < <(archive_sizes "$archive")
  say "$ref: $(stat -c %s "$bin/$n") bytes binary, $compressed_bytes bytes compressed layers, $archive_bytes bytes archive"
  entries+=("$(printf '{"name":"%s","ref":"%s","archive":"%s","archiveBytes":%s,"compressedBytes":%s}' \
    "$n" "$ref" "$archive" "$archive_bytes" "$compressed_bytes")")
done
json=$(printf '{"tag":"%s","bin":"%s","images":[%s]}' "$tag" "$bin" "$(IFS=,; echo "${entries[*]}")")
echo "$json" >"$out/images.json"
echo "$json"
