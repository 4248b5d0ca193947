//! No leaks (issue 5, APC-8): every log line Puente's process emits while it activates a
//! flow, runs Full and Modified syncs (also through vendor faults), accepts webhooks and
//! works the queue is captured at TRACE level, and none of it may contain a secret (API key,
//! token, webhook secret, the Basic credentials) or a personal field value of the synced
//! records (names, emails, phones, tax ids, streets). The activity log (the store) may name
//! an identification to the tenant; the process logs (CloudWatch, terminals) may not.

use axum::body::Body;
use axum::http::{Method, Request};
use puente_core::{Kind, TaxId};
use puente_e2e::*;
use puente_runtime::events::work_once;
use puente_runtime::serve::{router, ServerState};
use puente_runtime::Mode;
use puente_sandbox::{Faults, SandboxConfig};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

/// Everything the process logs, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The personal values a record carries (canonical and as the vendor wrote them).
fn personal_values(v: &Value, out: &mut Vec<String>) {
    for key in [
        "first_name",
        "last_name",
        "name",
        "email",
        "phonePrimary",
        "mobile",
        "taxpayer_identification_number",
        "identification",
        "street",
        "address",
        "firstName",
        "lastName",
        "secondName",
        "secondLastName",
        "phone",
    ] {
        if let Some(s) = v.get(key).and_then(Value::as_str) {
            let s = s.trim();
            if s.len() >= 3 {
                out.push(s.to_string());
            }
            if let Ok(t) = TaxId::parse(s) {
                out.push(t.to_string());
            }
        }
    }
    for list in ["emails", "phones", "addresses"] {
        for item in v.get(list).and_then(Value::as_array).into_iter().flatten() {
            personal_values(item, out);
        }
    }
    for obj in ["nameObject", "address"] {
        if let Some(o) = v.get(obj).filter(|o| o.is_object()) {
            personal_values(o, out);
        }
    }
}

async fn webhook(st: &ServerState, path: &str, body: Value) -> u16 {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    router(st.clone())
        .oneshot(req)
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for ch in b.chunks(3) {
        let n = (ch[0] as u32) << 16
            | (*ch.get(1).unwrap_or(&0) as u32) << 8
            | *ch.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= ch.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apc8_logs_of_full_modified_webhook_and_worker_runs_hold_no_secret_or_personal_value() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let cfg = SandboxConfig {
        seed: 77,
        contacts: 14,
        companies: 4,
        shared_contacts: 5,
        shared_companies: 2,
        without_id_percent: 20,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let env = TestEnv::start("no-leaks", cfg.clone()).await;
    let contacts = env.clientify_all(Kind::Contact).await;
    // Something to skip with a reason: an invalid identification, and a duplicate one.
    let a = contacts[0]["id"].to_string();
    env.clientify_put(
        Kind::Contact,
        &a,
        json!({"taxpayer_identification_number": "12345678A"}),
    )
    .await;
    let dup_key = contacts[1..]
        .iter()
        .filter_map(clientify_key)
        .next()
        .expect("a contact with identification");
    let b = contacts
        .iter()
        .rev()
        .find(|c| clientify_key(c).is_none_or(|k| k != dup_key))
        .unwrap()["id"]
        .to_string();
    env.clientify_put(
        Kind::Contact,
        &b,
        json!({"taxpayer_identification_number": dup_key}),
    )
    .await;

    env.activate().await;
    env.sync(Mode::Full).await;

    // Edits on both sides, then Modified.
    let alegra = env.alegra_all().await;
    let some_alegra = alegra.iter().find(|v| alegra_key(v).is_some()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.alegra_put(
        &some_alegra,
        json!({"email": "nuevo.correo@privado.example", "phonePrimary": "981555444"}),
    )
    .await;
    let c = env.clientify_all(Kind::Contact).await;
    let linked = c
        .iter()
        // Linked: not one of the two holding `dup_key` (an ambiguous key links neither).
        .find(|v| {
            clientify_key(v).is_some_and(|k| k != dup_key) && v["id"].as_u64() != b.parse().ok()
        })
        .unwrap();
    let linked_id = linked["id"].to_string();
    let after = env
        .clientify_put(
            Kind::Contact,
            &linked_id,
            json!({"first_name": "Valentín", "last_name": "Quintanilla"}),
        )
        .await;
    env.sync(Mode::Modified).await;

    // A faulty Full: 5xx, resets and lost responses make errors and retries that are logged.
    env.sb.alegra.set_faults(Faults {
        seed: 5,
        error_5xx: 0.3,
        reset: 0.1,
        lost_response: 0.3,
        ..Faults::default()
    });
    env.sb.clientify.set_faults(Faults {
        seed: 6,
        error_5xx: 0.2,
        ..Faults::default()
    });
    let new_c = env
        .clientify_all(Kind::Contact)
        .await
        .into_iter()
        .next()
        .unwrap();
    let _ = puente_runtime::run(env.flow(), Mode::Full, false, &puente_runtime::NoProgress).await;

    // Webhooks: accepted, duplicated, with a wrong secret; then workers, also through faults.
    let app = Arc::new(
        puente_runtime::App::build(env.app.config.clone(), env.app.store.clone(), test_retry())
            .unwrap(),
    );
    let st = ServerState {
        app: app.clone(),
        secret: Some("s3cret-hook".into()),
        inactive: Arc::new(Mutex::new(Vec::new())),
    };
    let body = json!({"event": "contact.saved", "contact": {"id": after["id"], "modified": after["modified"]}});
    assert_eq!(
        webhook(&st, "/webhooks/test/clientify/s3cret-hook", body.clone()).await,
        202
    );
    assert_eq!(
        webhook(&st, "/webhooks/test/clientify/s3cret-hook", body.clone()).await,
        202
    );
    assert_eq!(
        webhook(&st, "/webhooks/test/clientify/wrong-secret", body).await,
        401
    );
    let body2 = json!({"event": "contact.saved", "contact": {"id": new_c["id"], "modified": "x"}});
    assert_eq!(
        webhook(&st, "/webhooks/test/clientify/s3cret-hook", body2).await,
        202
    );
    for _ in 0..4 {
        work_once(&app, app.store.as_ref(), 10, Duration::from_millis(10)).await;
    }
    env.sb.alegra.set_faults(Faults::default());
    env.sb.clientify.set_faults(Faults::default());
    let mut personal = Vec::new();
    for v in env.alegra_all().await {
        personal_values(&v, &mut personal);
    }
    // An unreachable vendor: connection errors are logged too.
    env.sb.alegra.shutdown();
    let edited = env
        .clientify_put(
            Kind::Contact,
            &linked_id,
            json!({"last_name": "Zubizarreta"}),
        )
        .await;
    let body3 = json!({"event": "contact.saved", "contact": {"id": edited["id"], "modified": edited["modified"]}});
    assert_eq!(
        webhook(&st, "/webhooks/test/clientify/s3cret-hook", body3).await,
        202
    );
    work_once(&app, app.store.as_ref(), 10, Duration::from_millis(10)).await;

    // What must not appear.
    let secrets = [
        cfg.clientify_token.clone(),
        cfg.alegra_token.clone(),
        cfg.alegra_email.clone(),
        "s3cret-hook".to_string(),
        base64(&format!("{}:{}", cfg.alegra_email, cfg.alegra_token)),
    ];
    personal.extend([
        "nuevo.correo@privado.example".to_string(),
        "981555444".into(),
        "Valentín".into(),
        "Quintanilla".into(),
        "Zubizarreta".into(),
        "12345678A".into(),
        dup_key.clone(),
    ]);
    for kind in [Kind::Contact, Kind::Company] {
        for v in env.clientify_all(kind).await {
            personal_values(&v, &mut personal);
        }
    }
    personal.sort();
    personal.dedup();
    assert!(personal.len() > 50, "{personal:?}");

    let text = logs.text();
    assert!(text.lines().count() > 20, "logs were captured:\n{text}");
    // The runs logged what they do, including the paths that carry values around: skips with
    // reasons, HTTP retries, worker failures, accepted webhooks.
    for expected in [
        "action=skipped",
        "action=updated",
        "retrying",
        "will retry",
        "webhook event queued",
    ] {
        assert!(
            text.contains(expected),
            "no {expected:?} in the logs:\n{text}"
        );
    }
    let leaks: Vec<String> = secrets
        .iter()
        .chain(personal.iter())
        .filter(|s| text.contains(s.as_str()))
        .map(|s| {
            let line = text.lines().find(|l| l.contains(s.as_str())).unwrap_or("");
            format!("{s:?} in: {line}")
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "leaked into the logs:\n{}",
        leaks.join("\n")
    );
}
