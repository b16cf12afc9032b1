//! A sender speaking HTTP/1.1 by hand over TCP: for what a client library
//! will not do (stop mid-request, trickle, hold a connection).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The head of a RW 1.0 request whose body is `len` bytes.
pub fn head(len: usize) -> String {
    format!(
        "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nContent-Length: {len}\r\n\r\n"
    )
}

pub async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

/// A connection that has sent `body` whole as one request.
pub async fn sent_whole(addr: SocketAddr, body: &[u8]) -> TcpStream {
    let mut tcp = connect(addr).await;
    tcp.write_all(head(body.len()).as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    tcp
}

/// The start of the answer's status line (`HTTP/1.1 204`), read within
/// `patience`.
pub async fn status_line(tcp: &mut TcpStream, patience: Duration) -> String {
    let mut answer = [0; 12];
    tokio::time::timeout(patience, tcp.read_exact(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
