//! Everything between the socket and the channel: the HTTP receiver
//! (connections, TLS, authentication, content negotiation, limits), decoding,
//! forwarding to a backend (forward mode), the problem rules applied to each
//! decoded request (`check`), and the normalized model the consumers read.

pub mod auth;
mod body;
pub mod check;
mod client_cert;
mod conn;
pub mod content;
pub mod decode;
pub mod forward;
mod handler;
mod http_failure;
mod listener;
pub mod model;
pub mod negotiate;
pub mod queue;
pub mod raw;
mod recording;
pub mod server;
mod tls_failure;
pub mod web_config;
