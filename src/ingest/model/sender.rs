//! Who sent a request: its User-Agent, address and tenant.

use std::net::IpAddr;

use super::RequestInfo;
use crate::text;

/// A sender: User-Agent, peer IP address, and the tenant it writes as (one
/// Prometheus writing to two tenants is two remote-write queues: two senders).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sender {
    /// User-Agent header ("" when absent), cut to [`MAX_USER_AGENT_BYTES`].
    pub user_agent: String,
    /// Peer address.
    pub ip: Option<IpAddr>,
    /// The tenant (`X-Scope-OrgID`, `THANOS-TENANT`, VictoriaMetrics' path),
    /// cut to [`MAX_USER_AGENT_BYTES`].
    pub tenant: Option<String>,
}

/// Longest User-Agent kept; longer ones end with `…`. Real senders' are well
/// under 100 bytes; a header can be far longer.
pub const MAX_USER_AGENT_BYTES: usize = 256;

impl Sender {
    /// The sender of a request.
    pub fn of(info: &RequestInfo) -> Self {
        let ua = info.user_agent.as_deref().unwrap_or_default();
        Sender {
            user_agent: text::bounded(ua, MAX_USER_AGENT_BYTES),
            ip: info.remote_addr.map(|a| a.ip()),
            tenant: info
                .tenant
                .as_deref()
                .map(|t| text::bounded(t, MAX_USER_AGENT_BYTES)),
        }
    }

    /// `User-Agent @ ip`, without the tenant (for where it has a place of its own).
    pub fn agent_and_ip(&self) -> String {
        Sender {
            tenant: None,
            ..self.clone()
        }
        .to_string()
    }
}

impl Sender {
    /// The User-Agent, or `(no User-Agent)`.
    pub fn agent(&self) -> &str {
        if self.user_agent.is_empty() {
            "(no User-Agent)"
        } else {
            &self.user_agent
        }
    }
}

impl std::fmt::Display for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ua = self.agent();
        match self.ip {
            Some(ip) => write!(f, "{ua} @ {ip}")?,
            None => f.write_str(ua)?,
        }
        match &self.tenant {
            Some(tenant) => write!(f, " tenant {tenant}"),
            None => Ok(()),
        }
    }
}
