//! `embed`: request bodies as the server received them, batching of many lines (count
//! and order of requests, rows in input order), the output formats, refused inputs,
//! and faults (retried 429, a failing batch, malformed or error replies, a slow reply).

use std::fs;
use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_server::media_audio::{fake_embedding, DEFAULT_DIMENSIONS};
use crate::fake_server::{Fault, Recorded, API_KEY};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const PATH: &str = "/v1/embeddings";

fn embed(sandbox: &Sandbox, args: &[&str], stdin: &str) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .arg("embed")
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("run")
}

fn jsonl(output: &std::process::Output) -> Vec<Value> {
    stdout_of(output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn body_of(request: &Recorded) -> Value {
    serde_json::from_slice(&request.body_bytes).expect("json body")
}

fn inputs_of(request: &Recorded) -> Vec<String> {
    body_of(request)["input"]
        .as_array()
        .expect("input array")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

/// Checks rows `{index, input, embedding}` against the inputs, in order.
fn assert_rows_match(rows: &[Value], inputs: &[String], dimensions: usize) {
    assert_eq!(rows.len(), inputs.len());
    for (i, (row, input)) in rows.iter().zip(inputs).enumerate() {
        assert_eq!(row["index"], i, "row {i}");
        assert_eq!(row["input"], input.as_str(), "row {i}");
        assert_eq!(
            row["embedding"],
            json!(fake_embedding(input, dimensions)),
            "row {i}"
        );
    }
}

#[test]
fn arguments_go_in_one_request_with_every_option() {
    let sandbox = Sandbox::new();
    let output = embed(
        &sandbox,
        &[
            "hello",
            "wörld",
            "-m",
            "text-embedding-3-large",
            "--dimensions",
            "8",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let inputs = ["hello".to_string(), "wörld".to_string()];
    assert_rows_match(&jsonl(&output), &inputs, 8);
    let requests = sandbox.server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, PATH);
    assert_eq!(
        requests[0].header("authorization"),
        Some(&*format!("Bearer {API_KEY}"))
    );
    assert_eq!(
        body_of(&requests[0]),
        json!({"model": "text-embedding-3-large", "input": inputs,
               "encoding_format": "float", "dimensions": 8})
    );
}

#[test]
fn five_thousand_lines_make_the_expected_requests_and_come_back_in_order() {
    let sandbox = Sandbox::new();
    let lines: Vec<String> = (0..5000).map(|i| format!("line number {i}")).collect();
    let file = sandbox.home.path().join("lines.txt");
    fs::write(&file, lines.join("\n") + "\n").expect("write");
    let file = file.to_str().expect("utf-8 path");

    // The vector length is unknown at first: one batch of 64 learns it, then full ones.
    let output = embed(&sandbox, &["--input-file", file], "");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_rows_match(&jsonl(&output), &lines, DEFAULT_DIMENSIONS);
    let mut sent: Vec<Vec<String>> = sandbox.server.requests().iter().map(inputs_of).collect();
    let first = sent.remove(0);
    assert_eq!(
        first.len(),
        64,
        "the first request waits alone for the length"
    );
    sent.sort_by_key(|batch| lines.iter().position(|l| *l == batch[0]));
    let sizes: Vec<usize> = sent.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2048, 2048, 840]);
    let all: Vec<String> = std::iter::once(first).chain(sent).flatten().collect();
    assert_eq!(all, lines, "every line sent once, in order");

    // With --dimensions the length is known: full batches from the start.
    let before = sandbox.server.requests().len();
    let output = embed(&sandbox, &["--input-file", file, "--dimensions", "3"], "");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_rows_match(&jsonl(&output), &lines, 3);
    let mut sizes: Vec<usize> = sandbox.server.requests()[before..]
        .iter()
        .map(|r| inputs_of(r).len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [904, 2048, 2048]);
}

#[test]
fn stdin_lines_are_inputs_and_blank_lines_are_skipped() {
    let sandbox = Sandbox::new();
    let output = embed(&sandbox, &[], "first\n\n   \nsecond\r\n");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let inputs = ["first".to_string(), "second".to_string()];
    assert_rows_match(&jsonl(&output), &inputs, DEFAULT_DIMENSIONS);
    assert!(
        stderr_of(&output).contains("skipped 2 blank lines"),
        "{output:?}"
    );
    let output = embed(&sandbox, &["--input-file", "-"], "third\n");
    assert_rows_match(&jsonl(&output), &["third".to_string()], DEFAULT_DIMENSIONS);
}

#[test]
fn json_csv_and_yaml_give_every_row() {
    let sandbox = Sandbox::new();
    let inputs: Vec<String> = (0..150).map(|i| format!("text, \"{i}\"")).collect();
    let stdin = inputs.join("\n");
    let output = embed(&sandbox, &["--json"], &stdin);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let rows: Value = serde_json::from_slice(&output.stdout).expect("a JSON array");
    assert_rows_match(rows.as_array().expect("array"), &inputs, DEFAULT_DIMENSIONS);

    let output = embed(&sandbox, &["-f", "csv"], &stdin);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let mut reader = csv::Reader::from_reader(&output.stdout[..]);
    assert_eq!(
        reader.headers().expect("header"),
        vec!["index", "input", "embedding"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), inputs.len());
    assert_eq!(&records[7][1], inputs[7].as_str());
    let vector: Value = serde_json::from_str(&records[7][2]).expect("vector");
    assert_eq!(
        vector,
        json!(fake_embedding(&inputs[7], DEFAULT_DIMENSIONS))
    );

    let output = embed(&sandbox, &["-f", "yaml"], &stdin);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let rows: Value = serde_yaml::from_slice(&output.stdout).expect("yaml");
    assert_rows_match_dims(&rows, &inputs);

    let output = embed(&sandbox, &["--json"], "   \n");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stdout_of(&output).is_empty(), "no half array: {output:?}");
}

fn assert_rows_match_dims(rows: &Value, inputs: &[String]) {
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), inputs.len());
    assert_eq!(rows[3]["input"], inputs[3].as_str());
    assert_eq!(rows[3]["dimensions"], DEFAULT_DIMENSIONS);
}

/// (Blank values are rows of `every_command.rs`.)
#[test]
fn bad_inputs_are_refused_before_any_request() {
    let sandbox = Sandbox::new();
    let dir = sandbox.home.path().join("dir");
    fs::create_dir(&dir).expect("mkdir");
    let missing = sandbox.home.path().join("missing.txt");
    let not_utf8 = sandbox.home.path().join("latin1.txt");
    fs::write(&not_utf8, b"caf\xe9\n").expect("write");
    for (args, stdin) in [
        (vec![], ""),
        (vec!["x", "--dimensions", "0"], ""),
        (vec!["x", "--dimensions", "many"], ""),
        (
            vec!["x", "--input-file", not_utf8.to_str().expect("path")],
            "",
        ),
        (vec!["--input-file", dir.to_str().expect("path")], ""),
        (vec!["--input-file", missing.to_str().expect("path")], ""),
        (vec!["--input-file", not_utf8.to_str().expect("path")], ""),
        (vec![], "\n\n"),
    ] {
        let output = embed(&sandbox, &args, stdin);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(stdout_of(&output).is_empty(), "{args:?}");
    }
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn a_rate_limited_batch_is_sent_again_and_order_is_kept() {
    let sandbox = Sandbox::new();
    let lines: Vec<String> = (0..3000).map(|i| format!("row {i}")).collect();
    let limited = Fault::RateLimited {
        retry_after_secs: None,
        retry_after_ms: Some(20),
    };
    sandbox.server.inject(PATH, limited, 1);
    let output = embed(&sandbox, &["--dimensions", "2"], &lines.join("\n"));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_rows_match(&jsonl(&output), &lines, 2);
    assert_eq!(
        sandbox.server.requests().len(),
        3,
        "two batches, one sent twice"
    );
}

#[test]
fn a_batch_that_keeps_failing_ends_the_run_after_the_rows_before_it() {
    let sandbox = Sandbox::new();
    let lines: Vec<String> = (0..100).map(|i| format!("row {i}")).collect();
    // The first batch (64 inputs) succeeds; the second fails on every attempt.
    sandbox.server.inject(PATH, Fault::Slow(Duration::ZERO), 1);
    sandbox.server.inject(PATH, Fault::ServerError, 3);
    let output = embed(&sandbox, &[], &lines.join("\n"));
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert_rows_match(&jsonl(&output), &lines[..64], DEFAULT_DIMENSIONS);
    assert!(stderr_of(&output).contains("HTTP 500"), "{output:?}");
    assert_eq!(sandbox.server.requests().len(), 4);
}

#[test]
fn malformed_and_error_replies_fail_with_the_reason() {
    let sandbox = Sandbox::new();
    let reply = |body: &str| Fault::Custom {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: body.to_string(),
    };
    for (body, said) in [
        (r#"{"data": [{"index": 0, "embed"#, "not JSON"),
        (
            r#"{"error": {"message": "model overloaded"}}"#,
            "model overloaded",
        ),
        (r#"{"data": []}"#, "0 embeddings for 1 inputs"),
    ] {
        sandbox.server.inject(PATH, reply(body), 1);
        let output = embed(&sandbox, &["x"], "");
        assert_eq!(output.status.code(), Some(1), "{body}: {output:?}");
        assert!(stderr_of(&output).contains(said), "{said}: {output:?}");
        assert!(stdout_of(&output).is_empty());
    }
}

#[test]
fn a_slow_reply_is_cut_at_the_time_limit() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .inject(PATH, Fault::Slow(Duration::from_secs(3)), 1);
    let output = embed(&sandbox, &["x", "--timeout", "1s"], "");
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(stderr_of(&output).contains("did not answer"), "{output:?}");
}

#[test]
fn requests_in_flight_are_bounded_and_rows_wait_for_their_turn() {
    let sandbox = Sandbox::new();
    // 100 KB lines: two to a batch (256 KB), so twelve lines are six batches.
    let lines: Vec<String> = (0..12)
        .map(|i| format!("{i}{}", "x".repeat(100 << 10)))
        .collect();
    // Whichever batch arrives first never gets an answer.
    sandbox.server.inject(PATH, Fault::NeverAnswers, 1);
    let output = embed(
        &sandbox,
        &["--dimensions", "2", "--timeout", "1s"],
        &lines.join("\n"),
    );
    assert_eq!(output.status.code(), Some(69), "{}", stderr_of(&output));
    // Only the batches before the one that hung were written, in order: the ones after
    // it were answered but held back, and no more than four were ever unwritten.
    let rows = jsonl(&output);
    let written = rows.len() / 2;
    assert!(written < 6 && rows.len() % 2 == 0, "{} rows", rows.len());
    let sent = sandbox.server.requests();
    assert_eq!(sent.len(), (written + 4).min(6), "four batches out at most");
    assert!(sent.iter().all(|r| inputs_of(r).len() == 2));
    assert_rows_match(&rows, &lines[..rows.len()], 2);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let sandbox = Sandbox::new();
    let bin = env!("CARGO_BIN_EXE_cometapi");
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; seq 20000 | '{bin}' embed | head -1"
        ))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.home.path())
        .env("COMETAPI_BASE_URL", sandbox.server.base_url())
        .env("COMETAPI_KEY", API_KEY)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run pipeline");
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stderr_of(&output), "", "no panic text or error");
    let row: Value = serde_json::from_str(stdout_of(&output).trim()).expect("one row");
    assert_eq!(row["input"], "1");
}

#[test]
fn a_terminal_gets_a_short_table() {
    let sandbox = Sandbox::new();
    let long = format!("a long input {}", "y".repeat(80));
    let mut session = crate::pty::spawn(
        &sandbox,
        &["embed", "hello", &long, "--dimensions", "5"],
        &[("COMETAPI_KEY", API_KEY)],
    );
    crate::pty::expect(&mut session, "Index  Input");
    let first = fake_embedding("hello", 5);
    let values = format!("{:.4}, {:.4}, {:.4}, …", first[0], first[1], first[2]);
    let before = crate::pty::expect(&mut session, &values);
    assert!(before.contains("     0  hello"), "{before}");
    let before = crate::pty::expect(&mut session, "…      5  ");
    assert!(before.contains("     1  a long input yyy"), "{before}");
    assert_eq!(crate::pty::exit_code(&session), 0);
}
