//! Odoo (ERP) external API, low level: a typed JSON-RPC client plus the value helpers every
//! Odoo mapping needs. Facts from `spec/vendor-apis/odoo.md` (observed on Odoo 17; 14–18 use
//! the same protocol):
//!
//! - One endpoint, `POST /jsonrpc`, body `{"jsonrpc":"2.0","method":"call","id":N,
//!   "params":{"service","method","args"}}`; `common.version`, `common.authenticate`
//!   (uid, or `false` on bad credentials — not an error) and `object.execute_kw(db, uid,
//!   key, model, method, args, kwargs)`. An API key goes exactly where the password goes.
//! - A method returning `None` answers without a `result` key: read as `null`.
//! - Errors come back with HTTP 200 as `{"error":{"code":200,"data":{"name","message"}}}`;
//!   `data.name` (e.g. `odoo.exceptions.ValidationError`) is the discriminator. They become
//!   [`ConnectorError::Vendor`] with message `"<exception name>: <message>"` (see
//!   [`fault_name`]), except `AccessDenied`, which is [`ConnectorError::Auth`].
//! - Reads encode empty values as `false`, many2one as `[id, "display name"]`, datetimes as
//!   `"YYYY-MM-DD HH:MM:SS"` UTC: see [`many2one`], [`text`], [`parse_datetime`].
//!
//! Retries. Every Odoo call is a POST and each call is its own transaction, so whether a
//! repeat is harmless depends on the method ([`is_retry_safe`]):
//! - safe, retried on 5xx/timeouts/resets with the shared backoff: `common.*`, `db.*`, and
//!   the read methods (`search`, `search_read`, `search_count`, `read`, `fields_get`,
//!   `name_search`, `name_get`, `read_group`, `default_get`, `check_access_rights`,
//!   `has_access`), plus `write` when its values hold no x2many create (`[0,…]`) or delete
//!   (`[2,…]`) command — writing the same absolute values twice ends in the same state (a
//!   second `write_date` bump at most);
//! - not safe: `create`, `unlink`, `action_*` and any other method: a 5xx or timeout fails as
//!   [`ConnectorError::Ambiguous`] and the caller looks the record up before trying again.
//!
//! The transport is one module-private function ([`OdooClient::call`]), so JSON-2 (Odoo 19+)
//! can replace it without touching callers.

use crate::error::ConnectorError;
use crate::http::{Auth, CallStats, Http, RetryPolicy};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub const SYSTEM: &str = "odoo";

/// A record as read: field name → value.
pub type OdooRecord = Map<String, Value>;

/// Settings of an Odoo connection (ODO-8: URL, user, API key, database).
#[derive(Clone)]
pub struct OdooSettings {
    /// Server root, e.g. `https://acme.odoo.com`. A pasted browser URL (`…/odoo/…`,
    /// `…/web#…`) or endpoint URL (`…/jsonrpc`) is cut back to the root.
    pub url: String,
    pub database: String,
    pub login: String,
    /// API key (or password; a user with 2FA needs a key).
    pub api_key: String,
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for OdooSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OdooSettings")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("login", &self.login)
            .field("api_key", &"***")
            .field("retry", &self.retry)
            .finish()
    }
}

/// Typed low-level client of one Odoo database.
pub struct OdooClient {
    http: Http,
    database: String,
    login: String,
    api_key: String,
    uid: Mutex<Option<i64>>,
    next_id: AtomicU64,
}

/// `https://x.odoo.com/odoo/contacts/7` → `https://x.odoo.com`; keeps a path prefix that is
/// not an Odoo route (a reverse-proxy mount).
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let url = url.split(['#', '?']).next().unwrap_or(url);
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("https", url),
    };
    let mut parts = rest.split('/');
    let host = parts.next().unwrap_or("");
    let mut keep = Vec::new();
    for seg in parts {
        if matches!(seg, "web" | "odoo" | "jsonrpc" | "xmlrpc" | "json") {
            break;
        }
        if !seg.is_empty() {
            keep.push(seg);
        }
    }
    let mut out = format!("{scheme}://{host}");
    for s in keep {
        out.push('/');
        out.push_str(s);
    }
    out
}

/// Whether repeating `model.method` with these arguments is harmless (module doc).
pub fn is_retry_safe(method: &str, args: &Value) -> bool {
    match method {
        "search"
        | "search_read"
        | "search_count"
        | "read"
        | "fields_get"
        | "name_search"
        | "name_get"
        | "read_group"
        | "default_get"
        | "check_access_rights"
        | "has_access"
        | "search_fetch"
        | "web_search_read" => true,
        "write" => {
            let vals = args.get(1).and_then(Value::as_object);
            vals.is_some_and(|v| {
                !v.values().any(|x| {
                    x.as_array().is_some_and(|cmds| {
                        cmds.iter()
                            .any(|c| matches!(c.get(0).and_then(Value::as_i64), Some(0) | Some(2)))
                    })
                })
            })
        }
        _ => false,
    }
}

/// The Odoo exception name of an error made by this module (`odoo.exceptions.UserError`,
/// `builtins.ValueError`, …), or `None` for other errors.
pub fn fault_name(err: &ConnectorError) -> Option<&str> {
    match err {
        ConnectorError::Vendor {
            system, message, ..
        } if system == SYSTEM => message
            .split_once(": ")
            .map(|(name, _)| name)
            .filter(|n| n.contains('.') && !n.contains(' ')),
        _ => None,
    }
}

/// Odoo's own message of an error made by this module (without the exception name).
pub fn fault_message(err: &ConnectorError) -> Option<&str> {
    match err {
        ConnectorError::Vendor { message, .. } if fault_name(err).is_some() => {
            message.split_once(": ").map(|(_, m)| m)
        }
        _ => None,
    }
}

impl OdooClient {
    pub fn new(s: OdooSettings) -> OdooClient {
        OdooClient {
            http: Http::new(SYSTEM, &normalize_url(&s.url), Auth::None, s.retry),
            database: s.database,
            login: s.login,
            api_key: s.api_key,
            uid: Mutex::new(None),
            next_id: AtomicU64::new(1),
        }
    }

    /// Caps the calls of one run (see [`OdooClient::reset_budget`]).
    pub fn with_budget(mut self, budget: Option<u64>) -> OdooClient {
        self.http = self.http.with_budget(budget);
        self
    }

    pub fn reset_budget(&self) {
        self.http.reset_budget()
    }

    /// The server root the client talks to.
    pub fn base_url(&self) -> &str {
        self.http.base()
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// HTTP calls made so far (every RPC is one POST), retries included.
    pub fn calls(&self) -> CallStats {
        self.http.stats()
    }

    fn credentials_rejected(&self, detail: &str) -> ConnectorError {
        ConnectorError::Auth {
            system: SYSTEM.into(),
            status: 200,
            message: format!(
                "Odoo rejected the credentials for user {} on database {}{detail}",
                self.login, self.database
            ),
            hint: "check connections.odoo login, api_key and database (Odoo → Preferences → \
                   Account Security → New API Key; users with 2FA need a key; on Odoo 18 keys \
                   of non-admin users expire after 1 day unless an admin creates them)"
                .into(),
        }
    }

    fn no_endpoint(&self) -> ConnectorError {
        ConnectorError::Vendor {
            system: SYSTEM.into(),
            status: 404,
            message: format!(
                "no Odoo external API at {}/jsonrpc; check connections.odoo url",
                self.http.base()
            ),
            transient: false,
        }
    }

    /// One JSON-RPC call. A missing `result` (a Python `None`) reads as `null`.
    pub async fn call(
        &self,
        service: &str,
        method: &str,
        args: Value,
        retry_safe: bool,
    ) -> Result<Value, ConnectorError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({
            "jsonrpc": "2.0",
            "method": "call",
            "id": id,
            "params": {"service": service, "method": method, "args": args},
        });
        let sent = if retry_safe {
            self.http.post_idempotent("jsonrpc", &body).await
        } else {
            self.http.post("jsonrpc", &body).await
        };
        let answer = sent.map_err(|e| match e {
            ConnectorError::NotFound { .. } => self.no_endpoint(),
            other => other,
        })?;
        let b = answer.body;
        if let Some(err) = b.get("error") {
            return Err(self.rpc_error(err));
        }
        if !b.is_object() {
            return Err(ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: format!("{service}.{method}: not a JSON-RPC response"),
            });
        }
        Ok(b.get("result").cloned().unwrap_or(Value::Null))
    }

    fn rpc_error(&self, err: &Value) -> ConnectorError {
        let name = err
            .pointer("/data/name")
            .and_then(Value::as_str)
            .unwrap_or("odoo.error");
        let message = err
            .pointer("/data/message")
            .and_then(Value::as_str)
            .or_else(|| err.get("message").and_then(Value::as_str))
            .unwrap_or("(no message)");
        if name == "odoo.exceptions.AccessDenied" {
            return self.credentials_rejected(&format!(" ({message})"));
        }
        if err.get("code").and_then(Value::as_u64) == Some(404) {
            return self.no_endpoint();
        }
        // A database that does not exist is a settings error, said so (PostgreSQL's own
        // text, `connection to server … database "x" does not exist`, names no fix).
        if message.contains("does not exist") && message.contains("database") {
            return ConnectorError::Vendor {
                system: SYSTEM.into(),
                status: 200,
                message: format!(
                    "{name}: {} -- no database named '{}' on this server; check \
                     connections.{SYSTEM}.database (the server lists its databases at \
                     /web/database/selector)",
                    message.trim_end(),
                    self.database
                ),
                transient: false,
            };
        }
        // Database-level trouble is worth a later retry.
        let transient = name.starts_with("psycopg2.") && !message.contains("does not exist");
        ConnectorError::Vendor {
            system: SYSTEM.into(),
            status: err.get("code").and_then(Value::as_u64).unwrap_or(200) as u16,
            message: format!("{name}: {}", message.trim_end()),
            transient,
        }
    }

    /// `common.version()` as the server sends it.
    pub async fn server_version(&self) -> Result<Value, ConnectorError> {
        self.call("common", "version", json!([]), true).await
    }

    /// Major version from `server_version_info[0]` (SaaS `saas~17.4` → 17).
    pub async fn version(&self) -> Result<u32, ConnectorError> {
        let v = self.server_version().await?;
        v.pointer("/server_version_info/0")
            .and_then(Value::as_u64)
            .map(|n| n as u32)
            .or_else(|| {
                let s = v.get("server_version")?.as_str()?;
                let s = s.trim_start_matches("saas~");
                s.split('.').next()?.parse().ok()
            })
            .ok_or_else(|| ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: format!("common.version: no server_version_info in {v}"),
            })
    }

    /// `common.authenticate`: the uid, cached for later calls. `false` (bad login, key or
    /// password) is [`ConnectorError::Auth`].
    pub async fn authenticate(&self) -> Result<i64, ConnectorError> {
        let r = self
            .call(
                "common",
                "authenticate",
                json!([self.database, self.login, self.api_key, {}]),
                true,
            )
            .await?;
        match r.as_i64() {
            Some(uid) if uid > 0 => {
                *self.uid.lock().expect("uid lock") = Some(uid);
                Ok(uid)
            }
            _ => Err(self.credentials_rejected("")),
        }
    }

    /// The cached uid, authenticating first when needed.
    pub async fn uid(&self) -> Result<i64, ConnectorError> {
        let cached = *self.uid.lock().expect("uid lock");
        match cached {
            Some(u) => Ok(u),
            None => self.authenticate().await,
        }
    }

    /// ODO-8 setup check: the server answers, speaks a known protocol and accepts the
    /// credentials. Returns (major version, uid).
    pub async fn check(&self) -> Result<(u32, i64), ConnectorError> {
        let v = self.version().await?;
        let uid = self.authenticate().await?;
        Ok((v, uid))
    }

    /// `object.execute_kw(db, uid, key, model, method, args, kwargs)`.
    pub async fn execute_kw(
        &self,
        model: &str,
        method: &str,
        args: Value,
        kwargs: Value,
    ) -> Result<Value, ConnectorError> {
        let uid = self.uid().await?;
        let kwargs = if kwargs.is_null() { json!({}) } else { kwargs };
        let safe = is_retry_safe(method, &args);
        let r = self
            .call(
                "object",
                "execute_kw",
                json!([
                    self.database,
                    uid,
                    self.api_key,
                    model,
                    method,
                    args,
                    kwargs
                ]),
                safe,
            )
            .await;
        if let Err(ConnectorError::Auth { .. }) = &r {
            *self.uid.lock().expect("uid lock") = None;
        }
        r
    }

    fn records(model: &str, method: &str, v: Value) -> Result<Vec<OdooRecord>, ConnectorError> {
        let Value::Array(rows) = v else {
            return Err(ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: format!("{model}.{method}: expected a list, got {v}"),
            });
        };
        rows.into_iter()
            .map(|r| match r {
                Value::Object(o) => Ok(o),
                other => Err(ConnectorError::Decode {
                    system: SYSTEM.into(),
                    detail: format!("{model}.{method}: expected a record, got {other}"),
                }),
            })
            .collect()
    }

    fn paging(kw: &mut Map<String, Value>, limit: Option<u32>, offset: u32, order: Option<&str>) {
        if let Some(l) = limit {
            kw.insert("limit".into(), json!(l));
        }
        if offset > 0 {
            kw.insert("offset".into(), json!(offset));
        }
        if let Some(o) = order {
            kw.insert("order".into(), json!(o));
        }
    }

    /// `search`: ids in `order` (Odoo's default order when `None`).
    pub async fn search(
        &self,
        model: &str,
        domain: &Domain,
        limit: Option<u32>,
        offset: u32,
        order: Option<&str>,
    ) -> Result<Vec<i64>, ConnectorError> {
        let mut kw = Map::new();
        Self::paging(&mut kw, limit, offset, order);
        let v = self
            .execute_kw(
                model,
                "search",
                json!([domain.to_value()]),
                Value::Object(kw),
            )
            .await?;
        ids(&v).ok_or_else(|| ConnectorError::Decode {
            system: SYSTEM.into(),
            detail: format!("{model}.search: expected ids, got {v}"),
        })
    }

    pub async fn search_count(&self, model: &str, domain: &Domain) -> Result<u64, ConnectorError> {
        let v = self
            .execute_kw(model, "search_count", json!([domain.to_value()]), json!({}))
            .await?;
        v.as_u64().ok_or_else(|| ConnectorError::Decode {
            system: SYSTEM.into(),
            detail: format!("{model}.search_count: expected a number, got {v}"),
        })
    }

    /// `search_read`; `fields` empty means every field. Use a total `order` (e.g.
    /// `"write_date asc, id asc"`) when paging.
    pub async fn search_read(
        &self,
        model: &str,
        domain: &Domain,
        fields: &[&str],
        limit: Option<u32>,
        offset: u32,
        order: Option<&str>,
    ) -> Result<Vec<OdooRecord>, ConnectorError> {
        let mut kw = Map::new();
        kw.insert("fields".into(), json!(fields));
        Self::paging(&mut kw, limit, offset, order);
        let v = self
            .execute_kw(
                model,
                "search_read",
                json!([domain.to_value()]),
                Value::Object(kw),
            )
            .await?;
        Self::records(model, "search_read", v)
    }

    /// `read`: unknown or deleted ids are silently missing from the answer.
    pub async fn read(
        &self,
        model: &str,
        ids: &[i64],
        fields: &[&str],
    ) -> Result<Vec<OdooRecord>, ConnectorError> {
        let v = self
            .execute_kw(model, "read", json!([ids]), json!({ "fields": fields }))
            .await?;
        Self::records(model, "read", v)
    }

    /// `create` with one dict of values; the new id.
    pub async fn create(&self, model: &str, vals: Value) -> Result<i64, ConnectorError> {
        let v = self
            .execute_kw(model, "create", json!([vals]), json!({}))
            .await?;
        v.as_i64().ok_or_else(|| ConnectorError::Decode {
            system: SYSTEM.into(),
            detail: format!("{model}.create: expected an id, got {v}"),
        })
    }

    /// Batch `create` (one call, one transaction); the new ids in order.
    pub async fn create_many(
        &self,
        model: &str,
        vals: Vec<Value>,
    ) -> Result<Vec<i64>, ConnectorError> {
        let v = self
            .execute_kw(model, "create", json!([vals]), json!({}))
            .await?;
        ids(&v).ok_or_else(|| ConnectorError::Decode {
            system: SYSTEM.into(),
            detail: format!("{model}.create: expected ids, got {v}"),
        })
    }

    /// `write` the same values to every id.
    pub async fn write(&self, model: &str, ids: &[i64], vals: Value) -> Result<(), ConnectorError> {
        self.execute_kw(model, "write", json!([ids, vals]), json!({}))
            .await
            .map(|_| ())
    }

    /// `fields_get` with the given attributes (all when empty): field name → attributes.
    /// The way to learn what this server has (`qty_to_deliver` only with `sale_stock`,
    /// `detailed_type` only up to 17, …).
    pub async fn fields_get(
        &self,
        model: &str,
        attributes: &[&str],
    ) -> Result<OdooRecord, ConnectorError> {
        let kw = if attributes.is_empty() {
            json!({})
        } else {
            json!({ "attributes": attributes })
        };
        match self.execute_kw(model, "fields_get", json!([]), kw).await? {
            Value::Object(o) => Ok(o),
            other => Err(ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: format!("{model}.fields_get: expected an object, got {other}"),
            }),
        }
    }

    /// `name_search`: `(id, display name)` pairs.
    pub async fn name_search(
        &self,
        model: &str,
        name: &str,
        limit: u32,
    ) -> Result<Vec<(i64, String)>, ConnectorError> {
        let v = self
            .execute_kw(
                model,
                "name_search",
                json!([name]),
                json!({ "limit": limit }),
            )
            .await?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(many2one).collect())
            .unwrap_or_default())
    }
}

// ------------------------------------------------------------------ value helpers

fn ids(v: &Value) -> Option<Vec<i64>> {
    v.as_array()?.iter().map(Value::as_i64).collect()
}

/// A many2one as read: `[id, "display name"]`, or `None` for `false`.
pub fn many2one(v: &Value) -> Option<(i64, String)> {
    let a = v.as_array()?;
    let id = a.first()?.as_i64()?;
    let name = a.get(1).and_then(Value::as_str).unwrap_or("").to_string();
    Some((id, name))
}

/// The id of a many2one as read (`[id, name]`) or as written (`id`).
pub fn many2one_id(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| many2one(v).map(|(id, _)| id))
}

/// A char/text/selection value: `None` for Odoo's `false` (and `null` or `""`).
pub fn text(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

/// [`text`] with `false` as the empty string.
pub fn text_or_empty(v: &Value) -> String {
    text(v).unwrap_or("").to_string()
}

/// A float/monetary/integer value (`false` → `None`).
pub fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// x2many ids as read.
pub fn x2many_ids(v: &Value) -> Vec<i64> {
    ids(v).unwrap_or_default()
}

/// Odoo's datetime wire format (UTC, seconds).
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// `"YYYY-MM-DD HH:MM:SS"` (UTC, the read format; a fraction is accepted too).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, DATETIME_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|t| t.and_utc())
}

/// A datetime field as read (`false` → `None`).
pub fn datetime(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(parse_datetime)
}

/// The value to send for a datetime (write or domain): UTC, truncated to seconds.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    t.format(DATETIME_FORMAT).to_string()
}

/// A date field as read (`"YYYY-MM-DD"`, `false` → `None`).
pub fn date(v: &Value) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(v.as_str()?, "%Y-%m-%d").ok()
}

/// x2many write commands.
pub mod command {
    use serde_json::{json, Value};

    /// `[0, 0, vals]`: create a linked record.
    pub fn create(vals: Value) -> Value {
        json!([0, 0, vals])
    }
    /// `[1, id, vals]`: update a linked record.
    pub fn update(id: i64, vals: Value) -> Value {
        json!([1, id, vals])
    }
    /// `[2, id, 0]`: delete the record.
    pub fn delete(id: i64) -> Value {
        json!([2, id, 0])
    }
    /// `[3, id, 0]`: remove the link (one2many with a cascading inverse: delete).
    pub fn unlink(id: i64) -> Value {
        json!([3, id, 0])
    }
    /// `[4, id, 0]`: link an existing record.
    pub fn link(id: i64) -> Value {
        json!([4, id, 0])
    }
    /// `[5, 0, 0]`: remove every link.
    pub fn clear() -> Value {
        json!([5, 0, 0])
    }
    /// `[6, 0, ids]`: replace the links.
    pub fn set(ids: &[i64]) -> Value {
        json!([6, 0, ids])
    }
}

/// An Odoo domain, built as an implicit AND of terms, each a prefix-notation expression.
///
/// ```
/// use puente_connectors::odoo::Domain;
/// let d = Domain::new()
///     .eq("is_company", true)
///     .or_else(Domain::new().ne("ref", false));
/// assert_eq!(d.to_value().to_string(),
///     r#"["|",["is_company","=",true],["ref","!=",false]]"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Domain {
    terms: Vec<Vec<Value>>,
}

impl Domain {
    /// The empty domain (every record).
    pub fn new() -> Domain {
        Domain::default()
    }

    /// One leaf `(field, op, value)`.
    pub fn leaf(field: &str, op: &str, value: impl Into<Value>) -> Domain {
        Domain {
            terms: vec![vec![json!([field, op, value.into()])]],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Both.
    pub fn and(mut self, other: Domain) -> Domain {
        self.terms.extend(other.terms);
        self
    }

    /// Either (`'|'`). An empty side matches everything, so the result does too.
    pub fn or_else(self, other: Domain) -> Domain {
        if self.is_empty() || other.is_empty() {
            return Domain::new();
        }
        let mut t = vec![json!("|")];
        t.extend(self.expr());
        t.extend(other.expr());
        Domain { terms: vec![t] }
    }

    /// Any of several domains.
    pub fn any_of(domains: impl IntoIterator<Item = Domain>) -> Domain {
        let mut it = domains.into_iter();
        let Some(first) = it.next() else {
            // OR of nothing: no record.
            return Domain::leaf_false();
        };
        it.fold(first, Domain::or_else)
    }

    /// Negation (`'!'`).
    pub fn negate(self) -> Domain {
        if self.is_empty() {
            return Domain::leaf_false();
        }
        let mut t = vec![json!("!")];
        t.extend(self.expr());
        Domain { terms: vec![t] }
    }

    fn leaf_false() -> Domain {
        Domain {
            terms: vec![vec![json!([0, "=", 1])]],
        }
    }

    /// The domain as a single prefix expression.
    fn expr(&self) -> Vec<Value> {
        let mut out: Vec<Value> = (1..self.terms.len()).map(|_| json!("&")).collect();
        for t in &self.terms {
            out.extend(t.iter().cloned());
        }
        out
    }

    /// What `execute_kw` takes.
    pub fn to_value(&self) -> Value {
        Value::Array(self.terms.iter().flatten().cloned().collect())
    }

    pub fn eq(self, field: &str, v: impl Into<Value>) -> Domain {
        self.and(Domain::leaf(field, "=", v))
    }
    pub fn ne(self, field: &str, v: impl Into<Value>) -> Domain {
        self.and(Domain::leaf(field, "!=", v))
    }
    pub fn gt(self, field: &str, v: impl Into<Value>) -> Domain {
        self.and(Domain::leaf(field, ">", v))
    }
    pub fn ge(self, field: &str, v: impl Into<Value>) -> Domain {
        self.and(Domain::leaf(field, ">=", v))
    }
    pub fn lt(self, field: &str, v: impl Into<Value>) -> Domain {
        self.and(Domain::leaf(field, "<", v))
    }
    pub fn le(self, field: &str, v: impl Into<Value>) -> Domain {
        self.and(Domain::leaf(field, "<=", v))
    }
    pub fn is_in<T: Into<Value>>(self, field: &str, vs: impl IntoIterator<Item = T>) -> Domain {
        let list: Vec<Value> = vs.into_iter().map(Into::into).collect();
        self.and(Domain::leaf(field, "in", list))
    }
    pub fn not_in<T: Into<Value>>(self, field: &str, vs: impl IntoIterator<Item = T>) -> Domain {
        let list: Vec<Value> = vs.into_iter().map(Into::into).collect();
        self.and(Domain::leaf(field, "not in", list))
    }
    /// Case-insensitive substring.
    pub fn ilike(self, field: &str, v: &str) -> Domain {
        self.and(Domain::leaf(field, "ilike", v))
    }
    pub fn like(self, field: &str, v: &str) -> Domain {
        self.and(Domain::leaf(field, "like", v))
    }
    /// Case-insensitive equality (a pattern: `%` and `_` are wildcards).
    pub fn eq_ilike(self, field: &str, v: &str) -> Domain {
        self.and(Domain::leaf(field, "=ilike", v))
    }
    /// `field >= t` for a datetime field (incremental sync; use an overlap window and
    /// de-duplicate on `(id, write_date)`: `write_date` is the transaction start).
    pub fn since(self, field: &str, t: DateTime<Utc>) -> Domain {
        self.ge(field, format_datetime(t))
    }
}

impl From<Domain> for Value {
    fn from(d: Domain) -> Value {
        d.to_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odo8_urls_are_cut_back_to_the_server_root() {
        assert_eq!(
            normalize_url("https://acme.odoo.com/odoo/contacts/7"),
            "https://acme.odoo.com"
        );
        assert_eq!(
            normalize_url("https://acme.odoo.com/web#id=3&model=res.partner"),
            "https://acme.odoo.com"
        );
        assert_eq!(
            normalize_url("http://127.0.0.1:8069/jsonrpc"),
            "http://127.0.0.1:8069"
        );
        assert_eq!(
            normalize_url("http://erp.local/odoo17/"),
            "http://erp.local/odoo17"
        );
        assert_eq!(normalize_url("erp.example.es"), "https://erp.example.es");
    }

    #[test]
    fn domains_build_prefix_notation() {
        let d = Domain::new().eq("a", 1).ne("b", false);
        assert_eq!(d.to_value(), json!([["a", "=", 1], ["b", "!=", false]]));
        let o = Domain::new()
            .eq("a", 1)
            .ne("b", false)
            .or_else(Domain::leaf("c", "in", json!([1, 2])));
        assert_eq!(
            o.to_value(),
            json!([
                "|",
                "&",
                ["a", "=", 1],
                ["b", "!=", false],
                ["c", "in", [1, 2]]
            ])
        );
        let n = Domain::leaf("x", "=", "y")
            .negate()
            .and(Domain::new().is_in("id", [1, 2]));
        assert_eq!(
            n.to_value(),
            json!(["!", ["x", "=", "y"], ["id", "in", [1, 2]]])
        );
        assert_eq!(Domain::any_of(vec![]).to_value(), json!([[0, "=", 1]]));
        assert_eq!(
            Domain::any_of(vec![
                Domain::leaf("a", "=", 1),
                Domain::leaf("b", "=", 2),
                Domain::leaf("c", "=", 3)
            ])
            .to_value(),
            json!(["|", "|", ["a", "=", 1], ["b", "=", 2], ["c", "=", 3]])
        );
        assert!(Domain::new().or_else(Domain::leaf("a", "=", 1)).is_empty());
    }

    #[test]
    fn value_helpers_decode_odoo_encodings() {
        assert_eq!(
            many2one(&json!([7, "Acme, Ana"])),
            Some((7, "Acme, Ana".into()))
        );
        assert_eq!(many2one(&json!(false)), None);
        assert_eq!(many2one_id(&json!(7)), Some(7));
        assert_eq!(text(&json!(false)), None);
        assert_eq!(text(&json!("")), None);
        assert_eq!(text_or_empty(&json!(false)), "");
        assert_eq!(text(&json!("x")), Some("x"));
        let t = parse_datetime("2026-11-22 17:57:44").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T17:57:44+00:00");
        assert_eq!(format_datetime(t), "2026-11-22 17:57:44");
        assert!(parse_datetime("2026-11-22 17:57:44.006051").is_some());
        assert_eq!(datetime(&json!(false)), None);
        assert_eq!(
            date(&json!("2026-01-02")),
            NaiveDate::from_ymd_opt(2026, 1, 2)
        );
        assert_eq!(x2many_ids(&json!([3, 4])), vec![3, 4]);
        assert_eq!(command::create(json!({"a": 1})), json!([0, 0, {"a": 1}]));
        assert_eq!(command::set(&[1, 2]), json!([6, 0, [1, 2]]));
    }

    #[test]
    fn reads_and_plain_writes_are_retry_safe_creates_are_not() {
        assert!(is_retry_safe("search_read", &json!([[]])));
        assert!(is_retry_safe("read", &json!([[1]])));
        assert!(is_retry_safe("write", &json!([[1], {"name": "x"}])));
        assert!(is_retry_safe(
            "write",
            &json!([[1], {"tax_id": [[6, 0, [1]]]}])
        ));
        assert!(!is_retry_safe(
            "write",
            &json!([[1], {"order_line": [[0, 0, {}]]}])
        ));
        assert!(!is_retry_safe(
            "write",
            &json!([[1], {"order_line": [[2, 5, 0]]}])
        ));
        assert!(!is_retry_safe("create", &json!([{}])));
        assert!(!is_retry_safe("action_confirm", &json!([[1]])));
        assert!(!is_retry_safe("unlink", &json!([[1]])));
    }

    #[test]
    fn fault_names_are_split_from_messages() {
        let e = ConnectorError::Vendor {
            system: SYSTEM.into(),
            status: 200,
            message:
                "odoo.exceptions.ValidationError: You cannot create recursive Partner hierarchies."
                    .into(),
            transient: false,
        };
        assert_eq!(fault_name(&e), Some("odoo.exceptions.ValidationError"));
        assert_eq!(
            fault_message(&e),
            Some("You cannot create recursive Partner hierarchies.")
        );
        let other = ConnectorError::Vendor {
            system: "clientify".into(),
            status: 400,
            message: "name: This field is required.".into(),
            transient: false,
        };
        assert_eq!(fault_name(&other), None);
    }
}
