//! The identity server (`identity.vismaonline.com` in production) and the bearer check of the
//! API [D getting-started; C `pwitab/visma` `api.py`]:
//! - `GET /connect/authorize?client_id&redirect_uri&scope&response_type=code&state` redirects
//!   to the registered redirect URI with a `code` (the sandbox's user consents at once [I]);
//! - `POST /connect/token` (form body, HTTP Basic `client_id:client_secret`):
//!   `grant_type=authorization_code` (`code`, `redirect_uri`) or `refresh_token`
//!   (`refresh_token`) → `{access_token, token_type, expires_in, refresh_token, scope}`; a
//!   refresh token works once (it rotates); a refresh token needs `offline_access`;
//! - the API takes `Authorization: Bearer …` until the token expires on the sandbox clock.

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::TimeDelta;
use rand::Rng;
use serde_json::json;

use super::api::{error, rate_limited};
use super::facts::*;
use super::{Access, App};
use crate::kit::http::{json, qget};
use crate::kit::lock;

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::thread_rng().gen();
    format!("{prefix}{}", hex::encode(bytes))
}

/// Percent-decoding of a form or query value (`+` is a space).
fn form_decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

/// An OAuth2 error answer `{"error", "error_description"}` (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// `GET /connect/authorize`: checks the client and redirect URI, then redirects back with a
/// code for the requested scopes.
pub(super) async fn authorize(
    State(app): State<App>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let inner = &app.inner;
    if qget(&q, "client_id") != Some(inner.client_id.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Unknown client_id",
        );
    }
    if qget(&q, "redirect_uri") != Some(inner.redirect_uri.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is not registered",
        );
    }
    if qget(&q, "response_type") != Some("code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "Only response_type=code",
        );
    }
    let scopes: Vec<String> = qget(&q, "scope")
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();
    let code = random_token("code_");
    lock(&inner.tokens).codes.insert(
        code.clone(),
        (
            app.common.now() + TimeDelta::seconds(CODE_SECS),
            inner.redirect_uri.clone(),
            scopes,
        ),
    );
    let mut to = format!("{}?code={code}", inner.redirect_uri);
    if let Some(state) = qget(&q, "state") {
        to.push_str(&format!("&state={}", crate::kit::http::quote_plus(state)));
    }
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Whether the request carries the client's Basic credentials.
fn client_ok(headers: &HeaderMap, app: &App) -> bool {
    let Some(raw) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(b64) = raw
        .strip_prefix("Basic ")
        .or_else(|| raw.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
    text.split_once(':')
        .is_some_and(|(id, secret)| id == app.inner.client_id && secret == app.inner.client_secret)
}

/// `POST /connect/token`.
pub(super) async fn token(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if !client_ok(&headers, &app) {
        let mut r = oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        return r;
    }
    let f = form(&body);
    let now = app.common.now();
    let mut tokens = lock(&app.inner.tokens);
    let scopes = match qget(&f, "grant_type") {
        Some("authorization_code") => {
            let code = qget(&f, "code").unwrap_or("");
            match tokens.codes.remove(code) {
                Some((exp, uri, scopes))
                    if exp > now && qget(&f, "redirect_uri") == Some(uri.as_str()) =>
                {
                    scopes
                }
                Some(_) | None => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "The code is invalid, used or expired",
                    )
                }
            }
        }
        Some("refresh_token") => {
            let rt = qget(&f, "refresh_token").unwrap_or("");
            match tokens.refresh.remove(rt) {
                Some(scopes) => scopes,
                None => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "The refresh token is invalid or used",
                    )
                }
            }
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )
        }
    };
    let access = random_token("at_");
    tokens.access.insert(
        access.clone(),
        Access {
            expires: now + TimeDelta::seconds(app.inner.token_secs),
            scopes: scopes.clone(),
        },
    );
    let mut out = json!({"access_token": access, "token_type": "Bearer",
        "expires_in": app.inner.token_secs, "scope": scopes.join(" ")});
    if scopes.iter().any(|s| s == SCOPE_OFFLINE) {
        let refresh = random_token("rt_");
        tokens.refresh.insert(refresh.clone(), scopes);
        out["refresh_token"] = json!(refresh);
    }
    json(StatusCode::OK, out)
}

/// The API's guard: a live bearer token (401), the scopes (403), the per-endpoint limit (429).
pub(super) async fn bearer(State(app): State<App>, req: Request, next: Next) -> Response {
    let unauthorized = |msg: &str| {
        let mut r = error(StatusCode::UNAUTHORIZED, E_UNAUTHORIZED, msg);
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        r
    };
    let Some(tok) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
    else {
        return unauthorized("Authorization has been denied for this request: no bearer token.");
    };
    let scopes = {
        let tokens = lock(&app.inner.tokens);
        match tokens.access.get(&tok) {
            None => {
                return unauthorized(
                    "Authorization has been denied for this request: unknown token.",
                )
            }
            Some(a) if a.expires <= app.common.now() => {
                return unauthorized(
                    "Authorization has been denied for this request: the token has expired.",
                )
            }
            Some(a) => a.scopes.clone(),
        }
    };
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let write = req.method() != Method::GET;
    if !has(SCOPE_API) {
        return error(
            StatusCode::FORBIDDEN,
            E_FORBIDDEN,
            "The token lacks the ea:api scope.",
        );
    }
    if (write && !has(SCOPE_SALES)) || (!write && !has(SCOPE_SALES) && !has(SCOPE_SALES_READ)) {
        let need = if write {
            SCOPE_SALES
        } else {
            "ea:sales or ea:sales_readonly"
        };
        return error(
            StatusCode::FORBIDDEN,
            E_FORBIDDEN,
            &format!("The token lacks the {need} scope."),
        );
    }
    if let Some(r) = rate_limited(&app, req.uri().path()) {
        return r;
    }
    next.run(req).await
}
