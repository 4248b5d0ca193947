//! The activity page (APC-8, P5): what Puente did to every record, per tenant, served by
//! `puente serve` and by the HTTP API's Lambda on AWS from the same [`router`].
//!
//! Server-rendered HTML ([`minijinja`] templates compiled into the binary, no front-end
//! toolchain, no script): runs, activity (filtered in the store), a record's timeline,
//! failures with Retry and Replay, and links by any key. Every page needs a login (see
//! [`auth`]); a tenant's session reads and changes that tenant's records only.
//!
//! The crate knows nothing of where it runs: a [`TenantSource`] hands it a tenant's store,
//! flows and password hash (the local app and password file, or the AWS tenants and Secrets
//! Manager).

pub mod auth;
mod pages;
mod params;

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Environment, UndefinedBehavior};
use puente_runtime::App;
use puente_store::Store;
use serde::Deserialize;

pub use auth::PasswordFile;

/// One flow as the page shows it.
#[derive(Clone, Debug)]
pub struct FlowInfo {
    pub name: String,
    pub systems: Vec<String>,
    pub kinds: Vec<String>,
}

/// What the page needs of a tenant.
#[derive(Clone)]
pub struct TenantView {
    pub name: String,
    pub store: Arc<dyn Store>,
    pub flows: Vec<FlowInfo>,
    /// The argon2 hash of the tenant's page password; `None`: nobody can log in.
    pub password_hash: Option<String>,
}

impl TenantView {
    /// The view of a configured app.
    pub fn of_app(app: &App, password_hash: Option<String>) -> TenantView {
        TenantView {
            name: app.config.tenant.clone(),
            store: app.store.clone(),
            flows: app
                .flows
                .iter()
                .map(|f| FlowInfo {
                    name: f.name.clone(),
                    systems: vec![f.a.system().to_string(), f.b.system().to_string()],
                    kinds: f.kinds.iter().map(|k| k.as_str().to_string()).collect(),
                })
                .collect(),
            password_hash,
        }
    }

    fn systems(&self) -> Vec<String> {
        let mut v: Vec<String> = self.flows.iter().flat_map(|f| f.systems.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Each flow's link scopes: (flow, entity, the flow's systems).
    fn scopes(&self) -> Vec<(&str, &str, &[String])> {
        self.flows
            .iter()
            .flat_map(|f| {
                f.kinds
                    .iter()
                    .map(move |k| (f.name.as_str(), k.as_str(), f.systems.as_slice()))
            })
            .collect()
    }

    /// The link of `system`/`id` of `kind` in the first flow that has one (links are per
    /// flow: one record may be linked in several).
    async fn link_of(
        &self,
        kind: &str,
        system: &str,
        id: &str,
    ) -> Result<Option<puente_store::Link>, puente_store::StoreError> {
        for (flow, k, systems) in self.scopes() {
            if k != kind || !systems.iter().any(|s| s == system) {
                continue;
            }
            let scope = puente_store::Scope::new(&self.name, flow, k);
            if let Some(l) = self.store.link_by_external(scope, system, id).await? {
                return Ok(Some(l));
            }
        }
        Ok(None)
    }

    fn kinds(&self) -> Vec<String> {
        let mut v: Vec<String> = self.flows.iter().flat_map(|f| f.kinds.clone()).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Where the page finds tenants.
#[async_trait]
pub trait TenantSource: Send + Sync {
    /// `Ok(None)`: no such tenant.
    async fn tenant(&self, name: &str) -> anyhow::Result<Option<TenantView>>;
}

/// `puente serve`'s one tenant: its app, and its password in the [`PasswordFile`] beside the
/// store (read on each login check, so `puente ui password` takes effect at once).
pub struct LocalTenant {
    pub app: Arc<App>,
    pub passwords: PasswordFile,
}

#[async_trait]
impl TenantSource for LocalTenant {
    async fn tenant(&self, name: &str) -> anyhow::Result<Option<TenantView>> {
        if name != self.app.config.tenant {
            return Ok(None);
        }
        let hash = self.passwords.hash(name)?;
        Ok(Some(TenantView::of_app(&self.app, hash)))
    }
}

/// Several sources, asked in order (tests; a host with more than one tenant).
pub struct Tenants(pub Vec<Arc<dyn TenantSource>>);

#[async_trait]
impl TenantSource for Tenants {
    async fn tenant(&self, name: &str) -> anyhow::Result<Option<TenantView>> {
        for s in &self.0 {
            if let Some(t) = s.tenant(name).await? {
                return Ok(Some(t));
            }
        }
        Ok(None)
    }
}

/// How the page is served.
#[derive(Clone, Debug)]
pub struct UiOptions {
    /// Mark the session cookie `Secure` (everywhere but plain HTTP on loopback).
    pub secure_cookies: bool,
    /// Entries per activity page.
    pub page_size: usize,
}

impl UiOptions {
    /// For a server listening on `listen`: `Secure` cookies unless it is loopback.
    pub fn for_listen(listen: &str) -> UiOptions {
        let loopback = listen
            .parse::<std::net::SocketAddr>()
            .map(|a| a.ip().is_loopback())
            .unwrap_or_else(|_| listen.starts_with("localhost:"));
        UiOptions {
            secure_cookies: !loopback,
            page_size: 50,
        }
    }
}

#[derive(Clone)]
struct Ui {
    tenants: Arc<dyn TenantSource>,
    opts: UiOptions,
    env: Arc<Environment<'static>>,
}

fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    for (name, src) in [
        ("base.html", include_str!("../templates/base.html")),
        ("macros.html", include_str!("../templates/macros.html")),
        ("login.html", include_str!("../templates/login.html")),
        ("activity.html", include_str!("../templates/activity.html")),
        ("runs.html", include_str!("../templates/runs.html")),
        ("record.html", include_str!("../templates/record.html")),
        ("failures.html", include_str!("../templates/failures.html")),
        ("links.html", include_str!("../templates/links.html")),
    ] {
        env.add_template(name, src).expect("templates compile");
    }
    env.add_filter("seg", |s: String| puente_runtime::notify::segment(&s));
    env.add_filter("when", |s: String| {
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or(s)
    });
    env
}

/// The page's routes, under `/ui/{tenant}/…`; merge them into a server's router.
pub fn router(tenants: Arc<dyn TenantSource>, opts: UiOptions) -> Router {
    let ui = Ui {
        tenants,
        opts,
        env: Arc::new(templates()),
    };
    Router::new()
        .route("/ui/{tenant}", get(home))
        .route("/ui/{tenant}/", get(home))
        .route("/ui/{tenant}/login", get(login_form).post(login))
        .route("/ui/{tenant}/logout", post(logout))
        .route("/ui/{tenant}/activity", get(pages::activity))
        .route("/ui/{tenant}/runs", get(pages::runs))
        .route(
            "/ui/{tenant}/record/{kind}/{system}/{id}",
            get(pages::record),
        )
        .route("/ui/{tenant}/failures", get(pages::failures))
        .route("/ui/{tenant}/links", get(pages::links))
        .route("/ui/{tenant}/retry", post(pages::retry))
        .route("/ui/{tenant}/replay", post(pages::replay))
        .with_state(ui)
}

/// `/ui/{tenant}` for the tenant's pages.
fn base(tenant: &str) -> String {
    format!("/ui/{}", puente_runtime::notify::segment(tenant))
}

impl Ui {
    fn render(&self, status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
        let html = match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(template = name, error = %e, "page not rendered");
                return (StatusCode::INTERNAL_SERVER_ERROR, "page not rendered").into_response();
            }
        };
        let mut r = (status, html).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        // Pages hold personal data: never cached, never framed, nothing loaded from elsewhere.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        r
    }

    /// The tenant and its session, or the response that sends the visitor to log in.
    async fn authed(
        &self,
        tenant: &str,
        headers: &HeaderMap,
    ) -> Result<(TenantView, auth::Session), Response> {
        let to_login = || Redirect::to(&format!("{}/login", base(tenant))).into_response();
        let t = match self.tenants.tenant(tenant).await {
            Ok(Some(t)) => t,
            Ok(None) => return Err(to_login()),
            Err(e) => {
                tracing::error!(%tenant, error = %e, "tenant unavailable");
                return Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    "tenant unavailable; retry later",
                )
                    .into_response());
            }
        };
        let Some(hash) = t.password_hash.clone() else {
            return Err(to_login());
        };
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(auth::cookie_value);
        let now = chrono::Utc::now().timestamp();
        match cookie.and_then(|c| auth::verify_session(c, tenant, &hash, now)) {
            Some(s) => Ok((t, s)),
            None => Err(to_login()),
        }
    }

    /// A page's common context.
    fn page(
        &self,
        t: &TenantView,
        s: &auth::Session,
        nav: &str,
        title: &str,
    ) -> Vec<(&'static str, minijinja::Value)> {
        vec![
            ("tenant", t.name.clone().into()),
            ("base", base(&t.name).into()),
            ("csrf", s.csrf.clone().into()),
            ("session", true.into()),
            ("nav", nav.into()),
            ("page_title", title.into()),
        ]
    }
}

async fn home(Path(tenant): Path<String>) -> Response {
    Redirect::to(&format!("{}/activity", base(&tenant))).into_response()
}

async fn login_form(State(ui): State<Ui>, Path(tenant): Path<String>) -> Response {
    ui.render(
        StatusCode::OK,
        "login.html",
        context! { tenant, base => base(&tenant), page_title => "Log in" },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    password: String,
}

async fn login(
    State(ui): State<Ui>,
    Path(tenant): Path<String>,
    Form(f): Form<LoginForm>,
) -> Response {
    let hash = match ui.tenants.tenant(&tenant).await {
        Ok(t) => t.and_then(|t| t.password_hash),
        Err(e) => {
            tracing::error!(%tenant, error = %e, "tenant unavailable");
            None
        }
    };
    // An unknown tenant or one without a password costs the same argon2 work as a wrong
    // password, and gets the same answer: the page says nothing about which tenants exist.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let password = f.password;
    let ok = {
        let h = hash.clone();
        tokio::task::spawn_blocking(move || {
            let dummy = DUMMY.get_or_init(|| {
                auth::hash_password("no tenant has this password").unwrap_or_default()
            });
            let ok = auth::verify_password(&password, h.as_deref().unwrap_or(dummy));
            ok && h.is_some()
        })
        .await
        .unwrap_or(false)
    };
    match (ok, hash) {
        (true, Some(h)) => {
            let (cookie, _) = auth::new_session(&tenant, &h, chrono::Utc::now().timestamp());
            tracing::info!(%tenant, "activity page: logged in");
            let mut r = Redirect::to(&format!("{}/activity", base(&tenant))).into_response();
            if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
                Some(&cookie),
                &base(&tenant),
                ui.opts.secure_cookies,
            )) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        _ => {
            tracing::warn!(%tenant, "activity page: login refused");
            ui.render(
                StatusCode::UNAUTHORIZED,
                "login.html",
                context! { tenant, base => base(&tenant), page_title => "Log in",
                error => "Wrong password, or no password is set for this tenant." },
            )
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(ui): State<Ui>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let (_, s) = match ui.authed(&tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !auth::csrf_ok(&s, &f.csrf) {
        return (StatusCode::FORBIDDEN, "invalid form token").into_response();
    }
    let mut r = Redirect::to(&format!("{}/login", base(&tenant))).into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
        None,
        &base(&tenant),
        ui.opts.secure_cookies,
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Query strings of the pages.
pub(crate) fn query_string<T: serde::Serialize>(v: &T) -> String {
    serde_urlencoded::to_string(v).unwrap_or_default()
}
