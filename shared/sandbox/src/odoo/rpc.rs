//! The HTTP side: the `common`, `db` and `object` services, `/jsonrpc`, `/xmlrpc/2/*` and the
//! legacy `/xmlrpc/*`, werkzeug's 404 and 400 pages, and the router.

use std::io;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::base::{base_data, load_seed};
use super::fault::{access_denied, fault, py_repr, type_err, user_err, value_err, Exc, R};
use super::models::build_schema;
use super::schema::Schema;
use super::tx::{Data, Tx};
use super::values::{str_of, truthy};
use super::xml::{parse_document, xml_fault, xml_response, xml_value, XEl};
use super::{Obj, OdooConfig, OdooSeed, ADMIN_UID};
use crate::kit::faults::FaultReplies;
use crate::kit::{lock, Common};

struct Inner {
    cfg: OdooConfig,
    schema: Schema,
    data: Mutex<Data>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

impl App {
    fn version_info(&self) -> Value {
        let v = self.inner.cfg.version;
        json!({
            "server_version": format!("{v}.0"),
            "server_version_info": [v, 0, 0, "final", 0, ""],
            "server_serie": format!("{v}.0"),
            "protocol_version": 1,
        })
    }

    /// Opening the registry of a missing database [§4 psycopg2.OperationalError].
    fn check_db(&self, db: &Value) -> R<()> {
        let name = str_of(db);
        if name == self.inner.cfg.database {
            return Ok(());
        }
        Err(fault(
            Exc::Operational,
            format!(
                "connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: \
                 FATAL:  database \"{}\" does not exist\n",
                if name.is_empty() {
                    py_repr(db)
                } else {
                    name.to_string()
                }
            ),
        ))
    }

    /// API key or password, exactly where the password goes [§2].
    fn secret_ok(&self, secret: &Value) -> bool {
        let s = str_of(secret);
        !s.is_empty() && (s == self.inner.cfg.api_key || s == self.inner.cfg.password)
    }

    fn login(&self, params: &[Value]) -> R<Value> {
        let db = params.first().cloned().unwrap_or(Value::Null);
        self.check_db(&db)?;
        let login = params.get(1).map(str_of).unwrap_or("");
        let secret = params.get(2).cloned().unwrap_or(Value::Null);
        if login == self.inner.cfg.login && self.secret_ok(&secret) {
            Ok(json!(ADMIN_UID))
        } else {
            tracing::info!("Login failed for db:{} login:{login} from n/a", str_of(&db));
            Ok(Value::Bool(false))
        }
    }

    fn dispatch(&self, service: &str, method: &str, params: &[Value]) -> R<Option<Value>> {
        self.common.record_call(&format!("{service}.{method}"));
        match service {
            "common" => match method {
                "version" => Ok(Some(self.version_info())),
                "login" => {
                    if params.len() != 3 {
                        return Err(type_err(format!(
                            "exp_login() takes 3 positional arguments but {} were given",
                            params.len()
                        )));
                    }
                    self.login(params).map(Some)
                }
                "authenticate" => {
                    if params.len() < 3 || params.len() > 4 {
                        return Err(type_err(format!(
                            "exp_authenticate() takes 4 positional arguments but {} were given",
                            params.len()
                        )));
                    }
                    self.login(params).map(Some)
                }
                "about" => Ok(Some(json!("See http://openerp.com"))),
                _ => Err(fault(Exc::Name, format!("Method not available {method}"))),
            },
            "db" => match method {
                "server_version" => Ok(Some(json!(format!("{}.0", self.inner.cfg.version)))),
                "db_exist" => Ok(Some(json!(
                    params.first().map(str_of) == Some(self.inner.cfg.database.as_str())
                ))),
                "list" => Ok(Some(json!([self.inner.cfg.database]))),
                _ => Err(access_denied()),
            },
            "object" => match method {
                "execute_kw" => self.execute(params, true),
                "execute" => self.execute(params, false),
                _ => Err(fault(Exc::Name, format!("Method not available {method}"))),
            },
            other => Err(fault(Exc::Key, py_repr(&json!(other)))),
        }
    }

    fn execute(&self, params: &[Value], kw: bool) -> R<Option<Value>> {
        let name = if kw { "execute_kw" } else { "execute" };
        if params.len() < 5 {
            return Err(type_err(format!(
                "{name}() missing {} required positional arguments",
                5 - params.len()
            )));
        }
        let (db, uid, secret, model, method) =
            (&params[0], &params[1], &params[2], &params[3], &params[4]);
        let model = str_of(model).to_string();
        let method = str_of(method).to_string();
        self.common.record_call(&format!("{name} {model}.{method}"));
        self.check_db(db)?;
        let uid = match uid {
            Value::Number(n) => n.as_i64().unwrap_or(0),
            Value::Bool(b) => i64::from(*b),
            Value::String(s) => s.trim().parse::<i64>().map_err(|_| {
                value_err(format!(
                    "invalid literal for int() with base 10: {}",
                    py_repr(uid)
                ))
            })?,
            _ => 0,
        };
        if uid != ADMIN_UID || !self.secret_ok(secret) {
            return Err(access_denied());
        }
        let (args, kwargs): (Vec<Value>, Obj) = if kw {
            let args = match params.get(5) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a.clone(),
                Some(other) => {
                    return Err(type_err(format!(
                        "execute_kw() args must be a list, not {}",
                        py_repr(other)
                    )))
                }
            };
            let kwargs = match params.get(6) {
                None | Some(Value::Null) => Obj::new(),
                Some(Value::Object(o)) => o.clone(),
                Some(other) => {
                    return Err(type_err(format!(
                        "execute_kw() argument after ** must be a mapping, not {}",
                        py_repr(other)
                    )))
                }
            };
            (args, kwargs)
        } else {
            (params[5..].to_vec(), Obj::new())
        };
        let active_test = kwargs
            .get("context")
            .and_then(|c| c.get("active_test"))
            .map(truthy)
            .unwrap_or(true);
        let schema = &self.inner.schema;
        let m = schema
            .models
            .get(model.as_str())
            .ok_or_else(|| user_err(format!("Object {model} doesn't exist")))?;
        let mut data = lock(&self.inner.data);
        let now = self.common.stamp();
        let mut tx = Tx::new(schema, &mut data, now, uid, active_test);
        let r = tx.call(m, &method, &args, &kwargs);
        if r.is_err() {
            tx.rollback();
        }
        r
    }
}

/// Injected faults: a proxy's plain 429 with `Retry-After`, and a JSON error body for 5xx.
pub(super) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || {
        let mut r = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1u32));
        r
    },
    server_error: |status| {
        let body = json!({"error": status.canonical_reason().unwrap_or("error")});
        (status, axum::Json(body)).into_response()
    },
};

fn html_404() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n\
         <p>The requested URL was not found on the server. If you entered the URL manually \
         please check your spelling and try again.</p>\n",
    )
        .into_response()
}

/// Unknown route: a JSON request gets a JSON-RPC error with code 404 (HTTP
/// 200) [§4], anything else werkzeug's HTML page.
async fn not_found(headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    if !is_json {
        return html_404();
    }
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null);
    let msg = "404 Not Found: The requested URL was not found on the server. If you entered \
               the URL manually please check your spelling and try again.";
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {
        "code": 404,
        "message": "404: Not Found",
        "data": {"name": "werkzeug.exceptions.NotFound", "debug": "", "message": msg,
                 "arguments": [], "context": {}},
    }});
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn bad_request(msg: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>{msg}</p>\n"
        ),
    )
        .into_response()
}

// Responses as `Err` values are the axum idiom (as in the other sandboxes).
#[allow(clippy::result_large_err)]
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !ct.contains("json") {
        return Err(bad_request(
            "Function declared as capable of handling request of type 'json' but called with a request of type 'http'",
        ));
    }
    serde_json::from_slice(body).map_err(|_| bad_request("Invalid JSON data"))
}

fn rpc_json(id: Value, r: R<Option<Value>>) -> Response {
    let body = match r {
        Ok(Some(v)) => json!({"jsonrpc": "2.0", "id": id, "result": v}),
        // A None result: no `result` key at all (observed) [§1].
        Ok(None) => json!({"jsonrpc": "2.0", "id": id}),
        Err(f) => json!({"jsonrpc": "2.0", "id": id, "error": f.json_error()}),
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `POST /jsonrpc` [§1].
async fn jsonrpc(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let params = req.get("params").cloned().unwrap_or(json!({}));
    let service = params.get("service").and_then(Value::as_str);
    let method = params.get("method").and_then(Value::as_str);
    let (Some(service), Some(method)) = (service, method) else {
        return rpc_json(
            id,
            Err(type_err(
                "jsonrpc() missing 2 required positional arguments: 'service' and 'method'",
            )),
        );
    };
    let args = match params.get("args") {
        Some(Value::Array(a)) => a.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => vec![other.clone()],
    };
    let r = app.dispatch(service, method, &args);
    rpc_json(id, r)
}

/// `POST /web/webclient/version_info` (JSON route, no auth).
async fn version_info(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    rpc_json(id, Ok(Some(app.version_info())))
}

fn xml_ok(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Runs an XML-RPC call; `legacy` selects `/xmlrpc/<service>` fault shapes.
fn xmlrpc_call(app: &App, service: &str, body: &Bytes, legacy: bool) -> Response {
    let version = app.inner.cfg.version;
    let parsed = std::str::from_utf8(body)
        .map_err(|e| e.to_string())
        .and_then(parse_document)
        .and_then(|root| {
            if root.name != "methodCall" {
                return Err("not a methodCall".into());
            }
            let method = root.child("methodName").map(XEl::text).unwrap_or_default();
            let mut params = Vec::new();
            if let Some(ps) = root.child("params") {
                for p in ps.elements().filter(|e| e.name == "param") {
                    let v = p.child("value").ok_or("param without value")?;
                    params.push(xml_value(v, version)?);
                }
            }
            Ok((method.trim().to_string(), params))
        });
    let r = match parsed {
        Ok((method, params)) => app
            .dispatch(service, &method, &params)
            .and_then(|v| match v {
                Some(v) => xml_response(&v),
                // The method ran and committed; marshalling None fails [§3].
                None => Err(type_err("cannot marshal None unless allow_none is enabled")),
            }),
        Err(e) => Err(fault(Exc::Expat, e)),
    };
    match r {
        Ok(body) => xml_ok(body),
        Err(f) if legacy => {
            let (code, string) = match f.exc {
                Exc::AccessDenied => ("AccessDenied".to_string(), String::new()),
                Exc::Missing => (
                    format!("warning -- MissingError\n\n{}", f.msg),
                    String::new(),
                ),
                Exc::AccessError => (
                    format!("warning -- AccessError\n\n{}", f.msg),
                    String::new(),
                ),
                Exc::User | Exc::Validation => {
                    (format!("warning -- UserError\n\n{}", f.msg), String::new())
                }
                _ => (f.msg.clone(), f.traceback()),
            };
            xml_ok(xml_fault(json!(code), &string))
        }
        Err(f) => xml_ok(xml_fault(json!(f.exc.code()), &f.fault_string())),
    }
}

async fn xmlrpc2(State(app): State<App>, Path(service): Path<String>, body: Bytes) -> Response {
    xmlrpc_call(&app, &service, &body, false)
}

async fn xmlrpc_legacy(
    State(app): State<App>,
    Path(service): Path<String>,
    body: Bytes,
) -> Response {
    xmlrpc_call(&app, &service, &body, true)
}

/// Builds the Odoo router with base data and `seed` loaded.
pub(crate) fn router(common: Arc<Common>, cfg: &OdooConfig, seed: OdooSeed) -> io::Result<Router> {
    if !(16..=18).contains(&cfg.version) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "odoo sandbox: version {} is not one of 16, 17, 18",
                cfg.version
            ),
        ));
    }
    let schema = build_schema(cfg.version, cfg.sale_stock);
    let mut data = Data::default();
    {
        let mut tx = Tx::new(&schema, &mut data, common.stamp(), ADMIN_UID, false);
        base_data(&mut tx, cfg);
        let latest = load_seed(&mut tx, seed).map_err(|f| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("odoo seed: {}: {}", f.exc.class(), f.msg),
            )
        })?;
        if let Some(t) = latest {
            common.observe(t);
        }
    }
    let app = App {
        common,
        inner: Arc::new(Inner {
            cfg: cfg.clone(),
            schema,
            data: Mutex::new(data),
        }),
    };
    Ok(Router::new()
        .route("/jsonrpc", post(jsonrpc))
        .route("/web/webclient/version_info", post(version_info))
        .route("/xmlrpc/2/{service}", post(xmlrpc2))
        .route("/xmlrpc/{service}", post(xmlrpc_legacy))
        .fallback(not_found)
        .with_state(app))
}
