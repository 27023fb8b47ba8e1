//! A TLS front for the fake server, standing in for what the real CometAPI offers:
//! HTTPS, with HTTP/2 negotiated by ALPN. It forwards every request over HTTP/1.1 to a
//! fake server (so every fake endpoint and fault works behind it) and records, per
//! request, the protocol it arrived in and the connection it came on.
//!
//! The certificate (`tls/server.pem`, for 127.0.0.1, valid until 2126) is signed by
//! `tls/ca.pem`; a client trusts it through `SSL_CERT_FILE`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{crypto, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// One request as the front saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `HTTP/2.0` or `HTTP/1.1`.
    pub version: String,
    /// Which TLS connection it came on, counted from 0.
    pub connection: usize,
    pub path: String,
}

pub struct TlsFront {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// TCP connections accepted, whether or not their TLS handshake succeeded.
    dialled: Arc<AtomicUsize>,
}

/// The protocols a front offers in its ALPN list.
pub const HTTP2_AND_1: &[&[u8]] = &[b"h2", b"http/1.1"];
pub const HTTP1_ONLY: &[&[u8]] = &[b"http/1.1"];

impl TlsFront {
    /// Starts a front on a free port forwarding to `backend_root` ("http://127.0.0.1:N"),
    /// offering `protocols` by ALPN.
    pub fn start(backend_root: &str, protocols: &[&[u8]]) -> TlsFront {
        let acceptor = TlsAcceptor::from(Arc::new(server_config(protocols)));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the TLS front");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let dialled = Arc::new(AtomicUsize::new(0));
        let front = Front {
            backend: backend_root.to_string(),
            client: reqwest::Client::builder()
                .http1_only()
                .no_proxy() // the fake server is on loopback, whatever the machine's proxy
                .build()
                .expect("backend client"),
            seen: Arc::clone(&seen),
            connections: AtomicUsize::new(0),
            dialled: Arc::clone(&dialled),
        };
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("front runtime");
            runtime.block_on(serve(listener, acceptor, Arc::new(front)));
        });
        TlsFront {
            addr,
            seen,
            dialled,
        }
    }

    /// "https://127.0.0.1:PORT/v1"
    pub fn base_url(&self) -> String {
        format!("https://{}/v1", self.addr)
    }

    /// Every request forwarded so far, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen mutex").clone()
    }

    /// How many TCP connections were made to the front, handshakes that failed
    /// included.
    pub fn dialled(&self) -> usize {
        self.dialled.load(Ordering::SeqCst)
    }

    /// The CA that signed the front's certificate, for `SSL_CERT_FILE`.
    pub fn ca_file() -> PathBuf {
        tls_dir().join("ca.pem")
    }
}

struct Front {
    backend: String,
    client: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// TLS connections established, numbering them.
    connections: AtomicUsize,
    dialled: Arc<AtomicUsize>,
}

fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/tls")
}

fn server_config(protocols: &[&[u8]]) -> ServerConfig {
    let certs = CertificateDer::pem_file_iter(tls_dir().join("server.pem"))
        .expect("server.pem")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(tls_dir().join("server.key")).expect("server.key");
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("certificate and key");
    config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
    config
}

async fn serve(listener: std::net::TcpListener, acceptor: TlsAcceptor, front: Arc<Front>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        front.dialled.fetch_add(1, Ordering::SeqCst);
        let (acceptor, front) = (acceptor.clone(), Arc::clone(&front));
        tokio::spawn(async move {
            // A client that gives up on the handshake (an untrusted certificate) is fine.
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let connection = front.connections.fetch_add(1, Ordering::SeqCst);
            let service = service_fn(move |request| {
                let front = Arc::clone(&front);
                async move { front.forward(request, connection).await }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

impl Front {
    /// Sends `request` on to the fake server and streams its reply back.
    async fn forward(
        &self,
        request: hyper::Request<Incoming>,
        connection: usize,
    ) -> Result<hyper::Response<reqwest::Body>, reqwest::Error> {
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        self.seen.lock().expect("seen mutex").push(Seen {
            version: format!("{:?}", request.version()),
            connection,
            path: path.clone(),
        });
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let mut onward = self
            .client
            .request(parts.method, format!("{}{path}", self.backend))
            .body(body);
        for (name, value) in &parts.headers {
            if name != "host" {
                onward = onward.header(name, value);
            }
        }
        let reply = onward.send().await?;
        let mut back = hyper::Response::builder().status(reply.status());
        for (name, value) in reply.headers() {
            // Connection-level headers are HTTP/1.1's; HTTP/2 forbids them.
            if !matches!(
                name.as_str(),
                "connection" | "transfer-encoding" | "keep-alive"
            ) {
                back = back.header(name, value);
            }
        }
        Ok(back.body(reqwest::Body::from(reply)).expect("reply"))
    }
}
