//! The conversation log: chat and run exchanges recorded (0600, after the reply), `chat
//! -c` and `--cid` sending the logged turns, `--no-log` and `log false`, a locked or
//! corrupt file never failing a chat, and `conversations list|show|rm|export|import`.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const CHAT: &str = "/v1/chat/completions";

fn db_path(sandbox: &Sandbox) -> PathBuf {
    sandbox
        .home
        .path()
        .join(".local/share/cometapi/conversations.db")
}

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .args(args)
        .write_stdin("")
        .output()
        .expect("run")
}

fn ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let output = run(sandbox, args);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
    stdout_of(&output)
}

fn json(sandbox: &Sandbox, args: &[&str]) -> Value {
    serde_json::from_str(&ok(sandbox, args)).expect("json")
}

/// `conversations list --json`, newest first.
fn listed(sandbox: &Sandbox, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["conversations", "list", "--json"];
    args.extend_from_slice(extra);
    json(sandbox, &args).as_array().cloned().unwrap_or_default()
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

fn last_sent(sandbox: &Sandbox) -> Value {
    let requests = sandbox.server.requests_to(CHAT);
    serde_json::from_str(&requests.last().expect("a chat request").body).expect("body")
}

/// (role, content) of every message of a `show --json` transcript.
fn transcript(sandbox: &Sandbox, id: &str) -> Vec<(String, String)> {
    let rows = json(sandbox, &["conversations", "show", id, "--json"]);
    rows.as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (text("role"), text("content"))
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(r, c)| (r.to_string(), c.to_string()))
        .collect()
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn a_one_shot_chat_is_recorded_in_a_private_file() {
    let sandbox = Sandbox::new();
    assert_eq!(
        ok(&sandbox, &["chat", "hello there"]),
        "echo: hello there\n"
    );
    let rows = listed(&sandbox, &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["turns"], 1);
    assert_eq!(rows[0]["model"], "gpt-5.4");
    assert_eq!(rows[0]["first_line"], "hello there");
    let id = rows[0]["id"].as_str().expect("id");
    assert_eq!(id.len(), 12, "{id}");
    let show = json(&sandbox, &["conversations", "show", id, "--json"]);
    let reply = &show[1];
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["content"], "echo: hello there");
    assert_eq!(reply["status"], "completed");
    assert!(reply["completion_tokens"].as_u64().is_some(), "{reply}");
    assert!(reply["total_ms"].as_u64().is_some(), "{reply}");
    assert!(reply["first_token_ms"].as_u64().is_some(), "{reply}");
    #[cfg(unix)]
    {
        let db = db_path(&sandbox);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(db.parent().expect("dir")), 0o700);
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).expect("chmod");
        ok(&sandbox, &["chat", "again"]);
        assert_eq!(mode(&db), 0o600, "an opened log is made private again");
    }
}

#[test]
fn run_and_no_stream_chat_are_recorded_too() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["run", "-p", "via run", "--stream"]);
    ok(&sandbox, &["chat", "--no-stream", "whole reply"]);
    ok(&sandbox, &["run", "-p", "run whole", "-e", "anthropic"]);
    let rows = listed(&sandbox, &[]);
    let firsts: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["first_line"].as_str())
        .collect();
    assert_eq!(firsts, ["run whole", "whole reply", "via run"]);
    let id = rows[0]["id"].as_str().expect("id");
    assert_eq!(
        transcript(&sandbox, id),
        pairs(&[("user", "run whole"), ("assistant", "echo: run whole")])
    );
}

#[test]
fn continue_sends_the_previous_turns() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["chat", "-s", "be brief", "first"]);
    assert_eq!(ok(&sandbox, &["chat", "-c", "second"]), "echo: second\n");
    let messages = last_sent(&sandbox)["messages"].clone();
    let sent: Vec<(String, String)> = messages
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or("").into(),
                m["content"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        pairs(&[
            ("system", "be brief"),
            ("user", "first"),
            ("assistant", "echo: first"),
            ("user", "second")
        ])
    );
    let rows = listed(&sandbox, &[]);
    assert_eq!(rows.len(), 1, "the same conversation: {rows:?}");
    assert_eq!(rows[0]["turns"], 2);
}

#[test]
fn cid_picks_the_given_conversation_with_its_model_and_system_prompt() {
    let sandbox = Sandbox::new();
    ok(
        &sandbox,
        &["chat", "-m", "gpt-4o", "-s", "talk like a pirate", "alpha"],
    );
    ok(&sandbox, &["chat", "beta"]);
    let rows = listed(&sandbox, &[]);
    let alpha = rows[1]["id"].as_str().expect("id").to_string();
    assert_eq!(rows[1]["first_line"], "alpha");
    // A unique start of the id is enough.
    ok(&sandbox, &["chat", "--cid", &alpha[..10], "gamma"]);
    let body = last_sent(&sandbox);
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["messages"][0]["content"], "talk like a pirate");
    assert_eq!(body["messages"][1]["content"], "alpha");
    assert_eq!(body["messages"][3]["content"], "gamma");
    // Given again, model and system prompt win over the logged ones.
    ok(
        &sandbox,
        &[
            "chat", "--cid", &alpha, "-m", "claude-x", "-s", "plain", "delta",
        ],
    );
    let body = last_sent(&sandbox);
    assert_eq!(body["model"], "claude-x");
    assert_eq!(body["messages"][0]["content"], "plain");
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(6));
    assert_eq!(
        listed(&sandbox, &[])[0]["id"],
        alpha.as_str(),
        "newest activity first"
    );
}

#[test]
fn continuing_nothing_or_an_unknown_id_sends_nothing() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["chat", "-c", "hi"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr_of(&output).contains("no logged conversation"),
        "{output:?}"
    );
    ok(&sandbox, &["chat", "first"]);
    for bad in ["zzzzzzzzzzzz", "not/an/id"] {
        let output = run(&sandbox, &["chat", "--cid", bad, "hi"]);
        assert_eq!(output.status.code(), Some(1), "{bad}: {output:?}");
        assert!(stderr_of(&output).contains("no conversation"), "{output:?}");
    }
    let output = run(&sandbox, &["chat", "-c", "--cid", "x", "hi"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(
        sandbox.server.requests_to(CHAT).len(),
        1,
        "only the first chat"
    );
}

#[test]
fn no_log_and_log_false_record_nothing() {
    let sandbox = Sandbox::new();
    assert_eq!(
        ok(&sandbox, &["chat", "--no-log", "secret"]),
        "echo: secret\n"
    );
    ok(&sandbox, &["run", "--no-log", "-p", "secret"]);
    sandbox.write_config("log = false\n");
    ok(&sandbox, &["chat", "secret"]);
    ok(&sandbox, &["run", "-p", "secret", "--stream"]);
    assert!(!db_path(&sandbox).exists(), "the log is not even created");
    assert_eq!(sandbox.server.requests_to(CHAT).len(), 4);
}

#[test]
fn list_filters_by_search_model_and_date() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["chat", "apples"]);
    ok(&sandbox, &["chat", "-m", "gpt-4o", "pears"]);
    // "echo" is only ever in the replies.
    assert_eq!(listed(&sandbox, &["--search", "ECHO"]).len(), 2);
    let found = listed(&sandbox, &["--search", "apples"]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["first_line"], "apples");
    assert!(listed(&sandbox, &["--search", "\"kiwi AND*"]).is_empty());
    let by_model = listed(&sandbox, &["--model", "GPT-4O"]);
    assert_eq!(by_model.len(), 1);
    assert_eq!(by_model[0]["first_line"], "pears");
    assert_eq!(
        listed(&sandbox, &["--since", "2000-01-01", "-l", "1"]).len(),
        1
    );
    assert!(listed(&sandbox, &["--since", "2999-01-01"]).is_empty());
    for bad in [&["--since", "soon"][..], &["-l", "0"], &["--limit", "x"]] {
        let mut args = vec!["conversations", "list"];
        args.extend_from_slice(bad);
        let output = run(&sandbox, &args);
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {output:?}");
    }
    let output = run(&sandbox, &["conversations"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a subcommand is needed: {output:?}"
    );
    let table = ok(&sandbox, &["conv", "list"]);
    assert!(
        table.contains("apples") && table.contains("gpt-4o"),
        "{table}"
    );
}

#[test]
fn show_rm_export_and_import_round_trip() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["chat", "-s", "sys", "one"]);
    ok(&sandbox, &["chat", "-c", "two"]);
    let id = ids(&listed(&sandbox, &[]))[0].clone();
    let before = transcript(&sandbox, &id);
    assert_eq!(
        before,
        pairs(&[
            ("system", "sys"),
            ("user", "one"),
            ("assistant", "echo: one"),
            ("user", "two"),
            ("assistant", "echo: two")
        ])
    );
    let markdown = ok(&sandbox, &["conversations", "show", &id, "-f", "markdown"]);
    assert!(
        markdown.contains("| assistant |") && markdown.contains("echo: two"),
        "{markdown}"
    );

    let exported = ok(&sandbox, &["conversations", "export"]);
    assert_eq!(exported.lines().count(), 1, "{exported}");
    let line: Value = serde_json::from_str(exported.trim()).expect("a JSON line");
    assert_eq!(line["id"], id.as_str());
    assert_eq!(line["exchanges"][1]["status"], "completed");
    let file = sandbox.home.path().join("export.jsonl");
    fs::write(&file, &exported).expect("write");

    let output = run(&sandbox, &["conversations", "rm", &id]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "no --yes off a terminal: {output:?}"
    );
    assert_eq!(listed(&sandbox, &[]).len(), 1);
    ok(&sandbox, &["conversations", "rm", "--yes", &id]);
    assert!(listed(&sandbox, &[]).is_empty());
    let output = run(&sandbox, &["conversations", "show", &id]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");

    let imported = ok(
        &sandbox,
        &["conversations", "import", file.to_str().expect("utf-8")],
    );
    assert!(
        imported.starts_with("imported 1 conversation"),
        "{imported}"
    );
    let new_id = ids(&listed(&sandbox, &[]))[0].clone();
    assert_eq!(transcript(&sandbox, &new_id), before);
    assert_eq!(
        sandbox.server.requests_to(CHAT).len(),
        2,
        "no request after the chats"
    );
}

#[test]
fn import_reads_the_repl_save_format_and_refuses_bad_files() {
    let sandbox = Sandbox::new();
    let saved = sandbox.home.path().join("saved.json");
    fs::write(
        &saved,
        r#"{"model":"m1","system":null,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}"#,
    )
    .expect("write");
    ok(
        &sandbox,
        &["conversations", "import", saved.to_str().expect("utf-8")],
    );
    let id = ids(&listed(&sandbox, &[]))[0].clone();
    assert_eq!(
        transcript(&sandbox, &id),
        pairs(&[("user", "q"), ("assistant", "a")])
    );

    let bad = sandbox.home.path().join("bad.json");
    fs::write(&bad, "{\"model\": 1}\n").expect("write");
    let output = run(
        &sandbox,
        &["conversations", "import", bad.to_str().expect("utf-8")],
    );
    assert_eq!(output.status.code(), Some(64), "{output:?}");
    let missing = sandbox.home.path().join("missing.json");
    let output = run(
        &sandbox,
        &["conversations", "import", missing.to_str().expect("utf-8")],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("missing.json"), "{output:?}");
    assert_eq!(listed(&sandbox, &[]).len(), 1, "nothing more imported");
}

#[test]
fn a_locked_log_still_shows_the_reply_and_warns() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["chat", "first"]);
    let holder = rusqlite::Connection::open(db_path(&sandbox)).expect("open");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let output = run(&sandbox, &["chat", "while locked"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: while locked\n");
    let stderr = stderr_of(&output);
    assert_eq!(stderr.matches("warning:").count(), 1, "{stderr}");
    assert!(stderr.contains("not recorded"), "{stderr}");
    holder.execute_batch("ROLLBACK").expect("unlock");
    assert_eq!(listed(&sandbox, &[]).len(), 1);
}

#[test]
fn a_corrupt_log_still_shows_the_reply_and_warns_once() {
    let sandbox = Sandbox::new();
    let db = db_path(&sandbox);
    fs::create_dir_all(db.parent().expect("dir")).expect("dir");
    fs::write(&db, vec![0x5a_u8; 8192]).expect("garbage");
    let output = run(&sandbox, &["chat", "still here"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: still here\n");
    let stderr = stderr_of(&output);
    assert_eq!(stderr.matches("warning:").count(), 1, "{stderr}");
    let output = run(&sandbox, &["conversations", "list"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "reading it is an error: {output:?}"
    );
}

#[cfg(unix)]
#[test]
fn the_repl_logs_turns_new_starts_another_and_c_reopens_the_latest() {
    use crate::fake_server::API_KEY;
    use crate::pty::{spawn, Screen};
    const PROMPT: &str = "gpt-5.4> ";
    let say = |screen: &mut Screen, message: &str| {
        screen.send(&format!("{message}\r"));
        screen.wait_for(&format!("echo: {message}"));
        screen.wait_for(PROMPT);
    };
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["chat"], &[("COMETAPI_KEY", API_KEY)]));
    screen.wait_for(PROMPT);
    say(&mut screen, "first turn");
    say(&mut screen, "second turn");
    screen.send("/retry\r");
    screen.wait_for("echo: second turn");
    screen.wait_for(PROMPT);
    screen.send("/new\r");
    screen.wait_for("new conversation");
    screen.wait_for(PROMPT);
    say(&mut screen, "other topic");
    screen.send("/conversations\r");
    screen.wait_for("first turn");
    screen.wait_for("chat --cid ID");
    screen.wait_for(PROMPT);
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
    let rows = listed(&sandbox, &[]);
    let summary: Vec<(&str, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["first_line"].as_str().unwrap_or(""),
                r["turns"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(summary, [("other topic", 1), ("first turn", 3)]);
    // The reply /retry replaced stays logged but is not sent again.
    let first = rows[1]["id"].as_str().expect("id").to_string();
    ok(&sandbox, &["chat", "--cid", &first, "third"]);
    let contents: Vec<String> = last_sent(&sandbox)["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        contents,
        [
            "first turn",
            "echo: first turn",
            "second turn",
            "echo: second turn",
            "third"
        ]
    );

    let mut screen = Screen::new(spawn(
        &sandbox,
        &["chat", "-c"],
        &[("COMETAPI_KEY", API_KEY)],
    ));
    screen.wait_for(PROMPT);
    say(&mut screen, "and again");
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
    let sent = last_sent(&sandbox);
    assert_eq!(
        sent["messages"][0]["content"], "first turn",
        "the latest is now the first"
    );
    assert_eq!(sent["messages"][6]["content"], "and again");
    assert_eq!(listed(&sandbox, &[])[0]["turns"], 5);
}

#[test]
fn attachments_are_logged_by_name_and_hash_not_their_bytes() {
    use sha2::{Digest, Sha256};
    let sandbox = Sandbox::new();
    let dir = sandbox.home.path();
    let text = dir.join("notes.txt");
    fs::write(&text, "remember the milk\n").expect("text");
    let image = dir.join("dot.png");
    let png = crate::fake_server::image_bytes("png", 1, 1, 0);
    fs::write(&image, &png).expect("image");
    let (text, image) = (
        text.to_str().expect("utf-8"),
        image.to_str().expect("utf-8"),
    );
    ok(
        &sandbox,
        &[
            "chat",
            "-a",
            text,
            "-a",
            image,
            "-a",
            "https://example.com/a.png",
            "look",
        ],
    );
    ok(&sandbox, &["run", "gpt-5.4", "-p", "again", "-a", text]);

    let hex = |bytes: &[u8]| -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let db = rusqlite::Connection::open(db_path(&sandbox)).expect("open");
    let logged: Vec<Value> = db
        .prepare("SELECT attachments FROM exchange ORDER BY rowid")
        .expect("prepare")
        .query_map([], |row| row.get::<_, String>(0))
        .expect("query")
        .map(|text| serde_json::from_str(&text.expect("row")).expect("json"))
        .collect();
    let text_entry = serde_json::json!({"name": text, "sha256": hex(b"remember the milk\n")});
    assert_eq!(
        logged,
        vec![
            serde_json::json!([
                text_entry,
                {"name": image, "sha256": hex(&png)},
                {"name": "https://example.com/a.png", "sha256": null},
            ]),
            serde_json::json!([text_entry]),
        ]
    );
}
