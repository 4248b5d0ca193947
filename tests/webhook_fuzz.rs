//! The webhook endpoint under arbitrary input (ALG-11): `parse_webhook` never panics, and the
//! HTTP handler never answers 5xx, answers every rejection with a 4xx JSON `{"error": …}`,
//! enqueues nothing without the right secret, never across tenants, and refuses bodies over
//! 256 KiB with 413.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use proptest::prelude::*;
use puente_connectors::clientify::parse_webhook;
use puente_e2e::{config_toml, test_retry};
use puente_runtime::serve::{router, ServerState, MAX_BODY};
use puente_runtime::{App, Config};
use puente_sandbox::SandboxConfig;
use puente_store::memory::MemoryStore;
use puente_store::Store;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const SECRET_A: &str = "secret-of-tenant-a";
const SECRET_B: &str = "secret-of-tenant-b";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A server state for `tenant` with webhook secret `secret` on `store` (the connections point
/// nowhere: the webhook path makes no vendor call).
fn state(tenant: &str, secret: &str, store: Arc<dyn Store>) -> ServerState {
    let toml = config_toml(
        "http://127.0.0.1:9/v1",
        "http://127.0.0.1:9/api/v1",
        &SandboxConfig::default(),
        std::path::Path::new("unused.sqlite"),
    )
    .replace("tenant = \"test\"", &format!("tenant = \"{tenant}\""))
    .replace("s3cret-hook", secret);
    let app = App::build(Config::parse(&toml).unwrap(), store, test_retry()).unwrap();
    ServerState {
        app: Arc::new(app),
        secret: Some(secret.to_string()),
        inactive: Arc::new(std::sync::Mutex::new(Vec::new())),
    }
}

async fn pending(store: &Arc<dyn Store>) -> u64 {
    store.queue_depth().await.unwrap().0
}

async fn call(st: &ServerState, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    (status, body)
}

fn post(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap()
}

fn valid_event(id: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event": "contact.saved",
        "contact": {"id": id, "modified": format!("2026-11-22T10:00:{:02}+00:00", id % 60)}
    }))
    .unwrap()
}

fn is_json_error(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").cloned())
        .is_some_and(|e| e.is_string())
}

// ------------------------------------------------------------------ strategies

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("contact.saved"),
            Just("company.saved"),
            Just("contact.deleted"),
            Just("deal.saved"),
            Just("contact"),
            Just(""),
            Just(".")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            Just("event".to_string()),
            Just("hook".to_string()),
            Just("contact".to_string()),
            Just("company".to_string()),
            Just("data".to_string()),
            Just("id".to_string()),
            Just("modified".to_string()),
            Just("timestamp".to_string()),
            ".{0,6}".prop_map(String::from),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(key, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Webhook-shaped bodies with arbitrary holes and types.
fn webhookish() -> impl Strategy<Value = Value> {
    (json_value(), json_value(), json_value(), 0usize..4).prop_map(|(event, rec, extra, shape)| {
        match shape {
            0 => json!({"event": event, "contact": rec}),
            1 => json!({"hook": {"id": extra, "event": event}, "company": rec}),
            2 => json!({"event": event, "timestamp": extra, "data": {"contact": rec}}),
            _ => json!({"event": "contact.saved", "contact": {"id": rec, "modified": extra}}),
        }
    })
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        webhookish().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        // Valid JSON cut short or padded with junk.
        (webhookish(), any::<usize>(), any::<u8>()).prop_map(|(v, cut, junk)| {
            let mut b = serde_json::to_vec(&v).unwrap();
            b.truncate(cut % (b.len() + 1));
            b.push(junk);
            b
        }),
    ]
}

/// A URI path segment: plain, percent-encoded junk (also invalid UTF-8), or one of the real ones.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("test".to_string()),
        Just("clientify".to_string()),
        Just("alegra".to_string()),
        Just(SECRET_A.to_string()),
        Just(SECRET_B.to_string()),
        Just(String::new()),
        "[a-zA-Z0-9._~-]{1,20}",
        prop::collection::vec(any::<u8>(), 1..8)
            .prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect::<String>()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        (segment(), segment(), segment()).prop_map(|(t, s, k)| format!("/webhooks/{t}/{s}/{k}")),
        (segment(), segment(), segment(), segment())
            .prop_map(|(t, s, k, x)| format!("/webhooks/{t}/{s}/{k}/{x}")),
        prop::collection::vec(segment(), 0..5).prop_map(|v| format!("/{}", v.join("/"))),
        Just("/health".to_string()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let name = prop_oneof![
        Just("content-type".to_string()),
        Just("content-encoding".to_string()),
        Just("transfer-encoding".to_string()),
        Just("authorization".to_string()),
        Just("x-clientify-signature".to_string()),
        Just("accept".to_string()),
        "x-[a-z]{1,10}",
    ];
    let value = prop_oneof![
        Just(b"application/json".to_vec()),
        Just(b"text/plain; charset=utf-8".to_vec()),
        Just(b"gzip".to_vec()),
        prop::collection::vec(0x20u8..0x7f, 0..40),
        prop::collection::vec(any::<u8>(), 0..20),
    ];
    prop::collection::vec((name, value), 0..4)
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        4 => Just(Method::POST),
        1 => Just(Method::GET),
        1 => Just(Method::PUT),
        1 => Just(Method::DELETE),
        1 => Just(Method::PATCH),
    ]
}

// ------------------------------------------------------------------ parse_webhook

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn alg11_parse_webhook_never_panics_on_bytes(body in body_bytes()) {
        match parse_webhook(&body) {
            Ok(d) => {
                // An entity the flows sync always comes with its id.
                if d.kind.is_some() {
                    prop_assert!(d.id.as_deref().is_some_and(|s| !s.is_empty()));
                }
            }
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }

    #[test]
    fn alg11_parse_webhook_never_panics_on_json(v in webhookish()) {
        let body = serde_json::to_vec(&v).unwrap();
        match parse_webhook(&body) {
            Ok(d) => prop_assert!(!d.event.is_empty() || d.kind.is_none()),
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }
}

// ------------------------------------------------------------------ HTTP handler

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Anything at all: never a 5xx or a panic; every 4xx a JSON `{"error"}`; nothing is
    /// enqueued unless the path carries tenant `a`'s own secret.
    #[test]
    fn alg11_webhook_endpoint_answers_arbitrary_requests_without_5xx(
        m in method(),
        p in path(),
        hs in headers(),
        body in body_bytes(),
    ) {
        let rt = rt();
        rt.block_on(async {
            let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
            let st = state("a", SECRET_A, store.clone());
            let mut b = Request::builder().method(m.clone()).uri(p.as_str());
            for (n, v) in &hs {
                if let Ok(v) = axum::http::HeaderValue::from_bytes(v) {
                    b = b.header(n.as_str(), v);
                }
            }
            let Ok(req) = b.body(Body::from(body.clone())) else {
                return Ok(());
            };
            let (status, resp) = call(&st, req).await;
            prop_assert!(!status.is_server_error(), "{m} {p} → {status}");
            // Every rejection, also those made before the handler runs (unknown route, other
            // method, undecodable path, body over the limit), is a JSON `{"error": …}`.
            if status.is_client_error() {
                prop_assert!(
                    is_json_error(&resp),
                    "{m} {p} → {status} without a JSON error: {:?}",
                    String::from_utf8_lossy(&resp)
                );
            }
            let enqueued = pending(&store).await;
            let authorised = m == Method::POST && p.starts_with(&format!("/webhooks/a/clientify/{SECRET_A}"));
            if !authorised {
                prop_assert_eq!(enqueued, 0, "{} {} enqueued", m, p);
            }
            prop_assert!(enqueued <= 1);
            Ok(())
        })?;
    }

    /// Wrong or missing secrets → 401 and an empty queue, whatever the body.
    #[test]
    fn alg11_wrong_secret_is_401_and_enqueues_nothing(
        secret in "[a-zA-Z0-9._~-]{1,40}",
        body in body_bytes(),
        valid in any::<bool>(),
    ) {
        prop_assume!(secret != SECRET_A);
        let rt = rt();
        rt.block_on(async {
            let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
            let st = state("a", SECRET_A, store.clone());
            let body = if valid { valid_event(7) } else { body };
            let (status, resp) = call(&st, post(&format!("/webhooks/a/clientify/{secret}"), body)).await;
            prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
            prop_assert!(is_json_error(&resp));
            prop_assert_eq!(pending(&store).await, 0);
            Ok(())
        })?;
    }

    /// Tenants `a` and `b` share a store: `a`'s secret never enqueues for `b` (nor `b`'s for
    /// `a`), on either tenant's endpoint; each tenant's own secret enqueues its own event only.
    #[test]
    fn alg11_one_tenants_secret_never_enqueues_for_another(id in 1u64..1_000_000, via_b in any::<bool>()) {
        let rt = rt();
        rt.block_on(async {
            let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
            let a = state("a", SECRET_A, store.clone());
            let b = state("b", SECRET_B, store.clone());
            let server = if via_b { &b } else { &a };
            for (tenant, secret) in [("b", SECRET_A), ("a", SECRET_B)] {
                let (status, resp) = call(server, post(&format!("/webhooks/{tenant}/clientify/{secret}"), valid_event(id))).await;
                prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
                prop_assert!(is_json_error(&resp));
            }
            prop_assert_eq!(pending(&store).await, 0);
            // The right tenant with its own secret is accepted, and queued as that tenant.
            let (tenant, secret) = if via_b { ("b", SECRET_B) } else { ("a", SECRET_A) };
            let (status, _) = call(server, post(&format!("/webhooks/{tenant}/clientify/{secret}"), valid_event(id))).await;
            prop_assert_eq!(status, StatusCode::ACCEPTED);
            let msgs = store.receive(10, std::time::Duration::from_secs(30)).await.unwrap();
            prop_assert_eq!(msgs.len(), 1);
            let ev: Value = serde_json::from_str(&msgs[0].body).unwrap();
            prop_assert_eq!(ev["tenant"].as_str(), Some(tenant));
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn alg11_bodies_over_256_kib_are_refused_with_413() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let st = state("a", SECRET_A, store.clone());
    let url = format!("/webhooks/a/clientify/{SECRET_A}");
    // Just over the limit, as valid JSON: refused before parsing.
    let pad = "x".repeat(MAX_BODY);
    let big =
        serde_json::to_vec(&json!({"event": "contact.saved", "contact": {"id": 1}, "pad": pad}))
            .unwrap();
    assert!(big.len() > MAX_BODY);
    let (status, _) = call(&st, post(&url, big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(pending(&store).await, 0);
    // Exactly at the limit is accepted.
    let mut at =
        serde_json::to_vec(&json!({"event": "contact.saved", "contact": {"id": 1}})).unwrap();
    at.truncate(at.len() - 1);
    at.extend(std::iter::repeat_n(b' ', MAX_BODY - at.len() - 1));
    at.push(b'}');
    assert_eq!(at.len(), MAX_BODY);
    let (status, _) = call(&st, post(&url, at)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(pending(&store).await, 1);
    // Wrong secret and a big body: still nothing enqueued.
    let (status, _) = call(
        &st,
        post("/webhooks/a/clientify/nope", vec![b' '; MAX_BODY + 1]),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    assert_eq!(pending(&store).await, 1);
}

/// Rejections axum makes before the webhook handler runs — an unknown route, another method
/// on the webhook route, a path segment that is not UTF-8 once decoded, a body over the limit
/// — answer `{"error": …}` like the handler's own (`serve::router` maps them).
#[tokio::test]
async fn alg11_framework_rejections_are_json_too() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let st = state("a", SECRET_A, store.clone());
    let cases = [
        post("/webhooks/a/clientify", Body::empty()),
        post("/nope", Body::empty()),
        Request::builder()
            .method(Method::GET)
            .uri(format!("/webhooks/a/clientify/{SECRET_A}"))
            .body(Body::empty())
            .unwrap(),
        post("/webhooks/a/clientify/%FF", Body::empty()),
        post(
            &format!("/webhooks/a/clientify/{SECRET_A}"),
            vec![b' '; MAX_BODY + 1],
        ),
    ];
    let mut bad = Vec::new();
    for req in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (status, resp) = call(&st, req).await;
        assert!(status.is_client_error(), "{what} → {status}");
        if !is_json_error(&resp) {
            bad.push(format!(
                "{what} → {status} {:?}",
                String::from_utf8_lossy(&resp)
            ));
        }
    }
    assert!(bad.is_empty(), "not JSON: {bad:#?}");
    assert_eq!(pending(&store).await, 0);
}

// ------------------------------------------------------------------ record ids (issue 17)

/// A record id as a webhook body carries it, as raw JSON: plain ids, paths, encodings,
/// queries, huge or fractional numbers, control characters.
fn raw_id() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        "[1-9][0-9]{0,3}",
        "[./%?#a-zA-Z0-9 _-]{0,14}",
        (
            "(\\.\\./|%2[eE]%2[eE]%2[fF]|\\.\\.%2[fF])",
            "(companies|contacts|products|items|estimates|users)",
            "/[0-9]{1,3}"
        )
            .prop_map(|(up, res, id)| format!("{up}{res}{id}")),
        ("[1-9][0-9]{0,2}", "[?#/;&=]", "[a-z=&0-9]{0,8}")
            .prop_map(|(a, s, b)| format!("{a}{s}{b}")),
        ("[0-9]{1,3}", "[\\x00-\\x1f\\x7f]", "[0-9]{0,3}")
            .prop_map(|(a, c, b)| format!("{a}{c}{b}")),
    ];
    prop_oneof![
        3 => text.prop_map(|s| serde_json::to_string(&s).unwrap()),
        1 => "[1-9][0-9]{15,30}",
        1 => "[1-9][0-9]{0,3}(\\.[0-9]{1,2}|e[+]?[0-9]{1,2})",
        1 => "-[1-9][0-9]{0,3}",
        1 => "[1-9][0-9]{0,3}",
    ]
}

/// The resources a record of `kind` may be read or written through, on either vendor.
fn resources(kind: &str) -> &'static [&'static str] {
    match kind {
        "contact" => &["/v1/contacts", "/api/v1/contacts"],
        "company" => &["/v1/companies", "/api/v1/contacts"],
        _ => &["/v1/products", "/api/v1/items", "/api/v1/taxes"],
    }
}

/// Whether `request` (`METHOD /path?query`) stays on one of `allowed`, optionally naming one
/// record by a plain numeric id; `source_id`: a read by id on the record's own resource
/// must be for that id.
fn stays_in_resource(request: &str, allowed: &[&str], source: Option<(&str, &str)>) -> bool {
    let path = request
        .split_once(' ')
        .map(|(_, p)| p)
        .unwrap_or("")
        .split('?')
        .next()
        .unwrap_or("");
    allowed.iter().any(|res| {
        let Some(rest) = path.strip_prefix(res) else {
            return false;
        };
        let id = rest.trim_matches('/');
        let shape_ok = rest.is_empty()
            || rest == "/"
            || (rest.starts_with('/') && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        let same_record = match source {
            Some((src_res, src_id)) if res == &src_res && !id.is_empty() => id == src_id,
            _ => true,
        };
        shape_ok && same_record
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whatever id a delivery carries: either it is refused at the door (400, nothing
    /// queued), or it is queued as the vendor's plain id and every request the worker then
    /// makes, on either vendor, stays on the record's own kind of resource and reads the
    /// record by that id.
    #[test]
    fn webhook_record_id_fuzzed_ids_never_leave_their_resource(raw in raw_id(), which in 0usize..5) {
        let rt = rt();
        rt.block_on(async {
            let env = puente_e2e::TestEnv::start_entities(
                "fuzz-ids",
                SandboxConfig { contacts: 4, companies: 2, shared_contacts: 1, shared_companies: 1, alegra_rate_limit: 0, ..SandboxConfig::default() },
                &["contact", "company", "product"],
            ).await;
            let (system, kind, body) = match which {
                0 => ("clientify", "contact", format!(r#"{{"event":"contact.saved","contact":{{"id":{raw}}}}}"#)),
                1 => ("clientify", "company", format!(r#"{{"hook":{{"id":1,"event":"company.saved"}},"company":{{"id":{raw}}}}}"#)),
                2 => ("clientify", "product", format!(r#"{{"event":"product.saved","data":{{"product":{{"id":{raw}}}}}}}"#)),
                3 => ("alegra", "contact", format!(r#"{{"subject":"edit-client","message":{{"client":{{"id":{raw},"type":["client"]}}}}}}"#)),
                _ => ("alegra", "product", format!(r#"{{"subject":"new-item","message":{{"item":{{"id":{raw}}}}}}}"#)),
            };
            env.sb.clientify.reset_stats();
            env.sb.alegra.reset_stats();
            let (status, v) = puente_runtime::serve::accept_webhook(
                &env.app, Some("s3cret-hook"), "test", system, "s3cret-hook", body.as_bytes(),
            ).await;
            let store = env.app.store.clone();
            if status != 202 {
                prop_assert_eq!(status, 400, "{} → {} {}", body, status, v);
                prop_assert_eq!(pending(&store).await, 0, "{} queued on a 400", body);
                return Ok(());
            }
            // Queued: as the vendor's plain id.
            let msgs = store.receive(10, std::time::Duration::from_secs(30)).await.unwrap();
            let mut queued_id = None;
            for m in &msgs {
                let ev: Value = serde_json::from_str(&m.body).unwrap();
                let id = ev["id"].as_str().unwrap_or_default().to_string();
                prop_assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0'),
                    "{} queued id {:?}", body, id);
                queued_id = Some(id);
                store.retry_later(&m.receipt, std::time::Duration::ZERO, "fuzz: hand back").await.unwrap();
            }
            for _ in 0..5 {
                puente_runtime::events::work_once(&env.app, store.as_ref(), 10, std::time::Duration::from_secs(30)).await;
                if pending(&store).await == 0 { break; }
            }
            let allowed = resources(kind);
            let own = match (system, kind) {
                ("clientify", "contact") => "/v1/contacts",
                ("clientify", "company") => "/v1/companies",
                ("clientify", _) => "/v1/products",
                (_, "contact") => "/api/v1/contacts",
                _ => "/api/v1/items",
            };
            let src = queued_id.as_deref().map(|id| (own, id));
            for sb in [&env.sb.clientify, &env.sb.alegra] {
                for r in sb.requests() {
                    prop_assert!(stays_in_resource(&r, allowed, src),
                        "{} (queued as {:?}) made the request {}", body, queued_id, r);
                }
            }
            Ok(())
        })?;
    }
}
