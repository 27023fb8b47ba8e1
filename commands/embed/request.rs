//! One embeddings request: a batch of inputs in, one vector per input out, in input
//! order. The reply is read into plain vectors (not a JSON tree) to keep memory small.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::secret::Secret;
use crate::error::{CliError, Result};
use crate::net::{message_in, Auth, Http, KeyHeader, Request};

pub struct Embedder<'a> {
    pub http: &'a Http,
    pub url: String,
    pub key: &'a Secret,
    pub model: &'a str,
    pub dimensions: Option<u32>,
}

#[derive(Deserialize)]
struct Reply {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: Option<usize>,
    embedding: Vec<f64>,
}

impl Embedder<'_> {
    /// The vectors of `inputs`, in their order. Retried under the usual rules (an
    /// embedding creates nothing).
    pub fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f64>>> {
        let mut body = json!({"model": self.model, "input": inputs, "encoding_format": "float"});
        if let Some(dimensions) = self.dimensions {
            body["dimensions"] = json!(dimensions);
        }
        let auth = Auth::ApiKey(self.key, KeyHeader::Bearer);
        let reply = self
            .http
            .send(&Request::post_json(&self.url, auth, &body))?;
        vectors_of(&reply.body, inputs.len())
    }
}

/// The vectors in a reply, placed by their `index` (the API sends them in input order;
/// a reply without indices is taken in its order). A 200 carrying an error, a reply of
/// another shape, or one with a vector missing is an error.
pub fn vectors_of(body: &[u8], expected: usize) -> Result<Vec<Vec<f64>>> {
    let reply: Reply = serde_json::from_slice(body).map_err(|e| not_embeddings(body, &e))?;
    if reply.data.len() != expected {
        return Err(CliError::failure(format!(
            "the server sent {} embeddings for {expected} inputs",
            reply.data.len()
        )));
    }
    let mut vectors: Vec<Option<Vec<f64>>> = vec![None; expected];
    for (position, item) in reply.data.into_iter().enumerate() {
        let index = item.index.unwrap_or(position);
        match vectors.get_mut(index) {
            Some(slot @ None) => *slot = Some(item.embedding),
            _ => {
                return Err(CliError::failure(format!(
                    "the server sent embedding index {index} twice or out of range (0..{expected})"
                )))
            }
        }
    }
    Ok(vectors.into_iter().flatten().collect())
}

fn not_embeddings(body: &[u8], err: &serde_json::Error) -> CliError {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) if value.get("error").is_some() => {
            let said = message_in(&value).unwrap_or_else(|| value["error"].to_string());
            CliError::failure(format!("the server answered 200 with an error: {said}"))
        }
        Ok(_) => CliError::failure(format!(
            "the server's reply is not a list of embeddings: {err}"
        )),
        Err(_) => CliError::failure(format!("the server's reply is not JSON: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_placed_by_index() {
        let body = br#"{"data":[{"index":1,"embedding":[2.0]},{"index":0,"embedding":[1.0]}]}"#;
        assert_eq!(vectors_of(body, 2).expect("ok"), [vec![1.0], vec![2.0]]);
        let unindexed = br#"{"data":[{"embedding":[1.0]},{"embedding":[2.0]}]}"#;
        assert_eq!(
            vectors_of(unindexed, 2).expect("ok"),
            [vec![1.0], vec![2.0]]
        );
    }

    #[test]
    fn wrong_counts_indices_shapes_and_errors_fail() {
        for (body, said) in [
            (
                &br#"{"data":[{"index":0,"embedding":[1.0]}]}"#[..],
                "1 embeddings for 2",
            ),
            (
                br#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}"#,
                "twice",
            ),
            (
                br#"{"data":[{"index":0,"embedding":[1]},{"index":5,"embedding":[2]}]}"#,
                "out of range",
            ),
            (
                br#"{"error":{"message":"model not found"}}"#,
                "model not found",
            ),
            (br#"{"object":"list"}"#, "not a list of embeddings"),
            (b"{\"data\": [", "not JSON"),
        ] {
            let err = vectors_of(body, 2).expect_err("fails");
            assert_eq!(err.exit.code(), 1);
            assert!(err.message.contains(said), "{said}: {}", err.message);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_reply_is_read_without_panicking(
            body in "[\\[\\]{}:,\"0-9a-z .-]{0,200}",
            expected in 0usize..4,
        ) {
            let _ = vectors_of(body.as_bytes(), expected);
        }
    }
}
