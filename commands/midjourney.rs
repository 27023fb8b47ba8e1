//! `midjourney` (alias `mj`): Midjourney images as jobs. `imagine PROMPT` submits and
//! waits for the grid, then downloads it; `action ID LABEL` presses one of a finished
//! grid's buttons (`U2`, `V1`, `🔄`); `fetch ID` shows a job; `wait ID...` resumes.

mod provider;

use std::path::{Path, PathBuf};

use clap::{value_parser, Arg, ArgAction, ArgMatches};
use serde_json::{json, Value};

use crate::api::jobs::command::{self, Destination, ExtraColumn};
use crate::api::jobs::{self, Provider, Snapshot, Submission, WaitPlan};
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::output::{Cell, Outcome};
use provider::{buttons, Midjourney};

fn args(cmd: clap::Command) -> clap::Command {
    let waiting = |cmd: clap::Command| cmd.arg(command::out_dir_arg());
    cmd.subcommand_required(true)
        .subcommand(waiting(
            clap::Command::new("imagine")
                .about("Make a grid of four images and download it")
                .arg(
                    Arg::new("prompt")
                        .value_name("PROMPT")
                        .required(true)
                        .value_parser(crate::cli::front::non_blank)
                        .help("The prompt; Midjourney flags (--ar 16:9 --v 7) go inside it"),
                )
                .arg(
                    Arg::new("niji")
                        .long("niji")
                        .action(ArgAction::SetTrue)
                        .help("Use the Niji model (anime styles)"),
                )
                .arg(
                    Arg::new("image")
                        .long("image")
                        .value_name("FILE|URL")
                        .action(ArgAction::Append)
                        .value_parser(crate::cli::front::non_blank)
                        .help("A reference image (repeatable): a file is sent inline, a URL goes before the prompt"),
                )
                .arg(command::no_wait_arg()),
        ))
        .subcommand(waiting(
            clap::Command::new("action")
                .about("Press a button of a finished grid (U1..U4 upscale, V1..V4 vary, 🔄 reroll)")
                .arg(command::ids_arg(false))
                .arg(
                    Arg::new("label")
                        .value_name("LABEL")
                        .required(true)
                        .value_parser(crate::cli::front::non_blank)
                        .help("The button's label, as `fetch` lists them (U2, V1, 🔄)"),
                )
                .arg(command::no_wait_arg()),
        ))
        .subcommand(
            clap::Command::new("fetch")
                .about("Show a job: status, progress, image and buttons")
                .arg(command::ids_arg(false)),
        )
        .subcommand(waiting(
            clap::Command::new("wait")
                .about("Wait for jobs submitted earlier and download their images")
                .arg(command::ids_arg(true))
                .arg(provider_arg()),
        ))
}

/// The one provider `--provider` may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ProviderName {
    Midjourney,
}

/// `--provider`, accepted for the resume command every job family prints.
fn provider_arg() -> Arg {
    Arg::new("provider")
        .long("provider")
        .value_name("NAME")
        .value_parser(value_parser!(ProviderName))
        .hide(true)
}

/// What `midjourney` was asked to do, read once from its arguments.
#[derive(Debug, PartialEq)]
enum Verb {
    Imagine(Imagine),
    Action(Press),
    Fetch { id: String },
    Wait { ids: Vec<String>, out_dir: PathBuf },
}

/// `imagine PROMPT`.
#[derive(Debug, PartialEq)]
struct Imagine {
    prompt: String,
    niji: bool,
    /// The `--image` files and URLs, in order.
    images: Vec<String>,
    no_wait: bool,
    out_dir: PathBuf,
}

/// `action ID LABEL`: a button to press.
#[derive(Debug, PartialEq)]
struct Press {
    id: String,
    label: String,
    no_wait: bool,
    out_dir: PathBuf,
}

impl Verb {
    fn from_matches(m: &ArgMatches) -> Result<Verb> {
        let text = |m: &ArgMatches, id: &str| m.get_one::<String>(id).cloned().unwrap_or_default();
        Ok(match m.subcommand() {
            Some(("imagine", m)) => Verb::Imagine(Imagine {
                prompt: text(m, "prompt"),
                niji: m.get_flag("niji"),
                images: m
                    .get_many::<String>("image")
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect(),
                no_wait: m.get_flag("no_wait"),
                out_dir: command::out_dir(m),
            }),
            Some(("action", m)) => Verb::Action(Press {
                id: text(m, "id"),
                label: text(m, "label"),
                no_wait: m.get_flag("no_wait"),
                out_dir: command::out_dir(m),
            }),
            Some(("fetch", m)) => Verb::Fetch { id: text(m, "id") },
            Some(("wait", m)) => Verb::Wait {
                ids: command::ids(m),
                out_dir: command::out_dir(m),
            },
            _ => {
                return Err(CliError::usage(
                    "a subcommand is needed: imagine, action, fetch or wait",
                ))
            }
        })
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    match Verb::from_matches(m)? {
        Verb::Imagine(asked) => imagine(ctx, &asked),
        Verb::Action(asked) => action(ctx, &asked),
        Verb::Fetch { id } => fetch(ctx, &id),
        Verb::Wait { ids, out_dir } => {
            wait_and_save(ctx, &out_dir, WaitPlan::for_command(ctx)?, &ids, None)
        }
    }
}

fn imagine(ctx: &Context, asked: &Imagine) -> Result<Outcome> {
    let plan = WaitPlan::for_command(ctx)?;
    let mut prompt = asked.prompt.clone();
    let mut inline = Vec::new();
    for image in &asked.images {
        if image.starts_with("http://") || image.starts_with("https://") {
            prompt = format!("{image} {prompt}");
        } else {
            inline.push(json!(
                crate::api::attach::inline_image(Path::new(image))?.data_url()
            ));
        }
    }
    let mut job = Submission {
        prompt: prompt.clone(),
        ..Submission::default()
    };
    let bot = if asked.niji {
        "NIJI_JOURNEY"
    } else {
        "MID_JOURNEY"
    };
    job.fields.insert("botType".into(), json!(bot));
    if !inline.is_empty() {
        job.fields
            .insert("base64Array".into(), Value::Array(inline));
    }
    let id = Midjourney.submit(ctx, &job)?;
    if asked.no_wait {
        return Ok(command::submitted(&Midjourney, &id));
    }
    wait_and_save(ctx, &asked.out_dir, plan, &[id], Some(&prompt))
}

/// Presses `LABEL` on task `ID`: the button's current custom id comes from a fresh
/// fetch (they change), then the action is a new job, waited for like any other.
fn action(ctx: &Context, asked: &Press) -> Result<Outcome> {
    let Press { id, label, .. } = asked;
    let plan = WaitPlan::for_command(ctx)?;
    let parent = jobs::fetch(ctx, &Midjourney, id)?;
    let known = buttons(&parent.raw);
    let Some((_, custom)) = known.iter().find(|(l, _)| l.eq_ignore_ascii_case(label)) else {
        let labels: Vec<&str> = known.iter().map(|(l, _)| l.as_str()).collect();
        let hint = match labels.is_empty() {
            true => "the job has no buttons (yet): `cometapi midjourney fetch ID` shows its status"
                .to_string(),
            false => format!("its buttons are {}", labels.join(" ")),
        };
        return Err(CliError::usage(format!("job {id} has no button {label:?}")).with_hint(hint));
    };
    let body = json!({"taskId": id, "customId": custom});
    let new_id = Midjourney.submit_to(ctx, "action", &body)?;
    if asked.no_wait {
        return Ok(command::submitted(&Midjourney, &new_id));
    }
    wait_and_save(
        ctx,
        &asked.out_dir,
        plan,
        &[new_id],
        parent.prompt.as_deref(),
    )
}

fn fetch(ctx: &Context, id: &str) -> Result<Outcome> {
    let snapshot = jobs::fetch(ctx, &Midjourney, id)?;
    let actions = actions_cell(&snapshot);
    Ok(command::status_record(
        &snapshot,
        vec![("actions", "Actions", actions)],
    ))
}

fn wait_and_save(
    ctx: &Context,
    out_dir: &Path,
    plan: WaitPlan,
    ids: &[String],
    prompt: Option<&str>,
) -> Result<Outcome> {
    let done = jobs::wait(ctx, &Midjourney, ids, plan)?;
    let to = Destination {
        dir: out_dir.to_path_buf(),
        prompt,
        fallback: "midjourney",
    };
    let extra = [ExtraColumn {
        key: "actions",
        header: "Actions",
        cell: actions_cell,
    }];
    command::finish(ctx, &done, &to, &extra)
}

/// The labels of a job's buttons (`U1 U2 … 🔄`), a list in json.
fn actions_cell(snapshot: &Snapshot) -> Cell {
    let labels: Vec<String> = buttons(&snapshot.raw)
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    Cell::with_text(json!(labels), labels.join(" "))
}

inventory::submit! {
    CommandSpec::new("midjourney", "Midjourney images as jobs (alias mj): imagine, action, fetch, wait", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .hidden_aliases(&["mj"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(argv: &[&str]) -> std::result::Result<Result<Verb>, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Verb::from_matches(&m))
    }

    fn verb(argv: &[&str]) -> Verb {
        parse(argv).expect("parses").expect("a verb")
    }

    #[test]
    fn each_subcommand_reads_into_its_verb() {
        let imagine = verb(&[
            "imagine",
            "a cat --ar 16:9",
            "--niji",
            "--image",
            "a.png",
            "--image",
            "https://x/b.png",
            "--no-wait",
            "--out-dir",
            "out",
        ]);
        let expected = Imagine {
            prompt: "a cat --ar 16:9".into(),
            niji: true,
            images: vec!["a.png".into(), "https://x/b.png".into()],
            no_wait: true,
            out_dir: PathBuf::from("out"),
        };
        assert_eq!(imagine, Verb::Imagine(expected));
        let press = Press {
            id: "17".into(),
            label: "U2".into(),
            no_wait: false,
            out_dir: PathBuf::from("."),
        };
        assert_eq!(verb(&["action", "17", "U2"]), Verb::Action(press));
        assert_eq!(verb(&["fetch", "17"]), Verb::Fetch { id: "17".into() });
        let wait = Verb::Wait {
            ids: vec!["1".into(), "2".into()],
            out_dir: PathBuf::from("."),
        };
        assert_eq!(verb(&["wait", "1", "2", "--provider", "midjourney"]), wait);
    }

    #[test]
    fn provider_names_only_midjourney() {
        let err = parse(&["wait", "1", "--provider", "suno"]).expect_err("not this family's");
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert!(parse(&[]).is_err(), "a subcommand is required");
    }
}
