//! HTTPS with HTTP/2 where the server offers it (ALPN), HTTP/1.1 where it does not: the
//! fake server behind a TLS front (`tests/support/tls_front.rs`).

use std::fs;
use std::path::Path;

use assert_cmd::Command;

use crate::sandbox::{stderr_of, stdout_of, Sandbox};
use crate::tls_front::{TlsFront, HTTP1_ONLY, HTTP2_AND_1};

/// `cometapi` talking to `front`, trusting its test CA.
fn through(sandbox: &Sandbox, front: &TlsFront) -> Command {
    let mut cmd = sandbox.cmd_with_key();
    cmd.env("COMETAPI_BASE_URL", front.base_url())
        .env("SSL_CERT_FILE", TlsFront::ca_file());
    cmd
}

fn versions(front: &TlsFront) -> Vec<String> {
    front.seen().into_iter().map(|s| s.version).collect()
}

#[test]
fn a_streamed_chat_takes_http2_when_offered_and_http1_when_not() {
    for (offered, expected) in [(HTTP2_AND_1, "HTTP/2.0"), (HTTP1_ONLY, "HTTP/1.1")] {
        let sandbox = Sandbox::new();
        let front = TlsFront::start(&sandbox.server.root_url(), offered);
        let output = through(&sandbox, &front)
            .args(["chat", "hello", "-v"])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert_eq!(stdout_of(&output), "echo: hello\n");
        assert_eq!(versions(&front), [expected]);
        let trace = stderr_of(&output);
        assert!(trace.contains(&format!("< 200 ({expected}, ")), "{trace}");
    }
}

#[test]
fn a_batch_shares_few_http2_connections_for_many_requests() {
    let sandbox = Sandbox::new();
    let front = TlsFront::start(&sandbox.server.root_url(), HTTP2_AND_1);
    let input = sandbox.home.path().join("prompts.txt");
    fs::write(
        &input,
        (1..=60)
            .map(|i| format!("prompt {i}\n"))
            .collect::<String>(),
    )
    .expect("input");
    let out = sandbox.home.path().join("out.jsonl");
    let output = through(&sandbox, &front)
        .args([
            "batch",
            path(&input),
            "-o",
            path(&out),
            "-m",
            "gpt-5.2",
            "-j",
            "8",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        fs::read_to_string(&out).expect("output").lines().count(),
        60
    );
    let seen: Vec<_> = front
        .seen()
        .into_iter()
        .filter(|s| s.path == "/v1/chat/completions")
        .collect();
    assert_eq!(seen.len(), 60);
    assert!(seen.iter().all(|s| s.version == "HTTP/2.0"), "{seen:?}");
    let mut connections: Vec<usize> = seen.iter().map(|s| s.connection).collect();
    connections.sort_unstable();
    connections.dedup();
    // Requests multiplex: at most one connection per request in flight at the start.
    assert!(connections.len() <= 8, "{} connections", connections.len());
}

#[test]
fn a_certificate_from_an_untrusted_issuer_is_refused_before_anything_is_sent() {
    let sandbox = Sandbox::new();
    let front = TlsFront::start(&sandbox.server.root_url(), HTTP2_AND_1);
    // A valid certificate, but not the one that signed the server's.
    let other = TlsFront::ca_file().with_file_name("server.pem");
    let output = sandbox
        .cmd_with_key()
        .env("COMETAPI_BASE_URL", front.base_url())
        .env("SSL_CERT_FILE", other)
        .args(["chat", "hello"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(stdout_of(&output).is_empty());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("invalid peer certificate"), "{stderr}");
    assert!(
        stderr.contains("hint: the server's TLS certificate is not trusted here"),
        "{stderr}"
    );
    assert!(front.seen().is_empty());
    assert_eq!(
        front.dialled(),
        1,
        "not retried: the certificate will not change"
    );
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn no_usable_certificate_store_says_why() {
    let sandbox = Sandbox::new();
    let front = TlsFront::start(&sandbox.server.root_url(), HTTP2_AND_1);
    let missing = sandbox.home.path().join("no-such-ca.pem");
    let output = through(&sandbox, &front)
        .env("SSL_CERT_FILE", &missing)
        .env("SSL_CERT_DIR", &missing)
        .args(["chat", "hello"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(stderr.contains("cannot set up HTTP client"), "{stderr}");
    assert!(stderr.contains("No CA certificates"), "{stderr}");
    assert!(
        stderr.contains("hint: HTTPS needs the system's CA certificates"),
        "{stderr}"
    );
    assert!(front.seen().is_empty());
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
