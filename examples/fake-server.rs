//! Run the fake CometAPI server used by the tests, for manual poking:
//!
//! ```text
//! cargo run --example fake-server [-- --port N] [--export-rows N] [--stream-chunks N] [--bulk-fast]
//! ```
//!
//! `--export-rows N` makes `/api/log/self/export` stream N generated CSV rows
//! (used by `benches/export.sh`); `--stream-chunks N` makes streamed chat replies N
//! generated deltas (used by `benches/stream.sh`); `--bulk-fast` answers chat requests
//! with a small fixed reply and records nothing (used by `benches/batch.sh`).

#[path = "../tests/support/fake_server.rs"]
mod fake_server;

use fake_server::{FakeServer, ACCESS_TOKEN, API_KEY};

/// The command-line options: the port, and how many rows the log export streams.
struct Options {
    port: u16,
    export_rows: usize,
    stream_chunks: usize,
    bulk_fast: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        port: 8787,
        export_rows: 0,
        stream_chunks: 0,
        bulk_fast: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            value
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        match name.as_str() {
            "--port" | "-p" => {
                let v = value("--port")?;
                options.port = v.parse().map_err(|_| format!("invalid port: {v}"))?;
            }
            "--export-rows" => {
                let v = value("--export-rows")?;
                options.export_rows = v.parse().map_err(|_| format!("invalid row count: {v}"))?;
            }
            "--stream-chunks" => {
                let v = value("--stream-chunks")?;
                options.stream_chunks =
                    v.parse().map_err(|_| format!("invalid chunk count: {v}"))?;
            }
            "--bulk-fast" => options.bulk_fast = true,
            "-h" | "--help" => {
                println!("usage: fake-server [--port N] [--export-rows N] [--stream-chunks N] [--bulk-fast]   (default port 8787)");
                std::process::exit(0);
            }
            _ => return Err(format!("unexpected argument: {arg}")),
        }
    }
    Ok(options)
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("fake-server: {e}");
            std::process::exit(2);
        }
    };
    let port = options.port;
    let server = match FakeServer::start_on(&format!("127.0.0.1:{port}")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fake-server: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    server.set_export_rows(options.export_rows);
    server.set_stream_chunks(options.stream_chunks);
    server.set_bulk_fast(options.bulk_fast);
    let base = server.base_url();
    println!("fake CometAPI listening on {base}");
    println!("  export COMETAPI_BASE_URL={base}");
    println!("  export COMETAPI_KEY={API_KEY}");
    println!("  export COMETAPI_ACCESS_TOKEN={ACCESS_TOKEN}");
    loop {
        std::thread::park();
    }
}
