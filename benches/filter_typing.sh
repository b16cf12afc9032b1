#!/usr/bin/env bash
# Filter typing under load, key to echo: runs tests/filter_echo.rs, the pty
# harness (two release binaries in pseudo-terminals at 200x50, one with 1M
# series and 200k samples/s coming, a control with 2k series; keys interleaved;
# each key timed from writing it to the pty to reading the output that puts it
# on the filter line). This script used to drive tmux and poll
# `tmux capture-pane` every 2 ms: its figures (65-71 ms, a control of 45 ms)
# were mostly that polling, not the dashboard (see BENCHMARKS.md).
#
# Usage: benches/filter_typing.sh [--no-build]
#   SERIES_PER_METRIC=100000  ten metrics of these (1M series)
#   RATE=200000               samples/s sent while typing
#   REQUEST_SERIES=2000       series in each request while typing
#   FILTER='id="[0-9]{3}9"'   what is typed
#   GAP_MS=200                between keys to one dashboard
#   ROUNDS=4                  times the filter is typed
#   PROMSCOPE_BIN             the binary (default: target/release/promscope,
#                             in CARGO_TARGET_DIR if set)
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
[[ "${1:-}" == "--no-build" ]] || cargo build --release --quiet
export PROMSCOPE_BIN=${PROMSCOPE_BIN:-$target/release/promscope}
exec cargo test --quiet --test filter_echo -- --ignored --nocapture
