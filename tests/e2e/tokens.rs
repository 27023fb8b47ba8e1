//! `tokens`: the queries it sends, keys masked in every format, money, dates, errors
//! (a missing or rejected access token: rows of `every_command.rs`).

use serde_json::{json, Value};

use crate::fake_server::{Stub, ACCESS_TOKEN};
use crate::sandbox::{dead_base_url, stderr_of, stdout_of, Sandbox};

/// The full keys of the fake server's tokens 101, 102 and 103.
const KEYS: [&str; 3] = [
    "sk-Fk9wQ2mZr8TnLx4VbYc7JdHs3GpAe6Ku1NoWq5Ei0RtMzX9f3a",
    "sk-Pq2Ls8Vn4Xc6Bz1Mk3Jh5Gf7Dd9Sa0Qw2Er4Ty6Ui8Op1c7c1d",
    "sk-Zx7Cv5Bn3Mm1Lk9Jh8Gf6Dd4Ss2Aa0Qq1Ww3Ee5Rr7Tt9Yy0e5b",
];
const MASKED: [&str; 3] = ["****9f3a", "****7c1d", "****0e5b"];

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    let output = sandbox
        .cmd_with_token()
        .arg("tokens")
        .args(args)
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    output
}

fn json_of(sandbox: &Sandbox, args: &[&str]) -> Value {
    let output = run(sandbox, &[args, &["--json"]].concat());
    serde_json::from_slice(&output.stdout).expect("json")
}

fn ids(rows: &Value) -> Vec<i64> {
    rows.as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

/// The query of the last request to `path`.
fn last_query(sandbox: &Sandbox, path: &str) -> String {
    let requests = sandbox.server.requests_to(path);
    requests.last().expect("a request").query.clone()
}

#[test]
fn lists_a_page_with_the_access_token() {
    let sandbox = Sandbox::new();
    assert_eq!(ids(&json_of(&sandbox, &[])), vec![101, 102, 103]);
    let requests = sandbox.server.requests_to("/api/token/");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].query, "p=1&page_size=20");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    assert!(sandbox.server.requests_to("/api/token/search").is_empty());
}

#[test]
fn page_options_become_p_and_page_size() {
    let sandbox = Sandbox::new();
    for (args, query, expected) in [
        (
            &["--page", "2", "-l", "1"][..],
            "p=2&page_size=1",
            vec![102],
        ),
        (
            &["--page", "3", "--page-size", "1"][..],
            "p=3&page_size=1",
            vec![103],
        ),
        (&["--limit", "2"][..], "p=1&page_size=2", vec![101, 102]),
    ] {
        assert_eq!(ids(&json_of(&sandbox, args)), expected, "{args:?}");
        assert_eq!(last_query(&sandbox, "/api/token/"), query, "{args:?}");
    }
}

#[test]
fn table_shows_status_money_and_dates() {
    let sandbox = Sandbox::new();
    let token = |id: u32, name: &str, key: &str, status: u8, quota: (u64, u64, bool), times| {
        let (remain_quota, used_quota, unlimited_quota) = quota;
        let (created_time, accessed_time, expired_time): (i64, i64, i64) = times;
        json!({
            "id": id, "name": name, "key": key, "status": status,
            "remain_quota": remain_quota, "used_quota": used_quota,
            "unlimited_quota": unlimited_quota, "created_time": created_time,
            "accessed_time": accessed_time, "expired_time": expired_time,
        })
    };
    #[rustfmt::skip]
    let items = [
        token(101, "default", KEYS[0], 1, (1_000_000, 250_000, false),
            (1_767_225_600, 1_772_698_800, -1)),
        token(102, "ci-pipeline", KEYS[1], 1, (0, 1_480_000, true),
            (1_767_139_200, 1_772_546_710, 1_798_761_600)),
        token(103, "old-experiment", KEYS[2], 3, (120_000, 380_000, false),
            (1_748_736_000, 1_767_139_200, 1_767_225_600)),
    ];
    sandbox.server.stub(
        "GET",
        "/api/token/",
        Stub::console(json!({"items": items, "total": 3, "page": 1, "page_size": 20})),
    );
    assert_eq!(
        stdout_of(&run(&sandbox, &[])),
        "ID   Name            Key       Status   Balance    Used   Created              Accessed             Expires\n\
         101  default         ****9f3a  active   $2.00      $0.50  2026-01-01 00:00:00  2026-03-05 08:20:00  Never\n\
         102  ci-pipeline     ****7c1d  active   Unlimited  $2.96  2025-12-31 00:00:00  2026-03-03 14:05:10  2027-01-01 00:00:00\n\
         103  old-experiment  ****0e5b  expired  $0.24      $0.76  2025-06-01 00:00:00  2025-12-31 00:00:00  2026-01-01 00:00:00\n"
    );
}

#[test]
fn json_keeps_typed_values() {
    let sandbox = Sandbox::new();
    let rows = json_of(&sandbox, &[]);
    assert_eq!(
        rows[0],
        json!({
            "id": 101, "name": "default", "key": "****9f3a", "status": "active",
            "balance_usd": 2.0, "used_usd": 0.5,
            "created": "2026-01-01T00:00:00Z", "accessed": "2026-03-05T08:20:00Z",
            "expires": null, "unlimited": false,
        })
    );
    assert_eq!(
        rows[1]["balance_usd"],
        Value::Null,
        "unlimited has no balance"
    );
    assert_eq!(rows[1]["unlimited"], true);
    assert_eq!(rows[1]["used_usd"], 2.96, "1,480,000 quota is $2.96");
    assert_eq!(rows[1]["expires"], "2027-01-01T00:00:00Z");
    assert_eq!(rows[2]["status"], "expired");
    assert_eq!(rows[2]["balance_usd"], 0.24);
}

#[test]
fn keys_are_masked_in_every_format() {
    let sandbox = Sandbox::new();
    for format in ["table", "json", "yaml", "csv", "markdown"] {
        let output = run(&sandbox, &["-v", "-f", format]);
        let everything = format!("{}{}", stdout_of(&output), stderr_of(&output));
        for (key, masked) in KEYS.iter().zip(MASKED) {
            let (head, _) = key.split_at(key.len() - 4);
            assert!(!everything.contains(head), "{format}: {key} leaked");
            assert!(stdout_of(&output).contains(masked), "{format}: no {masked}");
        }
        assert!(!everything.contains(ACCESS_TOKEN), "{format}: token leaked");
    }
    // A search hit goes through the same masking.
    let found = stdout_of(&run(&sandbox, &["--search", "ci-pipeline", "-f", "yaml"]));
    assert!(
        found.contains("key: '****7c1d'") && !found.contains(KEYS[1]),
        "{found}"
    );
}

#[test]
fn search_sends_only_the_keyword() {
    let sandbox = Sandbox::new();
    assert_eq!(ids(&json_of(&sandbox, &["--search", "ci"])), vec![102]);
    assert_eq!(last_query(&sandbox, "/api/token/search"), "keyword=ci");
    json_of(&sandbox, &["--search", "old experiment", "--page", "2"]);
    let request = sandbox.server.requests_to("/api/token/search");
    assert_eq!(
        request[1].query_pairs(),
        vec![("keyword".to_string(), "old experiment".to_string())]
    );
    assert!(sandbox.server.requests_to("/api/token/").is_empty());
}

#[test]
fn search_pages_client_side() {
    let sandbox = Sandbox::new();
    // Every key contains `sk-`, so the server returns all three.
    assert_eq!(
        ids(&json_of(&sandbox, &["--search", "sk-", "-l", "2"])),
        vec![101, 102]
    );
    assert_eq!(
        ids(&json_of(
            &sandbox,
            &["--search", "sk-", "--limit", "2", "--page", "2"]
        )),
        vec![103]
    );
    assert_eq!(
        ids(&json_of(&sandbox, &["--search", "sk-"])),
        vec![101, 102, 103]
    );
    for request in sandbox.server.requests_to("/api/token/search") {
        assert_eq!(request.query, "keyword=sk-");
    }
}

#[test]
fn no_match_is_a_sentence_or_an_empty_list() {
    let sandbox = Sandbox::new();
    let table = run(&sandbox, &["--search", "no-such-token"]);
    assert_eq!(stdout_of(&table), "No tokens found.\n");
    let json = run(&sandbox, &["--search", "no-such-token", "--json"]);
    assert_eq!(stdout_of(&json).trim(), "[]");
    assert_eq!(
        stdout_of(&run(&sandbox, &["--page", "9"])),
        "No tokens found.\n"
    );
    let csv = run(&sandbox, &["--search", "no-such-token", "-f", "csv"]);
    assert_eq!(
        stdout_of(&csv),
        "ID,Name,Key,Status,Balance,Used,Created,Accessed,Expires\n"
    );
}

#[test]
fn base_url_flag_is_honoured() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_token()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .args(["--base-url", &sandbox.server.base_url(), "tokens", "--json"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sandbox.server.requests_to("/api/token/").len(), 1);
}
