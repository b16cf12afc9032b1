#!/usr/bin/env bash
# An HTTP/1.1 pass-through on tokio (benches/passthru/, a bench peer: no checks, no
# header rewriting, no inspection) standing in for a forwarder in the forward benches,
# as benches/relay.sh does for a byte relay: what the least an HTTP-aware Rust forwarder
# costs per request here, against promscope's forward mode in the same run:
#
#   benches/forward_ab.sh benches/passthru.sh target/release/promscope
#
# PASSTHRU_RUNTIME=current_thread runs it on one thread (as promscope's forwarding
# runtime runs on 2 cores) instead of a worker per core.
#
# Built on first use into ${TMPDIR:-/tmp}/promscope-bench-passthru (cargo, from the
# registry's tokio and httparse, the versions promscope uses).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${TMPDIR:-/tmp}/promscope-bench-passthru"
bin="$target/release/promscope-bench-passthru"
if [[ ! -x "$bin" || "$here/passthru/src/main.rs" -nt "$bin" ]]; then
    cargo build --quiet --release --manifest-path "$here/passthru/Cargo.toml" --target-dir "$target" >&2
fi
listen="" forward=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --listen) listen="$2"; shift 2 ;;
    --forward) forward="$2"; shift 2 ;;
    send) echo "passthru.sh stands in for a forwarder only: pass promscope as the other binary" >&2; exit 2 ;;
    *) shift ;;
    esac
done
[[ -n "$listen" && -n "$forward" ]] || { echo "passthru.sh: needs --listen ADDR:PORT and --forward URL" >&2; exit 2; }
exec "$bin" --listen "$listen" --forward "$forward"
