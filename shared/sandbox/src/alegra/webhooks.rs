//! §2.4 webhooks: subscriptions by event and URL, and the deliveries after a write.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{bad, error, id_of, parse_json};
use super::{App, Data, Obj};
use crate::kit::http::json;
use crate::kit::lock;
use crate::kit::outbox::{Delivery, WebhookSent};

/// Subscribable events: `new-|edit-|delete-` × `invoice, bill, client, item` [C: A10].
const EVENTS: [&str; 12] = [
    "new-client",
    "edit-client",
    "delete-client",
    "new-item",
    "edit-item",
    "delete-item",
    "new-invoice",
    "edit-invoice",
    "delete-invoice",
    "new-bill",
    "edit-bill",
    "delete-bill",
];

/// §2.4: a `{"subject", "message": {"client": …}}` delivery to every URL subscribed to
/// `subject` (`{"item": …}` for `*-item` subjects). Subscriptions store URLs without a
/// scheme; see [`with_scheme`]. A client is sent as the docs' New-Client table has it
/// (see [`documented_client`]). Each delivery must be answered 2XX within 5 s; after 10
/// consecutive failures the subscription is deleted [D: A11].
pub(super) fn notify(app: &App, d: &Data, subject: &str, rec: &Obj) {
    let key = subject.rsplit('-').next().unwrap_or("client");
    let payload = if key == "client" {
        documented_client(rec)
    } else {
        Value::Object(rec.clone())
    };
    for (sub_id, sub) in &d.subs {
        if sub.get("event").and_then(Value::as_str) != Some(subject) {
            continue;
        }
        let url = with_scheme(sub.get("url").and_then(Value::as_str).unwrap_or(""));
        let body = json!({"subject": subject, "message": {key: payload}});
        let bytes = serde_json::to_vec(&body).expect("JSON values serialize");
        let mut delivery = Delivery::new(
            url,
            subject,
            bytes,
            vec![("content-type".into(), "application/json".into())],
        );
        let (app2, sub_id) = (app.clone(), *sub_id);
        delivery.done = Some(Box::new(move |sent: &WebhookSent| {
            let ok = sent.status.is_some_and(|s| (200..300).contains(&s));
            let mut d = lock(&app2.inner.data);
            if ok {
                d.failures.remove(&sub_id);
                return;
            }
            let n = d.failures.entry(sub_id).or_insert(0);
            *n += 1;
            if *n >= MAX_FAILURES {
                d.failures.remove(&sub_id);
                if d.subs.remove(&sub_id).is_some() {
                    tracing::info!(subscription = sub_id, "alegra sandbox: subscription deleted after {MAX_FAILURES} consecutive failed deliveries");
                }
            }
        }));
        app.common.outbox.deliver(delivery);
    }
}

/// Consecutive failed deliveries after which Alegra deletes a subscription [D: A11].
pub(super) const MAX_FAILURES: u32 = 10;

/// A contact as the docs' New-Client table shows it [D: A11]: `name` an object
/// (`firstName`, `secondName`, `lastName`, `secondLastName`, or only `fullname`) and `id`
/// an integer, where the REST API has a string name and string ids.
fn documented_client(rec: &Obj) -> Value {
    let mut c = rec.clone();
    let name = match rec.get("nameObject") {
        Some(Value::Object(n)) => json!({
            "firstName": n.get("firstName").cloned().unwrap_or(json!("")),
            "secondName": n.get("secondName").cloned().unwrap_or(json!("")),
            "lastName": n.get("lastName").cloned().unwrap_or(json!("")),
            "secondLastName": n.get("secondLastName").cloned().unwrap_or(json!("")),
        }),
        _ => json!({"fullname": rec.get("name").cloned().unwrap_or(json!(""))}),
    };
    c.insert("name".into(), name);
    c.remove("nameObject");
    if let Some(id) = rec
        .get("id")
        .and_then(Value::as_str)
        .and_then(|i| i.parse::<u64>().ok())
    {
        c.insert("id".into(), json!(id));
    }
    Value::Object(c)
}

/// How long a URL has to answer the subscription handshake [D: A11].
const HANDSHAKE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// `GET /api/v1/webhooks/subscriptions` → `{"subscriptions": […]}` [C: A9, A10].
pub(super) async fn list_subs(State(app): State<App>) -> Response {
    let subs: Vec<Value> = lock(&app.inner.data)
        .subs
        .values()
        .cloned()
        .map(Value::Object)
        .collect();
    json(StatusCode::OK, json!({"subscriptions": subs}))
}

/// `POST /api/v1/webhooks/subscriptions` `{"event","url"}` → 201 once the URL answered the
/// handshake (an empty POST, 2XX within 5 s), else 400
/// `{"subscription": {id, event, url}}` (A9's reading; A10 reads `result.id`, so the id is
/// also at the top level) [C]. Unknown event or missing url → 400 [I]. The URL is kept as
/// given (clients send it without a scheme [C: A9, A10]).
pub(super) async fn create_sub(State(app): State<App>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let event = body.get("event").and_then(Value::as_str).unwrap_or("");
    if !EVENTS.contains(&event) {
        return bad(format!("El evento '{event}' no es válido"));
    }
    let url = body.get("url").and_then(Value::as_str).unwrap_or("").trim();
    if url.is_empty() {
        return bad("La url es obligatoria");
    }
    // The handshake [D: A11]: an empty POST to the URL, which must answer 2XX within 5 s or
    // there is no subscription. The error's wording is not documented [I].
    let answered = crate::kit::outbox::client(HANDSHAKE_WAIT)
        .post(with_scheme(url))
        .send()
        .await;
    match answered {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => {
            return bad(format!(
                "La url no respondió correctamente a la verificación (HTTP {})",
                r.status().as_u16()
            ))
        }
        Err(_) => return bad("La url no respondió a la verificación en 5 segundos"),
    }
    let mut d = lock(&app.inner.data);
    let id = d.next_sub;
    d.next_sub += 1;
    let mut sub = Obj::new();
    sub.insert("id".into(), json!(id.to_string()));
    sub.insert("event".into(), json!(event));
    sub.insert("url".into(), json!(url));
    d.subs.insert(id, sub.clone());
    json(
        StatusCode::CREATED,
        json!({"id": id.to_string(), "subscription": sub}),
    )
}

/// `DELETE /api/v1/webhooks/subscriptions/{id}` → 200 [C: A10]; unknown id → 404 [I].
pub(super) async fn delete_sub(State(app): State<App>, Path(id): Path<String>) -> Response {
    let removed = id_of(&id).and_then(|id| lock(&app.inner.data).subs.remove(&id));
    match removed {
        Some(_) => json(
            StatusCode::OK,
            json!({"code": 200, "message": "Suscripción eliminada correctamente"}),
        ),
        None => error(StatusCode::NOT_FOUND, "La suscripción no existe"),
    }
}

/// `url` as given, or over `http://` when it has no scheme: Alegra subscriptions store URLs
/// without one (§2.4) and, as the sandbox talks to loopback receivers without TLS, it delivers
/// those over plain HTTP (the real Alegra presumably uses https).
fn with_scheme(url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}
