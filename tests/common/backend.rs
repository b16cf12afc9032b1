//! A backend for forward-mode tests: a real HTTP server on an ephemeral port
//! that records every request it gets and answers as the test says (status,
//! headers, body, a delay), counting connections and requests in flight.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

/// A request as the backend got it.
#[derive(Debug)]
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// How the backend answers.
#[derive(Debug, Clone)]
pub struct BackendAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl BackendAnswer {
    pub fn status(status: u16) -> Self {
        BackendAnswer {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn with_body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// What the backend counts.
#[derive(Debug, Default)]
pub struct BackendCounts {
    /// Connections accepted.
    pub connections: AtomicUsize,
    /// Requests being answered now.
    pub in_flight: AtomicUsize,
    /// The most requests answered at once.
    pub most_in_flight: AtomicUsize,
}

pub struct TestBackend {
    pub addr: SocketAddr,
    pub received: mpsc::UnboundedReceiver<Received>,
    pub counts: Arc<BackendCounts>,
    answer: Arc<Mutex<BackendAnswer>>,
    server: tokio::task::JoinHandle<()>,
}

impl TestBackend {
    /// A backend on 127.0.0.1 answering every request with `answer`.
    pub async fn start(answer: BackendAnswer) -> Self {
        Self::start_with(answer, None).await
    }

    /// A backend speaking TLS with `tls`.
    pub async fn start_tls(answer: BackendAnswer, tls: Arc<rustls::ServerConfig>) -> Self {
        Self::start_with(answer, Some(tokio_rustls::TlsAcceptor::from(tls))).await
    }

    async fn start_with(answer: BackendAnswer, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, received) = mpsc::unbounded_channel();
        let counts = Arc::new(BackendCounts::default());
        let answer = Arc::new(Mutex::new(answer));
        let server = {
            let (counts, answer) = (counts.clone(), answer.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        return;
                    };
                    counts.connections.fetch_add(1, Ordering::SeqCst);
                    let (tx, counts, answer) = (tx.clone(), counts.clone(), answer.clone());
                    let service = service_fn(move |request| {
                        let (tx, counts, answer) = (tx.clone(), counts.clone(), answer.clone());
                        async move { Ok::<_, Infallible>(serve(request, &tx, &counts, &answer).await) }
                    });
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let http = http1::Builder::new();
                        let _ = match tls {
                            None => http.serve_connection(TokioIo::new(tcp), service).await,
                            Some(acceptor) => match acceptor.accept(tcp).await {
                                Ok(stream) => {
                                    http.serve_connection(TokioIo::new(stream), service).await
                                }
                                Err(_) => return,
                            },
                        };
                    });
                }
            })
        };
        TestBackend {
            addr,
            received,
            counts,
            answer,
            server,
        }
    }

    /// Its URL, with `path` ("" for none).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Its https URL at `host` (its certificate's name), with `path`.
    pub fn https_url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.addr.port())
    }

    /// Answers the next requests with `answer`.
    pub fn answer_with(&self, answer: BackendAnswer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// The next request it got.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(5), self.received.recv())
            .await
            .expect("a request at the backend within 5 s")
            .expect("backend running")
    }

    /// Stops accepting connections (those open stay until their peer closes them).
    pub fn stop(&self) {
        self.server.abort();
    }
}

async fn serve(
    request: Request<hyper::body::Incoming>,
    tx: &mpsc::UnboundedSender<Received>,
    counts: &BackendCounts,
    answer: &Mutex<BackendAnswer>,
) -> Response<Full<Bytes>> {
    let now = counts.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counts.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let _ = tx.send(Received {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
    });
    let answer = answer.lock().unwrap().clone();
    tokio::time::sleep(answer.delay).await;
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap();
    for (name, value) in &answer.headers {
        response.headers_mut().append(
            hyper::header::HeaderName::try_from(name.as_str()).unwrap(),
            value.parse().unwrap(),
        );
    }
    counts.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}
