//! The HTTP kit every connector shares (issue 12, platform.md §6), against a local server:
//! headers travel both ways, a vendor's hook signs requests and checks signed answers, and
//! an expired bearer token is renewed once.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method as AxMethod, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use axum::Router;
use hmac::{Hmac, KeyInit, Mac};
use puente_connectors::http::{Auth, Http, RetryPolicy};
use puente_connectors::kit::hooks::{HttpHooks, Outgoing};
use puente_connectors::kit::oauth::RefreshToken;
use puente_connectors::ConnectorError;
use reqwest::Method;
use serde_json::json;
use sha2::Sha512;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

async fn serve(app: Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

/// Hex HMAC-SHA512, computed here with the `hmac` crate, independently of the code under
/// test (the connectors' kit has no signing code of its own: a vendor brings it).
fn sign(secret: &str, msg: &str) -> String {
    let mut m = <Hmac<Sha512> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(msg.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// A vendor hook in the style of CCV Shop: requests signed over
/// `public|METHOD|uri|body|date`, answers signed over `public|METHOD|uri|body|date` with the
/// answer's body and date.
struct Signed {
    public: String,
    secret: String,
}

impl HttpHooks for Signed {
    fn sign(&self, req: &Outgoing<'_>) -> Vec<(String, String)> {
        let date = "2026-12-03T10:00:00Z".to_string();
        let msg = format!(
            "{}|{}|{}|{}|{date}",
            self.public,
            req.method,
            req.path_and_query,
            String::from_utf8_lossy(req.body)
        );
        vec![
            ("x-public".into(), self.public.clone()),
            ("x-date".into(), date),
            ("x-hash".into(), sign(&self.secret, &msg)),
        ]
    }

    fn verify_response(
        &self,
        req: &Outgoing<'_>,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let h = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let msg = format!(
            "{}|{}|{}|{}|{}",
            self.public,
            req.method,
            req.path_and_query,
            String::from_utf8_lossy(body),
            h("x-date")
        );
        if sign(&self.secret, &msg) == h("x-hash") {
            Ok(())
        } else {
            Err("x-hash differs".into())
        }
    }
}

const PUBLIC: &str = "pk_test";
const SECRET: &str = "sk_test";

/// The server's half: checks the request's signature and signs its answer; `tamper` answers
/// a body other than the one it signed.
async fn signed_route(
    State(hits): State<Arc<AtomicU32>>,
    method: AxMethod,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> impl IntoResponse {
    hits.fetch_add(1, Ordering::Relaxed);
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    let msg = format!(
        "{}|{method}|{pq}|{}|{}",
        h("x-public"),
        String::from_utf8_lossy(&body),
        h("x-date")
    );
    if h("x-public") != PUBLIC || sign(SECRET, &msg) != h("x-hash") {
        return (
            StatusCode::UNAUTHORIZED,
            HeaderMap::new(),
            r#"{"message":"bad hash"}"#.to_string(),
        );
    }
    let answer = json!({"ok": true, "echo": String::from_utf8_lossy(&body)}).to_string();
    let date = "2026-12-03T10:00:01Z";
    let signed = format!("{PUBLIC}|{method}|{pq}|{answer}|{date}");
    let mut out = HeaderMap::new();
    out.insert("x-date", date.parse().unwrap());
    out.insert("x-hash", sign(SECRET, &signed).parse().unwrap());
    let body = if q.contains_key("tamper") {
        answer.replace("true", "false")
    } else {
        answer
    };
    (StatusCode::OK, out, body)
}

#[tokio::test]
async fn http_kit_passes_headers_both_ways() {
    let app = Router::new().route(
        "/echo",
        get(|headers: HeaderMap| async move {
            let ask = headers
                .get("x-ask")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_string();
            ([("x-echo", ask)], "{}")
        }),
    );
    let base = serve(app).await;
    let http = Http::new("vendor", &base, Auth::None, policy());
    let a = http
        .send_with(Method::GET, "echo", &[], None, &[("x-ask", "hello".into())])
        .await
        .unwrap();
    assert_eq!(a.headers.get("x-echo").unwrap(), "hello");
}

#[tokio::test]
async fn http_kit_signs_requests_and_checks_signed_answers_through_the_vendors_hooks() {
    let hits = Arc::new(AtomicU32::new(0));
    let app = Router::new()
        .route("/orders", any(signed_route))
        .with_state(hits.clone());
    let base = serve(app).await;
    let hooks = Arc::new(Signed {
        public: PUBLIC.into(),
        secret: SECRET.into(),
    });
    let http = Http::new("shop", &base, Auth::None, policy()).with_hooks(hooks);
    // A signed GET with a query, and a signed POST whose body is part of the hash.
    let a = http
        .get("orders", &[("start", "0".into()), ("size", "25".into())])
        .await
        .unwrap();
    assert_eq!(a.body["ok"], true);
    let a = http.post("orders", &json!({"n": 1})).await.unwrap();
    assert_eq!(a.body["echo"], r#"{"n":1}"#);
    // Signed with the wrong secret: the server refuses it.
    let wrong = Http::new("shop", &base, Auth::None, policy()).with_hooks(Arc::new(Signed {
        public: PUBLIC.into(),
        secret: "other".into(),
    }));
    assert!(matches!(
        wrong.get("orders", &[]).await,
        Err(ConnectorError::Auth { status: 401, .. })
    ));
    // An answer whose body is not what the server signed is not trusted, nor retried.
    let before = hits.load(Ordering::Relaxed);
    let err = http
        .get("orders", &[("tamper", "1".into())])
        .await
        .err()
        .expect("a tampered answer fails");
    match err {
        ConnectorError::Decode { detail, .. } => {
            assert!(detail.contains("signature"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hits.load(Ordering::Relaxed), before + 1);
}

#[tokio::test]
async fn http_kit_renews_an_expired_bearer_token_once() {
    #[derive(Clone, Default)]
    struct St {
        issued: Arc<AtomicU32>,
    }
    let st = St::default();
    let app = Router::new()
        .route(
            "/token",
            post(|State(st): State<St>, headers: HeaderMap, body: String| async move {
                // Basic client auth (base64 of `client:secret`) and the refresh grant.
                let basic = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if basic != "Basic Y2xpZW50OnNlY3JldA=="
                    || !body.contains("grant_type=refresh_token")
                    || !body.contains("refresh_token=r")
                {
                    return (StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#.to_string());
                }
                let n = st.issued.fetch_add(1, Ordering::Relaxed) + 1;
                (
                    StatusCode::OK,
                    json!({"access_token": format!("t{n}"), "expires_in": 3600, "refresh_token": "r2"})
                        .to_string(),
                )
            }),
        )
        .route(
            "/customers",
            get(|headers: HeaderMap| async move {
                // t1 "expired" early; t2 and later are good.
                match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                    Some("Bearer t1") | None => {
                        (StatusCode::UNAUTHORIZED, r#"{"message":"expired"}"#)
                    }
                    Some(_) => (StatusCode::OK, r#"{"Data":[]}"#),
                }
            }),
        )
        .with_state(st.clone());
    let base = serve(app).await;
    let src = Arc::new(RefreshToken::new(
        "eaccounting",
        &format!("{base}/token"),
        "client",
        "secret",
        "r",
    ));
    let http = Http::new("eaccounting", &base, Auth::Bearer(src), policy());
    let a = http.get("customers", &[]).await.unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(st.issued.load(Ordering::Relaxed), 2, "t1, refused, then t2");
    // The renewed token is kept: no third token for the next call.
    http.get("customers", &[]).await.unwrap();
    assert_eq!(st.issued.load(Ordering::Relaxed), 2);
    // A token endpoint that refuses the refresh token is an Auth error saying what to do.
    let refused = Arc::new(RefreshToken::new(
        "eaccounting",
        &format!("{base}/token"),
        "client",
        "nope",
        "r",
    ));
    let http = Http::new("eaccounting", &base, Auth::Bearer(refused), policy());
    match http.get("customers", &[]).await {
        Err(ConnectorError::Auth { hint, .. }) => assert!(hint.contains("refresh token"), "{hint}"),
        other => panic!("{:?}", other.map(|a| a.status)),
    }
}

/// An identity server that fails (503) has not taken the refresh token: that is a
/// transient vendor error, not "connect the account again", and the next call presents the
/// same refresh token and gets its access token.
#[tokio::test]
async fn http_kit_token_endpoint_5xx_is_transient_and_keeps_the_refresh_token() {
    #[derive(Clone, Default)]
    struct St {
        calls: Arc<AtomicU32>,
    }
    let st = St::default();
    let app = Router::new()
        .route(
            "/token",
            post(|State(st): State<St>, body: String| async move {
                let n = st.calls.fetch_add(1, Ordering::Relaxed);
                if n == 0 {
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        r#"{"error":"temporarily_unavailable"}"#.to_string(),
                    );
                }
                if !body.contains("refresh_token=r1") {
                    return (
                        StatusCode::BAD_REQUEST,
                        r#"{"error":"invalid_grant"}"#.to_string(),
                    );
                }
                (
                    StatusCode::OK,
                    json!({"access_token": "t", "expires_in": 3600, "refresh_token": "r2"})
                        .to_string(),
                )
            }),
        )
        .route(
            "/customers",
            get(|| async { (StatusCode::OK, r#"{"Data":[]}"#) }),
        )
        .with_state(st.clone());
    let base = serve(app).await;
    let src = Arc::new(RefreshToken::new(
        "eaccounting",
        &format!("{base}/token"),
        "client",
        "secret",
        "r1",
    ));
    let http = Http::new("eaccounting", &base, Auth::Bearer(src), policy());
    match http.get("customers", &[]).await {
        Err(e @ ConnectorError::Vendor { .. }) => assert!(e.is_transient(), "{e:?}"),
        other => panic!("{:?}", other.map(|a| a.status)),
    }
    assert_eq!(http.get("customers", &[]).await.unwrap().status, 200);
    assert_eq!(st.calls.load(Ordering::Relaxed), 2);
}
