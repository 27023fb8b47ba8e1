//! `config show|set|unset|path`, precedence, masking, file safety.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

use predicates::prelude::*;
use serde_json::Value;

use crate::fake_server::API_KEY;
use crate::sandbox::{stdout_of, Sandbox};

const SECRET: &str = "sk-secret-abcdefghijklmnop7890";

fn show_json(sandbox: &Sandbox, extra: &[&str]) -> Value {
    let output = sandbox
        .cmd()
        .args(["config", "show", "--json"])
        .args(extra)
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("json")
}

fn entry<'a>(show: &'a Value, key: &str) -> &'a Value {
    show.as_array()
        .and_then(|rows| rows.iter().find(|r| r["key"] == key))
        .unwrap_or_else(|| panic!("no {key} in {show}"))
}

#[test]
fn set_writes_private_file_and_show_masks_it() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["config", "set", "api_key", SECRET])
        .assert()
        .success()
        .stdout(predicate::str::contains("****7890"))
        .stdout(predicate::str::contains(SECRET).not());
    assert_eq!(sandbox.read_config(), format!("api_key = \"{SECRET}\"\n"));
    #[cfg(unix)]
    {
        let mode =
            |p: &std::path::Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&sandbox.config_path()), 0o600);
        assert_eq!(mode(sandbox.config_path().parent().expect("dir")), 0o700);
    }
    let show = show_json(&sandbox, &[]);
    assert_eq!(entry(&show, "api_key")["value"], "****7890");
    assert_eq!(entry(&show, "api_key")["source"], "config file");
}

#[test]
fn show_masks_secrets_in_every_format() {
    let sandbox = Sandbox::new();
    sandbox.write_config(&format!(
        "api_key = \"{SECRET}\"\naccess_token = \"tok-abcdefghijklmnopqrs4321\"\n"
    ));
    for format in ["table", "json", "yaml", "csv", "markdown"] {
        let output = sandbox
            .cmd()
            .args(["config", "show", "--format", format])
            .output()
            .expect("run");
        let text = stdout_of(&output);
        assert!(output.status.success());
        assert!(
            text.contains("****7890") && text.contains("****4321"),
            "{format}: {text}"
        );
        assert!(
            !text.contains("abcdefgh"),
            "{format} leaks a secret: {text}"
        );
    }
}

#[test]
fn show_renders_each_format() {
    let sandbox = Sandbox::new();
    sandbox.write_config("default_model = \"gpt-4o\"\n");
    let cases = [
        ("table", "\ndefault_model  gpt-4o  "),
        ("csv", "Key,Value,Source\n"),
        ("markdown", "| Key | Value | Source |\n| --- | --- | --- |\n| api_key | - | not set |\n"),
        ("yaml", "- key: default_model\n  value: gpt-4o\n  source: config file\n"),
        ("json", "    \"key\": \"default_model\",\n    \"value\": \"gpt-4o\",\n    \"source\": \"config file\"\n"),
    ];
    for (format, expected) in cases {
        let output = sandbox
            .cmd()
            .args(["config", "show", "-f", format])
            .output()
            .expect("run");
        let text = stdout_of(&output);
        assert!(
            text.contains(expected),
            "{format}: expected {expected:?} in\n{text}"
        );
        if format == "table" {
            let line = text
                .lines()
                .find(|l| l.starts_with("default_model"))
                .unwrap_or_default();
            assert!(line.ends_with("  config file"), "{line}");
        }
    }
    let csv = stdout_of(
        &sandbox
            .cmd()
            .args(["config", "show", "-f", "csv"])
            .output()
            .expect("run"),
    );
    assert!(csv.contains("default_model,gpt-4o,config file\n"), "{csv}");
}

#[test]
fn flag_beats_env_beats_file() {
    let sandbox = Sandbox::new();
    sandbox.write_config("base_url = \"http://file.invalid/v1\"\ndefault_model = \"file-model\"\n");
    let show = show_json(&sandbox, &[]);
    assert_eq!(entry(&show, "base_url")["source"], "env COMETAPI_BASE_URL");
    assert_eq!(entry(&show, "default_model")["value"], "file-model");
    assert_eq!(entry(&show, "default_model")["source"], "config file");
    let show = show_json(&sandbox, &["--base-url", "http://flag.invalid/v1"]);
    assert_eq!(entry(&show, "base_url")["value"], "http://flag.invalid/v1");
    assert_eq!(entry(&show, "base_url")["source"], "flag --base-url");
    let output = sandbox
        .cmd()
        .env_remove("COMETAPI_BASE_URL")
        .args(["config", "show", "--json"])
        .output()
        .expect("run");
    let show: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(entry(&show, "base_url")["value"], "http://file.invalid/v1");
    assert_eq!(entry(&show, "base_url")["source"], "config file");
    assert_eq!(entry(&show, "api_key")["source"], "not set");
}

#[test]
fn env_key_is_reported_with_its_source() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .args(["config", "show", "--json"])
        .output()
        .expect("run");
    let show: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(entry(&show, "api_key")["source"], "env COMETAPI_KEY");
    assert!(!stdout_of(&output).contains(API_KEY));
}

#[test]
fn corrupt_config_is_exit_78_and_left_byte_for_byte() {
    let sandbox = Sandbox::new();
    let corrupt = "api_key = \"sk-unterminated\n[[[\n";
    sandbox.write_config(corrupt);
    for args in [
        vec!["config", "set", "default_model", "gpt-4o"],
        vec!["config", "unset", "api_key"],
        vec!["config", "show"],
        vec!["models"],
    ] {
        sandbox
            .cmd()
            .args(&args)
            .assert()
            .code(78)
            .stderr(predicate::str::contains("does not parse"))
            .stderr(predicate::str::contains(
                sandbox.config_path().display().to_string(),
            ));
        assert_eq!(
            sandbox.read_config(),
            corrupt,
            "{args:?} must not touch the file"
        );
    }
}

#[test]
fn unknown_key_or_format_is_exit_2() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["config", "set", "colour", "blue"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "possible values: api_key, access_token, base_url, default_model, output_format, stream_usage",
        ));
    sandbox
        .cmd()
        .args(["config", "set", "output_format", "xml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "use one of: {}",
            cometapi::cli::registry::formatter_names().join(", ")
        )));
    sandbox
        .cmd()
        .args(["config", "set", "base_url", "not-a-url"])
        .assert()
        .code(2);
    assert!(
        !sandbox.config_path().exists(),
        "nothing written on a rejected value"
    );
}

#[test]
fn set_keeps_other_keys_and_unset_removes_one() {
    let sandbox = Sandbox::new();
    sandbox.write_config("# mine\nfuture_key = 7\n");
    sandbox
        .cmd()
        .args(["config", "set", "output_format", "json"])
        .assert()
        .success();
    sandbox
        .cmd()
        .args(["config", "set", "default_model", "gpt-4o"])
        .assert()
        .success();
    let text = sandbox.read_config();
    assert!(
        text.contains("future_key = 7") && text.contains("output_format = \"json\""),
        "{text}"
    );
    sandbox
        .cmd()
        .args(["config", "unset", "output_format"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Removed output_format"));
    let text = sandbox.read_config();
    assert!(
        !text.contains("output_format") && text.contains("default_model = \"gpt-4o\""),
        "{text}"
    );
    sandbox
        .cmd()
        .args(["config", "unset", "output_format"])
        .assert()
        .success()
        .stdout(predicate::str::contains("output_format is not set"));
}

#[test]
fn set_reads_value_from_stdin_and_notes_env_override() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd_with_key()
        .args(["config", "set", "api_key", "-"])
        .write_stdin(format!("{SECRET}\n"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "COMETAPI_KEY is set and takes precedence",
        ));
    assert_eq!(sandbox.read_config(), format!("api_key = \"{SECRET}\"\n"));
}

#[test]
fn config_path_honours_flag_env_and_xdg() {
    let sandbox = Sandbox::new();
    let home = sandbox.home.path().display().to_string();
    sandbox
        .cmd()
        .args(["config", "path"])
        .assert()
        .stdout(format!("{home}/.config/cometapi/config.toml\n"));
    sandbox
        .cmd()
        .env("XDG_CONFIG_HOME", format!("{home}/xdg"))
        .args(["config", "path"])
        .assert()
        .stdout(format!("{home}/xdg/cometapi/config.toml\n"));
    sandbox
        .cmd()
        .env("COMETAPI_CONFIG", "/tmp/from-env.toml")
        .args(["config", "path"])
        .assert()
        .stdout("/tmp/from-env.toml\n");
    let custom = format!("{home}/custom/c.toml");
    sandbox
        .cmd()
        .args(["--config", &custom, "config", "set", "default_model", "x"])
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(&custom).expect("custom config"),
        "default_model = \"x\"\n"
    );
}
