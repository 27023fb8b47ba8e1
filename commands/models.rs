//! `models`: list and filter the model catalog, or the ids `/v1/models` returns.

use clap::{value_parser, Arg, ArgMatches};
use serde_json::Value;

use crate::api::catalog::{self, CachePolicy};
use crate::cli::context::Context;
use crate::cli::registry::CommandSpec;
use crate::error::{CliError, Result};
use crate::net::{Auth, KeyHeader};
use crate::output::{Cell, Column, Outcome, Output, Table};

/// The catalog's `model_type` values, declared so help, completion and the REPL offer them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ModelType {
    Text,
    Image,
    Video,
    Audio,
    Embedding,
}

impl ModelType {
    /// The catalog's spelling.
    fn as_str(self) -> &'static str {
        match self {
            ModelType::Text => "text",
            ModelType::Image => "image",
            ModelType::Video => "video",
            ModelType::Audio => "audio",
            ModelType::Embedding => "embedding",
        }
    }
}

/// `--source`: where the list comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Source {
    Catalog,
    #[value(name = "openai")]
    OpenAi,
}

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(Arg::new("search").long("search").value_name("TEXT").help("Keep models whose id, code, name, description or provider contains TEXT"))
        .arg(Arg::new("provider").long("provider").value_name("NAMES").help("Keep these providers (comma-separated, name or code)"))
        .arg(
            Arg::new("type")
                .long("type")
                .visible_alias("modality")
                .value_name("TYPE")
                .value_parser(value_parser!(ModelType))
                .ignore_case(true)
                .help("Keep one model type"),
        )
        .arg(Arg::new("feature").long("feature").visible_alias("capability").value_name("NAMES").help("Keep models with any of these features (comma-separated)"))
        .arg(Arg::new("endpoint").long("endpoint").value_name("NAMES").help("Keep models with any of these endpoints: name, method or path (comma-separated)"))
        .arg(Arg::new("limit").short('l').long("limit").value_name("N").value_parser(value_parser!(u32).range(1..)).help("Show at most N models"))
        .arg(
            Arg::new("source")
                .long("source")
                .value_name("SOURCE")
                .value_parser(value_parser!(Source))
                .default_value("catalog")
                .help("catalog: the public catalog with prices; openai: the ids /v1/models returns (needs the API key)"),
        )
        .args(CachePolicy::args())
}

/// What `models` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    filters: Filters,
    source: Source,
    cache: CachePolicy,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        Options {
            filters: Filters::from_matches(m),
            source: m
                .get_one::<Source>("source")
                .copied()
                .unwrap_or(Source::Catalog),
            cache: CachePolicy::from_matches(m),
        }
    }
}

/// The filters, lower-cased; comma-separated options match any of their terms.
#[derive(Debug, PartialEq)]
struct Filters {
    search: Option<String>,
    providers: Vec<String>,
    model_type: Option<ModelType>,
    features: Vec<String>,
    endpoints: Vec<String>,
    limit: Option<usize>,
}

impl Filters {
    fn from_matches(m: &ArgMatches) -> Filters {
        let text = |name: &str| {
            m.get_one::<String>(name)
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
        };
        let terms = |name: &str| {
            text(name)
                .map(|s| {
                    s.split(',')
                        .map(|t| t.trim().to_string())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        Filters {
            search: text("search"),
            providers: terms("provider"),
            model_type: m.get_one::<ModelType>("type").copied(),
            features: terms("feature"),
            endpoints: terms("endpoint"),
            limit: m.get_one::<u32>("limit").map(|&n| n as usize),
        }
    }

    fn keeps(&self, model: &Value) -> bool {
        let field = |name: &str| {
            model
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase()
        };
        let provider = [field("provider"), field("provider_code")];
        let searchable = [
            field("id"),
            field("code"),
            field("name"),
            field("description"),
            provider[0].clone(),
            provider[1].clone(),
        ];
        let features: Vec<String> = model
            .get("features")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let endpoints: Vec<String> = catalog::endpoints(model)
            .into_iter()
            .flat_map(|(name, method, path)| [name, method, path])
            .map(|s| s.to_lowercase())
            .collect();
        self.search
            .as_ref()
            .is_none_or(|s| searchable.iter().any(|v| v.contains(s.as_str())))
            && any_term(&self.providers, &provider)
            && self
                .model_type
                .as_ref()
                .is_none_or(|t| field("model_type").contains(t.as_str()))
            && any_term(&self.features, &features)
            && any_term(&self.endpoints, &endpoints)
    }
}

/// No terms keeps everything; otherwise some value must contain some term.
fn any_term(terms: &[String], values: &[String]) -> bool {
    terms.is_empty()
        || terms
            .iter()
            .any(|t| values.iter().any(|v| v.contains(t.as_str())))
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    list(ctx, &Options::from_matches(m))
}

fn list(ctx: &Context, options: &Options) -> Result<Outcome> {
    let filters = &options.filters;
    let table = match options.source {
        Source::OpenAi => openai_models(ctx, filters)?,
        Source::Catalog => catalog_models(ctx, filters, options.cache)?,
    };
    Ok(Output::Table(table).into())
}

fn catalog_models(ctx: &Context, filters: &Filters, policy: CachePolicy) -> Result<Table> {
    let mut models: Vec<Value> = catalog::models(ctx, policy)?
        .into_iter()
        .filter(|m| filters.keeps(m))
        .collect();
    let total = sort_and_limit(&mut models, filters.limit);
    let mut table = Table::new(
        vec![
            Column::new("id", "Model"),
            Column::new("provider", "Provider").droppable(3),
            Column::new("model_type", "Type").droppable(2),
            Column::new("pricing", "Pricing"),
            Column::new("context_length", "Context").droppable(4),
            Column::new("endpoints", "Endpoints")
                .truncates()
                .droppable(1),
            Column::new("features", "Features").structured_only(),
            Column::new("max_completion_tokens", "Max output").structured_only(),
        ],
        "No models found.",
    );
    for model in &models {
        let get = |k: &str| model.get(k).cloned().unwrap_or(Value::Null);
        let endpoint_names: Vec<Value> = catalog::endpoints(model)
            .into_iter()
            .map(|(name, _, _)| Value::String(name))
            .collect();
        table.push(vec![
            Cell::new(id_of(model)),
            Cell::new(get("provider")),
            Cell::new(get("model_type")),
            Cell::with_text(get("pricing"), catalog::pricing_label(model.get("pricing"))),
            Cell::count(get("context_length")),
            Cell::new(endpoint_names),
            Cell::new(get("features")),
            Cell::count(get("max_completion_tokens")),
        ]);
    }
    Ok(table.listed(Some(total), None))
}

fn openai_models(ctx: &Context, filters: &Filters) -> Result<Table> {
    if filters.model_type.is_some() || !filters.features.is_empty() || !filters.endpoints.is_empty()
    {
        return Err(CliError::usage(
            "--type, --feature and --endpoint need the catalog; drop --source openai",
        ));
    }
    let key = ctx.api_key()?;
    let reply = ctx.http()?.get_json(
        &ctx.base_url()?.v1("models"),
        Auth::ApiKey(&key, KeyHeader::Bearer),
    )?;
    let mut models: Vec<Value> = reply
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            let owner = m
                .get("owned_by")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase();
            filters
                .search
                .as_ref()
                .is_none_or(|s| id_of(m).to_lowercase().contains(s.as_str()))
                && any_term(&filters.providers, &[owner])
        })
        .collect();
    let total = sort_and_limit(&mut models, filters.limit);
    let mut table = Table::new(
        vec![
            Column::new("id", "Model"),
            Column::new("owned_by", "Owner").droppable(1),
        ],
        "No models found.",
    );
    for model in &models {
        table.push(vec![
            Cell::new(id_of(model)),
            Cell::new(model.get("owned_by").cloned().unwrap_or(Value::Null)),
        ]);
    }
    Ok(table.listed(Some(total), None))
}

/// Newest version first, at most `limit`; returns how many matched before the cut.
fn sort_and_limit(models: &mut Vec<Value>, limit: Option<usize>) -> u64 {
    let total = models.len() as u64;
    models.sort_by(|a, b| catalog::compare_ids(id_of(a), id_of(b)));
    models.truncate(limit.unwrap_or(usize::MAX));
    total
}

fn id_of(model: &Value) -> &str {
    model.get("id").and_then(Value::as_str).unwrap_or_default()
}

inventory::submit! {
    CommandSpec::new("models", "List and filter available models", run)
        .with_args(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::ValueEnum;

    fn parse(argv: &[&str]) -> std::result::Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn filters_are_read_lower_cased_and_split_on_commas() {
        let argv = [
            "--search",
            " GPT ",
            "--provider",
            "OpenAI, anthropic,,",
            "--modality",
            "Image",
            "--capability",
            "tools",
            "--endpoint",
            "chat",
            "-l",
            "5",
            "--source",
            "openai",
            "--refresh",
        ];
        let expected = Options {
            filters: Filters {
                search: Some("gpt".into()),
                providers: vec!["openai".into(), "anthropic".into()],
                model_type: Some(ModelType::Image),
                features: vec!["tools".into()],
                endpoints: vec!["chat".into()],
                limit: Some(5),
            },
            source: Source::OpenAi,
            cache: CachePolicy::Refresh,
        };
        assert_eq!(parse(&argv).expect("parses"), expected);
        let plain = parse(&[]).expect("parses");
        assert_eq!(
            (plain.source, plain.cache),
            (Source::Catalog, CachePolicy::Use)
        );
        assert_eq!(plain.filters.model_type, None);
    }

    #[test]
    fn the_choices_reject_other_values() {
        for argv in [
            ["--type", "chat"],
            ["--source", "OpenAI"],
            ["--source", "v1"],
        ] {
            let err = parse(&argv).expect_err("not a choice");
            assert_eq!(err.kind(), ErrorKind::InvalidValue, "{argv:?}");
        }
        let embedding = parse(&["--type", "EMBEDDING"]).expect("any case");
        assert_eq!(embedding.filters.model_type, Some(ModelType::Embedding));
    }

    #[test]
    fn a_model_type_keeps_the_catalogs_spelling() {
        for model_type in ModelType::value_variants() {
            let value = model_type.to_possible_value().expect("listed");
            assert_eq!(value.get_name(), model_type.as_str());
        }
        let filters = parse(&["--type", "video"]).expect("parses").filters;
        assert!(filters.keeps(&serde_json::json!({"model_type": "video"})));
        assert!(!filters.keeps(&serde_json::json!({"model_type": "image"})));
    }
}
