#!/usr/bin/env bash
# Fetches the two real Prometheus versions the end-to-end test runs against, without
# installing them as services or touching the machine's apt configuration:
#   - Prometheus 2.42 (RW 1.0 only): Debian 12's `prometheus` package;
#   - Prometheus 3.x (RW 1.0 and 2.0, native histograms): the package from Debian unstable (sid).
# Each .deb is fetched with `apt-get download` and unpacked with `dpkg -x` into a cache dir
# (${PROMSCOPE_CACHE:-$HOME/.cache/promscope}); a second run reuses what is there.
#
# Prints shell assignments on stdout, so callers can do
#   eval "$(tests/fetch_prometheus.sh)"
# and then use $PROMETHEUS2_BIN and $PROMETHEUS3_BIN. Progress goes to stderr.
# Needs root (apt-get update) only when the package lists are missing or stale.
set -euo pipefail

cache="${PROMSCOPE_CACHE:-${HOME:-/tmp}/.cache/promscope}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

log() { echo "fetch_prometheus: $*" >&2; }

# works BIN: true when BIN exists and runs.
works() { [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1; }

# unpack DEB DIR: extracts DEB into DIR (replacing what was there).
unpack() {
    rm -rf "$2.tmp"
    dpkg -x "$1" "$2.tmp"
    rm -rf "$2"
    mv "$2.tmp" "$2"
}

# --- Prometheus 2.x from the machine's own suite (Debian 12: 2.42) ---------------------
fetch_v2() {
    local dir="$cache/prometheus2" bin="$cache/prometheus2/root/usr/bin/prometheus"
    if works "$bin"; then
        log "Prometheus 2 already in $dir"
        echo "$bin"
        return
    fi
    mkdir -p "$dir/deb"
    rm -f "$dir"/deb/*.deb
    if ! apt-cache show prometheus >/dev/null 2>&1; then
        log "package lists have no prometheus: running apt-get update"
        apt-get update -q >&2
    fi
    if ! (cd "$dir/deb" && apt-get -o APT::Sandbox::User=root download -q prometheus >&2); then
        log "apt-get download failed: running apt-get update and retrying"
        apt-get update -q >&2
        (cd "$dir/deb" && apt-get -o APT::Sandbox::User=root download -q prometheus >&2)
    fi
    unpack "$dir"/deb/prometheus_*.deb "$dir/root"
    works "$bin" || { log "unpacked $bin does not run"; exit 1; }
    echo "$bin"
}

# --- Prometheus 3.x from Debian unstable, with a private apt state --------------------
fetch_v3() {
    local dir="$cache/prometheus3" bin="$cache/prometheus3/root/usr/bin/prometheus"
    if works "$bin"; then
        log "Prometheus 3 already in $dir"
        echo "$bin"
        return
    fi
    mkdir -p "$dir/lists/partial" "$dir/etc" "$dir/deb"
    rm -f "$dir"/deb/*.deb
    local src=/etc/apt/sources.list.d/debian.sources
    if [[ -f "$src" ]]; then
        # The machine's first deb822 stanza (its main Debian mirror), pointed at sid.
        awk 'BEGIN{RS="";ORS="\n\n"} NR==1' "$src" \
            | sed -e 's/^Suites:.*/Suites: sid/' -e '/^#/d' >"$dir/etc/sid.sources"
    else
        printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: sid' \
            'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
            >"$dir/etc/sid.sources"
    fi
    local o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$dir/etc"
             -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/apt-cache"
             -o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$dir/etc"
             -o APT::Sandbox::User=root
             -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
             -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
             -o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false)
    mkdir -p "$dir/apt-cache/archives/partial"
    log "updating a private sid package list in $dir/lists"
    apt-get "${o[@]}" update -q >&2
    (cd "$dir/deb" && apt-get "${o[@]}" download -q prometheus >&2)
    unpack "$dir"/deb/prometheus_*.deb "$dir/root"
    works "$bin" || { log "unpacked $bin does not run"; exit 1; }
    echo "$bin"
}

v2="$(fetch_v2)"
v3="$(fetch_v3)"
for bin in "$v2" "$v3"; do
    version="$("$bin" --version 2>&1)"
    log "${version%%$'\n'*}"
done
printf 'PROMETHEUS2_BIN=%q\nPROMETHEUS3_BIN=%q\n' "$v2" "$v3"
