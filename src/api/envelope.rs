//! The envelope of the console's `/api/...` replies, `{success, message, data}`: a GET
//! that unwraps it ([`console_get`]), and the unwrapping itself ([`unwrap_console`]) for
//! a reply read another way (an export that answered JSON).

use serde_json::Value;

use crate::error::{CliError, Result};
use crate::net::urls::path_of;
use crate::net::{Auth, Http};

/// GET a console endpoint and unwrap its `{success, message, data}` envelope;
/// `success: false` is an error carrying the server's message.
pub fn console_get(http: &Http, url: &str, auth: Auth) -> Result<Value> {
    let mut reply = http.get_json(url, auth)?;
    unwrap_console(&mut reply, url)
}

/// Takes `data` out of a console reply, or turns `success: false` into an error.
pub fn unwrap_console(reply: &mut Value, url: &str) -> Result<Value> {
    if reply.get("success").and_then(Value::as_bool) == Some(false) {
        let message = reply
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or("the server reported a failure without a message");
        return Err(CliError::failure(format!("{} ({})", message, path_of(url))));
    }
    // Missing data is an error, never a zero: `{}` or `"data": null` would otherwise
    // read as an empty balance or an empty list.
    match reply.get_mut("data").map(Value::take) {
        Some(data) if !data.is_null() => Ok(data),
        _ => Err(
            CliError::failure(format!("the server sent no data ({})", path_of(url)))
                .with_hint("the reply was not a CometAPI console reply; check the base URL"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn console_failure_carries_server_message() {
        let mut reply = json!({"success": false, "message": "model not found", "data": null});
        let err = unwrap_console(&mut reply, "http://h/api/model/x").expect_err("fails");
        assert!(err.message.contains("model not found"));
        let mut ok = json!({"success": true, "data": [1]});
        assert_eq!(
            unwrap_console(&mut ok, "http://h/api/models").expect("ok"),
            json!([1])
        );
    }

    #[test]
    fn a_reply_that_is_no_envelope_is_an_error_never_empty_data() {
        for mut reply in [
            json!({}),
            json!({"success": true, "data": null}),
            json!([1, 2]),
            json!("<html>"),
        ] {
            let err = unwrap_console(&mut reply, "not a url").expect_err("no data");
            assert_eq!(err.message, "the server sent no data (not a url)");
            assert!(err.hint.as_deref().unwrap_or_default().contains("base URL"));
        }
        let mut silent = json!({"success": false, "message": ""});
        let err = unwrap_console(&mut silent, "http://h/api/user/self").expect_err("fails");
        assert_eq!(
            err.message,
            "the server reported a failure without a message (/api/user/self)"
        );
    }
}
