//! `batch`: every input shape, checking before sending, resume, retries of failures,
//! ordering, riding out a 429 burst, dry runs, the cost limit, Ctrl-C and SIGKILL.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake_server::API_KEY;
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const CHAT: &str = "/v1/chat/completions";

fn write_input(sandbox: &Sandbox, name: &str, text: &str) -> PathBuf {
    let path = sandbox.home.path().join(name);
    fs::write(&path, text).expect("write input");
    path
}

/// `cometapi batch INPUT ARGS...` with the valid key.
fn batch(sandbox: &Sandbox, input: &Path, args: &[&str]) -> Output {
    sandbox
        .cmd_with_key()
        .arg("batch")
        .arg(input)
        .args(args)
        .output()
        .expect("run")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn lines_of(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every output line is JSON"))
        .collect()
}

fn ids_of(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The `content` of the last user message of every chat request the server got.
fn prompts_sent(sandbox: &Sandbox) -> HashSet<String> {
    sandbox
        .server
        .requests_to(CHAT)
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .filter_map(|b| {
            b.pointer("/messages/0/content")
                .or(b.pointer("/messages/1/content"))
                .cloned()
        })
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect()
}

fn numbered_prompts(n: usize) -> String {
    (1..=n).map(|i| format!("prompt {i}\n")).collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "waited too long for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn spawn(sandbox: &Sandbox, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cometapi"))
        .env_clear()
        .env("HOME", sandbox.home.path())
        .env("COMETAPI_BASE_URL", sandbox.server.base_url())
        .env("COMETAPI_KEY", API_KEY)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

#[test]
fn every_input_shape_becomes_its_request() {
    let sandbox = Sandbox::new();
    let input = write_input(
        &sandbox,
        "in.jsonl",
        concat!(
            r#"{"custom_id":"c1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[{"role":"user","content":"openai chat"}]}}"#,
            "\n",
            r#"{"custom_id":"r1","method":"POST","url":"/v1/responses","body":{"model":"gpt-5.4","input":"openai responses"}}"#,
            "\n",
            r#"{"custom_id":"e1","method":"POST","url":"/v1/embeddings","body":{"model":"text-embedding-3-small","input":"embed me"}}"#,
            "\n",
            r#"{"custom_id":"a1","method":"POST","url":"/v1/messages","body":{"model":"claude-sonnet-4-6","max_tokens":50,"messages":[{"role":"user","content":"anthropic"}]}}"#,
            "\n",
            "\n",
            r#"{"id":"s1","prompt":"simple one","model":"gpt-4o-mini","system":"be brief","temperature":0.5}"#,
            "\n",
            r#"{"prompt":"simple without id"}"#,
            "\n",
            "plain text prompt\n",
        ),
    );
    let out = sandbox.home.path().join("out.jsonl");
    let output = batch(&sandbox, &input, &["-o", path(&out), "-m", "gpt-5.2"]);
    assert!(output.status.success(), "{output:?}");
    let lines = lines_of(&out);
    let mut ids = ids_of(&lines);
    ids.sort();
    assert_eq!(
        ids,
        ["7", "8", "a1", "c1", "e1", "r1", "s1"],
        "a line's id, else its line number"
    );
    for line in &lines {
        assert_eq!(line["response"]["status_code"], 200, "{line}");
        assert!(line["error"].is_null());
        assert_eq!(line["attempts"], 1);
        assert!(line["latency_ms"].is_u64());
        assert!(line["response"]["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req-")));
    }
    let server = &sandbox.server;
    for path in ["/v1/responses", "/v1/embeddings", "/v1/messages"] {
        assert_eq!(server.requests_to(path).len(), 1, "{path}");
    }
    let anthropic = &server.requests_to("/v1/messages")[0];
    assert_eq!(anthropic.header("x-api-key"), Some(API_KEY));
    let chats: Vec<Value> = server
        .requests_to(CHAT)
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("json"))
        .collect();
    let simple = chats
        .iter()
        .find(|b| b["model"] == "gpt-4o-mini")
        .expect("simple line");
    assert_eq!(simple["messages"][0]["content"], "be brief");
    assert_eq!(simple["messages"][1]["content"], "simple one");
    assert_eq!(simple["temperature"], 0.5);
    let plain = chats
        .iter()
        .find(|b| b["messages"][0]["content"] == "plain text prompt")
        .expect("plain line");
    assert_eq!(plain["model"], "gpt-5.2", "-m for lines naming no model");
    assert!(
        stderr_of(&output).contains("7 succeeded, 0 failed"),
        "{output:?}"
    );
}

#[test]
fn csv_rows_and_json_objects_fill_a_template() {
    let sandbox = Sandbox::new();
    let csv = write_input(
        &sandbox,
        "in.csv",
        "id,city,days\nx,Oslo,3\ny,\"Rome, Italy\",2\n",
    );
    let template = ["--template", "Plan {{days}} days in {{city}}"];
    let output = batch(
        &sandbox,
        &csv,
        &[&["--input-format", "csv"], &template[..]].concat(),
    );
    assert!(output.status.success(), "{output:?}");
    let sent = prompts_sent(&sandbox);
    assert!(
        sent.contains("Plan 3 days in Oslo") && sent.contains("Plan 2 days in Rome, Italy"),
        "{sent:?}"
    );
    let stdout = stdout_of(&output);
    assert_eq!(stdout.lines().count(), 2, "results on stdout without -o");

    let objects = write_input(
        &sandbox,
        "in.jsonl",
        "{\"n\":1,\"thing\":\"cats\"}\n{\"n\":2,\"thing\":\"dogs\"}\n",
    );
    let output = batch(
        &sandbox,
        &objects,
        &["--template", "{{n}}: about {{thing}}"],
    );
    assert!(output.status.success(), "{output:?}");
    let sent = prompts_sent(&sandbox);
    assert!(
        sent.contains("1: about cats") && sent.contains("2: about dogs"),
        "{sent:?}"
    );
}

#[test]
fn stdin_is_read_with_a_dash() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .args(["batch", "-", "--json"])
        .write_stdin("from stdin one\nfrom stdin two\n")
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let stdout = stdout_of(&output);
    let documents: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .map(|d| d.expect("json"))
        .collect();
    assert_eq!(
        documents.len(),
        3,
        "two results, then the summary: {stdout}"
    );
    let summary = &documents[2];
    assert_eq!(
        summary["succeeded"], 2,
        "--json puts the summary last: {stdout}"
    );
    assert!(summary["latency_p95_ms"].is_u64() && summary["requests_per_second"].is_number());
    assert_eq!(prompts_sent(&sandbox).len(), 2);
}

#[test]
fn bad_lines_and_duplicate_ids_exit_2_with_line_numbers_and_nothing_sent() {
    let sandbox = Sandbox::new();
    let input = write_input(
        &sandbox,
        "in.jsonl",
        concat!(
            r#"{"id":"a","prompt":"fine"}"#,
            "\n",
            r#"{"id":"a","prompt":"again"}"#,
            "\n",
            "{not json\n",
            r#"{"custom_id":"u","url":"/v1/images/generations","body":{}}"#,
            "\n",
            r#"{"url":"/v1/chat/completions","body":{}}"#,
            "\n",
            r#"{"id":"b"}"#,
            "\n",
        ),
    );
    let output = batch(&sandbox, &input, &[]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = stderr_of(&output);
    for expected in [
        "line 2 repeats custom_id \"a\"",
        "line 3 is not valid JSON",
        "line 4 has an unknown url",
        "line 5 has no custom_id",
        "line 6 has no prompt",
        "nothing was sent",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert!(sandbox.server.requests().is_empty(), "not even the catalog");

    let csv = write_input(&sandbox, "in.csv", "a,b\n1\n");
    let output = batch(
        &sandbox,
        &csv,
        &["--input-format", "csv", "--template", "{{a}}"],
    );
    assert_eq!(output.status.code(), Some(2), "a short CSV row: {output:?}");
    assert!(stderr_of(&output).contains("line 2"), "{output:?}");
    let output = batch(&sandbox, Path::new("/no/such/file"), &[]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn resume_skips_exactly_the_successes_and_drops_a_cut_line() {
    let sandbox = Sandbox::new();
    let input = write_input(&sandbox, "in.txt", &numbered_prompts(10));
    let out = sandbox.home.path().join("out.jsonl");
    let run = |extra: &[&str]| batch(&sandbox, &input, &[&["-o", path(&out)], extra].concat());
    assert!(run(&["--ordered"]).status.success());
    // Keep lines 1-4 and half of line 5, as a kill mid-write would.
    let text = fs::read_to_string(&out).expect("out");
    let kept: Vec<&str> = text.lines().take(5).collect();
    let cut = &kept[4][..kept[4].len() / 2];
    fs::write(&out, format!("{}\n{cut}", kept[..4].join("\n"))).expect("truncate");
    let before = sandbox.server.requests_to(CHAT).len();
    let output = run(&[]);
    assert!(output.status.success(), "{output:?}");
    let again: Vec<String> = sandbox.server.requests_to(CHAT)[before..]
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .filter_map(|b| b["messages"][0]["content"].as_str().map(str::to_string))
        .collect();
    let mut again = again;
    again.sort();
    let expected: Vec<String> = {
        let mut v: Vec<String> = (5..=10).map(|i| format!("prompt {i}")).collect();
        v.sort();
        v
    };
    assert_eq!(again, expected, "only what had no whole line");
    let mut ids = ids_of(&lines_of(&out));
    ids.sort_by_key(|id| id.parse::<u32>().unwrap_or(0));
    assert_eq!(
        ids,
        (1..=10).map(|i| i.to_string()).collect::<Vec<_>>(),
        "each id once"
    );
    assert!(stderr_of(&output).contains("4 skipped"), "{output:?}");
}

#[test]
fn retry_failed_reruns_only_the_failures() {
    let sandbox = Sandbox::new();
    let input = write_input(&sandbox, "in.txt", &numbered_prompts(30));
    let out = sandbox.home.path().join("out.jsonl");
    let errors = sandbox.home.path().join("out.errors.jsonl");
    let run = |extra: &[&str]| batch(&sandbox, &input, &[&["-o", path(&out)], extra].concat());
    sandbox.server.set_error_rate(0.3, 400, 7);
    let first = run(&[]);
    assert_eq!(first.status.code(), Some(1), "some failed: {first:?}");
    let failed: HashSet<String> = ids_of(&lines_of(&errors)).into_iter().collect();
    assert!(!failed.is_empty() && failed.len() < 30, "{failed:?}");
    for line in lines_of(&errors) {
        assert_eq!(line["response"]["status_code"], 400);
        assert!(line["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("fake failure")));
    }
    sandbox.server.set_error_rate(0.0, 400, 7);
    let sent = sandbox.server.requests_to(CHAT).len();
    assert!(
        run(&[]).status.success(),
        "failures are results too: a plain rerun sends nothing"
    );
    assert_eq!(sandbox.server.requests_to(CHAT).len(), sent);
    let output = run(&["--retry-failed"]);
    assert!(output.status.success(), "{output:?}");
    let rerun: HashSet<String> = sandbox.server.requests_to(CHAT)[sent..]
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .filter_map(|b| {
            b["messages"][0]["content"]
                .as_str()
                .map(|p| p.trim_start_matches("prompt ").to_string())
        })
        .collect();
    assert_eq!(rerun, failed, "exactly the failures again");
    let lines = lines_of(&out);
    assert_eq!(lines.len(), 30, "one line per id");
    assert!(lines.iter().all(|l| l["error"].is_null()));
    assert!(lines_of(&errors).is_empty(), "the old failures are gone");
}

#[test]
fn ordered_output_follows_the_input_whatever_finishes_first() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .set_model_latency("slow-model", Duration::from_millis(150));
    let text: String = (1..=12)
        .map(|i| {
            let model = if i % 3 == 1 { "slow-model" } else { "gpt-4o" };
            format!("{{\"id\":\"{i}\",\"prompt\":\"p{i}\",\"model\":\"{model}\"}}\n")
        })
        .collect();
    let input = write_input(&sandbox, "in.jsonl", &text);
    let run = |extra: &[&str]| {
        let output = batch(&sandbox, &input, &[&["-j", "4"], extra].concat());
        assert!(output.status.success(), "{output:?}");
        stdout_of(&output)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).expect("json")["custom_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    let in_order: Vec<String> = (1..=12).map(|i| i.to_string()).collect();
    assert_ne!(run(&[]), in_order, "unordered, fast replies come first");
    assert_eq!(run(&["--ordered"]), in_order);
}

#[test]
fn a_429_burst_is_ridden_out_with_concurrency_cut() {
    let sandbox = Sandbox::new();
    sandbox.server.set_latency(Duration::from_millis(40));
    sandbox.server.set_429_burst(16, 12, 50);
    let input = write_input(&sandbox, "in.txt", &numbered_prompts(60));
    let out = sandbox.home.path().join("out.jsonl");
    let output = batch(&sandbox, &input, &["-j", "8", "-o", path(&out)]);
    assert!(output.status.success(), "{output:?}");
    let lines = lines_of(&out);
    assert_eq!(lines.len(), 60);
    assert!(
        lines.iter().all(|l| l["response"]["status_code"] == 200),
        "every request succeeded"
    );
    assert!(
        lines.iter().any(|l| l["attempts"].as_u64() > Some(1)),
        "some were retried"
    );
    let arrivals = sandbox.server.arrivals();
    let before = &arrivals[..16];
    assert_eq!(
        before.iter().map(|a| a.in_flight).max(),
        Some(8),
        "-j 8 before the burst"
    );
    let last_429 = arrivals.iter().rposition(|a| a.throttled).expect("a burst");
    let after: Vec<usize> = arrivals[last_429 + 1..]
        .iter()
        .take(8)
        .map(|a| a.in_flight)
        .collect();
    assert!(
        after.iter().all(|&n| n <= 4),
        "concurrency halved after the burst: {after:?}"
    );
    let total = arrivals.len();
    assert_eq!(total, 60 + 12, "each 429 retried once more");
}

#[test]
fn dry_run_counts_and_estimates_but_sends_nothing() {
    let sandbox = Sandbox::new();
    let input = write_input(&sandbox, "in.txt", &numbered_prompts(25));
    let output = batch(&sandbox, &input, &["--dry-run", "-m", "gpt-5.4", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let record: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(record["requests"], 25);
    assert!(record["estimated_input_tokens"].as_u64() > Some(25));
    assert!(
        record["estimated_input_cost_usd"]
            .as_f64()
            .is_some_and(|c| c > 0.0),
        "{record}"
    );
    let sent: Vec<String> = sandbox
        .server
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(
        sent.iter().all(|p| p == "/api/models"),
        "only the public catalog, for prices: {sent:?}"
    );
    assert_eq!(sandbox.server.model_requests(), 0);
}

#[test]
fn max_cost_stops_submitting_and_names_the_resume_command() {
    let sandbox = Sandbox::new();
    let input = write_input(&sandbox, "in.txt", &numbered_prompts(40));
    let out = sandbox.home.path().join("out.jsonl");
    // gpt-5.4: $1.25/M in, $10/M out; each request is about $0.00004.
    let limits = ["-m", "gpt-5.4", "-j", "1", "--max-cost", "0.0001"];
    let output = batch(
        &sandbox,
        &input,
        &[&limits[..], &["-o", path(&out)]].concat(),
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("--max-cost") && stderr.contains("resume with:"),
        "{stderr}"
    );
    let done = lines_of(&out).len();
    assert!((2..=4).contains(&done), "stopped near the limit: {done}");
    assert_eq!(
        sandbox.server.requests_to(CHAT).len(),
        done,
        "nothing sent after the stop"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_flushes_and_exits_130() {
    let sandbox = Sandbox::new();
    sandbox.server.set_latency(Duration::from_millis(100));
    let input = write_input(&sandbox, "in.txt", &numbered_prompts(200));
    let out = sandbox.home.path().join("out.jsonl");
    let child = spawn(
        &sandbox,
        &["batch", path(&input), "-j", "4", "-o", path(&out)],
    );
    wait_until("a few results", || lines_of(&out).len() >= 8);
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: sends SIGINT to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(stderr_of(&output).contains("resume with:"), "{output:?}");
    let written = lines_of(&out).len();
    assert!(written < 200, "stopped early");
    assert_eq!(
        written,
        sandbox.server.model_requests(),
        "every request sent has its line"
    );
}

#[cfg(unix)]
#[test]
fn a_sigkilled_run_resumes_to_every_id_exactly_once() {
    const TOTAL: usize = 20_000;
    let sandbox = Sandbox::new();
    sandbox.server.set_bulk_fast(true);
    let input = write_input(&sandbox, "in.txt", &numbered_prompts(TOTAL));
    let out = sandbox.home.path().join("out.jsonl");
    let args = ["batch", path(&input), "-j", "32", "-o", path(&out)];
    let mut child = spawn(&sandbox, &args);
    wait_until("half the results", || {
        fs::metadata(&out).map_or(0, |m| m.len()) > 200 * TOTAL as u64 / 2
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let partial = fs::read_to_string(&out).expect("out").lines().count();
    assert!(partial < TOTAL, "killed midway ({partial} lines)");
    let output = spawn(&sandbox, &args).wait_with_output().expect("rerun");
    assert!(output.status.success(), "{output:?}");
    let ids = ids_of(&lines_of(&out));
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &ids {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(counts.len(), TOTAL, "every id");
    assert!(counts.values().all(|&n| n == 1), "none twice");
}

#[test]
fn bad_options_and_an_output_that_is_not_a_file_send_nothing() {
    let sandbox = Sandbox::new();
    let input = write_input(&sandbox, "in.txt", "one\ntwo\n");
    let input = path(&input);
    let home = path(sandbox.home.path());
    for (args, code) in [
        (vec!["-j", "0"], 2),
        (vec!["--max-cost", "-1"], 2),
        (vec!["--temperature", "3"], 2),
        (vec!["--rpm", "0"], 2),
        (vec!["--input-format", "csv"], 2),
        (vec!["-o", home], 1),
    ] {
        let output = sandbox
            .cmd_with_key()
            .args(["batch", input])
            .args(&args)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(code), "{args:?}: {output:?}");
        assert!(!stderr_of(&output).is_empty());
    }
    assert_eq!(sandbox.server.model_requests(), 0, "nothing sent");
}
