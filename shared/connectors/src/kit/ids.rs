//! Record ids that come from outside (webhook bodies, CLI arguments, replayed queue events).
//!
//! An id is put into vendor URLs (`GET /contacts/{id}/`, `PUT /contacts/{id}`): one that is a
//! path (`../companies/101`), carries a query (`12?x=1`) or is a number JSON cannot hold
//! exactly (`1e+23`) would make Puente read — and write — another resource of the vendor. So
//! every id from outside is parsed into its vendor's id syntax before it is queued or used
//! ([`IdSyntax::parse`]), and every id placed in a URL is encoded as one path segment
//! ([`segment`]), whatever it is.

use serde_json::Value;

/// How a vendor spells the ids of one entity: each connector declares it per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdSyntax {
    /// A positive whole number in plain decimal that JSON holds exactly (1 ..= 2^53 − 1):
    /// Clientify, Alegra, Odoo.
    Integer,
    /// A UUID such as `3fa85f64-5717-4562-b3fc-2c963f66afa6` (eAccounting).
    Uuid,
    /// Free text of 1 ..= `max` characters without path, query or control characters
    /// (e-conomic product numbers).
    Text { max: usize },
}

/// The largest integer a JSON number (an IEEE double) holds exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why an id from outside was refused: said so a person can see what was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdError(pub String);

impl std::fmt::Display for IdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IdError {}

/// `raw` quoted for a message, control characters escaped and long values cut.
fn quoted(raw: &str) -> String {
    let mut s: String = raw.chars().take(40).flat_map(char::escape_debug).collect();
    if raw.chars().count() > 40 {
        s.push('…');
    }
    format!("'{s}'")
}

impl IdSyntax {
    /// What the syntax is, for messages.
    pub fn describe(self) -> String {
        match self {
            IdSyntax::Integer => format!("a whole number from 1 to {MAX_SAFE_INTEGER}"),
            IdSyntax::Uuid => "a UUID".to_string(),
            IdSyntax::Text { max } => format!(
                "1 to {max} characters without '/', '?', '#', '%', '\\' or control characters"
            ),
        }
    }

    /// The id in its canonical spelling, or why `raw` is not one. Nothing is trimmed or
    /// guessed: an id from outside is either exactly right or refused.
    pub fn parse(self, raw: &str) -> Result<String, IdError> {
        let refuse = || {
            IdError(format!(
                "record id {} is not {}",
                quoted(raw),
                self.describe()
            ))
        };
        match self {
            IdSyntax::Integer => {
                if raw.is_empty() || raw.len() > 16 || !raw.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(refuse());
                }
                match raw.parse::<u64>() {
                    Ok(n) if (1..=MAX_SAFE_INTEGER).contains(&n) => Ok(n.to_string()),
                    _ => Err(refuse()),
                }
            }
            IdSyntax::Uuid => {
                let b = raw.as_bytes();
                let ok = b.len() == 36
                    && b.iter().enumerate().all(|(i, c)| match i {
                        8 | 13 | 18 | 23 => *c == b'-',
                        _ => c.is_ascii_hexdigit(),
                    });
                if ok {
                    Ok(raw.to_ascii_lowercase())
                } else {
                    Err(refuse())
                }
            }
            IdSyntax::Text { max } => {
                let n = raw.chars().count();
                let bad = |c: char| c.is_control() || matches!(c, '/' | '?' | '#' | '%' | '\\');
                if n == 0 || n > max || raw.chars().any(bad) || raw == "." || raw == ".." {
                    Err(refuse())
                } else {
                    Ok(raw.to_string())
                }
            }
        }
    }

    /// The id held by a JSON value from outside (a webhook body): a string as it is, or a
    /// number only when it is a whole number JSON holds exactly (`1e+23` or `12.0` are not
    /// ids). `None` when the value is absent or neither.
    pub fn from_json(v: &Value) -> Option<Result<String, IdError>> {
        match v {
            Value::String(s) => Some(Ok(s.clone())),
            Value::Number(n) => Some(match n.as_u64() {
                Some(u) if u <= MAX_SAFE_INTEGER => Ok(u.to_string()),
                _ => Err(IdError(format!(
                    "record id {n} is not a whole number JSON holds exactly (at most {MAX_SAFE_INTEGER})"
                ))),
            }),
            Value::Null => None,
            other => Some(Err(IdError(format!(
                "record id {} is neither a number nor a string",
                quoted(&other.to_string())
            )))),
        }
    }
}

/// `id` encoded as exactly one URL path segment: every byte but ASCII letters, digits, `-`,
/// `_` and `~` is percent-encoded, dots included, so no id can climb out of its resource
/// (`..` becomes `%2E%2E`, `/` `%2F`, `?` `%3F`). Ids that passed [`IdSyntax::parse`] come
/// out unchanged (digits, UUIDs); this is the second lock, for whatever did not.
pub fn segment(id: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');
    utf8_percent_encode(id, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webhook_record_id_integer_syntax_refuses_paths_queries_and_inexact_numbers() {
        let int = IdSyntax::Integer;
        assert_eq!(int.parse("774").unwrap(), "774");
        assert_eq!(int.parse("9007199254740991").unwrap(), "9007199254740991");
        for bad in [
            "",
            "0",
            "-5",
            "+5",
            " 12",
            "12 ",
            "12?x=1",
            "12/",
            "../companies/101",
            "%2E%2E%2Fcompanies%2F101",
            "1e+23",
            "12.0",
            "9007199254740992",
            "99999999999999999999999",
            "12\n13",
            "abc",
        ] {
            let e = int.parse(bad).unwrap_err();
            assert!(e.0.contains("is not a whole number"), "{bad:?}: {e}");
        }
        // The message shows control characters escaped (never a raw newline in a log line).
        assert!(!int.parse("1\n2").unwrap_err().0.contains('\n'));
    }

    #[test]
    fn webhook_record_id_from_json_takes_only_exact_whole_numbers() {
        assert_eq!(IdSyntax::from_json(&json!(12)), Some(Ok("12".into())));
        assert_eq!(IdSyntax::from_json(&json!("12")), Some(Ok("12".into())));
        assert_eq!(IdSyntax::from_json(&Value::Null), None);
        let huge: Value = serde_json::from_str("100000000000000000000000").unwrap();
        assert!(IdSyntax::from_json(&huge).unwrap().is_err());
        assert!(IdSyntax::from_json(&json!(12.5)).unwrap().is_err());
        assert!(IdSyntax::from_json(&json!(-3)).unwrap().is_err());
        assert!(IdSyntax::from_json(&json!(9_007_199_254_740_992u64))
            .unwrap()
            .is_err());
        assert!(IdSyntax::from_json(&json!({"id": 1})).unwrap().is_err());
    }

    #[test]
    fn webhook_record_id_uuid_and_text_syntaxes() {
        let u = IdSyntax::Uuid;
        assert_eq!(
            u.parse("3FA85F64-5717-4562-B3FC-2C963F66AFA6").unwrap(),
            "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        );
        assert!(u.parse("3fa85f64-5717-4562-b3fc-2c963f66afa").is_err());
        assert!(u.parse("3fa85f64/5717-4562-b3fc-2c963f66afa6").is_err());
        let t = IdSyntax::Text { max: 25 };
        assert_eq!(t.parse("TS-RED M").unwrap(), "TS-RED M");
        for bad in [
            "", "..", ".", "a/b", "a?b", "a#b", "a%2F", "a\\b", "a\u{7}b",
        ] {
            assert!(t.parse(bad).is_err(), "{bad:?}");
        }
        assert!(t.parse(&"x".repeat(26)).is_err());
    }

    #[test]
    fn webhook_record_id_segment_encodes_everything_that_could_leave_the_resource() {
        assert_eq!(segment("774"), "774");
        assert_eq!(segment("../companies/101"), "%2E%2E%2Fcompanies%2F101");
        assert_eq!(segment("12?x=1#y"), "12%3Fx%3D1%23y");
        assert_eq!(segment("%2E%2E"), "%252E%252E");
        assert_eq!(segment("a b"), "a%20b");
        assert_eq!(segment("ñ"), "%C3%B1");
        assert_eq!(
            segment("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        );
    }
}
