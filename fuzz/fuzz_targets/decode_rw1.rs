//! promscope::fuzzing::decode_rw1 under a bounded allocator.
#![no_main]

promscope_fuzz::target!(decode_rw1);
