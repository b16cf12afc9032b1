#!/usr/bin/env bash
# Fuzzes one target of promscope for a bounded time, with the limits that make a
# hang or an allocation over a bound count as a failure:
#
#   fuzz/run.sh TARGET SECONDS [LIBFUZZER_ARGS...]
#   fuzz/run.sh build          (builds every target, for runs side by side)
#   fuzz/run.sh targets        (lists them)
#
# Builds with cargo-fuzz (optimized, debug assertions and overflow checks on, no
# sanitizer: fuzz/src/lib.rs bounds allocations instead) on the nightly toolchain
# if there is one, else with RUSTC_BOOTSTRAP=1 on the default toolchain, and
# installs cargo-fuzz if it is missing. Starts from the seeds (fuzz/corpus/TARGET)
# and the inputs that once found a defect (fuzz/regressions/TARGET); what the run
# adds goes to a scratch directory ($FUZZ_SCRATCH, default $CARGO_TARGET_DIR or
# target, then fuzz-corpus/TARGET) that later runs start from too, never into
# git. A failing input is written to fuzz/artifacts/TARGET/; exits non-zero then.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage="usage: fuzz/run.sh TARGET SECONDS [LIBFUZZER_ARGS...] | build | targets"
if (($# < 1)); then
    echo "$usage" >&2
    exit 2
fi

if [[ "$1" == targets ]]; then
    for file in fuzz/fuzz_targets/*.rs; do
        basename "$file" .rs
    done
    exit 0
fi

toolchain=()
if rustup run nightly rustc --version >/dev/null 2>&1; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# The same flags for building and running, or running would build again.
build_flags=(--release --debug-assertions --sanitizer none)

if [[ "$1" == build ]]; then
    cargo "${toolchain[@]}" fuzz build "${build_flags[@]}"
    exit 0
fi
if (($# < 2)); then
    echo "$usage" >&2
    exit 2
fi
target="$1"
seconds="$2"
shift 2

# Per target: the longest input, and the slowest one input may be (seconds).
case "$target" in
decode_rw1 | decode_rw2 | decode_vm) max_len=8192 timeout=5 ;;
histogram) max_len=4096 timeout=10 ;;
pipeline) max_len=12288 timeout=10 ;;
*)
    echo "fuzz/run.sh: no target $target (fuzz/run.sh targets lists them)" >&2
    exit 2
    ;;
esac

scratch="${FUZZ_SCRATCH:-${CARGO_TARGET_DIR:-target}/fuzz-corpus}/$target"
mkdir -p "$scratch" "fuzz/artifacts/$target"
corpora=("$scratch" "fuzz/corpus/$target")
if [[ -d "fuzz/regressions/$target" ]]; then
    corpora+=("fuzz/regressions/$target")
fi

# Memory: the targets' allocator fails one block over 64 MiB or all over 1 GiB
# (fuzz/src/lib.rs); -rss_limit_mb bounds the whole process, libFuzzer included.
cargo "${toolchain[@]}" fuzz run "${build_flags[@]}" "$target" "${corpora[@]}" -- \
    -max_total_time="$seconds" \
    -max_len="$max_len" \
    -timeout="$timeout" \
    -rss_limit_mb=2048 \
    -dict=fuzz/promscope.dict \
    -print_final_stats=1 \
    "$@"
