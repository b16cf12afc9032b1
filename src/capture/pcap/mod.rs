//! Packet captures (`tcpdump -w`, pcap and pcapng) read as requests: packets
//! (pcap-parser) ─▶ link, IP and TCP headers (etherparse) ─▶ TCP reassembly per
//! stream ─▶ HTTP/1.1 requests ─▶ the remote-write POSTs, with the time of the
//! packet that completed each and the sender's address. What could not be
//! reassembled is reported and skipped; reading goes on.

mod request;
mod tcp;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};

use super::{Damage, Exchange, Source};
use tcp::{Segment, Streams};

/// Bytes of the file held at once: larger than any packet (tcpdump's snap length
/// is 262,144 bytes).
const READ_BUFFER: usize = 1 << 20;

/// How the packets of one interface are laid out and timed.
#[derive(Clone, Copy)]
struct Interface {
    linktype: Linktype,
    /// Timestamp units per second.
    resolution: u64,
    offset: u64,
}

/// Requests read from a pcap or pcapng file.
pub struct PcapSource {
    reader: Box<dyn PcapReaderIterator + Send>,
    interfaces: Vec<Interface>,
    streams: Streams,
    ready: VecDeque<Exchange>,
    packets: u64,
    ended: bool,
}

impl PcapSource {
    /// Reads packets from `input`, a pcap or pcapng file from its first byte.
    pub fn new(input: impl std::io::Read + Send + 'static) -> Result<Self, String> {
        let reader = pcap_parser::create_reader(READ_BUFFER, input)
            .map_err(|e| format!("not a readable packet capture ({e:?})"))?;
        Ok(PcapSource {
            reader,
            interfaces: Vec::new(),
            streams: Streams::default(),
            ready: VecDeque::new(),
            packets: 0,
            ended: false,
        })
    }

    /// Reads the next block; `Ok(false)` at the end of the file.
    fn read_block(&mut self) -> Result<bool, Damage> {
        let (offset, packet) = loop {
            match self.reader.next() {
                Ok((offset, block)) => break (offset, packet_of(&mut self.interfaces, block)),
                Err(PcapError::Eof) => return Ok(false),
                Err(PcapError::Incomplete(_)) => {
                    if let Err(e) = self.reader.refill() {
                        let problem = describe(&e);
                        return Err(self.damage(problem));
                    }
                }
                Err(e) => {
                    let problem = describe(&e);
                    return Err(self.damage(problem));
                }
            }
        };
        self.reader.consume(offset);
        if let Some((time, data, linktype)) = packet {
            self.packets += 1;
            if let Some(segment) = tcp_segment(&data, linktype, time) {
                self.streams.segment(&segment, &mut self.ready);
            }
        }
        Ok(true)
    }

    fn damage(&self, problem: String) -> Damage {
        Damage {
            offset: self.reader.consumed() as u64,
            record: self.packets + 1,
            problem,
        }
    }
}

/// A packet's time, bytes and link type; `None` for other blocks, which may
/// describe the interfaces packets come from.
fn packet_of(
    interfaces: &mut Vec<Interface>,
    block: PcapBlockOwned<'_>,
) -> Option<(SystemTime, Vec<u8>, Linktype)> {
    {
        match block {
            PcapBlockOwned::LegacyHeader(header) => {
                let resolution = if header.is_nanosecond_precision() {
                    1_000_000_000
                } else {
                    1_000_000
                };
                *interfaces = vec![Interface {
                    linktype: header.network,
                    resolution,
                    offset: 0,
                }];
                None
            }
            PcapBlockOwned::Legacy(packet) => {
                let interface = *interfaces.first()?;
                let time = UNIX_EPOCH
                    + Duration::from_secs(u64::from(packet.ts_sec))
                    + Duration::from_nanos(
                        u64::from(packet.ts_usec) * (1_000_000_000 / interface.resolution),
                    );
                Some((time, packet.data.to_vec(), interface.linktype))
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                interfaces.clear();
                None
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                interfaces.push(Interface {
                    linktype: idb.linktype,
                    resolution: pcap_parser::build_ts_resolution(idb.if_tsresol)
                        .unwrap_or(1_000_000),
                    offset: u64::try_from(idb.if_tsoffset).unwrap_or(0),
                });
                None
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let interface = *interfaces.get(epb.if_id as usize)?;
                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let units =
                    units.saturating_add(interface.offset.saturating_mul(interface.resolution));
                let time = UNIX_EPOCH
                    + Duration::from_secs(units / interface.resolution)
                    + Duration::from_nanos(
                        (units % interface.resolution) * 1_000_000_000 / interface.resolution,
                    );
                let captured = epb.data.get(..epb.caplen as usize).unwrap_or(epb.data);
                Some((time, captured.to_vec(), interface.linktype))
            }
            PcapBlockOwned::NG(_) => None,
        }
    }
}

fn describe(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
            "the file ends inside a packet".into()
        }
        PcapError::BufferTooSmall => format!("a block over {READ_BUFFER} bytes"),
        PcapError::ReadError => "reading failed".into(),
        other => format!("a malformed block ({other:?})"),
    }
}

/// The TCP segment a packet carries, if any.
fn tcp_segment(data: &[u8], linktype: Linktype, time: SystemTime) -> Option<Segment<'_>> {
    let packet = match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        // SLL2 (`tcpdump -i any` on newer systems): a 20-byte header.
        Linktype::LINUX_SLL2 => SlicedPacket::from_ip(data.get(20..)?),
        // BSD loopback: a 4-byte address family.
        Linktype::NULL | Linktype::LOOP => SlicedPacket::from_ip(data.get(4..)?),
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 | Linktype(12) | Linktype(14) => {
            SlicedPacket::from_ip(data)
        }
        _ => return None,
    }
    .ok()?;
    let (source, destination) = match packet.net? {
        NetSlice::Ipv4(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        NetSlice::Ipv6(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        _ => return None,
    };
    let TransportSlice::Tcp(tcp) = packet.transport? else {
        return None;
    };
    Some(Segment {
        from: SocketAddr::new(source, tcp.source_port()),
        to: SocketAddr::new(destination, tcp.destination_port()),
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        payload: tcp.payload(),
        time,
    })
}

impl Iterator for PcapSource {
    type Item = Result<Exchange, Damage>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(exchange) = self.ready.pop_front() {
                return Some(Ok(exchange));
            }
            if self.ended {
                return None;
            }
            match self.read_block() {
                Ok(true) => {}
                Ok(false) => {
                    self.ended = true;
                    self.streams.finish();
                }
                Err(damage) => {
                    self.ended = true;
                    self.streams.finish();
                    return Some(Err(damage));
                }
            }
        }
    }
}

impl Source for PcapSource {
    fn skipped(&self) -> u64 {
        self.streams.notes.not_post
    }

    fn notes(&self) -> Vec<String> {
        let n = &self.streams.notes;
        let mut notes = n.messages.clone();
        let counts = [
            (
                n.retransmitted,
                "retransmitted segments (their repeated bytes were dropped)",
            ),
            (n.gaps, "gaps where bytes were never captured"),
            (
                n.not_http,
                "connections that are not HTTP/1.1 requests (TLS? HTTP/2?)",
            ),
            (
                n.dropped_streams,
                "connections dropped while over 4,096 were open at once",
            ),
        ];
        for (count, what) in counts {
            if count > 0 {
                notes.push(format!("{count} {what}"));
            }
        }
        notes
    }
}
