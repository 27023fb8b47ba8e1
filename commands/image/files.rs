//! Where `image` saves what the server made: a plan decided before the request (the
//! file or directory, checked then), and each image of the reply written to a
//! temporary file, named once its bytes say what it is, and renamed into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Value};

use crate::api::download;
use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::net;
use crate::output::{Cell, Column, Outcome, Output, Record, Table};
use crate::store::files::Replace;
use crate::store::save;
use crate::store::sniff;

enum Destination {
    /// `-o FILE` for one image (checked: free, or `--force`).
    File(PathBuf),
    /// A directory: names made from the prompt and the time.
    Dir(PathBuf),
}

pub struct Plan {
    destination: Destination,
    /// `<slug of prompt>-<UTC timestamp>`, the start of every default name.
    stem: String,
    force: bool,
}

/// One saved image, as shown.
struct Saved {
    path: PathBuf,
    bytes: u64,
    mime: Option<&'static str>,
    dimensions: Option<(usize, usize)>,
    revised_prompt: Option<String>,
}

impl Plan {
    /// Decides where the images go before anything is sent: `-o` a directory (existing,
    /// ending in `/`, or because `-n` asks for several; created if missing), `-o` a
    /// file (exit 2 if it exists without `--force`), or the current directory.
    pub fn new(shared: &super::Shared, prompt: &str) -> Result<Plan> {
        let force = shared.force;
        let several = shared.n.is_some_and(|n| n > 1);
        let destination = match &shared.output {
            // An empty path: names join as `name`, not `./name`.
            None => Destination::Dir(PathBuf::new()),
            Some(path) if path.is_dir() || ends_with_separator(path) || several => {
                make_dir(path)?;
                Destination::Dir(path.clone())
            }
            Some(path) => Destination::File(save::check_target(path, force)?),
        };
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
        Ok(Plan {
            destination,
            stem: format!("{}-{stamp}", save::slug(prompt, "image")),
            force,
        })
    }

    /// Saves every image of an images reply (`{data: [{b64_json | url,
    /// revised_prompt}]}`) and describes them: a record for one, a table for several.
    pub fn save_all(&self, ctx: &Context, reply: &Value) -> Result<Outcome> {
        if let Some(message) = reply.get("error").and_then(|_| net::message_in(reply)) {
            return Err(CliError::failure(format!(
                "the server answered with an error: {message}"
            )));
        }
        let items = reply
            .get("data")
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty())
            .ok_or_else(|| CliError::failure("the server's reply has no images (no `data`)"))?;
        let numbered = items.len() > 1;
        let mut saved = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            saved.push(self.save_one(ctx, item, numbered.then_some(i + 1))?);
        }
        Ok(describe(&saved).into())
    }

    fn save_one(&self, ctx: &Context, item: &Value, number: Option<usize>) -> Result<Saved> {
        let beside = match &self.destination {
            Destination::File(target) => target.clone(),
            Destination::Dir(dir) => dir.join(&self.stem),
        };
        let mut file = save::temp_file(&beside)?;
        let bytes = match (
            item.get("b64_json").and_then(Value::as_str),
            item.get("url").and_then(Value::as_str),
        ) {
            (Some(data), _) => {
                let decoded = decode(data)?;
                file.write_all(&decoded)
                    .map_err(|e| save::write_error(&beside, e))?;
                decoded.len() as u64
            }
            (None, Some(url)) => download::fetch_result(ctx, url, &mut file)?,
            (None, None) => {
                return Err(CliError::failure(
                    "an image in the server's reply has neither `b64_json` nor `url`",
                ))
            }
        };
        let head = sniff::head_of(file.file()).map_err(|e| save::write_error(&beside, e))?;
        let kind = sniff::kind(&head);
        let extension = kind.map_or("bin", |k| k.extension);
        let (path, replace) = self.final_name(number, extension);
        save::commit(file, &path, replace)?;
        Ok(Saved {
            path,
            bytes,
            mime: kind.map(|k| k.mime),
            dimensions: sniff::dimensions(&head),
            revised_prompt: item
                .get("revised_prompt")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// The file image `number` (1-based, `None` when there is one) goes to. A default
    /// name already taken gets `_2`, `_3`, ... rather than losing an image that was paid
    /// for; `--force` replaces instead.
    fn final_name(&self, number: Option<usize>, extension: &str) -> (PathBuf, Replace) {
        let force = save::replace_rule(self.force);
        let (dir, stem, extension) = match &self.destination {
            Destination::File(target) if number.is_none_or(|n| n == 1) => {
                return (target.clone(), force);
            }
            Destination::File(target) => (
                target.parent().unwrap_or(Path::new(".")).to_path_buf(),
                target
                    .file_stem()
                    .map_or_else(|| self.stem.clone(), |s| s.to_string_lossy().into_owned()),
                target.extension().map_or_else(
                    || extension.to_string(),
                    |e| e.to_string_lossy().into_owned(),
                ),
            ),
            Destination::Dir(dir) => (dir.clone(), self.stem.clone(), extension.to_string()),
        };
        let stem = match number {
            Some(n) => format!("{stem}-{n}"),
            None => stem,
        };
        let candidate = |k: usize| match k {
            1 => dir.join(format!("{stem}.{extension}")),
            k => dir.join(format!("{stem}_{k}.{extension}")),
        };
        if self.force {
            return (candidate(1), Replace::Yes);
        }
        let free = (1..1000)
            .map(candidate)
            .find(|path| fs::symlink_metadata(path).is_err())
            .unwrap_or_else(|| candidate(1));
        (free, Replace::No)
    }
}

fn ends_with_separator(path: &Path) -> bool {
    path.as_os_str()
        .to_string_lossy()
        .ends_with(std::path::MAIN_SEPARATOR)
}

/// A directory for the images, made (with its parents) if missing; exit 2 when the
/// path is something else.
fn make_dir(path: &Path) -> Result<()> {
    if path.exists() && !path.is_dir() {
        return Err(CliError::usage(format!(
            "{} is not a directory (several images need a directory for -o)",
            path.display()
        )));
    }
    fs::create_dir_all(path).map_err(|e| {
        CliError::usage(format!("cannot create the directory {}", path.display())).caused_by(e)
    })
}

/// The base64 of an image; a `data:` URL prefix and whitespace are tolerated.
fn decode(data: &str) -> Result<Vec<u8>> {
    let data = match data.strip_prefix("data:") {
        Some(url) => url.split_once(',').map_or(url, |(_, payload)| payload),
        None => data,
    };
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| {
            CliError::failure(format!(
                "an image in the server's reply is not valid base64: {e}"
            ))
        })
}

fn describe(saved: &[Saved]) -> Output {
    let cells = |s: &Saved| {
        let dimensions = match s.dimensions {
            Some((w, h)) => Cell::with_text(json!({"width": w, "height": h}), format!("{w}x{h}")),
            None => Cell::new(Value::Null),
        };
        [
            Cell::new(s.path.display().to_string()),
            Cell::count(json!(s.bytes)),
            dimensions,
            Cell::new(s.mime.map_or(Value::Null, |m| json!(m))),
            Cell::new(
                s.revised_prompt
                    .as_deref()
                    .map_or(Value::Null, |p| json!(p)),
            ),
        ]
    };
    let columns = [
        ("path", "Path"),
        ("bytes", "Bytes"),
        ("dimensions", "Size"),
        ("type", "Type"),
        ("revised_prompt", "Revised prompt"),
    ];
    if let [one] = saved {
        let record = columns
            .iter()
            .zip(cells(one))
            .fold(Record::new(), |record, ((key, label), cell)| {
                record.field(key, label, cell)
            });
        return Output::Record(record);
    }
    let mut table = Table::new(
        columns
            .iter()
            .map(|(key, header)| Column::new(key, header))
            .collect(),
        "No images.",
    );
    for s in saved {
        table.push(cells(s).to_vec());
    }
    Output::Table(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_default_name_gets_a_suffix_unless_forced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plan = |force| Plan {
            destination: Destination::Dir(dir.path().to_path_buf()),
            stem: "fox-20261129T190000Z".to_string(),
            force,
        };
        let (path, replace) = plan(false).final_name(Some(2), "png");
        assert_eq!(path, dir.path().join("fox-20261129T190000Z-2.png"));
        assert_eq!(replace, Replace::No);
        fs::write(&path, b"taken").expect("write");
        let (second, _) = plan(false).final_name(Some(2), "png");
        assert_eq!(second, dir.path().join("fox-20261129T190000Z-2_2.png"));
        assert_eq!(plan(true).final_name(Some(2), "png"), (path, Replace::Yes));

        let file = dir.path().join("mine.webp");
        let given = Plan {
            destination: Destination::File(file.clone()),
            stem: "x".to_string(),
            force: false,
        };
        assert_eq!(
            given.final_name(None, "png").0,
            file,
            "-o FILE is used as given"
        );
        assert_eq!(
            given.final_name(Some(2), "png").0,
            dir.path().join("mine-2.webp")
        );
    }

    #[test]
    fn base64_with_a_data_prefix_or_line_breaks_decodes_and_junk_does_not() {
        assert_eq!(decode("aGVs\nbG8=").expect("ok"), b"hello");
        assert_eq!(
            decode("data:image/png;base64,aGVsbG8=").expect("ok"),
            b"hello"
        );
        assert_eq!(decode("not base64!").expect_err("junk").exit.code(), 1);
    }
}
