//! `model info <ID>`: one model's public metadata.

use clap::{Arg, ArgMatches};
use serde_json::Value;

use crate::api::catalog::{self, CachePolicy};
use crate::cli::context::Context;
use crate::cli::registry::CommandSpec;
use crate::cli::suggest;
use crate::error::{CliError, ExitCode, Result};
use crate::output::{Cell, Outcome, Output, Record};

const OVERVIEW_CHARS: usize = 600;

fn args(cmd: clap::Command) -> clap::Command {
    cmd.subcommand_required(true).subcommand(
        clap::Command::new("info")
            .about("Show one model's pricing, context, endpoints and overview")
            .arg(
                Arg::new("id")
                    .required(true)
                    .value_name("ID")
                    .value_parser(crate::cli::front::non_blank)
                    .help("Model id or catalog code (gpt-5.4, gemini-2.5-pro)"),
            )
            .args(CachePolicy::args()),
    )
}

/// What `model info` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    id: String,
    cache: CachePolicy,
}

impl Options {
    fn from_matches(matches: &ArgMatches) -> Options {
        let m = match matches.subcommand() {
            Some((_, m)) => m,
            None => matches,
        };
        Options {
            id: m.get_one::<String>("id").cloned().unwrap_or_default(),
            cache: CachePolicy::from_matches(m),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    info(ctx, &Options::from_matches(m))
}

fn info(ctx: &Context, options: &Options) -> Result<Outcome> {
    let id = options.id.as_str();
    let detail =
        catalog::detail(ctx, id, options.cache).map_err(|err| with_close_ids(ctx, id, err))?;
    Ok(Output::Record(describe(&detail).with_raw(detail)).into())
}

/// An unknown id (exit 1) names the catalog ids close to it, when there are any.
fn with_close_ids(ctx: &Context, id: &str, err: CliError) -> CliError {
    if err.exit != ExitCode::Failure {
        return err;
    }
    let Ok(models) = catalog::models(ctx, CachePolicy::Use) else {
        return err;
    };
    let ids = models
        .iter()
        .filter_map(|m| m.get("id").and_then(Value::as_str));
    let near = suggest::close(id, ids, 3);
    if near.is_empty() {
        return err;
    }
    let listed: Vec<String> = near.iter().map(|id| format!("`{id}`")).collect();
    err.with_hint(format!(
        "did you mean {}? `cometapi models --search <text>` lists the ids",
        listed.join(", ")
    ))
}

/// The fields people read; json and yaml show the server's record instead.
fn describe(detail: &Value) -> Record {
    let get = |k: &str| detail.get(k).cloned().unwrap_or(Value::Null);
    let endpoints: Vec<String> = catalog::endpoints(detail)
        .into_iter()
        .map(|(name, method, path)| format!("{name} ({method} {path})").replace(" ( )", ""))
        .collect();
    let overview = detail
        .get("overview")
        .and_then(Value::as_str)
        .map(|md| catalog::plain_text(md, OVERVIEW_CHARS))
        .unwrap_or_default();
    Record::new()
        .field("id", "ID", get("id"))
        .field("name", "Name", get("name"))
        .field("provider", "Provider", get("provider"))
        .field("model_type", "Type", get("model_type"))
        .field("features", "Features", get("features"))
        .field(
            "pricing",
            "Pricing",
            Cell::with_text(
                get("pricing"),
                catalog::pricing_label(detail.get("pricing")),
            ),
        )
        .field(
            "context_length",
            "Context",
            Cell::count(get("context_length")),
        )
        .field(
            "max_completion_tokens",
            "Max output",
            Cell::count(get("max_completion_tokens")),
        )
        .field("endpoints", "Endpoints", Cell::new(endpoints))
        .field("api_doc_url", "Docs", get("api_doc_url"))
        .field("overview", "Overview", overview)
}

inventory::submit! {
    CommandSpec::new("model", "Inspect one model (`model info <ID>`)", run)
        .with_args(args)
        .model_id_args(&["id"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(argv: &[&str]) -> std::result::Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn info_reads_the_id_and_the_cache_policy() {
        let options = |argv: &[&str]| parse(argv).expect("parses");
        let expected = |cache| Options {
            id: "gpt-5.4".into(),
            cache,
        };
        assert_eq!(options(&["info", "gpt-5.4"]), expected(CachePolicy::Use));
        assert_eq!(
            options(&["info", "gpt-5.4", "--refresh"]),
            expected(CachePolicy::Refresh)
        );
        assert_eq!(
            options(&["info", "gpt-5.4", "--no-cache"]),
            expected(CachePolicy::Bypass)
        );
        assert!(parse(&["info", " "]).is_err(), "a blank id");
        assert!(parse(&["info"]).is_err(), "no id");
    }

    #[test]
    fn endpoints_and_overview_read_plainly() {
        let detail = json!({
            "id": "gpt-5.4",
            "endpoints": "{\"openai-chat\":{\"path\":\"/v1/chat/completions\",\"method\":\"POST\"}}",
            "overview": "## GPT\n**Fast** model."
        });
        let record = describe(&detail);
        let text = |key: &str| {
            record
                .fields
                .iter()
                .find(|f| f.key == key)
                .map(|f| f.cell.text.clone())
        };
        assert_eq!(
            text("endpoints").as_deref(),
            Some("openai-chat (POST /v1/chat/completions)")
        );
        assert_eq!(text("overview").as_deref(), Some("GPT Fast model."));
        assert_eq!(text("name").as_deref(), Some("-"));
    }
}
