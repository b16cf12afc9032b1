//! Everything between the socket and the channel: the HTTP receiver, content
//! negotiation, decoding, and the normalized model the consumers read.

pub mod decode;
pub mod model;
pub mod server;
