//! The config file under stress (issue 8): concurrent writers, files that are not
//! regular files, symlinks, leftovers of killed writes, values of the wrong type,
//! credentials with a trailing newline, and `config` / `config get`.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::fake_server::API_KEY;
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const WRITERS: usize = 20;
const TRIALS: usize = 30;

/// The value writer `i` gives `key`: distinct per writer and valid for the key.
fn value_for(key: &str, i: usize) -> String {
    match key {
        "base_url" => format!("http://127.0.0.1:{}/v1", 1000 + i),
        "output_format" => ["json", "yaml", "csv"][i % 3].to_string(),
        // Every boolean key (`stream_usage`, `log`, ...), by its declared kind.
        _ if cometapi::config::key_spec(key).map(|k| k.kind)
            == Some(cometapi::config::Kind::Bool) =>
        {
            ["true", "false"][i % 2].to_string()
        }
        "timeout" => format!("{}s", 10 + i),
        _ => format!("{key}-{i}-abcdefgh"),
    }
}

fn spawn_set(sandbox: &Sandbox, key: &str, value: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cometapi"))
        .env_clear()
        .env("HOME", sandbox.home.path())
        .args(["config", "set", key, value])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// 20 parallel `config set`s spread over every key, 30 times: every key is in the file
/// afterwards with a value one of its writers gave. Without the lock most trials lost keys.
#[test]
fn concurrent_sets_keep_every_key() {
    let keys = cometapi::config::key_names();
    let sandbox = Sandbox::new();
    for trial in 0..TRIALS {
        let _ = fs::remove_file(sandbox.config_path());
        let children: Vec<(usize, Child)> = (0..WRITERS)
            .map(|i| {
                let key = keys[i % keys.len()];
                (i, spawn_set(&sandbox, key, &value_for(key, i)))
            })
            .collect();
        for (i, child) in children {
            let output = child.wait_with_output().expect("wait");
            assert!(
                output.status.success(),
                "trial {trial}, writer {i}: {output:?}"
            );
        }
        let text = sandbox.read_config();
        let table: toml_edit::DocumentMut = text.parse().expect("the file parses");
        for (k, key) in keys.iter().enumerate() {
            let written: Vec<String> = (k..WRITERS)
                .step_by(keys.len())
                .map(|i| value_for(key, i))
                .collect();
            let found = table.get(key).map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .or_else(|| item.as_bool().map(|b| b.to_string()))
                    .unwrap_or_default()
            });
            assert!(
                found.as_ref().is_some_and(|v| written.contains(v)),
                "trial {trial}: {key} lost or wrong in\n{text}"
            );
        }
    }
    let dir = sandbox.config_path().parent().expect("dir").to_path_buf();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [".config.toml.lock", "config.toml"],
        "no temp file left"
    );
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// A FIFO, a directory and (where the test may create one) a character device as the
/// config path: every command that writes or reads is exit 78 naming the path, at once,
/// and the node is left as it was.
#[cfg(unix)]
#[test]
fn a_config_path_that_is_not_a_regular_file_is_refused_and_left_alone() {
    use std::os::unix::fs::FileTypeExt;

    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo.toml");
    mkfifo(&fifo);
    let directory = dir.path().join("dir.toml");
    fs::create_dir(&directory).expect("dir");
    let mut nodes = vec![(fifo.clone(), "a FIFO"), (directory.clone(), "a directory")];
    // mknod needs privileges; a device node of our own is safe to aim at.
    let device = dir.path().join("null.toml");
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status();
    if made.is_ok_and(|s| s.success()) {
        nodes.push((device.clone(), "a character device"));
    }
    for (node, what) in &nodes {
        for args in [
            &["config", "set", "default_model", "x"][..],
            &["config", "unset", "default_model"],
            &["init", "--default-model", "x", "--no-verify"],
            &["config", "show"],
        ] {
            let output = sandbox
                .cmd()
                .arg("--config")
                .arg(node)
                .args(args)
                .timeout(Duration::from_secs(20))
                .output()
                .expect("run");
            assert_eq!(
                output.status.code(),
                Some(78),
                "{args:?} on {what}: {output:?}"
            );
            let stderr = stderr_of(&output);
            assert!(
                stderr.contains(&format!("{} is {what}, not a regular file", node.display())),
                "{args:?}: {stderr}"
            );
        }
    }
    assert!(fs::metadata(&fifo).expect("fifo").file_type().is_fifo());
    assert!(fs::metadata(&directory).expect("dir").is_dir());
    if nodes.len() == 3 {
        assert!(fs::metadata(&device)
            .expect("dev")
            .file_type()
            .is_char_device());
    }
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let mut expected = vec!["dir.toml", "fifo.toml"];
    if nodes.len() == 3 {
        expected.push("null.toml");
    }
    assert_eq!(left, expected, "no lock or temp file beside a refused path");
    assert!(fs::read_dir(&directory).expect("dir").next().is_none());
    assert!(fs::metadata("/dev/null")
        .expect("/dev/null")
        .file_type()
        .is_char_device());
}

/// A symlinked config (dotfiles managers): the target is written in place, the link stays.
#[cfg(unix)]
#[test]
fn a_symlinked_config_keeps_its_link_and_the_target_is_written() {
    let sandbox = Sandbox::new();
    let dotfiles = sandbox.home.path().join("dotfiles");
    fs::create_dir_all(&dotfiles).expect("dotfiles");
    let target = dotfiles.join("cometapi.toml");
    fs::write(
        &target,
        "# managed by my dotfiles\ndefault_model = \"old\"\n",
    )
    .expect("target");
    let link = sandbox.config_path();
    fs::create_dir_all(link.parent().expect("dir")).expect("config dir");
    std::os::unix::fs::symlink("../../dotfiles/cometapi.toml", &link).expect("symlink");
    sandbox
        .cmd()
        .args(["config", "set", "default_model", "new"])
        .assert()
        .success();
    assert!(fs::symlink_metadata(&link).expect("link").is_symlink());
    assert_eq!(
        fs::read_to_string(&target).expect("target"),
        "# managed by my dotfiles\ndefault_model = \"new\"\n"
    );
    let mut beside: Vec<String> = fs::read_dir(&dotfiles)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, [".cometapi.toml.lock", "cometapi.toml"]);
}

#[test]
fn leftover_temp_files_of_a_killed_write_are_removed_by_the_next_write() {
    let sandbox = Sandbox::new();
    sandbox.write_config("default_model = \"a\"\n");
    let dir = sandbox.config_path().parent().expect("dir").to_path_buf();
    for name in [
        ".config.toml.tmp-12345",
        ".config.toml.tmp-XyZ9ab",
        ".other.tmp-1",
    ] {
        fs::write(dir.join(name), "half a file").expect("leftover");
    }
    sandbox
        .cmd()
        .args(["config", "set", "default_model", "b"])
        .assert()
        .success();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".config.toml.lock", ".other.tmp-1", "config.toml"]);
    assert_eq!(sandbox.read_config(), "default_model = \"b\"\n");
}

fn show_json(sandbox: &Sandbox) -> Value {
    let output = sandbox
        .cmd()
        .args(["config", "show", "--json"])
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
fn a_toml_boolean_is_honoured_and_shown_as_a_boolean() {
    let sandbox = Sandbox::new();
    sandbox.write_config("stream_usage = false\n");
    let show = show_json(&sandbox);
    assert_eq!(entry(&show, "stream_usage")["value"], false);
    assert_eq!(entry(&show, "stream_usage")["source"], "config file");
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    assert_eq!(stdout_of(&output), "echo: hi\n", "{output:?}");
    let sent = sandbox.server.requests_to("/v1/chat/completions");
    let body: Value = serde_json::from_str(&sent[0].body).expect("body");
    assert!(body.get("stream_options").is_none(), "{body}");

    // The default is a boolean too, in every structured format.
    sandbox.write_config("");
    assert_eq!(entry(&show_json(&sandbox), "stream_usage")["value"], true);
    let yaml = stdout_of(
        &sandbox
            .cmd()
            .args(["config", "show", "-f", "yaml"])
            .output()
            .expect("run"),
    );
    assert!(
        yaml.contains("- key: stream_usage\n  value: true\n"),
        "{yaml}"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_exit_78_naming_key_and_type_and_can_be_repaired() {
    let sandbox = Sandbox::new();
    let path = sandbox.config_path().display().to_string();
    let cases = [
        (
            "api_key = 12345\n",
            "`api_key` must be a string, not a TOML integer",
        ),
        (
            "stream_usage = 1.5\n",
            "`stream_usage` must be true or false, not the float 1.5",
        ),
        (
            "stream_usage = \"sometimes\"\n",
            "`stream_usage` must be true or false, not `sometimes`",
        ),
        (
            "default_model = [\"a\"]\n",
            "`default_model` must be a string, not the array [\"a\"]",
        ),
    ];
    for (text, expected) in cases {
        sandbox.write_config(text);
        for args in [&["config", "show"][..], &["models", "--source", "openai"]] {
            let output = sandbox.cmd_with_key().args(args).output().expect("run");
            assert_eq!(
                output.status.code(),
                Some(78),
                "{text} {args:?}: {output:?}"
            );
            let stderr = stderr_of(&output);
            assert!(
                stderr.contains(expected) && stderr.contains(&path),
                "{text}: {stderr}"
            );
            assert!(stderr.contains("cometapi config set"), "a hint: {stderr}");
        }
        assert!(
            sandbox.server.requests().is_empty(),
            "no request with a bad config"
        );
    }
    // `config set` repairs it, writing a real boolean and keeping the rest.
    sandbox.write_config("# keep me\nstream_usage = \"sometimes\" # note\n");
    sandbox
        .cmd()
        .args(["config", "set", "stream_usage", "off"])
        .assert()
        .success();
    assert_eq!(
        sandbox.read_config(),
        "# keep me\nstream_usage = false # note\n"
    );
    // A bad value on the command line is refused and writes nothing.
    let output = sandbox
        .cmd()
        .args(["config", "set", "stream_usage", "sometimes"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("stream_usage must be true or false, not `sometimes`"));
    assert_eq!(
        sandbox.read_config(),
        "# keep me\nstream_usage = false # note\n"
    );
}

#[test]
fn config_set_keeps_comments_blank_lines_and_order() {
    let sandbox = Sandbox::new();
    let before = "# CometAPI settings\n\n# which model\ndefault_model = \"a\"  # mine\n\n\
                  # written by a newer version\nfuture = { x = 1 }\n";
    sandbox.write_config(before);
    sandbox
        .cmd()
        .args(["config", "set", "default_model", "b"])
        .assert()
        .success();
    sandbox
        .cmd()
        .args(["config", "set", "output_format", "yaml"])
        .assert()
        .success();
    assert_eq!(
        sandbox.read_config(),
        "# CometAPI settings\n\n# which model\ndefault_model = \"b\"  # mine\n\n\
         # written by a newer version\nfuture = { x = 1 }\noutput_format = \"yaml\"\n"
    );
}

fn models_with(sandbox: &Sandbox, key_env: Option<&str>) -> std::process::Output {
    let mut cmd = sandbox.cmd();
    if let Some(key) = key_env {
        cmd.env("COMETAPI_KEY", key);
    }
    cmd.args(["models", "--source", "openai", "--json"])
        .output()
        .expect("run")
}

#[test]
fn a_credential_with_a_trailing_newline_is_trimmed_from_env_and_file() {
    let sandbox = Sandbox::new();
    let output = models_with(&sandbox, Some(&format!("{API_KEY}\r\n")));
    assert!(output.status.success(), "{output:?}");
    sandbox.write_config(&format!("api_key = \"{API_KEY}\\r\\n\"\n"));
    let output = models_with(&sandbox, None);
    assert!(output.status.success(), "{output:?}");
    let sent = sandbox.server.requests_to("/v1/models");
    assert_eq!(sent.len(), 2);
    for request in sent {
        let expected = format!("Bearer {API_KEY}");
        assert_eq!(request.header("authorization"), Some(expected.as_str()));
    }
}

#[test]
fn a_credential_with_a_control_character_inside_is_exit_64_naming_its_source() {
    let sandbox = Sandbox::new();
    let output = models_with(&sandbox, Some("sk-abc\u{1b}[2Jdefghijkl"));
    assert_eq!(output.status.code(), Some(64), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(
            "the API key from env COMETAPI_KEY contains whitespace or a control character"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("defghijkl"),
        "the key is not shown: {stderr}"
    );
    assert!(sandbox.server.requests().is_empty());
    // `config set` refuses one; a trailing newline from stdin is fine.
    let output = sandbox
        .cmd()
        .args(["config", "set", "access_token", "tok one"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(!sandbox.config_path().exists());
    sandbox
        .cmd()
        .args(["config", "set", "api_key", "-"])
        .write_stdin(format!("{API_KEY}\r\n"))
        .assert()
        .success();
    assert_eq!(sandbox.read_config(), format!("api_key = \"{API_KEY}\"\n"));
}

#[test]
fn config_alone_is_config_show() {
    let sandbox = Sandbox::new();
    sandbox.write_config("default_model = \"m\"\n");
    let alone = sandbox
        .cmd()
        .args(["config", "--json"])
        .output()
        .expect("run");
    let show = sandbox
        .cmd()
        .args(["config", "show", "--json"])
        .output()
        .expect("run");
    assert!(alone.status.success(), "{alone:?}");
    assert_eq!(alone.stdout, show.stdout);
    assert!(stdout_of(&alone).contains("\"value\": \"m\""));
}

#[test]
fn config_get_prints_one_value_masked_and_fails_when_unset() {
    let sandbox = Sandbox::new();
    sandbox.write_config("default_model = \"file-model\"\nstream_usage = false\n");
    let get = |key: &str| {
        sandbox
            .cmd_with_key()
            .args(["config", "get", key])
            .output()
            .expect("run")
    };
    assert_eq!(stdout_of(&get("default_model")), "file-model\n");
    assert_eq!(stdout_of(&get("stream_usage")), "false\n");
    assert_eq!(
        stdout_of(&get("base_url")),
        format!("{}\n", sandbox.server.base_url())
    );
    let key = get("api_key");
    assert_eq!(
        stdout_of(&key),
        format!("{}\n", cometapi::config::secret::mask(API_KEY))
    );
    let unset = get("access_token");
    assert_eq!(unset.status.code(), Some(1));
    assert_eq!(stdout_of(&unset), "");
    assert!(stderr_of(&unset).contains("access_token is not set"));
    let bad = get("colour");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr_of(&bad).contains("possible values"));
}
