//! promscope::fuzzing::pipeline under a bounded allocator.
#![no_main]

promscope_fuzz::target!(pipeline);
