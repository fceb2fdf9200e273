# Sourced by the install scripts: fetch one npm package tarball through npm itself, check its
# SHA-256 against the pinned value, and unpack it. Nothing else is downloaded.
# usage: npm_fetch NAME VERSION SHA256 DEST_DIR   (DEST_DIR receives the package's files)
npm_fetch() {
    local name=$1 version=$2 sha=$3 dest=$4
    local cache="${FACECLOAK_CACHE:-$HOME/.cache/facecloak}/npm"
    local tarball="$cache/$(echo "$name" | sed 's|^@||; s|/|-|')-$version.tgz"
    if [ -f "$dest/.sha256" ] && [ "$(cat "$dest/.sha256")" = "$sha" ]; then
        return 0
    fi
    mkdir -p "$cache"
    if [ ! -f "$tarball" ] || ! echo "$sha  $tarball" | sha256sum --check --status; then
        rm -f "$tarball"
        (cd "$cache" && npm pack --silent "$name@$version" >/dev/null)
    fi
    if ! echo "$sha  $tarball" | sha256sum --check --status; then
        echo "error: $name@$version does not match its pinned SHA-256 ($sha); refusing to use it" >&2
        rm -f "$tarball"
        return 1
    fi
    rm -rf "$dest" && mkdir -p "$dest"
    tar xzf "$tarball" -C "$dest" --strip-components=1
    echo "$sha" > "$dest/.sha256"
}
