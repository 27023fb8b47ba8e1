//! `tasks`: the query each filter sends, validation, dates, durations, money, errors
//! (a missing or rejected access token: a row of `every_command.rs`).

use serde_json::{json, Value};

use crate::fake_server::ACCESS_TOKEN;
use crate::sandbox::{dead_base_url, stderr_of, stdout_of, Sandbox};

const PLATFORMS: &str =
    "suno, mj, luma, replicate, kling, runwayml, runway, jimeng, volcengine, sora, bria, flux";
const STATUSES: &str = "SUBMITTED, QUEUED, IN_PROGRESS, FAILURE, SUCCESS, UNKNOWN";

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_token()
        .arg("tasks")
        .args(args)
        .output()
        .expect("run")
}

/// Runs `tasks ARGS --json` and returns the task ids and the query the server saw.
fn ids_and_query(sandbox: &Sandbox, args: &[&str]) -> (Vec<String>, String) {
    let output = run(sandbox, &[args, &["--json"]].concat());
    assert!(output.status.success(), "{args:?}: {output:?}");
    let rows: Value = serde_json::from_slice(&output.stdout).expect("json");
    let ids = rows
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["task_id"].as_str().expect("task_id").to_string())
        .collect();
    let requests = sandbox.server.requests_to("/api/task/self");
    let query = requests.last().expect("a request").query.clone();
    (ids, query)
}

/// Runs a command that must fail with exit 2 before any request, and returns stderr.
fn usage_error(sandbox: &Sandbox, args: &[&str]) -> String {
    let output = run(sandbox, args);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    assert!(output.stdout.is_empty());
    assert!(
        sandbox.server.requests().is_empty(),
        "{args:?} sent a request"
    );
    stderr_of(&output)
}

#[test]
fn lists_a_page_with_the_access_token() {
    let sandbox = Sandbox::new();
    let (ids, query) = ids_and_query(&sandbox, &[]);
    assert_eq!(ids, ["task_kling_0003", "task_mj_0002", "task_suno_0001"]);
    assert_eq!(query, "p=1&page_size=20", "no filter unless given");
    let requests = sandbox.server.requests_to("/api/task/self");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    let (ids, query) = ids_and_query(&sandbox, &["--page", "2", "-l", "1"]);
    assert_eq!(
        (ids, query.as_str()),
        (vec!["task_mj_0002".to_string()], "p=2&page_size=1")
    );
    let (_, query) = ids_and_query(&sandbox, &["--limit", "5"]);
    assert_eq!(query, "p=1&page_size=5");
    let (_, query) = ids_and_query(&sandbox, &["--page-size", "7"]);
    assert_eq!(query, "p=1&page_size=7");
}

#[test]
fn page_has_no_short_option() {
    let sandbox = Sandbox::new();
    usage_error(&sandbox, &["-p", "2"]);
}

#[test]
fn every_filter_is_sent() {
    let sandbox = Sandbox::new();
    let (ids, query) = ids_and_query(
        &sandbox,
        &[
            "--platform",
            "suno",
            "--status",
            "SUCCESS",
            "--task-id",
            "task_suno_0001",
            "--action",
            "MUSIC",
            "--start",
            "2026-03-01",
            "--end",
            "2026-03-02",
            "-l",
            "5",
        ],
    );
    assert_eq!(ids, ["task_suno_0001"]);
    assert_eq!(
        query,
        "p=1&page_size=5&platform=suno&task_id=task_suno_0001&status=SUCCESS&action=MUSIC\
         &start_timestamp=1772323200&end_timestamp=1772495999"
    );
    let (ids, query) = ids_and_query(&sandbox, &["--action", "IMAGINE"]);
    assert_eq!(
        (ids, query.as_str()),
        (
            vec!["task_mj_0002".to_string()],
            "p=1&page_size=20&action=IMAGINE"
        )
    );
    let (_, query) = ids_and_query(&sandbox, &["--task-id", "task_kling_0003"]);
    assert_eq!(query, "p=1&page_size=20&task_id=task_kling_0003");
}

#[test]
fn platform_and_status_are_case_insensitive_and_sent_canonical() {
    let sandbox = Sandbox::new();
    let (ids, query) = ids_and_query(&sandbox, &["--platform", "KLING"]);
    assert_eq!(
        (ids, query.as_str()),
        (
            vec!["task_kling_0003".to_string()],
            "p=1&page_size=20&platform=kling"
        )
    );
    let (ids, query) = ids_and_query(&sandbox, &["--status", "in_progress"]);
    assert_eq!(
        (ids, query.as_str()),
        (
            vec!["task_kling_0003".to_string()],
            "p=1&page_size=20&status=IN_PROGRESS"
        )
    );
    let (ids, query) = ids_and_query(&sandbox, &["--platform", "Mj", "--status", "Failure"]);
    assert_eq!(ids, ["task_mj_0002"]);
    assert_eq!(query, "p=1&page_size=20&platform=mj&status=FAILURE");
}

#[test]
fn unknown_platform_or_status_is_exit_2_naming_the_valid_ones() {
    let sandbox = Sandbox::new();
    let stderr = usage_error(&sandbox, &["--platform", "midjourney"]);
    assert!(
        stderr.contains("invalid value 'midjourney' for '--platform <NAME>'"),
        "{stderr}"
    );
    assert!(stderr.contains(PLATFORMS), "{stderr}");
    let stderr = usage_error(&sandbox, &["--status", "done"]);
    assert!(
        stderr.contains("invalid value 'done' for '--status <STATUS>'"),
        "{stderr}"
    );
    assert!(stderr.contains(STATUSES), "{stderr}");
    let stderr = usage_error(&sandbox, &["--status", "done", "--json"]);
    let error: Value = serde_json::from_str(stderr.trim()).expect("one JSON document");
    assert_eq!(error["error"]["code"], 2);
}

#[test]
fn dates_come_in_three_forms_and_end_means_end_of_day() {
    let sandbox = Sandbox::new();
    for (args, sent, expected) in [
        // A bare date: --start is its first second, --end its last.
        (
            ["--start", "2026-03-04"],
            "start_timestamp=1772582400",
            vec!["task_kling_0003", "task_mj_0002"],
        ),
        (
            ["--end", "2026-03-02"],
            "end_timestamp=1772495999",
            vec!["task_suno_0001"],
        ),
        // ISO 8601, with an offset.
        (
            ["--end", "2026-03-04T09:30:00Z"],
            "end_timestamp=1772616600",
            vec!["task_mj_0002", "task_suno_0001"],
        ),
        (
            ["--start", "2026-03-04T11:30:00+02:00"],
            "start_timestamp=1772616600",
            vec!["task_kling_0003", "task_mj_0002"],
        ),
        // Unix seconds, passed through.
        (
            ["--start", "1772712000"],
            "start_timestamp=1772712000",
            vec!["task_kling_0003"],
        ),
    ] {
        let (ids, query) = ids_and_query(&sandbox, &args);
        assert_eq!(query, format!("p=1&page_size=20&{sent}"), "{args:?}");
        assert_eq!(ids, expected, "{args:?}");
    }
}

#[test]
fn bad_dates_are_exit_2() {
    let sandbox = Sandbox::new();
    let stderr = usage_error(&sandbox, &["--end", "2026-02-30"]);
    assert!(stderr.contains("invalid --end `2026-02-30`"), "{stderr}");
    assert!(stderr.contains("YYYY-MM-DD, ISO 8601"), "{stderr}");
    let stderr = usage_error(&sandbox, &["--start", "yesterday"]);
    assert!(stderr.contains("invalid --start `yesterday`"), "{stderr}");
    let stderr = usage_error(&sandbox, &["--start", "2026-03-02", "--end", "2026-03-01"]);
    assert!(
        stderr.contains("--start (2026-03-02T00:00:00Z) is after --end"),
        "{stderr}"
    );
}

#[test]
fn table_shows_cost_status_and_duration() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &[]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout_of(&output),
        "Time                 Platform  Task ID          Action      Status       Model            Progress  Cost   Duration (s)\n\
         2026-03-05 12:00:00  kling     task_kling_0003  text2video  IN_PROGRESS  kling-v2-master  45%       $0.40  -\n\
         2026-03-04 09:30:00  mj        task_mj_0002     IMAGINE     FAILURE      mj_imagine       100%      $0.00  60\n\
         2026-03-02 11:00:00  suno      task_suno_0001   MUSIC       SUCCESS      suno-v4          100%      $0.10  95\n"
    );
    let markdown = stdout_of(&run(
        &sandbox,
        &["--task-id", "task_suno_0001", "-f", "markdown"],
    ));
    assert!(
        markdown.ends_with("| 2026-03-02 11:00:00 | suno | task_suno_0001 | MUSIC | SUCCESS | suno-v4 | 100% | $0.10 | 95 |\n"),
        "{markdown}"
    );
}

#[test]
fn json_keeps_typed_values_and_the_raw_times() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["--json"]);
    let rows: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        rows[2],
        json!({
            "time": "2026-03-02T11:00:00Z", "platform": "suno", "task_id": "task_suno_0001",
            "action": "MUSIC", "status": "SUCCESS", "model": "suno-v4", "progress": "100%",
            "cost_usd": 0.1, "duration_secs": 95,
            "submit_time": "2026-03-02T11:00:00Z", "finish_time": "2026-03-02T11:01:35Z",
            "fail_reason": null,
        })
    );
    assert_eq!(rows[0]["cost_usd"], 0.4, "200,000 quota is $0.40");
    assert_eq!(rows[0]["duration_secs"], Value::Null, "still running");
    assert_eq!(rows[0]["finish_time"], Value::Null);
    assert_eq!(rows[1]["duration_secs"], 60);
    assert_eq!(rows[1]["fail_reason"], "prompt rejected by moderation");
    let yaml = stdout_of(&run(&sandbox, &["--task-id", "task_mj_0002", "-f", "yaml"]));
    assert!(
        yaml.contains("cost_usd: 0.0\n") && yaml.contains("duration_secs: 60\n"),
        "{yaml}"
    );
}

#[test]
fn no_match_is_a_sentence_or_an_empty_list() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["--task-id", "no-such-task"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout_of(&output), "No tasks found.\n");
    let output = run(&sandbox, &["--task-id", "no-such-task", "--json"]);
    assert_eq!(stdout_of(&output).trim(), "[]");
    let output = run(&sandbox, &["--platform", "sora", "-f", "markdown"]);
    assert_eq!(stdout_of(&output), "No tasks found.\n");
}

#[test]
fn base_url_flag_is_honoured() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_token()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .args(["--base-url", &sandbox.server.base_url(), "tasks", "--json"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sandbox.server.requests_to("/api/task/self").len(), 1);
}
