//! `init`: the wizard on a terminal, and the scripted form for CI.

use std::fs;

use crate::fake_server::{ACCESS_TOKEN, API_KEY};
use crate::pty::{exit_code, expect, spawn};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[test]
fn scripted_init_reads_the_key_from_stdin_and_never_prompts() {
    let sandbox = Sandbox::new();
    sandbox.write_config("future_key = true\n");
    let output = sandbox
        .cmd()
        .args([
            "init",
            "--api-key-stdin",
            "--access-token-stdin",
            "--default-model",
            "gpt-4o",
            "--output-format",
            "yaml",
            "--json",
        ])
        .write_stdin(format!("{API_KEY}\n{ACCESS_TOKEN}\n"))
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let text = sandbox.read_config();
    assert!(text.contains(&format!("api_key = \"{API_KEY}\"")), "{text}");
    assert!(
        text.contains(&format!("access_token = \"{ACCESS_TOKEN}\"")),
        "{text}"
    );
    assert!(text.contains("default_model = \"gpt-4o\""), "{text}");
    assert!(text.contains("output_format = \"yaml\""), "{text}");
    assert!(
        text.contains("future_key = true"),
        "unknown keys kept: {text}"
    );
    #[cfg(unix)]
    assert_eq!(mode(&sandbox.config_path()), 0o600);
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(record["key_check"]
        .as_str()
        .unwrap_or("")
        .starts_with("accepted"));
    assert_eq!(
        record["token_check"],
        "accepted (GET /api/user/self, signed in as tester)"
    );
    assert!(!stdout_of(&output).contains(API_KEY), "the key is masked");
    assert_eq!(sandbox.server.requests_to("/v1/models").len(), 1);
}

#[test]
fn a_rejected_key_is_reported_with_a_hint_exit_77_and_still_saved() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["init", "--api-key-stdin", "--json"])
        .write_stdin("sk-wrong-0000000000000\n")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(77), "{output:?}");
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let check = record["key_check"].as_str().unwrap_or_default();
    assert!(check.starts_with("rejected: HTTP 401"), "{record}");
    let hint = record["hint"].as_str().unwrap_or_default();
    assert!(
        hint.starts_with("the file is saved; check the API key"),
        "{record}"
    );
    assert_eq!(record["token_check"], "skipped (no access token)");
    assert!(sandbox.read_config().contains("sk-wrong-0000000000000"));
}

#[test]
fn a_rejected_access_token_is_checked_and_reported_too() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["init", "--api-key-stdin", "--access-token-stdin", "--json"])
        .write_stdin(format!("{API_KEY}\ntok-wrong-000000000000\n"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(77), "{output:?}");
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(record["key_check"]
        .as_str()
        .unwrap_or_default()
        .starts_with("accepted"));
    let check = record["token_check"].as_str().unwrap_or_default();
    assert!(check.starts_with("rejected: "), "{record}");
    assert!(
        record["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("check the access token"),
        "{record}"
    );
    let sent = sandbox.server.requests_to("/api/user/self");
    assert_eq!(sent.len(), 1);
    assert!(!crate::sandbox::stdout_of(&output).contains("tok-wrong-000000000000"));
}

#[test]
fn no_verify_makes_no_request_and_empty_stdin_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["init", "--api-key-stdin", "--no-verify"])
        .write_stdin("sk-some-key-123456789\n")
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert!(sandbox.server.requests().is_empty());

    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["init", "--api-key-stdin"])
        .write_stdin("")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(!sandbox.config_path().exists());

    // No terminal and nothing to set: say how to script it, write nothing.
    let output = sandbox.cmd().arg("init").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("--api-key-stdin"));
    assert!(!sandbox.config_path().exists());
}

#[cfg(unix)]
#[test]
fn wizard_on_a_terminal_hides_secrets_and_writes_0600() {
    let sandbox = Sandbox::new();
    let mut session = spawn(&sandbox, &["init"], &[]);
    expect(&mut session, "API key [none]: ");
    session.send(format!("{API_KEY}\r")).expect("send");
    expect(&mut session, "Access token, optional [none]: ");
    session.send("\r").expect("send");
    expect(&mut session, "Default model [gpt-5.4]: ");
    session.send("my-model\r").expect("send");
    expect(&mut session, "Output format (");
    session.send("nope\r").expect("send");
    expect(&mut session, "is not a format");
    session.send("yaml\r").expect("send");
    let seen = expect(&mut session, "accepted");
    assert!(!seen.contains(API_KEY), "the key is never echoed: {seen}");
    assert_eq!(exit_code(&session), 0);
    let text = sandbox.read_config();
    assert!(text.contains(&format!("api_key = \"{API_KEY}\"")), "{text}");
    assert!(text.contains("default_model = \"my-model\""), "{text}");
    assert!(text.contains("output_format = \"yaml\""), "{text}");
    assert!(!text.contains("access_token"), "{text}");
    assert_eq!(mode(&sandbox.config_path()), 0o600);
}

#[cfg(unix)]
#[test]
fn wizard_keeps_values_on_enter_and_masks_them() {
    let sandbox = Sandbox::new();
    let old = format!("api_key = \"{API_KEY}\"\ndefault_model = \"kept-model\"\n");
    sandbox.write_config(&old);
    let mut session = spawn(&sandbox, &["init", "--no-verify"], &[]);
    let masked = cometapi::config::secret::mask(API_KEY);
    expect(&mut session, &format!("API key [{masked}]: "));
    session.send("\r").expect("send");
    expect(&mut session, "Access token, optional [none]: ");
    session.send("\r").expect("send");
    expect(&mut session, "Default model [kept-model]: ");
    session.send("\r").expect("send");
    expect(&mut session, "Output format (");
    session.send("\r").expect("send");
    expect(&mut session, "skipped");
    assert_eq!(exit_code(&session), 0);
    let text = sandbox.read_config();
    assert!(text.contains(&format!("api_key = \"{API_KEY}\"")), "{text}");
    assert!(text.contains("default_model = \"kept-model\""), "{text}");
}

#[cfg(unix)]
#[test]
fn a_cancelled_wizard_leaves_the_file_byte_for_byte() {
    let sandbox = Sandbox::new();
    let old = "# mine\napi_key   =  \"sk-old-key-000000000\"\n";
    sandbox.write_config(old);

    let mut session = spawn(&sandbox, &["init"], &[]);
    expect(&mut session, "API key [");
    session.send("sk-new-key-111111111\r").expect("send");
    expect(&mut session, "Access token");
    session.send("\x03").expect("Ctrl-C");
    assert_eq!(exit_code(&session), 130);
    assert_eq!(sandbox.read_config(), old);

    let mut session = spawn(&sandbox, &["init"], &[]);
    expect(&mut session, "API key [");
    session.send("\x04").expect("Ctrl-D");
    assert_eq!(exit_code(&session), 1);
    assert_eq!(sandbox.read_config(), old);
}
