//! promscope::fuzzing::decode_rw2 under a bounded allocator.
#![no_main]

promscope_fuzz::target!(decode_rw2);
