//! Small request and response helpers every vendor module uses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Value of a query parameter (the last one wins, like PHP and Django's
/// `QueryDict.get`).
pub(crate) fn qget<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Percent-encoding like Python's `urllib.parse.quote_plus`.
pub(crate) fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Case-insensitive substring test.
pub(crate) fn icontains(hay: &str, needle_lower: &str) -> bool {
    hay.to_lowercase().contains(needle_lower)
}

/// String content of a JSON value, `""` for anything that is not a string.
pub(crate) fn s(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// A plausible email address: Django's `EmailValidator`, simplified (Clientify is Django;
/// Alegra's own rule is unknown and taken to be as lenient).
pub(crate) fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty()
        && !e.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}
