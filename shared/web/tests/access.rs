//! APC-8 access: never open. Login, cookie, CSRF on every button, and tenant isolation, over
//! the router itself (the browser test drives the same routes through Chromium).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{TimeDelta, Utc};
use puente_runtime::events::ChangeEvent;
use puente_store::memory::MemoryStore;
use puente_store::{Action, ActivityEntry, ActivityLog, Queue, Store};
use puente_web::{auth, FlowInfo, TenantSource, TenantView, UiOptions};
use tower::ServiceExt;

struct Fixed(Vec<TenantView>);

#[async_trait::async_trait]
impl TenantSource for Fixed {
    async fn tenant(&self, name: &str) -> anyhow::Result<Option<TenantView>> {
        Ok(self.0.iter().find(|t| t.name == name).cloned())
    }
}

const ACME_PW: &str = "acme-password-1";
const GLOBEX_PW: &str = "globex-password-2";

fn view(name: &str, store: Arc<dyn Store>, pw: &str) -> TenantView {
    TenantView {
        name: name.into(),
        store,
        flows: vec![FlowInfo {
            name: "clientify-alegra".into(),
            systems: vec!["clientify".into(), "alegra".into()],
            kinds: vec!["contact".into(), "company".into()],
        }],
        password_hash: Some(auth::hash_password(pw).unwrap()),
    }
}

fn entry(tenant: &str, id: &str, action: Action, reason: Option<&str>) -> ActivityEntry {
    ActivityEntry {
        tenant: tenant.into(),
        at: Utc::now(),
        flow: "clientify-alegra".into(),
        kind: "contact".into(),
        action,
        system: "clientify".into(),
        external_id: Some(id.into()),
        reason: reason.map(str::to_string),
        expires_at: Utc::now() + TimeDelta::days(1),
        ..ActivityEntry::default()
    }
}

/// Two tenants on one store and one queue, as on AWS (one table, one SQS queue).
async fn setup() -> (Router, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new().with_max_receives(1));
    store
        .append(&[
            entry("acme", "acme-rec-1", Action::Created, None),
            entry(
                "acme",
                "acme-rec-2",
                Action::Failed,
                Some("alegra answered HTTP 503: down"),
            ),
            entry(
                "globex",
                "globex-secret-rec",
                Action::Failed,
                Some("globex only"),
            ),
        ])
        .await
        .unwrap();
    let dyn_store: Arc<dyn Store> = store.clone();
    let src = Fixed(vec![
        view("acme", dyn_store.clone(), ACME_PW),
        view("globex", dyn_store, GLOBEX_PW),
    ]);
    let r = puente_web::router(
        Arc::new(src),
        UiOptions {
            secure_cookies: true,
            page_size: 50,
        },
    );
    (r, store)
}

async fn send(r: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = r.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("{}={c}", auth::COOKIE));
    }
    b.body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: Option<&str>, form: &str) -> Request<Body> {
    let mut b =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("{}={c}", auth::COOKIE));
    }
    b.body(Body::from(form.to_string())).unwrap()
}

/// Logs in; returns the cookie value and the page's CSRF token.
async fn login(r: &Router, tenant: &str, pw: &str) -> (String, String) {
    let (status, h, _) = send(
        r,
        post(
            &format!("/ui/{tenant}/login"),
            None,
            &format!("password={pw}"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = h[header::SET_COOKIE].to_str().unwrap().to_string();
    let cookie = set
        .strip_prefix(&format!("{}=", auth::COOKIE))
        .and_then(|s| s.split(';').next())
        .unwrap()
        .to_string();
    let (_, _, page) = send(r, get(&format!("/ui/{tenant}/activity"), Some(&cookie))).await;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    (cookie, csrf)
}

#[tokio::test]
async fn apc8_every_page_needs_a_login() {
    let (r, _) = setup().await;
    for page in [
        "activity",
        "runs",
        "failures",
        "links",
        "record/contact/clientify/acme-rec-1",
    ] {
        let (status, h, body) = send(&r, get(&format!("/ui/acme/{page}"), None)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(h[header::LOCATION], "/ui/acme/login", "{page}");
        assert!(!body.contains("acme-rec"), "{page}");
    }
    let (status, _, body) = send(&r, get("/ui/acme/login", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("type=\"password\""));
}

#[tokio::test]
async fn apc8_wrong_password_is_refused_and_the_cookie_is_strict() {
    let (r, _) = setup().await;
    let (status, h, body) = send(&r, post("/ui/acme/login", None, "password=wrong-password")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(h.get(header::SET_COOKIE).is_none());
    assert!(body.contains("Wrong password"));
    // Another tenant's password is wrong here too; an unknown tenant answers the same.
    let (status, _, _) = send(
        &r,
        post("/ui/acme/login", None, &format!("password={GLOBEX_PW}")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body2) = send(
        &r,
        post("/ui/nobody/login", None, "password=whatever-it-is"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body2.contains("Wrong password"));

    let (status, h, _) = send(
        &r,
        post("/ui/acme/login", None, &format!("password={ACME_PW}")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = h[header::SET_COOKIE].to_str().unwrap();
    for attr in ["Path=/ui/acme", "HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
}

#[tokio::test]
async fn apc8_one_tenants_session_never_reads_or_replays_another_tenants_records() {
    let (r, store) = setup().await;
    // A dead letter of globex's (the queue is shared).
    let ev = ChangeEvent {
        tenant: "globex".into(),
        system: "clientify".into(),
        kind: puente_core::Kind::Contact,
        id: "globex-secret-rec".into(),
        event_id: "e1".into(),
        observed_at: Utc::now(),
    };
    store
        .send(
            &ev.group(),
            "globex/e1",
            &serde_json::to_string(&ev).unwrap(),
        )
        .await
        .unwrap();
    let m = store.receive(1, std::time::Duration::ZERO).await.unwrap();
    store
        .retry_later(&m[0].receipt, std::time::Duration::ZERO, "boom")
        .await
        .unwrap();
    assert!(store
        .receive(1, std::time::Duration::ZERO)
        .await
        .unwrap()
        .is_empty());
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);

    let (acme, csrf) = login(&r, "acme", ACME_PW).await;
    // Its own pages show its records only.
    let (status, _, page) = send(&r, get("/ui/acme/activity", Some(&acme))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("acme-rec-1") && page.contains("acme-rec-2"));
    assert!(!page.contains("globex"), "no other tenant's record");
    let (_, _, page) = send(&r, get("/ui/acme/failures", Some(&acme))).await;
    assert!(page.contains("acme-rec-2"));
    assert!(!page.contains("globex") && !page.contains(&dead[0].id));
    let (_, _, page) = send(
        &r,
        get(
            "/ui/acme/record/contact/clientify/globex-secret-rec",
            Some(&acme),
        ),
    )
    .await;
    assert!(!page.contains("globex only"));

    // Another tenant's URL with this session: sent to that tenant's login.
    for p in [
        "activity",
        "failures",
        "record/contact/clientify/globex-secret-rec",
    ] {
        let (status, h, page) = send(&r, get(&format!("/ui/globex/{p}"), Some(&acme))).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{p}");
        assert_eq!(h[header::LOCATION], "/ui/globex/login");
        assert!(!page.contains("globex-secret-rec"));
    }
    let form = format!("csrf={csrf}&id={}", dead[0].id);
    let (status, h, _) = send(&r, post("/ui/globex/replay", Some(&acme), &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/ui/globex/login");
    // globex's dead letter through acme's own URL: as if it did not exist.
    let (status, _, _) = send(&r, post("/ui/acme/replay", Some(&acme), &form)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        store.dead_letters(10).await.unwrap().len(),
        1,
        "not replayed"
    );
    let retry = format!("csrf={csrf}&kind=contact&system=clientify&id=globex-secret-rec");
    let (status, _, _) = send(&r, post("/ui/globex/retry", Some(&acme), &retry)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        store.queue_depth().await.unwrap(),
        (0, 1),
        "nothing queued for globex"
    );

    // globex itself can replay it.
    let (globex, gcsrf) = login(&r, "globex", GLOBEX_PW).await;
    let (status, h, _) = send(
        &r,
        post(
            "/ui/globex/replay",
            Some(&globex),
            &format!("csrf={gcsrf}&id={}", dead[0].id),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/ui/globex/failures?notice=replay");
    assert_eq!(store.queue_depth().await.unwrap(), (1, 0));
}

#[tokio::test]
async fn apc8_every_button_needs_the_sessions_csrf_token() {
    let (r, store) = setup().await;
    let (acme, csrf) = login(&r, "acme", ACME_PW).await;
    let (globex, gcsrf) = login(&r, "globex", GLOBEX_PW).await;
    let _ = globex;
    for bad in ["", "csrf=", "csrf=00ff", &format!("csrf={gcsrf}")] {
        let form = format!("{bad}&kind=contact&system=clientify&id=acme-rec-2");
        let (status, _, _) = send(&r, post("/ui/acme/retry", Some(&acme), &form)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{bad:?}");
        let (status, _, _) = send(&r, post("/ui/acme/logout", Some(&acme), bad)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{bad:?}");
    }
    assert_eq!(store.queue_depth().await.unwrap(), (0, 0));
    let form = format!("csrf={csrf}&kind=contact&system=clientify&id=acme-rec-2");
    let (status, h, _) = send(&r, post("/ui/acme/retry", Some(&acme), &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/ui/acme/failures?notice=retry");
    let queued = store
        .receive(10, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let ev: ChangeEvent = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!(
        (ev.tenant.as_str(), ev.system.as_str(), ev.id.as_str()),
        ("acme", "clientify", "acme-rec-2")
    );
    // A system the tenant does not sync is refused.
    let form = format!("csrf={csrf}&kind=contact&system=odoo&id=1");
    let (status, _, _) = send(&r, post("/ui/acme/retry", Some(&acme), &form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn apc8_filters_are_applied_and_bad_ones_explained() {
    let (r, _) = setup().await;
    let (acme, _) = login(&r, "acme", ACME_PW).await;
    let (status, _, page) = send(&r, get("/ui/acme/activity?action=failed", Some(&acme))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("acme-rec-2") && !page.contains("acme-rec-1"));
    let (_, _, page) = send(
        &r,
        get(
            "/ui/acme/activity?record=clientify%3Aacme-rec-1",
            Some(&acme),
        ),
    )
    .await;
    assert!(page.contains("acme-rec-1") && !page.contains("acme-rec-2"));
    let (status, _, page) = send(&r, get("/ui/acme/activity?record=nocolon", Some(&acme))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("SYSTEM:ID"));
    let (_, _, page) = send(
        &r,
        get("/ui/acme/activity?since=2999-01-01T00%3A00", Some(&acme)),
    )
    .await;
    assert!(page.contains("No entries match"));
}
