//! `embed [TEXT...]`: embedding vectors from `POST {base}/embeddings` for the arguments,
//! or for every line of `--input-file FILE` or stdin. Inputs go in batches (at most 2048
//! and 256 KB each, a few requests in flight) and rows come out in input order as the
//! batches complete, so memory stays flat however many lines there are.

mod pipeline;
mod request;
mod rows;
mod source;

use std::io::{self, BufWriter, IsTerminal};
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
        front::model_arg("Embedding model").default_value("text-embedding-3-small"),
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

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let texts: Vec<String> = m
        .get_many::<String>("text")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let mut batcher = Batcher::new(Inputs::open(texts, m.get_one::<PathBuf>("input_file"))?);
    let dimensions = m.get_one::<u32>("dimensions").copied();
    let model = m
        .get_one::<String>("model")
        .map_or("text-embedding-3-small", String::as_str);
    let key = ctx.api_key()?;
    let embedder = Embedder {
        http: ctx.http()?,
        url: ctx.base_url()?.v1("embeddings"),
        key: &key,
        model,
        dimensions,
    };
    let stdout = io::stdout();
    let style = Style::for_format(ctx.formatter().name, stdout.is_terminal());
    let mut rows = Rows::new(BufWriter::new(stdout.lock()), style);
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
        eprintln!("note: skipped {} blank lines", batcher.blank_lines());
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
    use crate::term::shell::completer::for_cli;

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
