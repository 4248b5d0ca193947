//! What every e-conomic route shares: token auth and the daily calls, the error document with
//! `logId`, annotated validation errors, write bodies (`null` refused), rendering (`false` and
//! nulls omitted, self links, the custom key encoding); collections are in [`super::query`].

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use rand::Rng;
use serde_json::{json, Value};

use super::facts::*;
use super::{App, Obj, Quota};
use crate::kit::faults::FaultReplies;
use crate::kit::http::json;
use crate::kit::lock;

pub(super) use super::query::{collection, collection_at, Coll};

/// A random `logId` (a GUID, as the vendor's).
fn log_id() -> String {
    uuid::Builder::from_random_bytes(rand::thread_rng().gen())
        .into_uuid()
        .to_string()
}

fn log_time() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The error document `{message, errorCode, developerHint, logId, httpStatusCode, logTime}`
/// [D], plus `extra` fields.
pub(super) fn error_with(
    status: StatusCode,
    code: &str,
    message: &str,
    hint: &str,
    extra: Obj,
) -> Response {
    let mut body = json!({"message": message, "errorCode": code, "developerHint": hint,
        "logId": log_id(), "httpStatusCode": status.as_u16(), "logTime": log_time()});
    if let Some(o) = body.as_object_mut() {
        o.extend(extra);
    }
    json(status, body)
}

pub(super) fn error(status: StatusCode, code: &str, message: &str, hint: &str) -> Response {
    error_with(status, code, message, hint, Obj::new())
}

pub(super) fn bad(code: &str, message: impl AsRef<str>) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        code,
        message.as_ref(),
        "Please check your request data.",
    )
}

pub(super) fn missing(what: &str, id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        E_NOT_FOUND,
        &format!("{what} '{id}' not found."),
        "Use the links the API gives you to find existing resources.",
    )
}

pub(super) async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        E_NOT_FOUND,
        "The resource was not found.",
        "Start from https://restapi.e-conomic.com and follow the links.",
    )
}

pub(super) async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        E_METHOD,
        "The HTTP method is not allowed on this resource.",
        "Check the metaData of the collection for the allowed methods.",
    )
}

pub(super) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            E_TOO_MANY,
            "Too many requests.",
            "Wait and try again.",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        r
    },
    server_error: |status| {
        error(
            status,
            E_SERVER,
            "An error occurred on the server.",
            "Try again, or contact support with the logId.",
        )
    },
};

/// Which agreement a call is for.
fn agreement(headers: &HeaderMap, app: &App) -> Option<&'static str> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    match (get("x-appsecrettoken"), get("x-agreementgranttoken")) {
        (Some("demo"), Some("demo")) => Some("demo"),
        (Some(a), Some(g))
            if a == app.inner.app_secret_token && g == app.inner.agreement_grant_token =>
        {
            Some("agreement")
        }
        _ => None,
    }
}

/// Auth (401; 403 for a write on `demo`), the daily calls (429), JSON writes (415).
pub(super) async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let Some(who) = agreement(req.headers(), &app) else {
        return error(
            StatusCode::UNAUTHORIZED,
            E_UNAUTHORIZED,
            "The X-AppSecretToken or X-AgreementGrantToken is missing, wrong or revoked.",
            "Send both headers; use demo/demo to try the API read-only.",
        );
    };
    let write = req.method() != Method::GET;
    if who == "demo" && write {
        return error(
            StatusCode::FORBIDDEN,
            E_FORBIDDEN,
            "The demo agreement can only read.",
            "Only GET is allowed with the demo tokens.",
        );
    }
    if app.inner.daily_limit > 0 {
        let now = app.common.now();
        let mut qs = lock(&app.inner.quotas);
        let q = qs.entry(who).or_insert(Quota {
            start: now,
            used: 0,
        });
        if now >= q.start + TimeDelta::hours(24) {
            *q = Quota {
                start: now,
                used: 0,
            };
        }
        if q.used >= app.inner.daily_limit {
            let left = (q.start + TimeDelta::hours(24) - now).num_seconds().max(1);
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                E_TOO_MANY,
                QUOTA_MESSAGE,
                "Spread your calls over the day, or use filters and larger pages.",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(left));
            return r;
        }
        q.used += 1;
    }
    app.common.record_call(&format!("calls/day {who}"));
    let json_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if WRITES_NEED_JSON && write && req.method() != Method::DELETE && !json_body {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E_MEDIA_TYPE,
            "The request body must be JSON.",
            "Send Content-Type: application/json.",
        );
    }
    next.run(req).await
}

/// A path into the request document, for annotated errors.
#[derive(Clone, Debug)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// Annotated validation errors [D "Annotated errors"]: a document shaped like the request,
/// each bad property replaced by `{"errors": [{errorCode, message, value?, developerHint}]}`,
/// array items as `[{"arrayIndex": i, …}]`.
#[derive(Default)]
pub(super) struct Errs {
    doc: Obj,
    count: usize,
}

impl Errs {
    pub(super) fn add(
        &mut self,
        path: &[Seg],
        code: &str,
        message: &str,
        value: Option<&Value>,
        hint: &str,
    ) {
        let mut e = json!({"errorCode": code, "message": message, "developerHint": hint});
        if let (Some(v), Some(o)) = (value, e.as_object_mut()) {
            o.insert("value".into(), v.clone());
        }
        self.count += 1;
        insert(&mut self.doc, path, e);
    }

    /// Adds at a property of the top level.
    pub(super) fn at(&mut self, key: &str, code: &str, message: &str, value: Option<&Value>) {
        self.add(
            &[Seg::Key(key.into())],
            code,
            message,
            value,
            "Please check your request data.",
        );
    }

    /// 400 with the annotated errors, or `Ok` when there are none.
    pub(super) fn check(self) -> Result<(), Response> {
        if self.count == 0 {
            return Ok(());
        }
        let mut extra = Obj::new();
        extra.insert("errors".into(), Value::Object(self.doc));
        Err(error_with(
            StatusCode::BAD_REQUEST,
            E_VALIDATION,
            &format!("Validation error. {} error(s) found.", self.count),
            "Inspect validation errors and correct your request.",
            extra,
        ))
    }
}

fn insert(doc: &mut Obj, path: &[Seg], e: Value) {
    match path {
        [] => {}
        [Seg::Key(k)] => {
            let slot = doc
                .entry(k.clone())
                .or_insert_with(|| json!({"errors": []}));
            if let Some(a) = slot.get_mut("errors").and_then(Value::as_array_mut) {
                a.push(e);
            }
        }
        [Seg::Key(k), Seg::Index(i), rest @ ..] => {
            let arr = doc.entry(k.clone()).or_insert_with(|| json!([]));
            let Some(items) = arr.as_array_mut() else {
                return;
            };
            let pos = match items.iter().position(|x| x["arrayIndex"] == json!(i)) {
                Some(p) => p,
                None => {
                    items.push(json!({"arrayIndex": i}));
                    items.len() - 1
                }
            };
            if let Some(o) = items[pos].as_object_mut() {
                insert(o, rest, e);
            }
        }
        [Seg::Key(k), rest @ ..] => {
            let sub = doc.entry(k.clone()).or_insert_with(|| json!({}));
            if let Some(o) = sub.as_object_mut() {
                insert(o, rest, e);
            }
        }
        [Seg::Index(_), ..] => {}
    }
}

/// Every `null` in `v`, as annotated errors ([D] "We do not generally accept null").
fn nulls(v: &Value, path: &mut Vec<Seg>, errs: &mut Errs) {
    match v {
        Value::Null => {
            let name = match path.last() {
                Some(Seg::Key(k)) => k.clone(),
                _ => "item".into(),
            };
            errs.add(
                path,
                E_NULL,
                &format!("{name} cannot be null."),
                Some(&Value::Null),
                "To null a property, leave it out of the document.",
            );
        }
        Value::Object(o) => {
            for (k, x) in o {
                path.push(Seg::Key(k.clone()));
                nulls(x, path, errs);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                nulls(x, path, errs);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A write body: a JSON object without nulls.
pub(super) fn write_body(body: &Bytes) -> Result<Obj, Response> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        bad(
            E_BAD_REQUEST,
            format!("The request body is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(o) = v else {
        return Err(bad(
            E_BAD_REQUEST,
            "The request body must be a JSON object.",
        ));
    };
    let mut errs = Errs::default();
    nulls(&Value::Object(o.clone()), &mut Vec::new(), &mut errs);
    errs.check()?;
    Ok(o)
}

/// The custom self-link encoding of a key [D "Custom resource self-link encoding"]; other
/// non-alphanumerics are percent-encoded.
pub(super) fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        let rep = match c {
            '<' => "_0_",
            '>' => "_1_",
            '*' => "_2_",
            '%' => "_3_",
            ':' => "_4_",
            '&' => "_5_",
            '/' => "_6_",
            '\\' => "_7_",
            '_' => "_8_",
            ' ' => "_9_",
            '?' => "_10_",
            '.' => "_11_",
            '#' => "_12_",
            '+' => "_13_",
            c if c.is_ascii_alphanumeric() || c == '-' || c == '~' => {
                out.push(c);
                continue;
            }
            c => {
                let mut b = [0; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
                continue;
            }
        };
        out.push_str(rep);
    }
    out
}

/// Inverse of [`encode_key`] on an already percent-decoded segment.
pub(super) fn decode_key(seg: &str) -> String {
    const TABLE: [char; 14] = [
        '<', '>', '*', '%', ':', '&', '/', '\\', '_', ' ', '?', '.', '#', '+',
    ];
    let mut out = String::new();
    let mut rest = seg;
    while let Some(i) = rest.find('_') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('_') {
            Some(j) if after[..j].parse::<usize>().is_ok_and(|n| n < TABLE.len()) && j > 0 => {
                out.push(TABLE[after[..j].parse::<usize>().unwrap_or(0)]);
                rest = &after[j + 1..];
            }
            _ => {
                out.push('_');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The collection a reference object points into, from its key property.
fn ref_path(key: &str, o: &Obj) -> Option<String> {
    let num = |k: &str| o.get(k).and_then(Value::as_u64);
    Some(match key {
        "customerGroup" => format!("customer-groups/{}", num("customerGroupNumber")?),
        "paymentTerms" => format!("payment-terms/{}", num("paymentTermsNumber")?),
        "vatZone" => format!("vat-zones/{}", num("vatZoneNumber")?),
        "layout" => format!("layouts/{}", num("layoutNumber")?),
        "productGroup" => format!("product-groups/{}", num("productGroupNumber")?),
        "unit" => format!("units/{}", num("unitNumber")?),
        "customer" => format!("customers/{}", num("customerNumber")?),
        "product" => format!(
            "products/{}",
            encode_key(o.get("productNumber").and_then(Value::as_str)?)
        ),
        _ => return None,
    })
}

/// A stored document as served: `false` booleans and nulls left out [D "Booleans"], and a
/// `self` link on every reference object.
pub(super) fn render(app: &App, v: &Value) -> Value {
    fn walk(app: &App, key: Option<&str>, v: &Value) -> Value {
        match v {
            Value::Object(o) => {
                let mut out = Obj::new();
                for (k, x) in o {
                    if x.is_null() || *x == Value::Bool(false) {
                        continue;
                    }
                    out.insert(k.clone(), walk(app, Some(k), x));
                }
                if let Some(p) = key.and_then(|k| ref_path(k, o)) {
                    out.insert("self".into(), json!(app.url(&p)));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| walk(app, key, x)).collect()),
            other => other.clone(),
        }
    }
    walk(app, None, v)
}

/// `rec` rendered with its own `self`.
pub(super) fn render_at(app: &App, rec: &Obj, path: &str) -> Value {
    let mut v = render(app, &Value::Object(rec.clone()));
    if let Some(o) = v.as_object_mut() {
        o.insert("self".into(), json!(app.url(path)));
    }
    v
}

/// 201 with the created document and its `Location` [D].
pub(super) fn created(doc: Value) -> Response {
    let loc = doc["self"].as_str().unwrap_or("").to_string();
    let mut r = json(StatusCode::CREATED, doc);
    if let Ok(v) = HeaderValue::from_str(&loc) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub(super) fn ok(doc: Value) -> Response {
    json(StatusCode::OK, doc)
}

pub(super) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Runs a handler body written with `?`.
pub(super) fn run(f: impl FnOnce() -> Result<Response, Response>) -> Response {
    f().unwrap_or_else(|e| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_encoding_follows_the_docs_table() {
        // The docs' own example.
        assert_eq!(
            encode_key("My Awesome Product_Discount5%"),
            "My_9_Awesome_9_Product_8_Discount5_3_"
        );
        for k in [
            "BON-1001",
            "a/b.c d_e+f#g?h",
            "50% off: <x> & *y* \\z",
            "Kaffe æøå",
        ] {
            let enc = encode_key(k);
            assert!(!enc.contains(' ') && !enc.contains('/'), "{enc}");
            let pct = enc
                .replace("%C3%A6", "æ")
                .replace("%C3%B8", "ø")
                .replace("%C3%A5", "å");
            assert_eq!(decode_key(&pct), k);
        }
        assert_eq!(decode_key("a_b"), "a_b");
        assert_eq!(decode_key("a_99_b"), "a_99_b");
    }
}
