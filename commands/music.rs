//! `music`: songs from Suno as jobs. `create` submits (a description, or lyrics with
//! tags and a title) and waits, then downloads every clip's audio (and cover with
//! `--images`); `fetch ID` shows a job; `wait ID...` resumes.

mod suno;

use std::io::Read;

use clap::{Arg, ArgAction, ArgGroup, ArgMatches};
use serde_json::json;

use crate::api::jobs::command::{self, Destination};
use crate::api::jobs::{self, Provider, Snapshot, Submission, WaitPlan};
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::output::Outcome;
use suno::Suno;

/// The longest lyrics read from a file or stdin.
const MAX_LYRICS_BYTES: u64 = 64 * 1024;

fn args(cmd: clap::Command) -> clap::Command {
    cmd.subcommand_required(true)
        .subcommand(
            clap::Command::new("create")
                .about("Make a song and download its clips")
                .arg(
                    Arg::new("description")
                        .long("description")
                        .value_name("TEXT")
                        .value_parser(crate::cli::front::non_blank)
                        .help("What the song is about (inspiration mode: Suno writes the lyrics)"),
                )
                .arg(
                    Arg::new("lyrics")
                        .long("lyrics")
                        .value_name("FILE|-")
                        .value_parser(crate::cli::front::non_blank)
                        .help("The lyrics, from a file or `-` for stdin (custom mode)"),
                )
                .group(
                    ArgGroup::new("mode")
                        .args(["description", "lyrics"])
                        .required(true),
                )
                .arg(
                    Arg::new("tags")
                        .long("tags")
                        .value_name("TAGS")
                        .conflicts_with("description")
                        .help("Styles for custom mode (\"synthwave, female vocals\")"),
                )
                .arg(
                    Arg::new("title")
                        .long("title")
                        .value_name("TITLE")
                        .conflicts_with("description")
                        .help("The song's title, for custom mode"),
                )
                .arg(
                    Arg::new("instrumental")
                        .long("instrumental")
                        .action(ArgAction::SetTrue)
                        .help("No vocals"),
                )
                .arg(
                    Arg::new("model")
                        .short('m')
                        .long("mv")
                        .visible_alias("model")
                        .value_name("MODEL")
                        .value_parser(crate::cli::front::non_blank)
                        .default_value("chirp-v4")
                        .help("Suno model version"),
                )
                .arg(images_arg())
                .arg(command::no_wait_arg())
                .arg(command::out_dir_arg()),
        )
        .subcommand(
            clap::Command::new("fetch")
                .about("Show a job: status, progress and clips")
                .arg(command::ids_arg(false)),
        )
        .subcommand(
            clap::Command::new("wait")
                .about("Wait for jobs submitted earlier and download their clips")
                .arg(command::ids_arg(true))
                .arg(
                    Arg::new("provider")
                        .long("provider")
                        .value_name("NAME")
                        .value_parser(["suno"])
                        .hide(true),
                )
                .arg(images_arg())
                .arg(command::out_dir_arg()),
        )
}

fn images_arg() -> Arg {
    Arg::new("images")
        .long("images")
        .action(ArgAction::SetTrue)
        .help("Also download each clip's cover image")
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    match m.subcommand() {
        Some(("create", m)) => create(ctx, m),
        Some(("fetch", m)) => {
            let id = m.get_one::<String>("id").cloned().unwrap_or_default();
            Ok(command::status_record(
                &jobs::fetch(ctx, &Suno, &id)?,
                Vec::new(),
            ))
        }
        Some(("wait", m)) => {
            let ids = command::ids(m);
            wait_and_save(ctx, m, WaitPlan::for_command(ctx)?, &ids, None)
        }
        _ => Err(CliError::usage(
            "a subcommand is needed: create, fetch or wait",
        )),
    }
}

fn create(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let plan = WaitPlan::for_command(ctx)?;
    let mut job = Submission {
        model: m.get_one::<String>("model").cloned().unwrap_or_default(),
        ..Submission::default()
    };
    let text = |id: &str| m.get_one::<String>(id).cloned();
    if let Some(description) = text("description") {
        job.fields
            .insert("gpt_description_prompt".into(), json!(description));
        job.prompt = description;
    } else {
        let lyrics = read_lyrics(&text("lyrics").unwrap_or_default())?;
        job.fields.insert("prompt".into(), json!(lyrics));
        job.fields
            .insert("tags".into(), json!(text("tags").unwrap_or_default()));
        let title = text("title").unwrap_or_default();
        job.fields.insert("title".into(), json!(title));
        job.prompt = if title.is_empty() { lyrics } else { title };
    }
    job.fields.insert(
        "make_instrumental".into(),
        json!(m.get_flag("instrumental")),
    );
    let id = Suno.submit(ctx, &job)?;
    if m.get_flag("no_wait") {
        return Ok(command::submitted(&Suno, &id));
    }
    wait_and_save(ctx, m, plan, &[id], Some(&job.prompt))
}

/// Lyrics from a file or stdin (`-`): at most 64 KiB of UTF-8, not blank.
fn read_lyrics(source: &str) -> Result<String> {
    let mut text = String::new();
    let read = if source == "-" {
        std::io::stdin()
            .take(MAX_LYRICS_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        crate::store::files::check_regular(std::path::Path::new(source))
            .and_then(|()| std::fs::File::open(source))
            .and_then(|f| f.take(MAX_LYRICS_BYTES + 1).read_to_string(&mut text))
    };
    read.map_err(|e| {
        CliError::usage(format!("cannot read the lyrics from {source}")).caused_by(e)
    })?;
    if text.len() as u64 > MAX_LYRICS_BYTES {
        return Err(CliError::usage(format!(
            "the lyrics are longer than {MAX_LYRICS_BYTES} bytes"
        )));
    }
    if text.trim().is_empty() {
        return Err(CliError::usage(format!(
            "the lyrics from {source} are empty"
        )));
    }
    Ok(text)
}

fn wait_and_save(
    ctx: &Context,
    m: &ArgMatches,
    plan: WaitPlan,
    ids: &[String],
    prompt: Option<&str>,
) -> Result<Outcome> {
    let mut done = jobs::wait(ctx, &Suno, ids, plan)?;
    if m.get_flag("images") {
        done.iter_mut().for_each(add_covers);
    }
    let to = Destination {
        dir: command::out_dir(m),
        prompt,
        fallback: "music",
    };
    command::finish(ctx, &done, &to, &[])
}

/// Each clip's cover image, after the audio files.
fn add_covers(job: &mut Snapshot) {
    let covers: Vec<String> = suno::clips(&job.raw)
        .filter_map(|clip| clip.get("image_url")?.as_str())
        .filter(|url| !url.is_empty())
        .map(str::to_string)
        .collect();
    job.results.extend(covers);
}

inventory::submit! {
    CommandSpec::new("music", "Songs from Suno as jobs: create, fetch, wait", run)
        .needs(Credential::ApiKey)
        .with_args(args)
}
