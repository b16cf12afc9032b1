//! promscope::fuzzing::decode_vm under a bounded allocator.
#![no_main]

promscope_fuzz::target!(decode_vm);
