#!/usr/bin/env bash
# Fetches and builds the real senders the end-to-end tests run, each pinned, into a cache
# dir (${PROMSCOPE_CACHE:-$HOME/.cache/promscope}); a second run reuses what is there.
#
#   eval "$(tests/fetch_senders.sh [SENDER...])"      # default: all of them
#
# Prints shell assignments on stdout (progress goes to stderr):
#   prometheus2  PROMETHEUS2_BIN  Prometheus 2.42, Debian 12's package (RW 1.0 only)
#   prometheus3  PROMETHEUS3_BIN  Prometheus 3.5, the package from Debian unstable (sid)
#   prometheus   PROMETHEUS_BIN, PROMTOOL_BIN   Prometheus and promtool 3.16.0, built with Go
#                from the Go module proxy (module version v0.316.0)
#   vmagent      VMAGENT_BIN      vmagent v1.153.0, built with Go 1.27.3 from the Go module proxy
#                (GOTOOLCHAIN=go1.27.3 for that build alone; the go command fetches the
#                toolchain, ~76 MB, into the cache's module cache the first time)
#   python       E2E_PYTHON       a venv with tests/e2e/requirements.txt (the OpenTelemetry
#                Python SDK and its Prometheus remote-write exporter, bcrypt)
#   npm          E2E_NODE_PATH    node_modules of tests/e2e/npm (prometheus-remote-write 0.5.1)
# Debian packages are fetched with `apt-get download` and unpacked with `dpkg -x`, without
# touching the machine's apt configuration (needs root for `apt-get update` when the package
# lists are missing or stale). Go builds use a module and build cache inside the cache dir,
# so deleting that dir makes the next run cold.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PROMETHEUS_VERSION=3.16.0
PROMETHEUS_MODULE_VERSION=v0.316.0 # module versions v0.3XX.Y are Prometheus 3.XX.Y
VMAGENT_VERSION=v1.153.0
VMAGENT_GOTOOLCHAIN=go1.27.3 # its go.mod says go 1.27.1: see fetch_vmagent

cache="${PROMSCOPE_CACHE:-${HOME:-/tmp}/.cache/promscope}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

log() { echo "fetch_senders: $*" >&2; }

# works BIN [VERSION]: true when BIN exists and prints its version (containing VERSION).
works() { [[ -x "$1" ]] && "$1" --version 2>&1 | grep -qF -- "${2:-}"; }

# unpack DEB DIR: extracts DEB into DIR (replacing what was there).
unpack() {
    rm -rf "$2.tmp"
    dpkg -x "$1" "$2.tmp"
    rm -rf "$2"
    mv "$2.tmp" "$2"
}

# --- Prometheus 2.x from the machine's own suite (Debian 12: 2.42) ---------------------
fetch_prometheus2() {
    local dir="$cache/prometheus2" bin="$cache/prometheus2/root/usr/bin/prometheus"
    if ! works "$bin"; then
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
    fi
    printf 'PROMETHEUS2_BIN=%q\n' "$bin"
}

# --- Prometheus 3.x from Debian unstable, with a private apt state --------------------
fetch_prometheus3() {
    local dir="$cache/prometheus3" bin="$cache/prometheus3/root/usr/bin/prometheus"
    if ! works "$bin"; then
        mkdir -p "$dir/lists/partial" "$dir/etc" "$dir/deb" "$dir/apt-cache/archives/partial"
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
        log "updating a private sid package list in $dir/lists"
        apt-get "${o[@]}" update -q >&2
        (cd "$dir/deb" && apt-get "${o[@]}" download -q prometheus >&2)
        unpack "$dir"/deb/prometheus_*.deb "$dir/root"
        works "$bin" || { log "unpacked $bin does not run"; exit 1; }
    fi
    printf 'PROMETHEUS3_BIN=%q\n' "$bin"
}

# --- Go builds from the module proxy -------------------------------------------------
# go_build OUT_DIR MODULE VERSION PACKAGE... [-- GO_BUILD_FLAGS...]: builds the packages
# (paths inside MODULE) at the pinned VERSION into OUT_DIR, with the machine's Go, or with
# the toolchain $GO_TOOLCHAIN names (the go command fetches it from the module proxy into
# the module cache once). `go install pkg@version` refuses modules whose go.mod has replace
# directives: those are built inside the module cache copy instead. Runs in a subshell, so
# that its Go settings stay with this one build.
go_build() (
    local out="$1" module="$2" version="$3" pkg dir
    shift 3
    local pkgs=() flags=()
    while (($#)) && [[ "$1" != -- ]]; do
        pkgs+=("$1")
        shift
    done
    (($#)) && shift && flags=("$@")
    mkdir -p "$out"
    export GOPATH="$cache/go" GOCACHE="$cache/go-build" GOTOOLCHAIN="${GO_TOOLCHAIN:-local}"
    export GOFLAGS="${GOFLAGS:-} -modcacherw" # so that rm -rf of the cache works
    command -v go >/dev/null || { log "go is needed to build $module"; exit 1; }
    log "building $module@$version (${pkgs[*]}) with $(go version)"
    dir="$(go mod download -json "$module@$version" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')"
    if grep -qE '^replace\b' "$dir/go.mod"; then
        for pkg in "${pkgs[@]}"; do
            (cd "$dir" && go build ${flags[@]+"${flags[@]}"} -o "$out/" "./$pkg" >&2)
        done
    else
        local targets=()
        for pkg in "${pkgs[@]}"; do
            targets+=("$module/$pkg@$version")
        done
        GOBIN="$out" go install ${flags[@]+"${flags[@]}"} "${targets[@]}" >&2
    fi
)

fetch_prometheus() {
    local dir="$cache/prometheus-$PROMETHEUS_MODULE_VERSION/bin" v=github.com/prometheus/common/version
    if ! works "$dir/prometheus" "version $PROMETHEUS_VERSION " || ! works "$dir/promtool"; then
        # The version stamped as Prometheus's own build does (its User-Agent and
        # prometheus_build_info say 3.16.0), and without the cloud service discoveries
        # (Prometheus's own build tag): the tests use static targets, and the Kubernetes,
        # AWS, Azure... SDKs are most of the build time.
        go_build "$dir" github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION" \
            cmd/prometheus cmd/promtool -- -tags=remove_all_sd \
            -ldflags="-X $v.Version=$PROMETHEUS_VERSION -X $v.Revision=$PROMETHEUS_MODULE_VERSION -X $v.Branch=go-module-proxy"
        works "$dir/prometheus" "version $PROMETHEUS_VERSION " \
            || { log "built $dir/prometheus does not run or is not $PROMETHEUS_VERSION"; exit 1; }
    fi
    printf 'PROMETHEUS_BIN=%q\nPROMTOOL_BIN=%q\n' "$dir/prometheus" "$dir/promtool"
}

# vmagent's go.mod says `go 1.27.1` from v1.152.0 on (VictoriaMetrics moved its builder to
# Go 1.27.1), so a machine with Go 1.26 builds it with GOTOOLCHAIN=go1.27.3: the go command
# fetches that toolchain from the module proxy like a module, into $cache/go (kept, so a
# second run neither fetches nor builds anything). Only this build uses it: Prometheus is
# built with the machine's Go (GOTOOLCHAIN=local). Tried on 2026-12-03, both with Go
# 1.27.3: v1.153.0 (the newest version `go get` took then; its changelog calls it a release
# candidate) and v1.152.0 build and pass tests/e2e_vmagent.sh, and send what v1.151.0 sent
# (the same headers and protocols, the same records; their changelogs name no remote-write
# change but metadata no longer sent to -remoteWrite.mdx.enable URLs). Newer ones were not
# tried (`go get` failed or was not tried for them).
fetch_vmagent() {
    local dir="$cache/vmagent-$VMAGENT_VERSION/bin"
    if ! works "$dir/vmagent" "vmagent-$VMAGENT_VERSION"; then
        GO_TOOLCHAIN="$VMAGENT_GOTOOLCHAIN" \
            go_build "$dir" github.com/VictoriaMetrics/VictoriaMetrics "$VMAGENT_VERSION" app/vmagent \
            -- -ldflags="-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=vmagent-$VMAGENT_VERSION"
        works "$dir/vmagent" "vmagent-$VMAGENT_VERSION" || { log "built $dir/vmagent does not run"; exit 1; }
    fi
    printf 'VMAGENT_BIN=%q\n' "$dir/vmagent"
}

# --- Python and npm packages, in directories named after their pinned lists ----------
fingerprint() { cat "$@" | sha256sum | cut -c1-12; }

fetch_python() {
    local req=tests/e2e/requirements.txt dir
    dir="$cache/python-$(fingerprint "$req")"
    if [[ ! -f "$dir/installed" ]]; then
        log "installing $req into a venv in $dir"
        rm -rf "$dir"
        python3 -m venv "$dir"
        "$dir/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
        touch "$dir/installed"
    fi
    printf 'E2E_PYTHON=%q\n' "$dir/bin/python"
}

fetch_npm() {
    local src=tests/e2e/npm dir
    dir="$cache/npm-$(fingerprint "$src/package.json" "$src/package-lock.json")"
    if [[ ! -f "$dir/installed" ]]; then
        command -v npm >/dev/null || { log "npm is needed"; exit 1; }
        log "installing $src/package-lock.json into $dir"
        rm -rf "$dir"
        mkdir -p "$dir"
        cp "$src/package.json" "$src/package-lock.json" "$dir/"
        (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts >&2)
        touch "$dir/installed"
    fi
    printf 'E2E_NODE_PATH=%q\n' "$dir/node_modules"
}

senders=("$@")
if ((${#senders[@]} == 0)); then
    senders=(prometheus2 prometheus3 prometheus vmagent python npm)
fi
for s in "${senders[@]}"; do
    case "$s" in
    prometheus2 | prometheus3 | prometheus | vmagent | python | npm) "fetch_$s" ;;
    *)
        log "unknown sender $s"
        exit 2
        ;;
    esac
done
