//! External plugins: `cometapi-<name>` on PATH runs as `cometapi <name>`.

use std::fs;
use std::path::Path;

use crate::sandbox::{stderr_of, stdout_of, Sandbox};

/// Writes an executable script into `dir`.
pub fn write_plugin(dir: &Path, name: &str, body: &str) {
    let path = dir.join(format!("cometapi-{name}"));
    fs::write(&path, body).expect("write plugin");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("join PATH")
}

const ECHO: &str = "#!/bin/sh\n\
echo \"args: $*\"\n\
echo \"base: $COMETAPI_BASE_URL\"\n\
echo \"format: $COMETAPI_OUTPUT_FORMAT\"\n\
echo \"key: ${COMETAPI_KEY:-none}\"\n\
exit 7\n";

#[cfg(unix)]
#[test]
fn plugin_gets_args_and_environment_and_its_exit_code_comes_back() {
    let sandbox = Sandbox::new();
    let bin = tempfile::tempdir().expect("tempdir");
    write_plugin(bin.path(), "hello", ECHO);
    let output = sandbox
        .cmd()
        .env("PATH", path_with(bin.path()))
        .args(["--format", "yaml", "hello", "a b", "--json", "-x"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(7), "{output:?}");
    let stdout = stdout_of(&output);
    assert!(stdout.contains("args: a b --json -x"), "{stdout}");
    assert!(
        stdout.contains(&format!("base: {}", sandbox.server.base_url())),
        "{stdout}"
    );
    assert!(stdout.contains("format: yaml"), "{stdout}");
    assert!(stdout.contains("key: none"), "no secret is added: {stdout}");
}

#[cfg(unix)]
#[test]
fn builtins_win_and_help_lists_plugins_in_their_own_section() {
    let sandbox = Sandbox::new();
    let bin = tempfile::tempdir().expect("tempdir");
    write_plugin(bin.path(), "hello", ECHO);
    write_plugin(bin.path(), "config", "#!/bin/sh\necho shadowed\nexit 9\n");
    let output = sandbox
        .cmd()
        .env("PATH", path_with(bin.path()))
        .args(["config", "path"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert!(!stdout_of(&output).contains("shadowed"));

    let output = sandbox
        .cmd()
        .env("PATH", path_with(bin.path()))
        .arg("-h")
        .output()
        .expect("run");
    let help = stdout_of(&output);
    let section = help.split("Plugins:\n").nth(1).expect("a Plugins: section");
    let names: Vec<&str> = section
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["hello"], "{help}");
}

#[test]
fn an_unknown_command_is_still_a_usage_error() {
    let sandbox = Sandbox::new();
    let output = sandbox.cmd().arg("nosuchthing").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("unknown command `nosuchthing`"));

    let output = sandbox.cmd().arg("modles").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("did you mean `models`?"),
        "{}",
        stderr_of(&output)
    );
}

/// The first ```sh block of docs/plugins.md, as a user would copy it.
fn documented_example() -> String {
    let docs = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/plugins.md"))
        .expect("docs/plugins.md");
    let start = docs.find("```sh\n").expect("a ```sh block") + "```sh\n".len();
    let len = docs[start..].find("```").expect("block end");
    docs[start..start + len].to_string()
}

#[cfg(unix)]
#[test]
fn the_documented_plugin_example_runs() {
    let example = documented_example();
    assert!(example.lines().count() <= 5, "a 5-line example:\n{example}");
    let sandbox = Sandbox::new();
    let bin = tempfile::tempdir().expect("tempdir");
    write_plugin(bin.path(), "hello", &example);
    let output = sandbox
        .cmd()
        .env("PATH", path_with(bin.path()))
        .args(["--json", "hello", "you"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout_of(&output),
        format!(
            "hello you\nbase URL: {}, format: json\n",
            sandbox.server.base_url()
        )
    );
}

/// An error from below (here the OS refusing to run the plugin) is kept as the error's
/// cause and shown after the message, in plain text and in JSON.
#[test]
fn a_plugin_that_cannot_run_says_why() {
    let sandbox = Sandbox::new();
    let bin = tempfile::tempdir().expect("tempdir");
    write_plugin(bin.path(), "broken", "#!/nonexistent/interpreter\n");
    for json in [false, true] {
        let mut cmd = sandbox.cmd();
        cmd.env("PATH", path_with(bin.path()));
        if json {
            cmd.arg("--json");
        }
        cmd.arg("broken");
        let output = cmd.output().expect("run");
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("cannot run plugin"), "{stderr}");
        assert!(stderr.contains("No such file or directory"), "{stderr}");
    }
}
