#!/usr/bin/env bash
# Issue 13's overhead at the decode level, in instructions (callgrind), per request:
# snappy + decode (`decompress_and_decode`), decode alone (`decode_only`), and
# `Checker::check` with every rule on and every rule off (`check`), for the three
# requests of benches/decode.rs; ratio = (snappy + decode + check off) /
# (snappy + decode + check on), the throughput with every rule on as a share of off.
#   benches/callgrind_check.sh target/release/deps/decode-<hash>   (cargo bench --bench decode --no-run)
set -euo pipefail
bin="$1"
count="$(dirname "$0")/callgrind_count.sh"
for case in rw1_10k_series_9_labels rw1_avalanche_2000_series rw2_avalanche_2000_series; do
  dd=$("$count" "$bin" "decompress_and_decode::$case" 'promscope::ingest::decode::compression::decompress' 'promscope::ingest::decode::decode')
  d=$("$count" "$bin" "decode_only::$case" 'promscope::ingest::decode::decode')
  on=$("$count" "$bin" "check::true::$case" 'promscope::ingest::check::Checker::check')
  off=$("$count" "$bin" "check::false::$case" 'promscope::ingest::check::Checker::check')
  echo "$case snappy+decode=$dd decode=$d check_on=$on check_off=$off ratio=$(awk -v a="$dd" -v on="$on" -v off="$off" 'BEGIN {printf "%.3f", (a + off) / (a + on)}')"
done
