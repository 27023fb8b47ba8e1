//! The chat fast path ([`chat_scan`]) against the serde path it stands in for: for any
//! chunk, the same bytes written and the same reply (model, usage, finish, counts) or
//! the same error.

use super::*;
use proptest::prelude::*;

/// Everything one chunk does, for comparing the two paths.
#[derive(Debug, PartialEq)]
struct Effect {
    result: std::result::Result<Flow, String>,
    written: Vec<u8>,
    model: Option<String>,
    usage: Option<Value>,
    finished: bool,
    chars: u64,
    ends_line: bool,
    content: Option<String>,
    content_cut: bool,
    timed: bool,
}

type Path = fn(&str, &mut dyn Write, &mut Reply) -> Result<Flow>;

fn effect_of(path: Path, data: &str, cap: usize) -> Effect {
    next_effect(path, data, &mut Reply::keeping_at_most(cap))
}

/// What one more chunk of a stream does to `reply`, and the reply after it.
fn next_effect(path: Path, data: &str, reply: &mut Reply) -> Effect {
    let mut written = Vec::new();
    let result = path(data, &mut written, reply).map_err(|e| e.message);
    Effect {
        result,
        written,
        model: reply.model.clone(),
        usage: reply.usage.clone(),
        finished: reply.finished,
        chars: reply.chars,
        ends_line: reply.ends_line,
        content: reply.content.clone(),
        content_cut: reply.content_cut,
        timed: reply.first_text_at.is_some(),
    }
}

fn scans(data: &str) -> bool {
    chat_scan::Scanner::default().scan(data).is_some()
}

#[test]
fn the_common_chunks_take_the_fast_path_and_agree() {
    let common = [
        // As benches/stream.sh and most gateways send them.
        r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-5.4","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}"#,
        r#"{"id":"c","model":"m","system_fingerprint":null,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#" { "choices" : [ { "delta" : { "content" : "line\nnext \"q\" \\ \/ \u00e9\u20AC\t\b\f\r" } } ] } "#,
        r#"{"choices":[],"created":-1.5e+3,"x":true,"y":false,"z":0}"#,
        r#"{"choices":null,"model":null,"error":null}"#,
    ];
    for data in common {
        assert!(scans(data), "fast path: {data}");
        assert_eq!(
            effect_of(chat_fast, data, 7),
            effect_of(chat_serde, data, 7),
            "{data}"
        );
    }
    let decoded = effect_of(chat_fast, common[3], usize::MAX);
    assert_eq!(
        decoded.written,
        "line\nnext \"q\" \\ / \u{e9}\u{20ac}\t\u{8}\u{c}\r".as_bytes()
    );
}

#[test]
fn unusual_chunks_are_left_to_serde() {
    let unusual = [
        r#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
        r#"{"error":{"message":"boom"}}"#,
        r#"{"choices":[{"delta":{"content":"\ud83d\ude00"}}]}"#,
        r#"{"choices":[{"delta":{"content":"\ud83d"}}]}"#,
        r#"{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}"#,
        r#"{"choices":[{"delta":{"content":"a","tool_calls":[]}}]}"#,
        r#"{"mod\u0065l":"m","choices":[]}"#,
        r#"{"model":"m\u0031","choices":[]}"#,
        r#"{"model":"a","model":"b"}"#,
        r#"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#,
        r#"{"choices":[{"delta":{"content":1}}]}"#,
        r#"{"choices":[{"delta":{"content":"a"}}]} x"#,
        "{\"choices\":[{\"delta\":{\"content\":\"tab\traw\"}}]}",
        r#"{"created":01}"#,
        r#"{"a":1,}"#,
        r#"[]"#,
        "",
    ];
    for data in unusual {
        assert!(!scans(data), "left to serde: {data}");
        assert_eq!(
            effect_of(chat_fast, data, 7),
            effect_of(chat_serde, data, 7),
            "{data}"
        );
    }
}

/// Every character as a `\uXXXX` escape (surrogate pairs above the BMP), `/` as `\/`.
fn escape_all(text: &str) -> String {
    let mut json = String::from("\"");
    for (i, c) in text.chars().enumerate() {
        if c == '/' {
            json.push_str("\\/");
            continue;
        }
        for unit in c.encode_utf16(&mut [0; 2]) {
            if i % 2 == 0 {
                json.push_str(&format!("\\u{unit:04X}"));
            } else {
                json.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    json.push('"');
    json
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        r#"[a-z "\\/\n\t\r\x00\x1f\x7fé€😀\x{2028}]{0,12}"#,
    ]
}

/// A JSON string: as serde_json writes it, or with every character escaped.
fn json_string() -> BoxedStrategy<String> {
    (text(), any::<bool>())
        .prop_map(|(text, plain)| {
            if plain {
                serde_json::to_string(&text).unwrap_or_default()
            } else {
                escape_all(&text)
            }
        })
        .boxed()
}

fn space() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".into()),
        Just("\n\t \r".into())
    ]
}

fn object(fields: &[(String, String)], ws: &str) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(key, value)| format!("{ws}\"{key}\"{ws}:{ws}{value}{ws}"))
        .collect();
    format!("{{{ws}{}}}", fields.join(","))
}

/// The field with probability `p`. What sends a chunk to serde is kept rare, so that
/// most chunks take the fast path and the comparison means something.
fn maybe(
    field: &str,
    p: f64,
    value: impl Strategy<Value = String> + 'static,
) -> BoxedStrategy<Vec<(String, String)>> {
    let field = field.to_string();
    proptest::option::weighted(p, value)
        .prop_map(move |v| v.map(|v| (field.clone(), v)).into_iter().collect())
        .boxed()
}

prop_compose! {
    fn delta()(
        fields in (
            maybe("role", 0.5, Just("\"assistant\"".to_string())),
            maybe("content", 0.9, prop_oneof![1 => Just("null".to_string()), 8 => json_string(), 1 => Just("7".into())]),
            maybe("refusal", 0.3, Just("null".to_string())),
            maybe("tool_calls", 0.05, Just("[{\"index\":0}]".to_string())),
        ).prop_map(|(a, b, c, d)| [a, b, c, d].concat()),
        ws in space(),
    )(fields in Just(fields).prop_shuffle(), ws in Just(ws)) -> String {
        object(&fields, &ws)
    }
}

prop_compose! {
    fn choice()(
        fields in (
            maybe("index", 0.8, Just("0".to_string())),
            maybe("delta", 0.9, prop_oneof![1 => Just("null".to_string()), 1 => Just("{}".to_string()), 8 => delta().boxed()]),
            maybe("finish_reason", 0.8, prop_oneof![4 => Just("null".to_string()), 4 => json_string(), 1 => Just("1".into())]),
            maybe("logprobs", 0.3, Just("null".to_string())),
        ).prop_map(|(a, b, c, d)| [a, b, c, d].concat()),
        ws in space(),
    )(fields in Just(fields).prop_shuffle(), ws in Just(ws)) -> String {
        object(&fields, &ws)
    }
}

fn choices() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just("[]".to_string()),
        1 => Just("null".to_string()),
        8 => choice().prop_map(|c| format!("[{c}]")),
        1 => (choice(), choice()).prop_map(|(a, b)| format!("[{a},{b}]")),
    ]
    .boxed()
}

prop_compose! {
    fn chunk()(
        fields in (
            maybe("id", 0.8, json_string()),
            maybe("object", 0.8, Just("\"chat.completion.chunk\"".to_string())),
            maybe("created", 0.8, prop_oneof![any::<i64>().prop_map(|n| n.to_string()), Just("1.5e-3".into())]),
            maybe("model", 0.8, prop_oneof![Just("null".to_string()), json_string()]),
            maybe("choices", 0.95, choices()),
            maybe("system_fingerprint", 0.3, prop_oneof![Just("null".to_string()), json_string()]),
            maybe("usage", 0.3, prop_oneof![4 => Just("null".to_string()), 1 => Just("{\"total_tokens\":3}".into())]),
            maybe("error", 0.2, prop_oneof![4 => Just("null".to_string()), 1 => Just("{\"message\":\"no\"}".into()), 1 => json_string()]),
        ).prop_map(|(a, b, c, d, e, f, g, h)| [a, b, c, d, e, f, g, h].concat()),
        ws in space(),
    )(fields in Just(fields).prop_shuffle(), ws in Just(ws)) -> String {
        object(&fields, &ws)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn generated_chunks_give_what_serde_gives(data in chunk(), cap in 0usize..40) {
        prop_assert_eq!(effect_of(chat_fast, &data, cap), effect_of(chat_serde, &data, cap), "{}", data);
    }

    #[test]
    fn damaged_chunks_never_panic_and_give_what_serde_gives(
        data in chunk(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        how in 0u8..3,
    ) {
        let mut bytes = data.into_bytes();
        let at = cut.index(bytes.len() + 1);
        match how {
            0 => bytes.truncate(at),
            1 => bytes.insert(at, byte),
            _ => if at < bytes.len() { bytes[at] = byte },
        }
        let data = String::from_utf8_lossy(&bytes);
        prop_assert_eq!(effect_of(chat_fast, &data, 8), effect_of(chat_serde, &data, 8), "{}", data);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_give_what_serde_gives(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let data = String::from_utf8_lossy(&bytes);
        prop_assert_eq!(effect_of(chat_fast, &data, 8), effect_of(chat_serde, &data, 8));
    }

    #[test]
    fn a_stream_of_one_shape_gives_what_serde_gives_chunk_by_chunk(
        data in chunk(),
        others in proptest::collection::vec(
            (
                prop_oneof![8 => json_string(), 1 => r#""[a-z",:\\ ]{0,6}"#],
                0u8..4,
                any::<prop::sample::Index>(),
                any::<u8>(),
            ),
            1..6,
        ),
        cap in 0usize..40,
    ) {
        let stream = same_shape_stream(&data, &others);
        let (mut fast, mut slow) = (Reply::keeping_at_most(cap), Reply::keeping_at_most(cap));
        let mut remembering = chat_scan::Scanner::default();
        for data in &stream {
            let mut fresh = chat_scan::Scanner::default();
            prop_assert_eq!(scanned(&mut remembering, data), scanned(&mut fresh, data), "{}", data);
            prop_assert_eq!(
                next_effect(chat_fast, data, &mut fast),
                next_effect(chat_serde, data, &mut slow),
                "{}", data
            );
        }
    }
}

/// What `scanner` makes of `data`, with the decoded text when there is one.
fn scanned<'a>(
    scanner: &mut chat_scan::Scanner,
    data: &'a str,
) -> Option<(chat_scan::Scanned<'a>, Option<String>)> {
    let found = scanner.scan(data)?;
    let decoded = matches!(found.content, Some(chat_scan::Content::Decoded))
        .then(|| scanner.decoded().to_string());
    Some((found, decoded))
}

/// `data` followed by copies with another content string, some of them damaged by
/// one byte before or after it (`how`: 0 intact, 1 before, 2 after, 3 `data` again).
fn same_shape_stream(data: &str, others: &[(String, u8, prop::sample::Index, u8)]) -> Vec<String> {
    let span = chat_scan::Scanner::default()
        .scan(data)
        .and_then(|found| found.content_span);
    let mut stream = vec![data.to_string()];
    let Some(span) = span else {
        return stream;
    };
    let (before, after) = (&data.as_bytes()[..span.start], &data.as_bytes()[span.end..]);
    for (content, how, at, byte) in others {
        let (mut before, mut after) = (before.to_vec(), after.to_vec());
        let damaged = match how {
            1 => &mut before,
            2 => &mut after,
            3 => {
                stream.push(data.to_string());
                continue;
            }
            _ => &mut Vec::new(),
        };
        if !damaged.is_empty() {
            let i = at.index(damaged.len());
            damaged[i] = *byte;
        }
        let bytes = [before, content.as_bytes().to_vec(), after].concat();
        stream.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    stream
}
