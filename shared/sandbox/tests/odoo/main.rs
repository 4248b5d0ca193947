//! Black-box tests of the Odoo sandbox over real HTTP on loopback (JSON-RPC
//! and XML-RPC), against the facts of `spec/vendor-apis/odoo.md`.

mod partners;
mod protocol;
mod sales;
mod xmlrpc;

use puente_sandbox::odoo::{spanish_state_id, OdooConfig, OdooSeed, FIRST_PARTNER_ID, SPAIN_ID};
use puente_sandbox::{start_odoo, taxid, Sandbox};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Resp {
    status: u16,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn post_raw(url: &str, content_type: &str, body: &str) -> Resp {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(host).await.expect("connect");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").expect("size");
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            rest = &rest[nl + 4 + size..];
        }
        body = out;
    }
    Resp { status, body }
}

/// One JSON-RPC call; the whole response object.
async fn rpc(sb: &Sandbox, service: &str, method: &str, args: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "method": "call", "id": 7,
        "params": {"service": service, "method": method, "args": args}});
    let r = post_raw(
        &format!("{}/jsonrpc", sb.base_url),
        "application/json",
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

struct Odoo {
    sb: Sandbox,
    cfg: OdooConfig,
}

impl Odoo {
    async fn start(cfg: OdooConfig, seed: OdooSeed) -> Odoo {
        let sb = start_odoo(&cfg, None, seed).await.expect("start");
        Odoo { sb, cfg }
    }

    /// `execute_kw` answer (the whole JSON-RPC response).
    async fn kw_raw(&self, model: &str, method: &str, args: Value, kwargs: Value) -> Value {
        rpc(
            &self.sb,
            "object",
            "execute_kw",
            json!([
                self.cfg.database,
                2,
                self.cfg.api_key,
                model,
                method,
                args,
                kwargs
            ]),
        )
        .await
    }

    async fn kw(&self, model: &str, method: &str, args: Value, kwargs: Value) -> Value {
        let r = self.kw_raw(model, method, args, kwargs).await;
        assert!(r.get("error").is_none(), "{model}.{method}: {r}");
        r["result"].clone()
    }

    async fn err(&self, model: &str, method: &str, args: Value, kwargs: Value) -> (String, String) {
        let r = self.kw_raw(model, method, args, kwargs).await;
        let e = r.get("error").unwrap_or_else(|| panic!("no error: {r}"));
        assert_eq!(e["code"], 200);
        assert_eq!(e["message"], "Odoo Server Error");
        (
            e["data"]["name"].as_str().unwrap().to_string(),
            e["data"]["message"].as_str().unwrap().to_string(),
        )
    }

    async fn ids(&self, model: &str, domain: Value) -> Vec<i64> {
        let v = self
            .kw(model, "search", json!([domain]), json!({"order": "id"}))
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect()
    }

    async fn read1(&self, model: &str, id: i64, fields: Value) -> Value {
        let r = self
            .kw(model, "read", json!([[id]]), json!({ "fields": fields }))
            .await;
        r[0].clone()
    }
}

fn cfg(version: u8) -> OdooConfig {
    OdooConfig {
        version,
        ..OdooConfig::default()
    }
}

async fn empty(version: u8) -> Odoo {
    Odoo::start(cfg(version), OdooSeed::default()).await
}

fn xml_call(method: &str, params: &[&str]) -> String {
    let ps: String = params
        .iter()
        .map(|p| format!("<param><value>{p}</value></param>"))
        .collect();
    format!("<?xml version='1.0'?>\n<methodCall><methodName>{method}</methodName><params>{ps}</params></methodCall>")
}

async fn xml(sb: &Sandbox, path: &str, body: String) -> String {
    let r = post_raw(&format!("{}{path}", sb.base_url), "text/xml", &body).await;
    assert_eq!(r.status, 200);
    r.text()
}
