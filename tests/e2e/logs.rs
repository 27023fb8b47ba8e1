//! `logs`: the query each filter sends, rows in every format, `--request-id` by the
//! indexed lookup and by the fallback scan, the streamed CSV export, and exit codes
//! (a missing or rejected access token: rows of `every_command.rs`).

use serde_json::{json, Value};

use crate::fake_server::{Fault, ACCESS_TOKEN};
use crate::sandbox::{dead_base_url, stderr_of, stdout_of, Sandbox};

const MARCH_1: i64 = 1_772_323_200; // 2026-03-01T00:00:00Z

/// Runs `logs ARGS` with the access token and returns the output.
fn logs(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_token()
        .arg("logs")
        .args(args)
        .output()
        .expect("run")
}

/// Runs `logs ARGS`, expects success, and returns the query string of the one list request.
fn list_query(args: &[&str]) -> String {
    let sandbox = Sandbox::new();
    let output = logs(&sandbox, args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    let requests = sandbox.server.requests_to("/api/log/self");
    assert_eq!(requests.len(), 1, "{args:?}");
    requests[0].query.clone()
}

fn json_of(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("json")
}

/// The fixed export of the fake server's five logs.
const FIVE_LOGS_CSV: &str = "\
created_at,type,model_name,token_name,prompt_tokens,completion_tokens,quota,use_time,is_stream,request_id,group,content
1772698800,2,deepseek-v4-pro,ci-pipeline,5000,1250,1980,6,true,req-log-0005,vip,\"model ratio 0.22, completion ratio 4, group ratio 0.9\"
1772642730,5,gemini-2.5-pro,default,0,0,0,2,false,req-log-0004,default,\"upstream error: status 503, model is overloaded\"
1772546710,2,claude-sonnet-4-6,ci-pipeline,3400,820,9000,4,false,req-log-0003,default,\"model ratio 1.2, completion ratio 5, group ratio 1\"
1772447400,2,gpt-5.4,default,1200,350,2500,3,true,req-log-0002,default,\"model ratio 0.625, completion ratio 8, group ratio 1\"
1772356500,1,,,0,0,5000000,0,false,req-log-0001,default,Top-up via Stripe: $10.00
";

// ---------------------------------------------------------------------------
// What is sent
// ---------------------------------------------------------------------------

#[test]
fn only_paging_is_sent_without_filters() {
    assert_eq!(list_query(&[]), "p=1&page_size=20");
    assert_eq!(
        list_query(&["--page", "3", "--limit", "7"]),
        "p=3&page_size=7"
    );
    assert_eq!(
        list_query(&["--page", "2", "--page-size", "50"]),
        "p=2&page_size=50"
    );
}

#[test]
fn every_filter_maps_to_its_parameter() {
    assert_eq!(
        list_query(&[
            "-m",
            "gpt-5.4",
            "--token-name",
            "ci pipeline",
            "--type",
            "consume",
            "--start",
            "2026-03-01",
            "--end",
            "2026-03-02",
            "-g",
            "vip",
            "--page",
            "2",
            "-l",
            "5",
        ]),
        format!(
            "p=2&page_size=5&type=2&model_name=gpt-5.4&token_name=ci+pipeline\
             &start_timestamp={MARCH_1}&end_timestamp={}&group=vip",
            MARCH_1 + 2 * 86_400 - 1
        )
    );
    assert_eq!(
        list_query(&["--model", "claude-sonnet-4-6", "--group", "default"]),
        "p=1&page_size=20&model_name=claude-sonnet-4-6&group=default"
    );
}

#[test]
fn types_are_sent_as_numbers_whatever_their_case() {
    let sandbox = Sandbox::new();
    let names = [
        ("unknown", "0"),
        ("topup", "1"),
        ("Consume", "2"),
        ("manage", "3"),
        ("SYSTEM", "4"),
        ("error", "5"),
        ("refund", "6"),
    ];
    for (name, _) in names {
        assert!(logs(&sandbox, &["--type", name]).status.success(), "{name}");
    }
    let sent: Vec<String> = sandbox
        .server
        .requests_to("/api/log/self")
        .iter()
        .map(|r| r.query_pairs())
        .map(|pairs| {
            pairs
                .into_iter()
                .find(|(k, _)| k == "type")
                .expect("type")
                .1
        })
        .collect();
    let expected: Vec<&str> = names.iter().map(|(_, number)| *number).collect();
    assert_eq!(sent, expected);
}

#[test]
fn dates_in_all_three_forms_are_utc_seconds() {
    let pairs = |args: &[&str]| {
        let sandbox = Sandbox::new();
        assert!(logs(&sandbox, args).status.success(), "{args:?}");
        sandbox.server.requests_to("/api/log/self")[0].query_pairs()
    };
    let param = |pairs: &[(String, String)], name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let day = pairs(&["--start", "2026-03-01", "--end", "2026-03-01"]);
    assert_eq!(param(&day, "start_timestamp"), Some(MARCH_1.to_string()));
    assert_eq!(
        param(&day, "end_timestamp"),
        Some("1772409599".to_string()),
        "a bare --end date is the end of that day"
    );
    let iso = pairs(&[
        "--start",
        "2026-03-01T14:30:00+02:00",
        "--end",
        "2026-03-01T12:45:00Z",
    ]);
    assert_eq!(
        param(&iso, "start_timestamp"),
        Some((MARCH_1 + 45_000).to_string())
    );
    assert_eq!(
        param(&iso, "end_timestamp"),
        Some((MARCH_1 + 45_900).to_string())
    );
    let unix = pairs(&["--start", "1772323200", "--end", "1772409599"]);
    assert_eq!(
        param(&unix, "start_timestamp"),
        Some("1772323200".to_string())
    );
    assert_eq!(
        param(&unix, "end_timestamp"),
        Some("1772409599".to_string())
    );
}

#[test]
fn bad_dates_and_types_are_exit_2_before_any_request() {
    let sandbox = Sandbox::new();
    let bad_date = logs(&sandbox, &["--end", "2026-02-30"]);
    assert_eq!(bad_date.status.code(), Some(2));
    let stderr = stderr_of(&bad_date);
    assert!(
        stderr.contains("invalid --end `2026-02-30`") && stderr.contains("YYYY-MM-DD"),
        "{stderr}"
    );
    let bad_type = logs(&sandbox, &["--type", "spend"]);
    assert_eq!(bad_type.status.code(), Some(2));
    assert!(
        stderr_of(&bad_type).contains("invalid value 'spend' for '--type <TYPE>'")
            && stderr_of(&bad_type)
                .contains("consume, topup, error, refund, system, manage, unknown"),
        "{}",
        stderr_of(&bad_type)
    );
    let reversed = logs(&sandbox, &["--start", "2026-03-02", "--end", "2026-03-01"]);
    assert_eq!(reversed.status.code(), Some(2));
    assert!(stderr_of(&reversed).contains("is after --end"));
    assert!(sandbox.server.requests().is_empty());
}

// ---------------------------------------------------------------------------
// What is shown
// ---------------------------------------------------------------------------

#[test]
fn table_shows_compact_rows_in_utc_and_dollars() {
    let sandbox = Sandbox::new();
    let output = logs(&sandbox, &["-l", "5"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout_of(&output),
        "\
Time                 Type     Model              Token        Prompt  Completion  Cost      Duration (s)  Stream
2026-03-05 08:20:00  consume  deepseek-v4-pro    ci-pipeline  5,000   1,250       $0.00396  6.21          Yes
2026-03-04 16:45:30  error    gemini-2.5-pro     default      0       0           $0.00     2.05          No
2026-03-03 14:05:10  consume  claude-sonnet-4-6  ci-pipeline  3,400   820         $0.018    4.38          No
2026-03-02 10:30:00  consume  gpt-5.4            default      1,200   350         $0.005    2.84          Yes
2026-03-01 09:15:00  topup    -                  -            0       0           $10.00    -             No
"
    );
}

#[test]
fn detail_adds_request_id_and_pricing_ratios() {
    let sandbox = Sandbox::new();
    let output = logs(&sandbox, &["--detail", "--type", "consume", "-f", "csv"]);
    assert!(output.status.success(), "{output:?}");
    let text = stdout_of(&output);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "Time,Type,Model,Token,Request ID,Prompt,Completion,Cost,Duration (s),Stream,\
             Model ratio,Completion ratio,Group ratio,Price"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "2026-03-05 08:20:00,consume,deepseek-v4-pro,ci-pipeline,req-log-0005,5000,1250,\
             0.00396,6.21,true,0.22,4,0.9,ratio"
        )
    );
    let markdown = stdout_of(&logs(&sandbox, &["-l", "1", "-f", "markdown"]));
    assert!(
        markdown.starts_with(
            "| Time | Type | Model | Token | Prompt | Completion | Cost | Duration (s) | Stream |\n"
        ),
        "{markdown}"
    );
    assert!(
        !markdown.contains("req-log-"),
        "no request id without --detail"
    );
}

#[test]
fn json_is_the_full_typed_record() {
    let sandbox = Sandbox::new();
    let rows = json_of(&logs(&sandbox, &["--json", "-m", "gpt-5.4"]));
    assert_eq!(
        rows,
        json!([{
            "time": "2026-03-02T10:30:00Z",
            "type": "consume",
            "model": "gpt-5.4",
            "token_name": "default",
            "group": "default",
            "request_id": "req-log-0002",
            "response_id": "chatcmpl-req-log-0002",
            "prompt_tokens": 1200,
            "completion_tokens": 350,
            "cost_usd": 0.005,
            "quota": 2500,
            "duration_secs": 2.84,
            "stream": true,
            "first_token_ms": 612,
            "cache_tokens": 256,
            "cache_ratio": 0.1,
            "model_ratio": 0.625,
            "completion_ratio": 8.0,
            "group_ratio": 1.0,
            "model_price": null,
            "endpoint": "/v1/chat/completions",
            "content": "model ratio 0.625, completion ratio 8, group ratio 1",
        }])
    );
    let yaml = stdout_of(&logs(&sandbox, &["-f", "yaml", "--type", "topup"]));
    assert!(
        yaml.contains("  cost_usd: 10.0\n  quota: 5000000\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  stream: false\n"), "{yaml}");
}

/// A log the fixed data lacks: 500,000 quota, `use_time` only, an `other` that is not
/// JSON, a per-request price, served as a plain `data: [...]` list.
fn serve_one_dollar_log(sandbox: &Sandbox, other: &str) {
    let log = json!({
        "created_at": MARCH_1, "type": 2, "model_name": "gpt-image-1", "token_name": "art",
        "prompt_tokens": 10, "completion_tokens": 0, "quota": 500_000, "use_time": 7,
        "is_stream": false, "request_id": "req-dollar", "group": "default", "content": "",
        "other": other,
    });
    let body = json!({"success": true, "message": "", "data": [log]}).to_string();
    sandbox
        .server
        .inject("/api/log/self", Fault::Status(200, body), 1);
}

#[test]
fn five_hundred_thousand_quota_is_one_dollar() {
    let sandbox = Sandbox::new();
    serve_one_dollar_log(&sandbox, "{not json");
    let table = stdout_of(&logs(&sandbox, &[]));
    assert!(
        table.contains("2026-03-01 00:00:00  consume  gpt-image-1  art    10      0           $1.00  7.00          No"),
        "{table}"
    );
    serve_one_dollar_log(&sandbox, "{\"model_price\": 0.04, \"model_ratio\": 0}");
    let row = &json_of(&logs(&sandbox, &["--json"]))[0];
    assert_eq!(row["cost_usd"], json!(1.0));
    assert_eq!(row["quota"], json!(500_000));
    assert_eq!(
        row["duration_secs"],
        json!(7.0),
        "use_time without total_ms"
    );
    assert_eq!(row["model_price"], json!(0.04));
    assert_eq!(row["model_ratio"], json!(0));
    serve_one_dollar_log(&sandbox, "");
    let row = &json_of(&logs(&sandbox, &["--json"]))[0];
    assert_eq!(row["model_ratio"], Value::Null, "empty `other`");
    assert_eq!(row["endpoint"], Value::Null);
}

#[test]
fn no_match_says_so() {
    let sandbox = Sandbox::new();
    let table = logs(&sandbox, &["-m", "no-such-model"]);
    assert!(table.status.success());
    assert_eq!(stdout_of(&table), "No logs found.\n");
    let json = logs(&sandbox, &["-m", "no-such-model", "--json"]);
    assert!(json.status.success());
    assert_eq!(stdout_of(&json).trim(), "[]");
}

// ---------------------------------------------------------------------------
// --request-id
// ---------------------------------------------------------------------------

#[test]
fn request_id_uses_the_indexed_lookup_first() {
    let sandbox = Sandbox::new();
    let output = logs(
        &sandbox,
        &["--request-id", "req-log-0003", "-m", "claude-sonnet-4-6"],
    );
    assert!(output.status.success(), "{output:?}");
    let card = stdout_of(&output);
    for line in [
        "Time              2026-03-03 14:05:10\n",
        "Request ID        req-log-0003\n",
        "Cost              $0.018\n",
        "First token (ms)  1320\n",
        "Completion ratio  5\n",
        "Price             ratio\n",
        "Endpoint          /v1/messages\n",
    ] {
        assert!(card.contains(line), "{line:?} in\n{card}");
    }
    let lookups = sandbox.server.requests_to("/api/log/");
    assert_eq!(lookups.len(), 1);
    assert_eq!(
        lookups[0].query,
        "request_id=req-log-0003&p=1&page_size=1&model_name=claude-sonnet-4-6"
    );
    assert!(
        sandbox.server.requests_to("/api/log/self").is_empty(),
        "no scan needed"
    );
}

#[test]
fn request_id_json_is_the_same_typed_record_as_a_list_row() {
    let sandbox = Sandbox::new();
    let card = json_of(&logs(&sandbox, &["--request-id", "req-log-0005", "--json"]));
    let rows = json_of(&logs(&sandbox, &["--json"]));
    assert_eq!(card, rows[0]);
    assert_eq!(card["cost_usd"], json!(0.00396));
    assert_eq!(card["stream"], json!(true));
}

#[test]
fn request_id_falls_back_to_scanning_recent_logs() {
    let sandbox = Sandbox::new();
    sandbox.server.set_operator(false);
    let output = logs(
        &sandbox,
        &[
            "--request-id",
            "req-log-0002",
            "--type",
            "consume",
            "-f",
            "yaml",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let yaml = stdout_of(&output);
    assert!(yaml.contains("request_id: req-log-0002\n"), "{yaml}");
    assert!(yaml.contains("cost_usd: 0.005\n"), "{yaml}");
    assert!(stderr_of(&output).is_empty(), "the refusal is not reported");
    assert_eq!(sandbox.server.requests_to("/api/log/").len(), 1);
    let scans = sandbox.server.requests_to("/api/log/self");
    assert_eq!(scans.len(), 1, "one bounded page");
    assert_eq!(scans[0].query, "p=1&page_size=100&type=2");
}

#[test]
fn request_id_not_found_is_exit_1_with_a_hint() {
    let sandbox = Sandbox::new();
    sandbox.server.set_operator(false);
    let output = logs(&sandbox, &["--request-id", "req-missing"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with("error: no log found for request id req-missing\nhint: "),
        "{stderr}"
    );
    assert!(stderr.contains("--start/--end"), "{stderr}");
    // A filter that excludes the entry hides it from both lookups.
    sandbox.server.set_operator(true);
    let filtered = logs(
        &sandbox,
        &["--request-id", "req-log-0003", "--type", "error"],
    );
    assert_eq!(filtered.status.code(), Some(1));
}

#[test]
fn request_id_does_not_swallow_an_unreachable_service() {
    let sandbox = Sandbox::new();
    sandbox.server.inject("/api/log/", Fault::ServerError, 3);
    let output = logs(&sandbox, &["--request-id", "req-log-0003"]);
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(sandbox.server.requests_to("/api/log/self").is_empty());
}

#[test]
fn request_id_with_export_is_exit_2() {
    let sandbox = Sandbox::new();
    let output = logs(&sandbox, &["--request-id", "req-log-0003", "--export"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("cannot be used with"));
    let paged = logs(&sandbox, &["--export", "--page", "2"]);
    assert_eq!(paged.status.code(), Some(2), "the export has no pages");
    assert!(sandbox.server.requests().is_empty());
}

// ---------------------------------------------------------------------------
// --export
// ---------------------------------------------------------------------------

#[test]
fn export_passes_the_servers_csv_through_byte_for_byte() {
    let sandbox = Sandbox::new();
    let output = logs(&sandbox, &["--export", "--json"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout_of(&output), FIVE_LOGS_CSV, "--json does not apply");
    assert!(
        output.stderr.is_empty(),
        "no progress line when stderr is not a terminal"
    );
    let requests = sandbox.server.requests_to("/api/log/self/export");
    assert_eq!(requests[0].query, "");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
}

#[test]
fn export_sends_the_filters_without_paging() {
    let sandbox = Sandbox::new();
    let output = logs(
        &sandbox,
        &[
            "--export",
            "--type",
            "consume",
            "--token-name",
            "default",
            "--end",
            "2026-03-04",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout_of(&output),
        "created_at,type,model_name,token_name,prompt_tokens,completion_tokens,quota,use_time,is_stream,request_id,group,content\n\
         1772447400,2,gpt-5.4,default,1200,350,2500,3,true,req-log-0002,default,\"model ratio 0.625, completion ratio 8, group ratio 1\"\n"
    );
    assert_eq!(
        sandbox.server.requests_to("/api/log/self/export")[0].query,
        "type=2&token_name=default&end_timestamp=1772668799"
    );
}

#[test]
fn a_large_export_arrives_complete() {
    const ROWS: usize = 200_000;
    let sandbox = Sandbox::new();
    sandbox.server.set_export_rows(ROWS);
    let output = logs(&sandbox, &["--export"]);
    assert!(output.status.success(), "{:?}", stderr_of(&output));
    let text = stdout_of(&output);
    assert_eq!(text.lines().count(), ROWS + 1, "header and every row");
    assert!(text.starts_with("created_at,type,"));
    assert!(
        text.ends_with(&format!(",req-export-{ROWS:08},default,\"model ratio 0.625, completion ratio 8, group ratio 1\"\n")),
        "last row intact"
    );
}

#[test]
fn export_failure_in_a_200_envelope_is_an_error_not_a_file() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/api/log/self/export",
        Fault::Status(
            200,
            r#"{"success":false,"message":"export is disabled"}"#.into(),
        ),
        1,
    );
    let output = logs(&sandbox, &["--export"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(
        stderr_of(&output).contains("export is disabled"),
        "{}",
        stderr_of(&output)
    );
}

// ---------------------------------------------------------------------------
// Credentials and base URL
// ---------------------------------------------------------------------------

#[test]
fn base_url_flag_beats_the_environment() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_token()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .args(["--base-url", &sandbox.server.base_url(), "logs", "--export"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout_of(&output), FIVE_LOGS_CSV);
    let output = sandbox
        .cmd_with_token()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .args(["logs", "-l", "1", "--base-url", &sandbox.server.base_url()])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sandbox.server.requests_to("/api/log/self").len(), 1);
}
