//! `video`: videos as jobs. `create PROMPT` submits to the provider the model belongs
//! to (Sora and Veo: `/v1/videos`; Kling: `/kling/v1/videos/...`), waits and downloads
//! the video; `status ID`, `wait ID...` and `download ID` pick a job up by id. Each
//! provider is one file in `commands/video/` registering a `ProviderSpec`.

automod::dir!("commands/video");

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{value_parser, Arg, ArgAction, ArgMatches};
use serde_json::json;

use crate::api::jobs::command::{self, Destination};
use crate::api::jobs::{self, ProviderSpec, Submission, WaitPlan};
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::output::Outcome;

const FAMILY: &str = "video";

fn args(cmd: clap::Command) -> clap::Command {
    cmd.subcommand_required(true)
        .subcommand(create_args(
            clap::Command::new("create").about("Make a video and download it"),
        ))
        .subcommand(
            clap::Command::new("status")
                .about("Show a job: status, progress and result")
                .arg(command::ids_arg(false))
                .arg(provider_arg()),
        )
        .subcommand(
            clap::Command::new("wait")
                .about("Wait for jobs submitted earlier and download their videos")
                .arg(command::ids_arg(true))
                .arg(provider_arg())
                .arg(command::out_dir_arg()),
        )
        .subcommand(
            clap::Command::new("download")
                .about("Download a finished job's video")
                .arg(command::ids_arg(false))
                .arg(provider_arg())
                .arg(command::out_dir_arg()),
        )
}

fn create_args(cmd: clap::Command) -> clap::Command {
    let text = |id: &'static str, long: &'static str, name: &'static str, help: &'static str| {
        Arg::new(id)
            .long(long)
            .value_name(name)
            .value_parser(crate::cli::front::non_blank)
            .help(help)
    };
    cmd.arg(
        Arg::new("prompt")
            .value_name("PROMPT")
            .required(true)
            .value_parser(crate::cli::front::non_blank)
            .help("What the video shows"),
    )
    .arg(
        crate::cli::front::model_arg("Video model: sora-2, sora-2-pro, veo3, veo3-fast, kling-v2-master, ...")
            .default_value("sora-2"),
    )
    .arg(text("seconds", "seconds", "N", "Length in seconds (Sora: 4, 8 or 12)"))
    .arg(text("size", "size", "WxH", "Frame size (Sora: 720x1280, 1280x720, 1024x1792, 1792x1024; Veo: 16x9, 9x16)"))
    .arg(
        Arg::new("image")
            .long("image")
            .value_name("FILE")
            .action(ArgAction::Append)
            .value_parser(value_parser!(PathBuf))
            .help("A reference image or frame (repeatable; Veo: first, then last frame; Kling: the first image)"),
    )
    .arg(
        Arg::new("mode")
            .long("mode")
            .value_name("MODE")
            .value_parser(PossibleValuesParser::new(["std", "pro"]))
            .help("Kling: quality mode"),
    )
    .arg(
        Arg::new("duration")
            .long("duration")
            .value_name("SECONDS")
            .value_parser(PossibleValuesParser::new(["5", "10"]))
            .help("Kling: length in seconds"),
    )
    .arg(
        Arg::new("aspect_ratio")
            .long("aspect-ratio")
            .value_name("RATIO")
            .value_parser(PossibleValuesParser::new(["16:9", "9:16", "1:1"]))
            .help("Kling: aspect ratio"),
    )
    .arg(text("negative_prompt", "negative-prompt", "TEXT", "Kling: what the video should not show"))
    .arg(command::no_wait_arg())
    .arg(command::out_dir_arg())
}

fn provider_arg() -> Arg {
    let names: Vec<&'static str> = jobs::providers(FAMILY)
        .iter()
        .map(|s| s.provider.name())
        .collect();
    Arg::new("provider")
        .long("provider")
        .value_name("NAME")
        .value_parser(PossibleValuesParser::new(names))
        .help("Whose job it is, when the id does not tell")
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    match m.subcommand() {
        Some(("create", m)) => create(ctx, m),
        Some((verb, m)) => {
            let ids = command::ids(m);
            let spec = by_id(m, &ids)?;
            match verb {
                "status" => {
                    let snapshot = jobs::fetch(ctx, spec.provider, &ids.concat())?;
                    Ok(command::status_record(&snapshot, Vec::new()))
                }
                "download" => {
                    let snapshot = jobs::fetch(ctx, spec.provider, &ids.concat())?;
                    if !snapshot.state.is_over() {
                        return Err(CliError::failure(format!(
                            "job {} is not done yet ({})",
                            snapshot.id, snapshot.status
                        ))
                        .with_hint(jobs::resume_command(spec.provider, &ids)));
                    }
                    save(ctx, m, &[snapshot], None)
                }
                _ => {
                    let done = jobs::wait(ctx, spec.provider, &ids, WaitPlan::for_command(ctx)?)?;
                    save(ctx, m, &done, None)
                }
            }
        }
        None => Err(CliError::usage(
            "a subcommand is needed: create, status, wait or download",
        )),
    }
}

fn create(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let plan = WaitPlan::for_command(ctx)?;
    let model = m.get_one::<String>("model").cloned().unwrap_or_default();
    let spec = by_model(&model)?;
    let mut job = Submission {
        model,
        prompt: m.get_one::<String>("prompt").cloned().unwrap_or_default(),
        files: m
            .get_many::<PathBuf>("image")
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        ..Submission::default()
    };
    let is_kling = spec.provider.name() == "kling";
    for (id, field, kling_only) in [
        ("seconds", "seconds", false),
        ("size", "size", false),
        ("mode", "mode", true),
        ("duration", "duration", true),
        ("aspect_ratio", "aspect_ratio", true),
        ("negative_prompt", "negative_prompt", true),
    ] {
        if let Some(value) = m.get_one::<String>(id) {
            if kling_only != is_kling {
                return Err(CliError::usage(format!(
                    "--{} is not an option of {} models",
                    id.replace('_', "-"),
                    spec.provider.name()
                )));
            }
            job.fields.insert(field.into(), json!(value));
        }
    }
    check_prompt(spec, &job.prompt)?;
    let id = spec.provider.submit(ctx, &job)?;
    if m.get_flag("no_wait") {
        return Ok(command::submitted(spec.provider, &id));
    }
    let done = jobs::wait(ctx, spec.provider, &[id], plan)?;
    save(ctx, m, &done, Some(&job.prompt))
}

/// Kling's documented prompt limit, checked before anything is sent.
fn check_prompt(spec: &ProviderSpec, prompt: &str) -> Result<()> {
    let limit = kling::MAX_PROMPT;
    if spec.provider.name() == "kling" && prompt.chars().count() > limit {
        return Err(CliError::usage(format!(
            "Kling prompts are at most {limit} characters"
        )));
    }
    Ok(())
}

fn save(
    ctx: &Context,
    m: &ArgMatches,
    done: &[jobs::Snapshot],
    prompt: Option<&str>,
) -> Result<Outcome> {
    let to = Destination {
        dir: command::out_dir(m),
        prompt,
        fallback: "video",
    };
    command::finish(ctx, done, &to, &[])
}

/// The provider a model belongs to.
fn by_model(model: &str) -> Result<&'static ProviderSpec> {
    jobs::providers(FAMILY)
        .into_iter()
        .find(|spec| (spec.takes_model)(model))
        .ok_or_else(|| {
            CliError::usage(format!("no video provider takes the model {model:?}"))
                .with_hint("use a sora-*, veo* or kling-* model")
        })
}

/// The provider `--provider` names, or the one the ids' form belongs to.
fn by_id(m: &ArgMatches, ids: &[String]) -> Result<&'static ProviderSpec> {
    let specs = jobs::providers(FAMILY);
    if let Some(name) = m.get_one::<String>("provider") {
        return specs
            .into_iter()
            .find(|spec| spec.provider.name() == name)
            .ok_or_else(|| CliError::usage(format!("no video provider {name:?}")));
    }
    let owner = |id: &String| specs.iter().find(|spec| (spec.owns_id)(id)).copied();
    let first = ids.first().and_then(owner);
    match first {
        Some(spec)
            if ids
                .iter()
                .all(|id| owner(id).is_some_and(|o| std::ptr::eq(o, spec))) =>
        {
            Ok(spec)
        }
        _ => Err(CliError::usage("cannot tell whose jobs these are")
            .with_hint("pass --provider, and wait for one provider's jobs at a time")),
    }
}

inventory::submit! {
    CommandSpec::new("video", "Videos as jobs (Sora, Veo, Kling): create, status, wait, download", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}
