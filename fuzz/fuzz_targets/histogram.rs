//! promscope::fuzzing::histogram under a bounded allocator.
#![no_main]

promscope_fuzz::target!(histogram);
