//! `video`: videos as jobs. `create PROMPT` submits to the provider the model belongs
//! to (Sora and Veo: `/v1/videos`; Kling: `/kling/v1/videos/...`), waits and downloads
//! the video; `status ID`, `wait ID...` and `download ID` pick a job up by id. Each
//! provider is one file in `commands/video/` registering a `ProviderSpec`.

automod::dir!("commands/video");

use std::path::{Path, PathBuf};

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
            .value_parser(value_parser!(KlingMode))
            .help("Kling: quality mode"),
    )
    .arg(
        Arg::new("duration")
            .long("duration")
            .value_name("SECONDS")
            .value_parser(value_parser!(KlingSeconds))
            .help("Kling: length in seconds"),
    )
    .arg(
        Arg::new("aspect_ratio")
            .long("aspect-ratio")
            .value_name("RATIO")
            .value_parser(value_parser!(AspectRatio))
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

/// `--mode`: Kling's quality mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum KlingMode {
    Std,
    Pro,
}

/// `--duration`: Kling's lengths, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum KlingSeconds {
    #[value(name = "5")]
    Five,
    #[value(name = "10")]
    Ten,
}

/// `--aspect-ratio`: Kling's frame shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum AspectRatio {
    #[value(name = "16:9")]
    Wide,
    #[value(name = "9:16")]
    Tall,
    #[value(name = "1:1")]
    Square,
}

impl KlingMode {
    fn as_str(self) -> &'static str {
        match self {
            KlingMode::Std => "std",
            KlingMode::Pro => "pro",
        }
    }
}

impl KlingSeconds {
    fn as_str(self) -> &'static str {
        match self {
            KlingSeconds::Five => "5",
            KlingSeconds::Ten => "10",
        }
    }
}

impl AspectRatio {
    fn as_str(self) -> &'static str {
        match self {
            AspectRatio::Wide => "16:9",
            AspectRatio::Tall => "9:16",
            AspectRatio::Square => "1:1",
        }
    }
}

/// What `video` was asked to do, read once from its arguments.
#[derive(Debug, PartialEq)]
enum Verb {
    Create(Create),
    Status(Jobs),
    Wait(Jobs, PathBuf),
    Download(Jobs, PathBuf),
}

/// `create PROMPT`: the video asked for.
#[derive(Debug, PartialEq)]
struct Create {
    prompt: String,
    model: String,
    images: Vec<PathBuf>,
    seconds: Option<String>,
    size: Option<String>,
    mode: Option<KlingMode>,
    duration: Option<KlingSeconds>,
    aspect_ratio: Option<AspectRatio>,
    negative_prompt: Option<String>,
    no_wait: bool,
    out_dir: PathBuf,
}

/// The jobs a `status`, `wait` or `download` picks up, and whose they are if given.
#[derive(Debug, PartialEq)]
struct Jobs {
    ids: Vec<String>,
    provider: Option<String>,
}

impl Verb {
    fn from_matches(m: &ArgMatches) -> Result<Verb> {
        let picked = |m: &ArgMatches| Jobs {
            ids: command::ids(m),
            provider: m.get_one::<String>("provider").cloned(),
        };
        Ok(match m.subcommand() {
            Some(("create", m)) => Verb::Create(Create::from_matches(m)),
            Some(("status", m)) => Verb::Status(picked(m)),
            Some(("wait", m)) => Verb::Wait(picked(m), command::out_dir(m)),
            Some(("download", m)) => Verb::Download(picked(m), command::out_dir(m)),
            _ => {
                return Err(CliError::usage(
                    "a subcommand is needed: create, status, wait or download",
                ))
            }
        })
    }
}

impl Create {
    fn from_matches(m: &ArgMatches) -> Create {
        let text = |id: &str| m.get_one::<String>(id).cloned();
        Create {
            prompt: text("prompt").unwrap_or_default(),
            model: text("model").unwrap_or_default(),
            images: m
                .get_many::<PathBuf>("image")
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            seconds: text("seconds"),
            size: text("size"),
            mode: m.get_one::<KlingMode>("mode").copied(),
            duration: m.get_one::<KlingSeconds>("duration").copied(),
            aspect_ratio: m.get_one::<AspectRatio>("aspect_ratio").copied(),
            negative_prompt: text("negative_prompt"),
            no_wait: m.get_flag("no_wait"),
            out_dir: command::out_dir(m),
        }
    }

    /// The provider fields, in the order they are checked: the option's id (also the
    /// field's name), its value if given, and whether only Kling takes it.
    fn fields(&self) -> [(&'static str, Option<&str>, bool); 6] {
        [
            ("seconds", self.seconds.as_deref(), false),
            ("size", self.size.as_deref(), false),
            ("mode", self.mode.map(KlingMode::as_str), true),
            ("duration", self.duration.map(KlingSeconds::as_str), true),
            (
                "aspect_ratio",
                self.aspect_ratio.map(AspectRatio::as_str),
                true,
            ),
            ("negative_prompt", self.negative_prompt.as_deref(), true),
        ]
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    match Verb::from_matches(m)? {
        Verb::Create(asked) => create(ctx, &asked),
        Verb::Status(picked) => {
            let spec = by_id(&picked)?;
            let snapshot = jobs::fetch(ctx, spec.provider, &picked.ids.concat())?;
            Ok(command::status_record(&snapshot, Vec::new()))
        }
        Verb::Download(picked, out_dir) => {
            let spec = by_id(&picked)?;
            let snapshot = jobs::fetch(ctx, spec.provider, &picked.ids.concat())?;
            if !snapshot.state.is_over() {
                return Err(CliError::failure(format!(
                    "job {} is not done yet ({})",
                    snapshot.id, snapshot.status
                ))
                .with_hint(jobs::resume_command(spec.provider, &picked.ids)));
            }
            save(ctx, &out_dir, &[snapshot], None)
        }
        Verb::Wait(picked, out_dir) => {
            let spec = by_id(&picked)?;
            let done = jobs::wait(ctx, spec.provider, &picked.ids, WaitPlan::for_command(ctx)?)?;
            save(ctx, &out_dir, &done, None)
        }
    }
}

fn create(ctx: &Context, asked: &Create) -> Result<Outcome> {
    let plan = WaitPlan::for_command(ctx)?;
    let spec = by_model(&asked.model)?;
    let mut job = Submission {
        model: asked.model.clone(),
        prompt: asked.prompt.clone(),
        files: asked.images.clone(),
        ..Submission::default()
    };
    let is_kling = spec.provider.name() == "kling";
    for (id, value, kling_only) in asked.fields() {
        if let Some(value) = value {
            if kling_only != is_kling {
                return Err(CliError::usage(format!(
                    "--{} is not an option of {} models",
                    id.replace('_', "-"),
                    spec.provider.name()
                )));
            }
            job.fields.insert(id.into(), json!(value));
        }
    }
    check_prompt(spec, &job.prompt)?;
    let id = spec.provider.submit(ctx, &job)?;
    if asked.no_wait {
        return Ok(command::submitted(spec.provider, &id));
    }
    let done = jobs::wait(ctx, spec.provider, &[id], plan)?;
    save(ctx, &asked.out_dir, &done, Some(&job.prompt))
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
    out_dir: &Path,
    done: &[jobs::Snapshot],
    prompt: Option<&str>,
) -> Result<Outcome> {
    let to = Destination {
        dir: out_dir.to_path_buf(),
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
fn by_id(picked: &Jobs) -> Result<&'static ProviderSpec> {
    let specs = jobs::providers(FAMILY);
    let ids = &picked.ids;
    if let Some(name) = &picked.provider {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::ValueEnum;

    fn parse(argv: &[&str]) -> std::result::Result<Result<Verb>, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Verb::from_matches(&m))
    }

    fn create(argv: &[&str]) -> std::result::Result<Create, clap::Error> {
        let argv: Vec<&str> = ["create"].iter().chain(argv).copied().collect();
        match parse(&argv)? {
            Ok(Verb::Create(asked)) => Ok(asked),
            other => panic!("not create: {other:?}"),
        }
    }

    #[test]
    fn create_reads_every_option() {
        let argv = [
            "a fox",
            "-m",
            "kling-v2-master",
            "--image",
            "a.png",
            "--mode",
            "pro",
            "--duration",
            "10",
            "--aspect-ratio",
            "9:16",
            "--negative-prompt",
            "rain",
            "--no-wait",
        ];
        let expected = Create {
            prompt: "a fox".into(),
            model: "kling-v2-master".into(),
            images: vec![PathBuf::from("a.png")],
            seconds: None,
            size: None,
            mode: Some(KlingMode::Pro),
            duration: Some(KlingSeconds::Ten),
            aspect_ratio: Some(AspectRatio::Tall),
            negative_prompt: Some("rain".into()),
            no_wait: true,
            out_dir: PathBuf::from("."),
        };
        let asked = create(&argv).expect("parses");
        assert_eq!(asked, expected);
        let fields: Vec<_> = asked
            .fields()
            .into_iter()
            .filter_map(|(id, v, _)| Some((id, v?)))
            .collect();
        assert_eq!(
            fields,
            [
                ("mode", "pro"),
                ("duration", "10"),
                ("aspect_ratio", "9:16"),
                ("negative_prompt", "rain")
            ]
        );
        let sora = create(&["a fox", "--seconds", "8", "--size", "720x1280"]).expect("parses");
        assert_eq!(
            (sora.model.as_str(), sora.seconds.as_deref()),
            ("sora-2", Some("8"))
        );
    }

    #[test]
    fn the_kling_choices_reject_other_values() {
        for (flag, bad) in [
            ("--mode", "fast"),
            ("--duration", "7"),
            ("--aspect-ratio", "4:3"),
            ("--mode", "PRO"),
        ] {
            let err = create(&["a fox", flag, bad]).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidValue, "{flag} {bad}");
        }
    }

    #[test]
    fn the_wire_spelling_is_the_value_clap_takes() {
        let name = |v: Option<clap::builder::PossibleValue>| v.map(|v| v.get_name().to_string());
        for mode in KlingMode::value_variants() {
            assert_eq!(
                name(mode.to_possible_value()).as_deref(),
                Some(mode.as_str())
            );
        }
        for seconds in KlingSeconds::value_variants() {
            assert_eq!(
                name(seconds.to_possible_value()).as_deref(),
                Some(seconds.as_str())
            );
        }
        for ratio in AspectRatio::value_variants() {
            assert_eq!(
                name(ratio.to_possible_value()).as_deref(),
                Some(ratio.as_str())
            );
        }
    }

    #[test]
    fn the_other_verbs_read_their_jobs() {
        let jobs = |ids: &[&str], provider: Option<&str>| Jobs {
            ids: ids.iter().map(|id| id.to_string()).collect(),
            provider: provider.map(str::to_string),
        };
        let status = parse(&["status", "video_1"])
            .expect("parses")
            .expect("a verb");
        assert_eq!(status, Verb::Status(jobs(&["video_1"], None)));
        let wait = parse(&["wait", "k1", "k2", "--provider", "kling", "--out-dir", "v"])
            .expect("parses")
            .expect("a verb");
        assert_eq!(
            wait,
            Verb::Wait(jobs(&["k1", "k2"], Some("kling")), PathBuf::from("v"))
        );
        let download = parse(&["download", "k1"]).expect("parses").expect("a verb");
        assert_eq!(
            download,
            Verb::Download(jobs(&["k1"], None), PathBuf::from("."))
        );
        assert!(parse(&["status", "k1", "--provider", "nobody"]).is_err());
    }
}
