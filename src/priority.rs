//! CPU priority for the threads that only look at traffic, in forward mode:
//! when the CPU is short, forwarding (which senders wait for) goes first, and
//! looking at what was forwarded falls behind (and drops, counted) instead.

/// The lowest priority there is: on Linux `SCHED_IDLE`, CPU time no other
/// thread wants. For work whose queue absorbs the wait (decoding for inspection).
pub fn lowest() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sets the calling thread's (pid 0) policy from a valid
        // sched_param; a failure leaves the priority as it was.
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    }
}

/// A low priority that still gets a slice when the CPU is short (nice 19 on
/// Linux): for a thread a person waits on (the dashboard), which must go on
/// answering keys, slowly, while forwarding takes the CPU.
pub fn low() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority on this thread's id
        // changes only its own nice value (per thread on Linux), or fails.
        let _ = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19)
        };
    }
}
