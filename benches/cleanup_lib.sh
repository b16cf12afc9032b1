# Sourced by bench scripts (not run): a temp dir in $work and processes in bench_pids,
# stopped and removed when the script exits.
bench_pids=()

# bench_work NAME: a fresh temp dir ${TMPDIR:-/tmp}/NAME.XXXXXX in $work; on exit every
# pid in bench_pids gets SIGTERM and is waited for, and the dir is removed.
bench_work() {
    work="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
    trap bench_cleanup EXIT
}

bench_cleanup() {
    local pid
    for pid in ${bench_pids[@]+"${bench_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
