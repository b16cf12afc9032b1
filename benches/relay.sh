#!/usr/bin/env bash
# A plain TCP relay (benches/relay.c) standing in for a forwarder in the forward
# benches: it takes a headless forwarder's arguments (--listen 127.0.0.1:PORT ...
# --forward http://127.0.0.1:SINK_PORT) and relays bytes, nothing else. Its CPU per
# request is the floor for any forwarder on this machine (the kernel's loopback TCP
# both ways and a thread wake-up per read):
#
#   benches/forward_ab.sh benches/relay.sh target/release/promscope
#
# Built on first use into ${TMPDIR:-/tmp}/promscope-bench-relay (needs cc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${TMPDIR:-/tmp}/promscope-bench-relay"
if [[ ! -x "$bin" || "$here/relay.c" -nt "$bin" ]]; then
    cc -O2 -pthread "$here/relay.c" -o "$bin.$$" && mv "$bin.$$" "$bin"
fi
listen="" forward=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --listen) listen="$2"; shift 2 ;;
    --forward) forward="$2"; shift 2 ;;
    send) echo "relay.sh stands in for a forwarder only: pass promscope as the other binary" >&2; exit 2 ;;
    *) shift ;;
    esac
done
[[ -n "$listen" && -n "$forward" ]] || { echo "relay.sh: needs --listen ADDR:PORT and --forward URL" >&2; exit 2; }
sink_port="${forward##*:}"
sink_port="${sink_port%%/*}"
exec "$bin" "${listen##*:}" "$sink_port"
