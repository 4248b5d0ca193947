//! `POST /v1/api-auth/obtain_token/` [C: C1 sends JSON, C13 a form]: `username` and
//! `password` → `{"token"}`, without an `Authorization` header. The failure body is DRF's
//! `obtain_auth_token` default [I]: 400 `{"non_field_errors": […]}`, and a missing field
//! `{"username": ["This field is required."]}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::App;
use crate::kit::http::json;

/// The sandbox account's login: its token is the sandbox's API key.
pub const SANDBOX_USERNAME: &str = "sandbox@puente.local";
pub const SANDBOX_PASSWORD: &str = "clientify-sandbox-password";

pub(super) async fn obtain_token(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let fields: Map<String, Value> = if form {
        form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(o)) => o,
            _ => {
                return json(
                    StatusCode::BAD_REQUEST,
                    json!({"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"}),
                )
            }
        }
    };
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (user, password) = (text("username"), text("password"));
    let mut missing = Map::new();
    for (k, v) in [("username", &user), ("password", &password)] {
        if v.is_empty() {
            missing.insert(k.into(), json!(["This field is required."]));
        }
    }
    if !missing.is_empty() {
        return json(StatusCode::BAD_REQUEST, Value::Object(missing));
    }
    if user != SANDBOX_USERNAME || password != SANDBOX_PASSWORD {
        return json(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": ["Unable to log in with provided credentials."]}),
        );
    }
    json(StatusCode::OK, json!({"token": app.inner.token}))
}
