//! `music`: songs from Suno as jobs. `create` submits (a description, or lyrics with
//! tags and a title) and waits, then downloads every clip's audio (and cover with
//! `--images`); `fetch ID` shows a job; `wait ID...` resumes.

mod suno;

use std::io::Read;
use std::path::PathBuf;

use clap::{value_parser, Arg, ArgAction, ArgGroup, ArgMatches};
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
                        .value_parser(value_parser!(ProviderName))
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

/// The one provider `wait --provider` may name (the resume command every job family prints).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ProviderName {
    Suno,
}

/// What `music` was asked to do, read once from its arguments.
#[derive(Debug, PartialEq)]
enum Verb {
    Create(Create),
    Fetch { id: String },
    Wait { ids: Vec<String>, saving: Saving },
}

/// Where the finished clips go, and whether their covers go too.
#[derive(Debug, PartialEq)]
struct Saving {
    /// `--images`: each clip's cover image as well.
    images: bool,
    out_dir: PathBuf,
}

/// `create`: the song asked for.
#[derive(Debug, PartialEq)]
struct Create {
    mode: Mode,
    instrumental: bool,
    model: String,
    no_wait: bool,
    saving: Saving,
}

/// Who writes the lyrics.
#[derive(Debug, PartialEq)]
enum Mode {
    /// `--description`: Suno does.
    Inspiration { description: String },
    /// `--lyrics FILE|-`, with optional `--tags` and `--title`.
    Custom {
        lyrics: String,
        tags: String,
        title: String,
    },
}

impl Verb {
    fn from_matches(m: &ArgMatches) -> Result<Verb> {
        Ok(match m.subcommand() {
            Some(("create", m)) => Verb::Create(Create::from_matches(m)),
            Some(("fetch", m)) => Verb::Fetch {
                id: m.get_one::<String>("id").cloned().unwrap_or_default(),
            },
            Some(("wait", m)) => Verb::Wait {
                ids: command::ids(m),
                saving: Saving::from_matches(m),
            },
            _ => {
                return Err(CliError::usage(
                    "a subcommand is needed: create, fetch or wait",
                ))
            }
        })
    }
}

impl Create {
    fn from_matches(m: &ArgMatches) -> Create {
        let text = |id: &str| m.get_one::<String>(id).cloned();
        let mode = match text("description") {
            Some(description) => Mode::Inspiration { description },
            None => Mode::Custom {
                lyrics: text("lyrics").unwrap_or_default(),
                tags: text("tags").unwrap_or_default(),
                title: text("title").unwrap_or_default(),
            },
        };
        Create {
            mode,
            instrumental: m.get_flag("instrumental"),
            model: text("model").unwrap_or_default(),
            no_wait: m.get_flag("no_wait"),
            saving: Saving::from_matches(m),
        }
    }
}

impl Saving {
    fn from_matches(m: &ArgMatches) -> Saving {
        Saving {
            images: m.get_flag("images"),
            out_dir: command::out_dir(m),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    match Verb::from_matches(m)? {
        Verb::Create(asked) => create(ctx, &asked),
        Verb::Fetch { id } => Ok(command::status_record(
            &jobs::fetch(ctx, &Suno, &id)?,
            Vec::new(),
        )),
        Verb::Wait { ids, saving } => {
            wait_and_save(ctx, &saving, WaitPlan::for_command(ctx)?, &ids, None)
        }
    }
}

fn create(ctx: &Context, asked: &Create) -> Result<Outcome> {
    let plan = WaitPlan::for_command(ctx)?;
    let mut job = Submission {
        model: asked.model.clone(),
        ..Submission::default()
    };
    match &asked.mode {
        Mode::Inspiration { description } => {
            job.fields
                .insert("gpt_description_prompt".into(), json!(description));
            job.prompt = description.clone();
        }
        Mode::Custom {
            lyrics,
            tags,
            title,
        } => {
            let lyrics = read_lyrics(lyrics)?;
            job.fields.insert("prompt".into(), json!(lyrics));
            job.fields.insert("tags".into(), json!(tags));
            job.fields.insert("title".into(), json!(title));
            job.prompt = if title.is_empty() {
                lyrics
            } else {
                title.clone()
            };
        }
    }
    job.fields
        .insert("make_instrumental".into(), json!(asked.instrumental));
    let id = Suno.submit(ctx, &job)?;
    if asked.no_wait {
        return Ok(command::submitted(&Suno, &id));
    }
    wait_and_save(ctx, &asked.saving, plan, &[id], Some(&job.prompt))
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
    saving: &Saving,
    plan: WaitPlan,
    ids: &[String],
    prompt: Option<&str>,
) -> Result<Outcome> {
    let mut done = jobs::wait(ctx, &Suno, ids, plan)?;
    if saving.images {
        done.iter_mut().for_each(add_covers);
    }
    let to = Destination {
        dir: saving.out_dir.clone(),
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
    fn create_reads_either_mode() {
        let custom = [
            "create",
            "--lyrics",
            "-",
            "--tags",
            "synthwave",
            "--title",
            "Night",
            "--instrumental",
            "--mv",
            "chirp-v5",
            "--images",
            "--no-wait",
            "--out-dir",
            "songs",
        ];
        let expected = Create {
            mode: Mode::Custom {
                lyrics: "-".into(),
                tags: "synthwave".into(),
                title: "Night".into(),
            },
            instrumental: true,
            model: "chirp-v5".into(),
            no_wait: true,
            saving: Saving {
                images: true,
                out_dir: PathBuf::from("songs"),
            },
        };
        assert_eq!(verb(&custom), Verb::Create(expected));
        let Verb::Create(inspired) = verb(&["create", "--description", "rain"]) else {
            panic!("not create");
        };
        let description = "rain".to_string();
        assert_eq!(inspired.mode, Mode::Inspiration { description });
        assert_eq!(inspired.model, "chirp-v4");
        assert!(!inspired.instrumental && !inspired.no_wait && !inspired.saving.images);
    }

    #[test]
    fn fetch_and_wait_read_their_ids() {
        assert_eq!(verb(&["fetch", "t1"]), Verb::Fetch { id: "t1".into() });
        let wait = Verb::Wait {
            ids: vec!["t1".into(), "t2".into()],
            saving: Saving {
                images: true,
                out_dir: PathBuf::from("."),
            },
        };
        assert_eq!(
            verb(&["wait", "t1", "t2", "--provider", "suno", "--images"]),
            wait
        );
    }

    #[test]
    fn provider_names_only_suno_and_a_mode_is_required() {
        let err = parse(&["wait", "t1", "--provider", "kling"]).expect_err("not suno");
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert!(parse(&["create", "--tags", "x"]).is_err());
        assert!(parse(&["create", "--description", "a", "--title", "t"]).is_err());
    }
}
