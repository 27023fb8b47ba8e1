//! Saved roles (`--role NAME`, `roles list|show|edit`) and `-s @FILE`.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const CHAT: &str = "/v1/chat/completions";

fn roles_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.home.path().join(".config/cometapi/roles")
}

fn write_role(sandbox: &Sandbox, name: &str, text: &str) {
    fs::create_dir_all(roles_dir(sandbox)).expect("dir");
    fs::write(roles_dir(sandbox).join(format!("{name}.md")), text).expect("write");
}

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .args(args)
        .write_stdin("")
        .output()
        .expect("run")
}

fn last_sent(sandbox: &Sandbox) -> Value {
    let requests = sandbox.server.requests_to(CHAT);
    serde_json::from_str(&requests.last().expect("a chat request").body).expect("body")
}

const CODER: &str =
    "---\nmodel: gpt-4o\ntemperature: 0.2\ndescription: Rust help\n---\nYou write Rust.\n";

#[test]
fn a_role_sets_system_prompt_model_and_temperature_unless_given() {
    let sandbox = Sandbox::new();
    write_role(&sandbox, "coder", CODER);
    let output = run(&sandbox, &["chat", "--role", "coder", "hi"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body = last_sent(&sandbox);
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][0]["content"], "You write Rust.");

    let output = run(
        &sandbox,
        &[
            "chat", "--role", "coder", "-m", "claude-x", "-t", "1", "-s", "mine", "hi",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body = last_sent(&sandbox);
    assert_eq!(body["model"], "claude-x");
    assert_eq!(body["temperature"], 1.0);
    assert_eq!(body["messages"][0]["content"], "mine");
}

#[test]
fn system_prompt_from_a_file() {
    let sandbox = Sandbox::new();
    let file = sandbox.home.path().join("sys.txt");
    fs::write(&file, "Answer in French.\n").expect("write");
    let arg = format!("@{}", file.display());
    let output = run(&sandbox, &["chat", "-s", &arg, "hi"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        last_sent(&sandbox)["messages"][0]["content"],
        "Answer in French."
    );

    let missing = format!("@{}", sandbox.home.path().join("nope.txt").display());
    let output = run(&sandbox, &["chat", "-s", &missing, "hi"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("nope.txt"), "{output:?}");
    let dir = format!("@{}", sandbox.home.path().display());
    assert_eq!(
        run(&sandbox, &["chat", "-s", &dir, "hi"]).status.code(),
        Some(2)
    );
    assert_eq!(
        sandbox.server.requests_to(CHAT).len(),
        1,
        "no request for bad files"
    );
}

#[test]
fn missing_invalid_and_badly_named_roles_send_nothing() {
    let sandbox = Sandbox::new();
    write_role(&sandbox, "typo", "---\nmodle: x\n---\nhi\n");
    write_role(&sandbox, "open", "---\nmodel: x\nhi\n");
    let cases: [(&[&str], i32, &str); 4] = [
        (&["--role", "nobody"], 2, "roles edit nobody"),
        (&["--role", "typo"], 64, "unknown field"),
        (&["--role", "open"], 64, "closing"),
        (&["--role", "../etc"], 2, "invalid role name"),
    ];
    for (args, code, says) in cases {
        let mut all = vec!["chat"];
        all.extend_from_slice(args);
        all.push("hi");
        let output = run(&sandbox, &all);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {output:?}");
        assert!(stderr_of(&output).contains(says), "{args:?}: {output:?}");
    }
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn list_and_show() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["roles", "list"]);
    assert!(stdout_of(&output).contains("No roles yet"), "{output:?}");
    write_role(&sandbox, "coder", CODER);
    write_role(&sandbox, "plain", "Be kind.\n");
    write_role(&sandbox, "broken", "---\ntemperature: 7\n---\n");
    let output = run(&sandbox, &["roles", "list", "--json"]);
    let rows: Value = serde_json::from_slice(&output.stdout).expect("json");
    let names: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["broken", "coder", "plain"]);
    assert_eq!(rows[1]["model"], "gpt-4o");
    assert_eq!(rows[2]["description"], "Be kind.");
    assert!(
        rows[0]["description"]
            .as_str()
            .unwrap_or("")
            .starts_with("invalid"),
        "{rows}"
    );
    let output = run(&sandbox, &["roles", "show", "coder", "--json"]);
    let role: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(role["prompt"], "You write Rust.");
    assert_eq!(role["temperature"], 0.2);
    assert_eq!(
        run(&sandbox, &["roles", "show", "nobody"]).status.code(),
        Some(2)
    );
    for bad in ["../x", ".hidden", "a b"] {
        let output = run(&sandbox, &["roles", "edit", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}: {output:?}");
        assert!(
            stderr_of(&output).contains("invalid role name"),
            "{output:?}"
        );
    }
    assert!(sandbox.server.requests().is_empty());
}

#[cfg(unix)]
#[test]
fn edit_opens_the_editor_on_a_private_file_from_a_template() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let script = sandbox.home.path().join("editor.sh");
    // The editor appends a line and records which file it was given.
    fs::write(
        &script,
        "#!/bin/sh\necho \"$1\" > \"$HOME/edited\"\necho 'Extra line.' >> \"$1\"\n",
    )
    .expect("script");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    let output = sandbox
        .cmd()
        .env("EDITOR", &script)
        .args(["roles", "edit", "helper", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let role: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(role["prompt"], "You are a helpful assistant.\nExtra line.");
    let path = roles_dir(&sandbox).join("helper.md");
    let edited = fs::read_to_string(sandbox.home.path().join("edited")).expect("edited");
    assert_eq!(edited.trim(), path.display().to_string());
    let mode = fs::metadata(&path).expect("file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    fs::write(&script, "#!/bin/sh\nexit 3\n").expect("script");
    let output = sandbox
        .cmd()
        .env("EDITOR", &script)
        .args(["roles", "edit", "helper"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr_of(&output).contains("editor"), "{output:?}");
}
