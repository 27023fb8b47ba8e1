//! The REPL's completion, `-h` and the generated completion scripts all offer exactly
//! the registry's commands: nothing is listed by hand anywhere.

use cometapi::term::shell::completer;

use crate::sandbox::{stdout_of, Sandbox};

fn registered() -> Vec<String> {
    cometapi::cli::registry::commands()
        .iter()
        .map(|c| c.name.to_string())
        .collect()
}

fn run(sandbox: &Sandbox, args: &[&str]) -> String {
    let output = sandbox.cmd().args(args).output().expect("run");
    assert!(output.status.success(), "{output:?}");
    stdout_of(&output)
}

#[test]
fn repl_help_and_completion_scripts_offer_exactly_the_registry() {
    let sandbox = Sandbox::new();

    // The REPL's completer on an empty line (no plugins, no shell words).
    let completer = completer::for_cli(Vec::new(), Box::new(Vec::new));
    assert_eq!(completer.top_level(), registered(), "REPL completion");

    // `-h`: the Commands section, without clap's own `help`.
    let help = run(&sandbox, &["-h"]);
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|name| name != "help")
        .collect();
    assert_eq!(listed, registered(), "-h");

    // bash: the root `opts` list, words that are not flags.
    let bash = run(&sandbox, &["completion", "bash"]);
    let root_opts = bash
        .lines()
        .filter_map(|l| l.trim().strip_prefix("opts=\""))
        .find(|l| l.contains("--install-completion"))
        .expect("root opts line");
    let bash_commands: Vec<String> = root_opts
        .trim_end_matches('"')
        .split_whitespace()
        .filter(|w| !w.starts_with('-'))
        .map(str::to_string)
        .collect();
    assert_eq!(bash_commands, registered(), "bash");

    // zsh: the `_cometapi_commands` list of `name:about`.
    let zsh = run(&sandbox, &["completion", "zsh"]);
    let zsh_commands: Vec<String> = zsh
        .lines()
        .skip_while(|l| *l != "_cometapi_commands() {")
        .skip(2)
        .take_while(|l| l.starts_with('\''))
        .filter_map(|l| {
            l.trim_start_matches('\'')
                .split(':')
                .next()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(zsh_commands, registered(), "zsh");

    // fish: `-a NAME` completions offered when no command is given yet.
    let fish = run(&sandbox, &["completion", "fish"]);
    let fish_commands: Vec<String> = fish
        .lines()
        .filter_map(|l| {
            l.strip_prefix("complete -c cometapi -n \"__fish_cometapi_needs_command\" -f -a \"")
        })
        .filter_map(|l| l.split('"').next().map(str::to_string))
        .collect();
    assert_eq!(fish_commands, registered(), "fish");
}
