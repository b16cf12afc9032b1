//! CPU priority for the threads that only look at traffic, in forward mode:
//! when the CPU is short, forwarding (which senders wait for) goes first, and
//! looking at what was forwarded falls behind (and drops, counted) instead.
//!
//! Nice 19 rather than `SCHED_IDLE`: an idle-class thread gets no CPU at all
//! while anything else on the machine is busy, and on a shared host that
//! meant 225 of 500 requests at 100k samples/s went uninspected (nice 19: 4);
//! flat out, forwarding throughput was the same with either (BENCHMARKS.md).

/// A low priority that still gets a slice when the CPU is short (nice 19 on
/// Linux, for the calling thread only): for the inspection thread, whose queue
/// absorbs the wait, and the dashboard, which must go on answering keys,
/// slowly, while forwarding takes the CPU.
pub fn low() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority on this thread's id
        // changes only its own nice value (per thread on Linux), or fails,
        // leaving the priority as it was.
        let _ = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19)
        };
    }
}
