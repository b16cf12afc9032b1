//! TLS and authentication of the listener, configured as Prometheus's web
//! configuration file configures them: HTTPS with certificates made by the
//! test, every client certificate policy, basic auth against bcrypt hashes,
//! and bearer tokens (`--auth-token-file`).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use common::pki::{Identity, Pki, TLS_ONLY, pki, receiver, receiver_with, with_client_auth};
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use promscope::ingest::model::{Outcome, RejectReason};
use promscope::ingest::server::Limits;
use promscope::store::{Store, StoreLimits};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

/// POSTs a good RW1 request over HTTPS, trusting the test CA and presenting
/// `identity`; the status, or what failed.
async fn https_post(
    addr: SocketAddr,
    pki: &Pki,
    identity: Option<&Identity>,
    headers: &[(&str, &str)],
) -> Result<StatusCode, String> {
    let config = pki.client_config(identity, rustls::DEFAULT_VERSIONS);
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut req = Request::post(format!("https://localhost:{}/api/v1/write", addr.port()));
    for (k, v) in [RW1_HEADERS, headers].concat() {
        req = req.header(k, v);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::from(rw1_body(&[1.0])))).unwrap())
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    Ok(status)
}

#[tokio::test]
async fn https_with_the_certificate_of_the_web_config_file() {
    let pki = pki();
    let mut r = receiver(&pki.dir, TLS_ONLY, None).await;
    assert_eq!(
        https_post(r.addr, &pki, None, &[]).await,
        Ok(StatusCode::NO_CONTENT)
    );
    assert_eq!(r.next_batch().await.outcome, Outcome::Accepted);
    // Plain HTTP to the TLS port is told to use https, and shown as rejected.
    let plain = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<Full<Bytes>>()
            .request(
                Request::post(format!("http://{}/api/v1/write", r.addr))
                    .header("user-agent", "plain/1.0")
                    .body(Full::new(Bytes::from(rw1_body(&[1.0]))))
                    .unwrap(),
            ),
    )
    .await
    .expect("an answer within 10 s")
    .expect("an HTTP answer");
    assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
    let said = plain.into_body().collect().await.unwrap().to_bytes();
    assert!(
        String::from_utf8_lossy(&said).contains("use https:// in the sender's remote-write URL"),
        "{said:?}"
    );
    let batch = r.next_batch().await;
    assert!(
        matches!(
            batch.outcome,
            Outcome::Rejected {
                status: 400,
                reason: RejectReason::BadHttp,
                ..
            }
        ),
        "{:?}",
        batch.outcome
    );
    assert_eq!(batch.info.user_agent.as_deref(), Some("plain/1.0"));
}

#[tokio::test]
async fn plain_http_to_the_tls_port_makes_room_when_the_connections_are_at_their_cap() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let pki = pki();
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let r = receiver_with(&pki.dir, TLS_ONLY, None, limits).await;
    // Two plain-HTTP senders that start a head and go silent fill the cap.
    let mut silent = Vec::new();
    for _ in 0..2 {
        let mut conn = tokio::net::TcpStream::connect(r.addr).await.unwrap();
        conn.write_all(b"POST /api/v1/write HTTP/1.1\r\n")
            .await
            .unwrap();
        silent.push(conn);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        https_post(r.addr, &pki, None, &[]).await,
        Ok(StatusCode::NO_CONTENT)
    );
    // One of them (the one idle the longest; they may have come in the same
    // millisecond) was asked to close, and closes now, not when its header
    // timeout (10 s) is over.
    let (mut first, mut second) = (silent.remove(0), silent.remove(0));
    let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
    let read = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        tokio::select! {
            read = first.read(&mut a) => read,
            read = second.read(&mut b) => read,
        }
    })
    .await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "one closed at once, got {read:?}"
    );
}

#[tokio::test]
async fn require_and_verify_client_cert_lets_in_only_clients_the_ca_signed() {
    let pki = pki();
    let mut r = receiver(
        &pki.dir,
        &with_client_auth("RequireAndVerifyClientCert"),
        None,
    )
    .await;
    assert!(https_post(r.addr, &pki, None, &[]).await.is_err());
    assert!(
        https_post(r.addr, &pki, Some(&pki.stranger), &[])
            .await
            .is_err()
    );
    assert_eq!(
        https_post(r.addr, &pki, Some(&pki.client), &[]).await,
        Ok(StatusCode::NO_CONTENT)
    );
    // The two refused handshakes are shown (tests/tls_failures.rs has more).
    for _ in 0..2 {
        let batch = r.next_batch().await;
        assert!(
            matches!(
                batch.outcome,
                Outcome::Rejected {
                    reason: RejectReason::BadTls,
                    ..
                }
            ),
            "{:?}",
            batch.outcome
        );
    }
    assert_eq!(r.next_batch().await.outcome, Outcome::Accepted);
}

#[tokio::test]
async fn verify_client_cert_if_given_refuses_only_strangers() {
    let pki = pki();
    let r = receiver(&pki.dir, &with_client_auth("VerifyClientCertIfGiven"), None).await;
    assert_eq!(
        https_post(r.addr, &pki, None, &[]).await,
        Ok(StatusCode::NO_CONTENT)
    );
    assert_eq!(
        https_post(r.addr, &pki, Some(&pki.client), &[]).await,
        Ok(StatusCode::NO_CONTENT)
    );
    assert!(
        https_post(r.addr, &pki, Some(&pki.stranger), &[])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn require_any_client_cert_takes_any_but_requires_one() {
    let pki = pki();
    let yaml = format!("{TLS_ONLY}  client_auth_type: RequireAnyClientCert\n");
    let r = receiver(&pki.dir, &yaml, None).await;
    assert!(https_post(r.addr, &pki, None, &[]).await.is_err());
    assert_eq!(
        https_post(r.addr, &pki, Some(&pki.stranger), &[]).await,
        Ok(StatusCode::NO_CONTENT)
    );
    let yaml = format!("{TLS_ONLY}  client_auth_type: RequestClientCert\n");
    let r = receiver(&pki.dir, &yaml, None).await;
    assert_eq!(
        https_post(r.addr, &pki, None, &[]).await,
        Ok(StatusCode::NO_CONTENT)
    );
}

fn basic(user: &str, password: &str) -> String {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {credentials}")
}

#[tokio::test]
async fn basic_auth_over_https_right_wrong_and_missing_counted_per_sender() {
    let pki = pki();
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let yaml = format!("{TLS_ONLY}basic_auth_users:\n  prom: {hash}\n");
    let mut r = receiver(&pki.dir, &yaml, None).await;
    let right = basic("prom", "s3cret");
    let wrong = basic("prom", "guess");
    let mut store = Store::new(StoreLimits::default());
    for (authorization, status) in [
        (Some(right.as_str()), StatusCode::NO_CONTENT),
        (Some(wrong.as_str()), StatusCode::UNAUTHORIZED),
        (None, StatusCode::UNAUTHORIZED),
        (Some(right.as_str()), StatusCode::NO_CONTENT),
    ] {
        let headers: Vec<(&str, &str)> = authorization
            .map(|a| ("authorization", a))
            .into_iter()
            .collect();
        assert_eq!(https_post(r.addr, &pki, None, &headers).await, Ok(status));
        let batch = r.next_batch().await;
        if status == StatusCode::UNAUTHORIZED {
            let Outcome::Rejected {
                reason, message, ..
            } = &batch.outcome
            else {
                panic!("{:?}", batch.outcome)
            };
            assert_eq!(*reason, RejectReason::Unauthorized);
            assert!(!message.contains("guess"), "no secret in {message}");
        }
        store.ingest(&batch);
    }
    let totals = store.totals();
    assert_eq!(totals.rejected.get(&RejectReason::Unauthorized), Some(&2));
    let (_, sender) = totals.senders.iter().next().unwrap();
    assert_eq!((sender.answers.accepted, sender.answers.rejected()), (2, 2));
}

#[tokio::test]
async fn a_401_carries_its_challenge() {
    let pki = pki();
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let yaml = format!("basic_auth_users:\n  prom: {hash}\n");
    let r = receiver(&pki.dir, &yaml, Some("tok-1")).await;
    let reply = r.post("/api/v1/write", RW1_HEADERS, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 401);
    let challenges: Vec<_> = reply
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        challenges,
        ["Basic realm=\"promscope\"", "Bearer realm=\"promscope\""]
    );
    assert!(reply.body.contains("missing credentials"), "{}", reply.body);
}

#[tokio::test]
async fn bearer_token_right_and_wrong() {
    let pki = pki();
    let mut r = receiver(&pki.dir, "", Some("tok-1")).await;
    for (token, status) in [("tok-1", 204), ("tok-2", 401), ("tok-1 ", 204)] {
        let authorization = format!("Bearer {token}");
        let headers = [RW1_HEADERS, &[("authorization", authorization.as_str())]].concat();
        let reply = r.post("/api/v1/write", &headers, rw1_body(&[1.0])).await;
        assert_eq!(reply.status, status, "{token:?}: {}", reply.body);
        r.next_batch().await;
    }
    // Basic auth is no way in when only a token is configured.
    let authorization = basic("a", "b");
    let headers = [RW1_HEADERS, &[("authorization", authorization.as_str())]].concat();
    let reply = r.post("/api/v1/write", &headers, rw1_body(&[1.0])).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.headers.get("www-authenticate").unwrap(),
        "Bearer realm=\"promscope\""
    );
}
