//! Tables and numbers: on a terminal (a pty, `COLUMNS`) tables fit the width without
//! splitting an id, a date or a number and name the columns they leave out; money has
//! no float noise in any format; csv leaves missing values empty; json keeps booleans;
//! lists say how many of how many on stderr, on a terminal only.

use std::process::Command;

use serde_json::Value;

use crate::fake_server::{ACCESS_TOKEN, API_KEY};
use crate::pty::{spawn, spawn_command, Screen};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

/// What a terminal `columns` wide shows for `cometapi ARGS`, with its exit code.
/// The pty is given the same size, so the terminal and `COLUMNS` agree.
fn on_terminal(sandbox: &Sandbox, args: &[&str], columns: u16) -> (String, i32) {
    let width = columns.to_string();
    let env = [
        ("COMETAPI_KEY", API_KEY),
        ("COMETAPI_ACCESS_TOKEN", ACCESS_TOKEN),
        ("COLUMNS", width.as_str()),
    ];
    let mut session = spawn(sandbox, args, &env);
    let _ = session.set_window_size(columns, 50);
    let mut screen = Screen::new(session);
    let code = screen.exit_code();
    (visible(&screen.text), code)
}

/// The text as the terminal leaves it: a carriage return starts its line again (the
/// spinner's line is overwritten that way).
fn visible(text: &str) -> String {
    text.replace("\r\n", "\n")
        .lines()
        .map(|line| line.rsplit('\r').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The same command piped, in csv: the values the terminal must show whole.
fn csv_rows(sandbox: &Sandbox, args: &[&str]) -> Vec<Vec<String>> {
    let output = sandbox
        .cmd_with_token()
        .env("COMETAPI_KEY", API_KEY)
        .args(args)
        .args(["--format", "csv"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    reader
        .records()
        .map(|r| r.expect("csv row").iter().map(str::to_string).collect())
        .collect()
}

fn assert_fits(screen: &str, columns: usize) {
    for line in screen.lines() {
        assert!(
            line.chars().count() <= columns,
            "a line wider than {columns} columns:\n{line}\nscreen:\n{screen}"
        );
    }
}

/// Every value appears whole on some line of the screen.
fn assert_whole(screen: &str, values: &[&str]) {
    for value in values {
        assert!(
            screen.lines().any(|line| line.contains(value)),
            "{value:?} is split or missing:\n{screen}"
        );
    }
}

/// Money with more decimals than the money rule allows is float noise.
fn assert_no_float_noise(text: &str) {
    for (at, _) in text.match_indices('$') {
        let amount: String = text[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
            .collect();
        let decimals = amount.split_once('.').map_or(0, |(_, f)| f.len());
        let significant = amount
            .split_once('.')
            .map_or(0, |(_, f)| f.trim_start_matches('0').len());
        assert!(
            decimals <= 2 || significant <= 4,
            "float noise in {amount:?}:\n{text}"
        );
    }
}

#[test]
fn models_at_80_columns_keep_ids_and_prices_whole_and_name_what_was_dropped() {
    let sandbox = Sandbox::new();
    sandbox.server.set_catalog_size(300);
    let args = ["models", "--limit", "40"];
    let rows = csv_rows(&sandbox, &args);
    let (screen, code) = on_terminal(&sandbox, &args, 80);
    assert_eq!(code, 0, "{screen}");
    assert_fits(&screen, 80);
    let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let prices: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert_whole(&screen, &ids);
    assert_whole(&screen, &prices);
    assert_no_float_noise(&screen);
    assert!(
        screen.contains("Not shown at 80 columns: Endpoints"),
        "the footer names the dropped columns:\n{screen}"
    );
    assert!(!screen.contains("openai-chat"), "{screen}");
}

#[test]
fn models_at_160_columns_show_every_column_whole() {
    let sandbox = Sandbox::new();
    sandbox.server.set_catalog_size(300);
    let args = ["models", "--limit", "40"];
    let rows = csv_rows(&sandbox, &args);
    let (screen, code) = on_terminal(&sandbox, &args, 160);
    assert_eq!(code, 0, "{screen}");
    assert_fits(&screen, 160);
    for row in &rows {
        // Context is a plain number in csv and grouped (`400,000`) on the terminal.
        let cells: Vec<&str> = [0, 1, 2, 3, 5].iter().map(|&c| row[c].as_str()).collect();
        assert_whole(&screen, &cells);
    }
    assert!(
        screen.contains("Endpoints") && !screen.contains("Not shown"),
        "{screen}"
    );
}

#[test]
fn logs_detail_at_160_columns_keeps_request_ids_dates_and_ratios_whole() {
    let sandbox = Sandbox::new();
    let (screen, code) = on_terminal(&sandbox, &["logs", "--detail"], 160);
    assert_eq!(code, 0, "{screen}");
    assert_fits(&screen, 160);
    assert_whole(
        &screen,
        &[
            "2026-03-05 08:20:00",
            "2026-03-03 14:05:10",
            "req-log-0005",
            "req-log-0001",
            "claude-sonnet-4-6",
            "Completion",
            "$0.00396",
            "0.625",
        ],
    );
    assert!(screen.contains("Not shown at 160 columns: "), "{screen}");
}

#[test]
fn logs_tasks_and_tokens_at_80_columns_keep_dates_ids_and_numbers_whole() {
    let sandbox = Sandbox::new();
    let cases: [(&[&str], &[&str]); 3] = [
        (
            &["logs"],
            &[
                "2026-03-05 08:20:00",
                "deepseek-v4-pro",
                "claude-sonnet-4-6",
                "$0.00396",
                "$10.00",
            ],
        ),
        (
            &["tasks"],
            &[
                "2026-03-05 12:00:00",
                "task_kling_0003",
                "IN_PROGRESS",
                "task_suno_0001",
            ],
        ),
        (
            &["tokens"],
            &["old-experiment", "ci-pipeline", "Unlimited", "$2.00"],
        ),
    ];
    for (args, whole) in cases {
        let (screen, code) = on_terminal(&sandbox, args, 80);
        assert_eq!(code, 0, "{args:?}: {screen}");
        assert_fits(&screen, 80);
        assert_whole(&screen, whole);
        assert!(
            screen.contains("Not shown at 80 columns: "),
            "{args:?}:\n{screen}"
        );
    }
    let (logs, _) = on_terminal(&sandbox, &["logs"], 80);
    assert!(
        logs.contains("Not shown at 80 columns: Stream, Duration (s)"),
        "lowest rank first:\n{logs}"
    );
}

#[test]
fn csv_has_no_float_noise_and_leaves_missing_values_empty() {
    let sandbox = Sandbox::new();
    sandbox.server.set_catalog_size(300);
    let csv = stdout_of(
        &sandbox
            .cmd()
            .args(["models", "--format", "csv"])
            .output()
            .expect("run"),
    );
    assert_no_float_noise(&csv);
    assert!(
        !csv.contains("0000000") && !csv.contains("9999999"),
        "{csv}"
    );
    assert!(
        csv.contains("synthetic-model-00006,Synthetic,text,\"in $0.70/M, out $2.80/M\",32768,"),
        "0.7 * 4 is $2.80, not 2.8000000000000003:\n{csv}"
    );
    assert!(
        csv.contains("\ngpt-image-1,OpenAI,image,$0.04/request,,openai-images\n"),
        "no context length is an empty field:\n{csv}"
    );
    let logs = stdout_of(
        &sandbox
            .cmd_with_token()
            .args(["logs", "--format", "csv"])
            .output()
            .expect("run"),
    );
    assert!(
        logs.contains("\n2026-03-01 09:15:00,topup,,,0,0,10,,false\n"),
        "a top-up has no model, token or duration:\n{logs}"
    );
}

#[test]
fn money_reads_the_same_in_every_command() {
    let sandbox = Sandbox::new();
    let run =
        |args: &[&str]| stdout_of(&sandbox.cmd_with_token().args(args).output().expect("run"));
    let stats = run(&["stats"]);
    assert!(stats.contains("Usage this month        $1.00\n"), "{stats}");
    let tasks = run(&["tasks"]);
    assert!(
        tasks.contains("$0.40") && tasks.contains("$0.10"),
        "{tasks}"
    );
    assert!(!tasks.contains("$0.4000"), "{tasks}");
    let balance = run(&["balance"]);
    assert!(balance.contains("Available balance  $5.00\n"), "{balance}");
}

#[test]
fn every_duration_column_is_seconds_and_says_so() {
    let sandbox = Sandbox::new();
    let logs = stdout_of(&sandbox.cmd_with_token().arg("logs").output().expect("run"));
    let tasks = stdout_of(&sandbox.cmd_with_token().arg("tasks").output().expect("run"));
    assert!(
        logs.lines()
            .next()
            .unwrap_or_default()
            .contains("Duration (s)"),
        "{logs}"
    );
    assert!(
        tasks
            .lines()
            .next()
            .unwrap_or_default()
            .contains("Duration (s)"),
        "{tasks}"
    );
    assert!(logs.contains("  6.21  "), "6210 ms is 6.21 s:\n{logs}");
    assert!(tasks.contains("  95\n"), "1m35s is 95 s:\n{tasks}");
}

#[test]
fn json_keeps_booleans_and_numbers() {
    let sandbox = Sandbox::new();
    let json = |args: &[&str]| -> Value {
        let output = sandbox
            .cmd_with_token()
            .args(args)
            .arg("--json")
            .output()
            .expect("run");
        serde_json::from_slice(&output.stdout).expect("json")
    };
    let show = json(&["config", "show"]);
    let stream_usage = show
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["key"] == "stream_usage")
        .expect("stream_usage");
    assert_eq!(stream_usage["value"], Value::Bool(true));
    assert_eq!(json(&["logs"])[0]["stream"], Value::Bool(true));
    assert_eq!(json(&["tokens"])[1]["unlimited"], Value::Bool(true));
    assert_eq!(json(&["logs"])[0]["duration_secs"], serde_json::json!(6.21));
}

/// `cometapi ARGS > FILE` on a pty: stderr is the terminal, stdout a file.
fn stdout_to_file(sandbox: &Sandbox, args: &str, file: &std::path::Path) -> String {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!(
        "'{}' {args} > '{}'",
        env!("CARGO_BIN_EXE_cometapi"),
        file.display()
    ));
    let session = spawn_command(sandbox, cmd, &[("COMETAPI_ACCESS_TOKEN", ACCESS_TOKEN)]);
    let mut screen = Screen::new(session);
    assert_eq!(screen.exit_code(), 0, "{}", screen.text);
    visible(&screen.text)
}

#[test]
fn lists_say_how_many_on_a_terminal_only() {
    let sandbox = Sandbox::new();
    let (screen, code) = on_terminal(&sandbox, &["logs", "--page-size", "2"], 120);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("showing 2 of 5, page 1/3"), "{screen}");
    let (screen, _) = on_terminal(&sandbox, &["models", "--limit", "3"], 120);
    assert!(screen.contains("showing 3 of 10"), "{screen}");
    let (screen, _) = on_terminal(&sandbox, &["logs", "--page", "4", "--page-size", "2"], 120);
    assert!(
        screen.contains("showing 0 of 5, page 4/3"),
        "past the end: {screen}"
    );
    let (screen, _) = on_terminal(&sandbox, &["logs", "--model", "nope"], 120);
    assert!(
        screen.contains("No logs found.") && !screen.contains("showing"),
        "{screen}"
    );

    // On stderr: with stdout in a file, the terminal still shows it and the file has none.
    let file = sandbox.home.path().join("tasks.txt");
    let screen = stdout_to_file(&sandbox, "tasks --page 2 --page-size 2", &file);
    assert!(screen.contains("showing 1 of 3, page 2/2"), "{screen}");
    let written = std::fs::read_to_string(&file).expect("stdout file");
    assert!(
        written.contains("task_suno_0001") && !written.contains("showing"),
        "{written}"
    );

    // Piped: nothing but the data.
    for args in [&["logs"][..], &["tokens"], &["tasks"], &["models"]] {
        let output = sandbox.cmd_with_token().args(args).output().expect("run");
        assert!(output.status.success(), "{output:?}");
        assert_eq!(stderr_of(&output), "", "{args:?}");
        assert!(!stdout_of(&output).contains("showing"), "{args:?}");
    }
}
