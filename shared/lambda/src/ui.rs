//! The activity page on AWS (APC-8): the HTTP API's `ANY /ui/{proxy+}` route reaches the
//! webhook function, which hands the request to the same `puente-web` router as `puente
//! serve`. Tenants are the functions' tenants ([`Ctx::tenant`]); each one's page password is
//! an argon2 hash in Secrets Manager, `{SECRETS_PREFIX}{tenant}/ui`, written by `puente ui
//! password --aws` and read here (cached like the tenants' configurations).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{anyhow, Result};
use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine as _;
use puente_web::{TenantSource, TenantView, UiOptions};
use tower::ServiceExt as _;

use crate::{Ctx, TENANT_CACHE};

/// The page passwords in Secrets Manager.
pub struct UiPasswords {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
    cache: Mutex<HashMap<String, (Instant, Option<String>)>>,
}

impl UiPasswords {
    pub fn new(sdk: &aws_config::SdkConfig, prefix: &str) -> UiPasswords {
        UiPasswords {
            client: aws_sdk_secretsmanager::Client::new(sdk),
            prefix: prefix.to_string(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `{prefix}{tenant}/ui`: under the prefix the functions may read, beside the tenant's
    /// connection secrets.
    pub fn secret_name(&self, tenant: &str) -> String {
        format!("{}{tenant}/ui", self.prefix)
    }

    /// Stores the hash (creating the secret the first time).
    pub async fn put(&self, tenant: &str, hash: &str) -> Result<()> {
        let name = self.secret_name(tenant);
        let value = serde_json::json!({ "password_hash": hash }).to_string();
        let created = self
            .client
            .create_secret()
            .name(&name)
            .description(format!(
                "Puente tenant '{tenant}': activity-page password (argon2 hash)"
            ))
            .secret_string(&value)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_exists_exception()) =>
            {
                self.client
                    .put_secret_value()
                    .secret_id(&name)
                    .secret_string(&value)
                    .send()
                    .await
                    .map_err(|e| anyhow!("Secrets Manager put_secret_value {name}: {e:?}"))?;
            }
            Err(e) => return Err(anyhow!("Secrets Manager create_secret {name}: {e:?}")),
        }
        self.cache.lock().expect("ui cache").remove(tenant);
        Ok(())
    }

    /// The tenant's hash, `None` when no password was set.
    pub async fn get(&self, tenant: &str) -> Result<Option<String>> {
        if let Some((at, h)) = self.cache.lock().expect("ui cache").get(tenant) {
            if at.elapsed() < TENANT_CACHE {
                return Ok(h.clone());
            }
        }
        let name = self.secret_name(tenant);
        let hash = match self.client.get_secret_value().secret_id(&name).send().await {
            Ok(v) => {
                let j: serde_json::Value = serde_json::from_str(v.secret_string().unwrap_or("{}"))?;
                j.get("password_hash")
                    .and_then(|h| h.as_str())
                    .map(str::to_string)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => return Err(anyhow!("Secrets Manager get_secret_value {name}: {e:?}")),
        };
        self.cache
            .lock()
            .expect("ui cache")
            .insert(tenant.to_string(), (Instant::now(), hash.clone()));
        Ok(hash)
    }
}

/// The functions' tenants as the page sees them.
struct AwsTenants {
    ctx: &'static Ctx,
}

#[async_trait]
impl TenantSource for AwsTenants {
    async fn tenant(&self, name: &str) -> Result<Option<TenantView>> {
        let Some(t) = self.ctx.tenant(name).await? else {
            return Ok(None);
        };
        let hash = self.ctx.ui_passwords.get(name).await?;
        Ok(Some(TenantView::of_app(&t.app, hash)))
    }
}

/// The page's router over the context's tenants (cookies always `Secure`: API Gateway is
/// HTTPS only).
pub fn router(ctx: &'static Ctx) -> axum::Router {
    puente_web::router(
        Arc::new(AwsTenants { ctx }),
        UiOptions {
            secure_cookies: true,
            page_size: 50,
        },
    )
}

/// Whether a request is for the page (`/ui/…`, after an optional stage prefix).
pub fn is_ui(req: &ApiGatewayV2httpRequest) -> bool {
    ui_path(req).is_some()
}

fn ui_path(req: &ApiGatewayV2httpRequest) -> Option<String> {
    let path = req.raw_path.as_deref()?;
    let i = path
        .find("/ui/")
        .or_else(|| path.ends_with("/ui").then(|| path.len() - 3))?;
    Some(path[i..].to_string())
}

/// An HTTP API (payload v2) request → the page's router → the response.
pub async fn handle(
    router: axum::Router,
    req: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let path = ui_path(&req).unwrap_or_else(|| "/ui/".into());
    let uri = match req.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let body: Vec<u8> = match (req.body, req.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(b), false) => b.into_bytes(),
        (Some(b), true) => base64::engine::general_purpose::STANDARD
            .decode(b.as_bytes())
            .unwrap_or_default(),
    };
    let mut builder = axum::http::Request::builder()
        .method(req.request_context.http.method.clone())
        .uri(uri);
    for (k, v) in req.headers.iter() {
        builder = builder.header(k, v);
    }
    // HTTP API v2 moves cookies out of the headers.
    if !req.cookies.as_ref().is_none_or(|c| c.is_empty()) {
        let joined = req.cookies.unwrap_or_default().join("; ");
        builder = builder.header(axum::http::header::COOKIE, joined);
    }
    let request = match builder.body(axum::body::Body::from(body)) {
        Ok(r) => r,
        Err(e) => {
            let mut r = ApiGatewayV2httpResponse::default();
            r.status_code = 400;
            r.body = Some(Body::Text(format!("bad request: {e}")));
            return r;
        }
    };
    let res = match router.oneshot(request).await {
        Ok(r) => r,
        Err(e) => match e {},
    };
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 8 << 20)
        .await
        .unwrap_or_default();
    let mut r = ApiGatewayV2httpResponse::default();
    r.status_code = parts.status.as_u16() as i64;
    let mut cookies = Vec::new();
    for (k, v) in parts.headers.iter() {
        if k == axum::http::header::SET_COOKIE {
            if let Ok(c) = v.to_str() {
                cookies.push(c.to_string());
            }
            continue;
        }
        r.headers.insert(k.clone(), v.clone());
    }
    r.cookies = cookies;
    r.body = Some(Body::Text(String::from_utf8_lossy(&bytes).into_owned()));
    r
}
