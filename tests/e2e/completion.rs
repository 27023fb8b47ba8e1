//! `completion <SHELL>` and `--install-completion`: scripts from the registry's clap tree.

use std::fs;
use std::process::Command;

use crate::sandbox::{stdout_of, Sandbox};

fn script(sandbox: &Sandbox, shell: &str) -> String {
    let output = sandbox
        .cmd()
        .args(["completion", shell])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    stdout_of(&output)
}

/// Checks a script with `<shell> -n` when that shell is installed.
fn syntax_check(shell: &str, file_name: &str, text: &str) {
    if Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .output()
        .is_err()
    {
        println!("note: {shell} is not installed; its syntax check is skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(file_name);
    fs::write(&path, text).expect("write script");
    let output = Command::new(shell)
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run shell");
    assert!(
        output.status.success(),
        "{shell} -n rejects the script: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bash_zsh_and_fish_scripts_pass_the_syntax_check() {
    let sandbox = Sandbox::new();
    for (shell, file) in [
        ("bash", "cometapi.bash"),
        ("zsh", "_cometapi"),
        ("fish", "cometapi.fish"),
    ] {
        let text = script(&sandbox, shell);
        assert!(text.contains("cometapi"), "{shell} script names the binary");
        syntax_check(shell, file, &text);
    }
    for shell in ["powershell", "elvish"] {
        assert!(!script(&sandbox, shell).is_empty(), "{shell}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["completion", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn install_completion_writes_where_each_shell_looks() {
    let sandbox = Sandbox::new();
    let home = sandbox.home.path();
    for (shell, path) in [
        ("bash", ".local/share/bash-completion/completions/cometapi"),
        ("zsh", ".zfunc/_cometapi"),
        ("fish", ".config/fish/completions/cometapi.fish"),
    ] {
        let output = sandbox
            .cmd()
            .args(["--install-completion", shell])
            .output()
            .expect("run");
        assert!(output.status.success(), "{output:?}");
        let written = home.join(path);
        assert!(
            stdout_of(&output).contains(&written.display().to_string()),
            "says where it wrote: {}",
            stdout_of(&output)
        );
        assert_eq!(
            fs::read_to_string(&written)
                .expect("script written")
                .trim_end(),
            script(&sandbox, shell).trim_end()
        );
        if shell == "zsh" {
            assert!(stdout_of(&output).contains("fpath=(~/.zfunc $fpath)"));
        }
    }
}

#[test]
fn install_completion_alone_detects_the_shell_from_dollar_shell() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .env("SHELL", "/usr/bin/fish")
        .arg("--install-completion")
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert!(sandbox
        .home
        .path()
        .join(".config/fish/completions/cometapi.fish")
        .is_file());

    let output = sandbox
        .cmd()
        .arg("--install-completion")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "no $SHELL: say so");
}
