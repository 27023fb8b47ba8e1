//! `embed [TEXT...]`: embedding vectors from `POST {base}/embeddings` for the arguments,
//! or for every line of `--input-file FILE` or stdin. Inputs go in batches (at most 2048
//! and 256 KB each, a few requests in flight) and rows come out in input order as the
//! batches complete, so memory stays flat however many lines there are.

mod pipeline;
mod request;
mod rows;
mod source;

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{value_parser, Arg, ArgAction, ArgMatches};

use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::output::Outcome;

use request::Embedder;
use rows::{Rows, Style};
use source::{Batcher, Inputs};

/// The model when `-m` names none.
const DEFAULT_MODEL: &str = "text-embedding-3-small";

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("text")
            .value_name("TEXT")
            .num_args(1..)
            .value_parser(front::non_blank)
            .conflicts_with("input_file")
            .help("Texts to embed, one vector each (default: one input per line of stdin); rows come out as JSON lines when piped, a short table on a terminal"),
    )
    .arg(
        front::model_arg("Embedding model").default_value(DEFAULT_MODEL),
    )
    .arg(
        Arg::new("dimensions")
            .long("dimensions")
            .value_name("N")
            .value_parser(value_parser!(u32).range(1..=65_536))
            .help("Length of each vector (text-embedding-3 models can shorten theirs)"),
    )
    .arg(
        Arg::new("input_file")
            .long("input-file")
            .value_name("FILE")
            .value_parser(value_parser!(PathBuf))
            .action(ArgAction::Set)
            .help("Embed every line of FILE (`-` for stdin); blank lines are skipped"),
    )
}

/// What `embed` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    /// TEXT arguments; none reads lines from `input_file` or stdin.
    texts: Vec<String>,
    model: String,
    dimensions: Option<u32>,
    input_file: Option<PathBuf>,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        Options {
            texts: m
                .get_many::<String>("text")
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            model: m
                .get_one::<String>("model")
                .cloned()
                .unwrap_or_else(|| DEFAULT_MODEL.into()),
            dimensions: m.get_one::<u32>("dimensions").copied(),
            input_file: m.get_one::<PathBuf>("input_file").cloned(),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    embed(ctx, &Options::from_matches(m))
}

fn embed(ctx: &Context, options: &Options) -> Result<Outcome> {
    let streams = ctx.streams();
    let inputs = Inputs::open(
        options.texts.clone(),
        options.input_file.as_ref(),
        streams.stdin_is_terminal(),
    )?;
    let mut batcher = Batcher::new(inputs);
    let dimensions = options.dimensions;
    let model = options.model.as_str();
    let key = ctx.api_key()?;
    let embedder = Embedder {
        http: ctx.http()?,
        url: ctx.base_url()?.v1("embeddings"),
        key: &key,
        model,
        dimensions,
    };
    let style = Style::for_format(ctx.formatter().name, streams.stdout_is_terminal());
    let mut rows = Rows::new(BufWriter::new(streams.out()), style);
    let mut write = |inputs: &[String], vectors: &[Vec<f64>]| {
        rows.batch(inputs, vectors).map_err(CliError::from_output)
    };
    let known = dimensions.map(|d| d as usize);
    let embedded = pipeline::embed_all(&embedder, &mut batcher, known, &mut write)?;
    if embedded == 0 {
        return Err(
            CliError::usage("nothing to embed: there were no input lines")
                .with_hint("blank lines are skipped; pass TEXT arguments or lines with text"),
        );
    }
    let output = rows.finish().map_err(CliError::from_output)?;
    if batcher.blank_lines() > 0 {
        let blank = batcher.blank_lines();
        let _ = writeln!(streams.err(), "note: skipped {blank} blank lines");
    }
    Ok(output.into())
}

inventory::submit! {
    CommandSpec::new("embed", "Turn texts into embedding vectors, in batches, in input order", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::shell::completer::for_cli;

    fn options(argv: &[&str]) -> Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn nothing_to_embed_from_a_terminal_stdin_is_refused_before_any_request() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (streams, captured) = crate::term::streams::Streams::test();
        let all = crate::term::streams::Terminals {
            stdin: true,
            stdout: true,
            stderr: true,
        };
        let ctx = Context::for_test(streams.with_terminals(all, 80), dir.path());
        let err = embed(&ctx, &options(&[]).expect("parses")).expect_err("refused");
        assert_eq!(err.exit.code(), 2);
        assert_eq!(err.message, "nothing to embed");
        assert_eq!(captured.stdout() + &captured.stderr(), "");
    }

    #[test]
    fn texts_model_dimensions_and_the_input_file_are_read() {
        assert_eq!(
            options(&["a cat", "a dog", "-m", "m1", "--dimensions", "256"]).expect("parses"),
            Options {
                texts: vec!["a cat".into(), "a dog".into()],
                model: "m1".into(),
                dimensions: Some(256),
                input_file: None,
            }
        );
        assert_eq!(
            options(&["--input-file", "-"]).expect("parses"),
            Options {
                texts: Vec::new(),
                model: DEFAULT_MODEL.into(),
                dimensions: None,
                input_file: Some(PathBuf::from("-")),
            }
        );
    }

    #[test]
    fn bad_values_are_rejected() {
        for argv in [
            &["a", "--input-file", "f.txt"][..],
            &["a", "--dimensions", "0"],
            &["a", "--dimensions", "65537"],
            &[" "],
        ] {
            assert!(options(argv).is_err(), "{argv:?}");
        }
    }

    #[test]
    fn the_repl_completes_its_flags_and_models() {
        let completer = for_cli(
            Vec::new(),
            Box::new(|| vec!["text-embedding-3-large".into()]),
        );
        let offered = |before: &[&str], current: &str| -> Vec<String> {
            let before: Vec<String> = before.iter().map(|w| w.to_string()).collect();
            let offered = completer.complete_words(&before, current);
            offered.into_iter().map(|(value, _)| value).collect()
        };
        assert_eq!(offered(&["embed"], "--dim"), ["--dimensions"]);
        assert_eq!(offered(&["embed"], "--input"), ["--input-file"]);
        assert_eq!(
            offered(&["embed", "-m"], "text"),
            ["text-embedding-3-large"]
        );
    }
}
