//! Run the fake CometAPI server used by the tests, for manual poking:
//!
//! ```text
//! cargo run --example fake-server [-- --port N]
//! ```

#[path = "../tests/support/fake_server.rs"]
mod fake_server;

use fake_server::{FakeServer, ACCESS_TOKEN, API_KEY};

fn parse_port() -> Result<u16, String> {
    let mut port = 8787;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--port" | "-p" => args.next().ok_or("--port needs a value")?,
            s if s.starts_with("--port=") => s["--port=".len()..].to_string(),
            "-h" | "--help" => {
                println!("usage: fake-server [--port N]   (default 8787)");
                std::process::exit(0);
            }
            other => return Err(format!("unexpected argument: {other}")),
        };
        port = value
            .parse()
            .map_err(|_| format!("invalid port: {value}"))?;
    }
    Ok(port)
}

fn main() {
    let port = match parse_port() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("fake-server: {e}");
            std::process::exit(2);
        }
    };
    let server = match FakeServer::start_on(&format!("127.0.0.1:{port}")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fake-server: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let base = server.base_url();
    println!("fake CometAPI listening on {base}");
    println!("  export COMETAPI_BASE_URL={base}");
    println!("  export COMETAPI_KEY={API_KEY}");
    println!("  export COMETAPI_ACCESS_TOKEN={ACCESS_TOKEN}");
    loop {
        std::thread::park();
    }
}
