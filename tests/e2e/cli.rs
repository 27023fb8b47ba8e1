//! The front end: help, version, format precedence, closed pipes.

use std::process::{Command as Process, Stdio};

use predicates::prelude::*;

use crate::sandbox::{stderr_of, stdout_of, Sandbox};

#[test]
fn help_lists_every_command_with_its_about() {
    let sandbox = Sandbox::new();
    let output = sandbox.cmd().arg("-h").output().expect("run");
    assert!(output.status.success());
    let help = stdout_of(&output);
    let listed: Vec<(String, String)> = help
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| {
            let (name, about) = line.trim().split_once(' ')?;
            Some((name.to_string(), about.trim().to_string()))
        })
        .filter(|(name, _)| name != "help")
        .collect();
    let registered: Vec<(String, String)> = cometapi::cli::registry::commands()
        .iter()
        .map(|c| (c.name.to_string(), c.about.to_string()))
        .collect();
    assert_eq!(
        listed, registered,
        "help lists exactly the registry:\n{help}"
    );
    for name in ["config", "doctor", "models", "model"] {
        assert!(listed.iter().any(|(n, _)| n == name), "{name} missing");
    }
    // Help wraps long lines; compare with the whitespace collapsed.
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!(
        "[possible values: {}]",
        cometapi::cli::registry::formatter_names().join(", ")
    )));
    assert!(
        sandbox.server.requests().is_empty(),
        "help makes no request"
    );
    assert!(!sandbox.config_path().exists(), "help writes no config");
}

#[test]
fn version_prints_name_and_version() {
    Sandbox::new()
        .cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("cometapi {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_format_is_a_usage_error() {
    Sandbox::new()
        .cmd()
        .args(["models", "--format", "xml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'xml'"));
}

#[test]
fn format_is_accepted_before_or_after_the_command() {
    let sandbox = Sandbox::new();
    for args in [["--format", "csv", "models"], ["models", "--format", "csv"]] {
        sandbox
            .cmd()
            .args(args)
            .assert()
            .success()
            .stdout(predicate::str::starts_with(
                "Model,Provider,Type,Pricing,Context,Endpoints\n",
            ));
    }
}

#[test]
fn json_beats_format_beats_config() {
    let sandbox = Sandbox::new();
    sandbox.write_config("output_format = \"yaml\"\n");
    sandbox
        .cmd()
        .args(["config", "path"])
        .assert()
        .success()
        .stdout(predicate::str::contains("/.config/cometapi/config.toml\n"));
    let from_config = sandbox
        .cmd()
        .args(["models", "-l", "1"])
        .output()
        .expect("run");
    assert!(
        stdout_of(&from_config).starts_with("- id: "),
        "{}",
        stdout_of(&from_config)
    );
    let from_flag = sandbox
        .cmd()
        .args(["models", "-l", "1", "-f", "csv"])
        .output()
        .expect("run");
    assert!(
        stdout_of(&from_flag).starts_with("Model,"),
        "{}",
        stdout_of(&from_flag)
    );
    let from_json = sandbox
        .cmd()
        .args(["-f", "csv", "models", "-l", "1", "--json"])
        .output()
        .expect("run");
    assert!(
        stdout_of(&from_json).starts_with("[\n  {"),
        "{}",
        stdout_of(&from_json)
    );
}

#[test]
fn closed_pipe_ends_quietly() {
    let sandbox = Sandbox::new();
    sandbox.server.set_catalog_size(5000); // far more than a pipe buffer holds
    let bin = env!("CARGO_BIN_EXE_cometapi");
    let output = Process::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; '{bin}' models --format csv | head -1"
        ))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.home.path())
        .env("COMETAPI_BASE_URL", sandbox.server.base_url())
        .stdin(Stdio::null())
        .output()
        .expect("run pipeline");
    assert_eq!(
        stdout_of(&output),
        "Model,Provider,Type,Pricing,Context,Endpoints\n"
    );
    assert_eq!(stderr_of(&output), "", "no panic text or error");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn unknown_format_in_config_warns_and_can_be_repaired() {
    let sandbox = Sandbox::new();
    sandbox.write_config("output_format = \"xml\"\n");
    sandbox
        .cmd()
        .args(["config", "path"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: output_format `xml`"))
        .stderr(predicate::str::contains("using table"));
    sandbox
        .cmd()
        .args(["config", "set", "output_format", "csv"])
        .assert()
        .success();
    sandbox
        .cmd()
        .args(["models", "-l", "1"])
        .assert()
        .success()
        .stderr("")
        .stdout(predicate::str::starts_with("Model,Provider,"));
}
