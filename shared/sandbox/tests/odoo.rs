//! Black-box tests of the Odoo sandbox over real HTTP on loopback (JSON-RPC
//! and XML-RPC), against the facts of `spec/vendor-apis/odoo.md`.

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

// ------------------------------------------------------------ protocol

#[tokio::test]
async fn version_and_authenticate_per_version() {
    for v in [16u8, 17, 18] {
        let o = empty(v).await;
        let r = rpc(&o.sb, "common", "version", json!([])).await;
        assert_eq!(r["jsonrpc"], "2.0");
        assert_eq!(r["id"], 7);
        assert_eq!(
            r["result"]["server_version_info"],
            json!([v, 0, 0, "final", 0, ""])
        );
        assert_eq!(r["result"]["server_version"], format!("{v}.0"));
        assert_eq!(r["result"]["protocol_version"], 1);
        let c = &o.cfg;
        for secret in [&c.api_key, &c.password] {
            let r = rpc(
                &o.sb,
                "common",
                "authenticate",
                json!([c.database, c.login, secret, {}]),
            )
            .await;
            assert_eq!(r["result"], 2);
        }
        let r = rpc(
            &o.sb,
            "common",
            "login",
            json!([c.database, c.login, c.api_key]),
        )
        .await;
        assert_eq!(r["result"], 2);
        // Bad credentials: `false`, not a fault [§1].
        let r = rpc(
            &o.sb,
            "common",
            "authenticate",
            json!([c.database, c.login, "nope", {}]),
        )
        .await;
        assert_eq!(r["result"], false);
        let r = rpc(
            &o.sb,
            "common",
            "authenticate",
            json!([c.database, "other", c.api_key, {}]),
        )
        .await;
        assert_eq!(r["result"], false);
        // Wrong database: psycopg2.OperationalError.
        let r = rpc(
            &o.sb,
            "common",
            "authenticate",
            json!(["nosuch", c.login, c.api_key, {}]),
        )
        .await;
        assert_eq!(r["error"]["data"]["name"], "psycopg2.OperationalError");
        assert!(r["error"]["data"]["message"]
            .as_str()
            .unwrap()
            .contains("database \"nosuch\" does not exist"));
    }
}

#[tokio::test]
async fn wrong_key_in_execute_kw_is_access_denied() {
    let o = empty(17).await;
    let r = rpc(
        &o.sb,
        "object",
        "execute_kw",
        json!([o.cfg.database, 2, "bad", "res.partner", "search", [[]], {}]),
    )
    .await;
    assert_eq!(r["error"]["data"]["name"], "odoo.exceptions.AccessDenied");
    assert_eq!(r["error"]["data"]["message"], "Access Denied");
    assert_eq!(r["error"]["code"], 200);
    let r = rpc(
        &o.sb,
        "object",
        "execute_kw",
        json!([
            o.cfg.database,
            5,
            o.cfg.api_key,
            "res.partner",
            "search",
            [[]],
            {}
        ]),
    )
    .await;
    assert_eq!(r["error"]["data"]["name"], "odoo.exceptions.AccessDenied");
}

#[tokio::test]
async fn error_shapes_follow_the_page() {
    let o = empty(17).await;
    assert_eq!(
        o.err("no.such.model", "search", json!([[]]), json!({}))
            .await,
        (
            "odoo.exceptions.UserError".into(),
            "Object no.such.model doesn't exist".into()
        )
    );
    assert_eq!(
        o.err(
            "sale.order.line",
            "read",
            json!([[1]]),
            json!({"fields": ["qty_to_deliver", "nosuch"]})
        )
        .await,
        (
            "builtins.ValueError".into(),
            "Invalid field 'nosuch' on model 'sale.order.line'".into()
        )
    );
    assert_eq!(
        o.err(
            "res.partner",
            "search",
            json!([[["no_such_field", "=", 1]]]),
            json!({})
        )
        .await,
        (
            "builtins.ValueError".into(),
            "Invalid field res.partner.no_such_field in leaf ('no_such_field', '=', 1)".into()
        )
    );
    assert_eq!(
        o.err(
            "res.partner",
            "search",
            json!([[]]),
            json!({"order": "nosuch"})
        )
        .await,
        (
            "builtins.ValueError".into(),
            "Invalid field 'nosuch' on model 'res.partner'".into()
        )
    );
    assert_eq!(
        o.err(
            "res.partner",
            "create",
            json!([{"name": "X", "type": "bogus"}]),
            json!({})
        )
        .await,
        (
            "builtins.ValueError".into(),
            "Wrong value for res.partner.type: 'bogus'".into()
        )
    );
    assert_eq!(
        o.err("res.partner", "_compute_display_name", json!([[1]]), json!({})).await,
        (
            "odoo.exceptions.AccessError".into(),
            "Private methods (such as 'res.partner._compute_display_name') cannot be called remotely."
                .into()
        )
    );
    assert_eq!(
        o.err(
            "res.partner",
            "write",
            json!([[999999], {"name": "x"}]),
            json!({})
        )
        .await,
        (
            "odoo.exceptions.MissingError".into(),
            "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)"
                .into()
        )
    );
    let (name, msg) = o
        .err(
            "res.partner",
            "search",
            json!([["|", ["name", "=", "a"]]]),
            json!({}),
        )
        .await;
    assert_eq!(name, "builtins.ValueError");
    assert!(msg.contains("is syntactically not correct"), "{msg}");
    let (name, msg) = o
        .err(
            "res.partner",
            "search",
            json!([[["name", "bogus", "a"]]]),
            json!({}),
        )
        .await;
    assert_eq!(
        (name.as_str(), msg.as_str()),
        ("builtins.ValueError", "Invalid leaf ('name', 'bogus', 'a')")
    );
    let (name, _) = o
        .err(
            "res.partner",
            "search_read",
            json!([[]]),
            json!({"nope": 1}),
        )
        .await;
    assert_eq!(name, "builtins.TypeError");
    let a = o
        .kw(
            "res.partner",
            "create",
            json!([{"name": "A", "is_company": true}]),
            json!({}),
        )
        .await;
    let b = o
        .kw(
            "res.partner",
            "create",
            json!([{"name": "B", "parent_id": a}]),
            json!({}),
        )
        .await;
    assert_eq!(
        o.err(
            "res.partner",
            "write",
            json!([[a], {"parent_id": b}]),
            json!({})
        )
        .await,
        (
            "odoo.exceptions.ValidationError".into(),
            "You cannot create recursive Partner hierarchies.".into()
        )
    );
    // The failed write was rolled back.
    assert_eq!(
        o.read1("res.partner", a.as_i64().unwrap(), json!(["parent_id"]))
            .await["parent_id"],
        false
    );
}

#[tokio::test]
async fn none_results_have_no_result_key_over_json() {
    let o = empty(17).await;
    let p = o
        .kw("res.partner", "create", json!([{"name": "C"}]), json!({}))
        .await;
    let so = o
        .kw(
            "sale.order",
            "create",
            json!([{"partner_id": p}]),
            json!({}),
        )
        .await;
    let r = o
        .kw_raw("sale.order", "action_lock", json!([[so]]), json!({}))
        .await;
    assert_eq!(r, json!({"jsonrpc": "2.0", "id": 7}));
    assert_eq!(
        o.read1("sale.order", so.as_i64().unwrap(), json!(["locked"]))
            .await["locked"],
        true
    );
}

// -------------------------------------------------------------- XML-RPC

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

#[tokio::test]
async fn xmlrpc_version_authenticate_execute_and_faults() {
    let o = Odoo::start(cfg(17), OdooSeed::generate(1, 2, 2, 2, 1)).await;
    let c = &o.cfg;
    let t = xml(&o.sb, "/xmlrpc/2/common", xml_call("version", &[])).await;
    assert!(
        t.contains("<name>server_version</name>\n<value><string>17.0</string></value>"),
        "{t}"
    );
    assert!(t.contains("<methodResponse>"));
    let s = |x: &str| format!("<string>{x}</string>");
    let auth = xml_call(
        "authenticate",
        &[
            &s(&c.database),
            &s(&c.login),
            &s(&c.api_key),
            "<struct></struct>",
        ],
    );
    let t = xml(&o.sb, "/xmlrpc/2/common", auth).await;
    assert!(t.contains("<value><int>2</int></value>"), "{t}");
    let bad = xml_call(
        "authenticate",
        &[&s(&c.database), &s(&c.login), &s("x"), "<struct></struct>"],
    );
    let t = xml(&o.sb, "/xmlrpc/2/common", bad).await;
    assert!(t.contains("<boolean>0</boolean>"), "{t}");

    let domain = "<array><data><value><array><data><value><string>is_company</string></value><value><string>=</string></value><value><boolean>1</boolean></value></data></array></value></data></array>";
    let call = xml_call(
        "execute_kw",
        &[
            &s(&c.database),
            "<int>2</int>",
            &s(&c.api_key),
            &s("res.partner"),
            &s("search_read"),
            &format!("<array><data><value>{domain}</value></data></array>"),
            "<struct><member><name>fields</name><value><array><data><value><string>name</string></value></data></array></value></member><member><name>order</name><value><string>id</string></value></member></struct>",
        ],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", call).await;
    assert!(
        t.contains("<name>name</name>\n<value><string>My Company</string></value>"),
        "{t}"
    );
    assert_eq!(t.matches("<name>id</name>").count(), 3, "{t}");

    // Fault 3 for a wrong key; Fault 2 for an unknown model.
    let wrong = xml_call(
        "execute_kw",
        &[
            &s(&c.database),
            "<int>2</int>",
            &s("bad"),
            &s("res.partner"),
            &s("search"),
            "<array><data><value><array><data></data></array></value></data></array>",
        ],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", wrong.clone()).await;
    assert!(
        t.contains("<fault>")
            && t.contains("<int>3</int>")
            && t.contains("<string>Access Denied</string>"),
        "{t}"
    );
    let t = xml(&o.sb, "/xmlrpc/object", wrong).await;
    assert!(t.contains("<string>AccessDenied</string>"), "legacy: {t}");
    let unknown = xml_call(
        "execute_kw",
        &[
            &s(&c.database),
            "<int>2</int>",
            &s(&c.api_key),
            &s("no.such.model"),
            &s("search"),
            "<array><data><value><array><data></data></array></value></data></array>",
        ],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", unknown.clone()).await;
    assert!(
        t.contains("<int>2</int>") && t.contains("Object no.such.model doesn't exist"),
        "{t}"
    );
    let t = xml(&o.sb, "/xmlrpc/object", unknown).await;
    assert!(
        t.contains("warning -- UserError\n\nObject no.such.model"),
        "{t}"
    );
    // Fault 1 with a traceback ending in `ValueError: ...`.
    let badfield = xml_call(
        "execute_kw",
        &[&s(&c.database), "<int>2</int>", &s(&c.api_key), &s("res.partner"), &s("read"),
          "<array><data><value><array><data><value><int>1</int></value></data></array></value></data></array>",
          "<struct><member><name>fields</name><value><array><data><value><string>nosuch</string></value></data></array></value></member></struct>"],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", badfield).await;
    assert!(
        t.contains("<int>1</int>")
            && t.contains("Traceback")
            && t.contains("ValueError: Invalid field 'nosuch' on model 'res.partner'\n"),
        "{t}"
    );
    // A None result is a Fault 1 over XML-RPC, but the method ran [§3].
    let before = o
        .read1("sale.order", 1, json!(["write_date", "locked"]))
        .await;
    o.sb.advance_clock(5);
    let lock = xml_call(
        "execute_kw",
        &[&s(&c.database), "<int>2</int>", &s(&c.api_key), &s("sale.order"), &s("action_lock"),
          "<array><data><value><array><data><value><int>1</int></value></data></array></value></data></array>"],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", lock).await;
    assert!(
        t.contains("TypeError: cannot marshal None unless allow_none is enabled"),
        "{t}"
    );
    let after = o
        .read1("sale.order", 1, json!(["write_date", "locked"]))
        .await;
    assert_eq!(before["locked"], false);
    assert_eq!(after["locked"], true);
    assert_ne!(before["write_date"], after["write_date"]);
}

// ------------------------------------------------------------- records

#[tokio::test]
async fn seeded_partners_search_read_domains_and_paging() {
    let seed = OdooSeed::generate(7, 6, 20, 5, 4);
    let o = Odoo::start(cfg(17), seed.clone()).await;
    let companies = o
        .ids("res.partner", json!([["is_company", "=", true]]))
        .await;
    // Seeded companies plus the company's own partner.
    assert_eq!(companies.len(), 7);
    assert_eq!(companies[0], 1);
    let persons = o
        .ids(
            "res.partner",
            json!([["is_company", "=", false], ["id", ">=", FIRST_PARTNER_ID]]),
        )
        .await;
    assert_eq!(persons.len(), 20);
    // Paging in a stable order.
    let mut paged = Vec::new();
    for page in 0..4 {
        let rows = o
            .kw(
                "res.partner",
                "search_read",
                json!([[["id", ">=", FIRST_PARTNER_ID]]]),
                json!({"fields": ["name", "write_date"], "limit": 8, "offset": page * 8, "order": "write_date asc, id asc"}),
            )
            .await;
        for r in rows.as_array().unwrap() {
            assert!(r["write_date"].as_str().unwrap().len() == 19);
            paged.push(r["id"].as_i64().unwrap());
        }
    }
    assert_eq!(paged.len(), 26);
    assert!(paged.windows(2).all(|w| w[0] < w[1]));
    // '|' and '!' and ilike.
    let with_ref = o.ids("res.partner", json!([["ref", "!=", false]])).await;
    let without = o
        .ids("res.partner", json!(["!", ["ref", "!=", false]]))
        .await;
    assert_eq!(with_ref.len() + without.len(), 26 + 2);
    let either = o
        .ids(
            "res.partner",
            json!(["|", ["ref", "!=", false], ["is_company", "=", true]]),
        )
        .await;
    assert!(either.len() >= with_ref.len());
    let first = &seed.partners[0];
    let name = first["name"].as_str().unwrap();
    let hit = o
        .ids(
            "res.partner",
            json!([["name", "ilike", name.to_uppercase()]]),
        )
        .await;
    assert!(hit.contains(&FIRST_PARTNER_ID));
    let hit = o
        .ids(
            "res.partner",
            json!([["name", "=like", format!("{}%", &name[..4])]]),
        )
        .await;
    assert!(hit.contains(&FIRST_PARTNER_ID));
    let n = o
        .kw(
            "res.partner",
            "search_count",
            json!([[["country_id.code", "=", "ES"]]]),
            json!({}),
        )
        .await;
    assert_eq!(n, json!(27));
    let n = o
        .kw(
            "res.partner",
            "search_count",
            json!([[["country_id", "=", "Spain"]]]),
            json!({}),
        )
        .await;
    assert_eq!(n, json!(27));
    // Generated tax ids are valid.
    for p in &seed.partners {
        if let Some(r) = p["ref"].as_str() {
            assert!(taxid::is_valid(r), "{r}");
        }
    }
    // `in`, `not in`, and inactive partners hidden unless active_test=false.
    let some = o.ids("res.partner", json!([["id", "in", [1, 2, 3]]])).await;
    assert_eq!(some, vec![1, 3]);
    let all = o
        .kw(
            "res.partner",
            "search",
            json!([[["id", "in", [1, 2, 3]]]]),
            json!({"context": {"active_test": false}}),
        )
        .await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let rest = o
        .ids(
            "res.partner",
            json!([["id", "not in", [1, 3]], ["id", "<", 8]]),
        )
        .await;
    assert_eq!(rest, vec![7]);
    // read drops unknown ids.
    let rows = o
        .kw(
            "res.partner",
            "read",
            json!([[1, 999999]]),
            json!({"fields": ["name"]}),
        )
        .await;
    assert_eq!(rows, json!([{"id": 1, "name": "My Company"}]));
    assert_eq!(
        o.kw("res.partner", "read", json!([[999999]]), json!({}))
            .await,
        json!([])
    );
}

#[tokio::test]
async fn many2one_false_and_child_contacts_follow_their_company() {
    let o = empty(17).await;
    let co = o
        .kw(
            "res.partner",
            "create",
            json!([{"name": "Talleres Ruiz S.L.", "is_company": true, "vat": "ESB12345674",
                    "street": "Calle Mayor 1", "city": "Madrid", "zip": "28001",
                    "state_id": spanish_state_id("M"), "country_id": SPAIN_ID}]),
            json!({}),
        )
        .await
        .as_i64()
        .unwrap();
    let p = o
        .kw(
            "res.partner",
            "create",
            json!([{"name": "Ana Gil", "parent_id": co, "street": "Otra 2", "vat": "X"}]),
            json!({}),
        )
        .await
        .as_i64()
        .unwrap();
    let r = o
        .read1(
            "res.partner",
            p,
            json!([
                "display_name",
                "complete_name",
                "vat",
                "street",
                "state_id",
                "parent_id",
                "commercial_partner_id",
                "email",
                "company_type"
            ]),
        )
        .await;
    assert_eq!(r["display_name"], "Talleres Ruiz S.L., Ana Gil");
    assert_eq!(r["complete_name"], "Talleres Ruiz S.L., Ana Gil");
    assert_eq!(r["vat"], "ESB12345674");
    assert_eq!(r["street"], "Calle Mayor 1");
    assert_eq!(
        r["state_id"],
        json!([spanish_state_id("M").unwrap(), "Madrid (ES)"])
    );
    assert_eq!(r["parent_id"], json!([co, "Talleres Ruiz S.L."]));
    assert_eq!(
        r["commercial_partner_id"],
        json!([co, "Talleres Ruiz S.L."])
    );
    assert_eq!(r["email"], false);
    assert_eq!(r["company_type"], "person");
    // Changing the company's vat rewrites the child's (and bumps it).
    let before = o.read1("res.partner", p, json!(["write_date"])).await;
    o.sb.advance_clock(3);
    o.kw(
        "res.partner",
        "write",
        json!([[co], {"vat": "ESB87654321"}]),
        json!({}),
    )
    .await;
    let after = o
        .read1("res.partner", p, json!(["write_date", "vat"]))
        .await;
    assert_eq!(after["vat"], "ESB87654321");
    assert_ne!(after["write_date"], before["write_date"]);
}

#[tokio::test]
async fn display_name_domain_differs_by_version() {
    for (v, expect_all) in [(16u8, false), (17, true), (18, false)] {
        let o = Odoo::start(cfg(v), OdooSeed::generate(3, 3, 3, 0, 0)).await;
        let all = o.ids("res.partner", json!([])).await.len();
        let hit = o
            .ids("res.partner", json!([["display_name", "ilike", "My Comp"]]))
            .await
            .len();
        if expect_all {
            // 17: not searchable, the leaf is dropped and matches everything.
            assert_eq!(hit, all, "v{v}");
        } else {
            assert_eq!(hit, 1, "v{v}");
        }
        let fg = o
            .kw(
                "res.partner",
                "fields_get",
                json!([["display_name", "complete_name", "mobile"]]),
                json!({"attributes": ["type", "store"]}),
            )
            .await;
        assert_eq!(fg["display_name"]["store"], json!(v == 16), "v{v}");
        assert_eq!(fg.get("complete_name").is_some(), v >= 17, "v{v}");
        assert_eq!(fg["mobile"], json!({"type": "char", "store": true}));
    }
}

#[tokio::test]
async fn fields_get_reflects_version_and_sale_stock() {
    for v in [16u8, 17, 18] {
        for stock in [false, true] {
            let o = Odoo::start(
                OdooConfig {
                    version: v,
                    sale_stock: stock,
                    ..OdooConfig::default()
                },
                OdooSeed::default(),
            )
            .await;
            let line = o
                .kw(
                    "sale.order.line",
                    "fields_get",
                    json!([]),
                    json!({"attributes": ["type"]}),
                )
                .await;
            assert_eq!(line.get("qty_to_deliver").is_some(), stock, "v{v}");
            assert_eq!(line.get("technical_price_unit").is_some(), v >= 18);
            let order = o
                .kw(
                    "sale.order",
                    "fields_get",
                    json!([]),
                    json!({"attributes": ["selection", "required"]}),
                )
                .await;
            let states: Vec<&str> = order["state"]["selection"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s[0].as_str().unwrap())
                .collect();
            assert_eq!(states.contains(&"done"), v == 16);
            assert_eq!(order.get("locked").is_some(), v >= 17);
            assert_eq!(order["pricelist_id"]["required"], json!(v == 16));
            let tmpl = o
                .kw(
                    "product.template",
                    "fields_get",
                    json!([]),
                    json!({"attributes": ["selection"]}),
                )
                .await;
            assert_eq!(tmpl.get("detailed_type").is_some(), v < 18);
            assert_eq!(tmpl.get("is_storable").is_some(), v >= 18 && stock);
            let types: Vec<&str> = tmpl["type"]["selection"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s[0].as_str().unwrap())
                .collect();
            assert_eq!(types.contains(&"combo"), v >= 18);
            assert_eq!(types.contains(&"product"), v < 18 && stock);
            let partner = o
                .kw(
                    "res.partner",
                    "fields_get",
                    json!([["type"]]),
                    json!({"attributes": ["selection"]}),
                )
                .await;
            assert_eq!(
                partner["type"]["selection"].to_string().contains("private"),
                v == 16
            );
            if !stock {
                let (name, msg) = o
                    .err(
                        "sale.order.line",
                        "search_read",
                        json!([[]]),
                        json!({"fields": ["qty_to_deliver"]}),
                    )
                    .await;
                assert_eq!(name, "builtins.ValueError");
                assert_eq!(
                    msg,
                    "Invalid field 'qty_to_deliver' on model 'sale.order.line'"
                );
            }
        }
    }
}

#[tokio::test]
async fn orders_lines_amounts_and_write_dates() {
    let o = empty(17).await;
    let p = o
        .kw(
            "res.partner",
            "create",
            json!([{"name": "Cliente"}]),
            json!({}),
        )
        .await;
    let prod = o
        .kw(
            "product.product",
            "create",
            json!([{"name": "Widget", "default_code": "W1", "list_price": 12.5}]),
            json!({}),
        )
        .await;
    let so = o
        .kw(
            "sale.order",
            "create",
            json!([{"partner_id": p, "order_line": [[0, 0, {"product_id": prod, "product_uom_qty": 3}],
                                                     [0, 0, {"product_id": prod, "product_uom_qty": 1, "price_unit": 9.99, "name": "Special"}]]}]),
            json!({}),
        )
        .await
        .as_i64()
        .unwrap();
    let r = o
        .read1(
            "sale.order",
            so,
            json!([
                "name",
                "state",
                "amount_untaxed",
                "amount_tax",
                "amount_total",
                "order_line",
                "currency_id",
                "pricelist_id",
                "write_date",
                "invoice_status"
            ]),
        )
        .await;
    assert_eq!(r["name"], "S00001");
    assert_eq!(r["state"], "draft");
    assert_eq!(r["currency_id"], json!([1, "EUR"]));
    assert_eq!(r["pricelist_id"], false);
    assert_eq!(r["invoice_status"], "no");
    let lines: Vec<i64> = r["order_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let l0 = o
        .read1(
            "sale.order.line",
            lines[0],
            json!([
                "name",
                "price_unit",
                "price_subtotal",
                "price_tax",
                "tax_id",
                "product_id",
                "write_date",
                "qty_to_deliver"
            ]),
        )
        .await;
    assert_eq!(l0["name"], "[W1] Widget");
    assert_eq!(l0["price_unit"], 12.5);
    assert_eq!(l0["price_subtotal"], 37.5);
    assert_eq!(l0["price_tax"], 5.63);
    assert_eq!(l0["tax_id"], json!([1]));
    assert_eq!(l0["product_id"], json!([prod, "[W1] Widget"]));
    assert_eq!(l0["qty_to_deliver"], 3.0);
    // Everything written in one call shares the transaction's write_date.
    assert_eq!(l0["write_date"], r["write_date"]);
    let l1 = o
        .read1("sale.order.line", lines[1], json!(["name", "price_unit"]))
        .await;
    assert_eq!(
        l1,
        json!({"id": lines[1], "name": "Special", "price_unit": 9.99})
    );
    assert_eq!(r["amount_untaxed"], 47.49);

    // Editing a line does not move its order's write_date [§3].
    o.sb.advance_clock(10);
    o.kw(
        "sale.order.line",
        "write",
        json!([[lines[0]], {"product_uom_qty": 4}]),
        json!({}),
    )
    .await;
    let r2 = o
        .read1("sale.order", so, json!(["write_date", "amount_untaxed"]))
        .await;
    assert_eq!(r2["write_date"], r["write_date"]);
    assert_eq!(r2["amount_untaxed"], 59.99);
    let l0b = o
        .read1("sale.order.line", lines[0], json!(["write_date"]))
        .await;
    assert_ne!(l0b["write_date"], l0["write_date"]);

    // Confirm: state, date_order, invoice status; confirming twice fails;
    // a confirmed order cannot be deleted.
    o.sb.advance_clock(10);
    assert_eq!(
        o.kw("sale.order", "action_confirm", json!([[so]]), json!({}))
            .await,
        true
    );
    let r3 = o
        .read1(
            "sale.order",
            so,
            json!([
                "state",
                "write_date",
                "date_order",
                "invoice_status",
                "delivery_status"
            ]),
        )
        .await;
    assert_eq!(r3["state"], "sale");
    assert_eq!(r3["invoice_status"], "to invoice");
    assert_eq!(r3["delivery_status"], "pending");
    assert_ne!(r3["write_date"], r["write_date"]);
    assert_eq!(r3["date_order"], r3["write_date"]);
    let (name, msg) = o
        .err("sale.order", "action_confirm", json!([[so]]), json!({}))
        .await;
    assert_eq!(name, "odoo.exceptions.UserError");
    assert_eq!(
        msg,
        "The following orders are not in a state requiring confirmation: S00001"
    );
    let (name, msg) = o
        .err("sale.order", "unlink", json!([[so]]), json!({}))
        .await;
    assert_eq!(name, "odoo.exceptions.UserError");
    assert_eq!(
        msg,
        "You can not delete a sent quotation or a confirmed sales order. You must first cancel it."
    );
    // Confirmed orders only, as a sync would ask.
    let confirmed = o
        .ids(
            "sale.order",
            json!([["state", "=", "sale"], ["write_date", ">=", "2000-01-01"]]),
        )
        .await;
    assert_eq!(confirmed, vec![so]);
}

#[tokio::test]
async fn products_template_variant_and_write_dates() {
    for v in [16u8, 17, 18] {
        let o = empty(v).await;
        let pid = o
            .kw("product.product", "create", json!([{"name": "Taladro", "default_code": "TAL-1", "barcode": "8412345678905", "list_price": 99.9, "type": "service"}]), json!({}))
            .await
            .as_i64()
            .unwrap();
        let r = o
            .read1(
                "product.product",
                pid,
                json!([
                    "product_tmpl_id",
                    "name",
                    "lst_price",
                    "type",
                    "write_date",
                    "display_name"
                ]),
            )
            .await;
        let tid = r["product_tmpl_id"][0].as_i64().unwrap();
        assert_eq!(r["product_tmpl_id"][1], "[TAL-1] Taladro");
        assert_eq!(r["lst_price"], 99.9);
        assert_eq!(r["type"], "service");
        if v < 18 {
            let t = o
                .read1("product.template", tid, json!(["detailed_type"]))
                .await;
            assert_eq!(t["detailed_type"], "service", "v{v}");
        }
        // list_price through the variant bumps variant and template.
        o.sb.advance_clock(2);
        o.kw(
            "product.product",
            "write",
            json!([[pid], {"list_price": 120.0}]),
            json!({}),
        )
        .await;
        let r2 = o
            .read1("product.product", pid, json!(["write_date", "list_price"]))
            .await;
        let t2 = o
            .read1(
                "product.template",
                tid,
                json!(["write_date", "list_price", "barcode", "default_code"]),
            )
            .await;
        assert_eq!(r2["list_price"], 120.0);
        assert_eq!(t2["list_price"], 120.0);
        assert_eq!(t2["barcode"], "8412345678905");
        assert_eq!(t2["default_code"], "TAL-1");
        assert_ne!(r2["write_date"], r["write_date"]);
        assert_eq!(r2["write_date"], t2["write_date"]);
        // Template list_price bumps the variant.
        o.sb.advance_clock(2);
        o.kw(
            "product.template",
            "write",
            json!([[tid], {"list_price": 130.0}]),
            json!({}),
        )
        .await;
        let r3 = o.read1("product.product", pid, json!(["write_date"])).await;
        assert_ne!(r3["write_date"], r2["write_date"]);
        // Duplicate barcode refused.
        let (name, _) = o
            .err(
                "product.product",
                "create",
                json!([{"name": "Otro", "barcode": "8412345678905"}]),
                json!({}),
            )
            .await;
        assert_eq!(name, "odoo.exceptions.ValidationError");
        // 18 refuses `product` as a type.
        if v == 18 {
            let (name, msg) = o
                .err(
                    "product.template",
                    "write",
                    json!([[tid], {"type": "product"}]),
                    json!({}),
                )
                .await;
            assert_eq!(name, "builtins.ValueError");
            assert_eq!(msg, "Wrong value for product.template.type: 'product'");
        }
        // Batch create returns a list of ids.
        let ids = o
            .kw(
                "product.product",
                "create",
                json!([[{"name": "A"}, {"name": "B"}]]),
                json!({}),
            )
            .await;
        assert_eq!(ids.as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn generated_seed_is_deterministic_and_loads_in_every_version() {
    let a = OdooSeed::generate(11, 5, 10, 8, 6);
    assert_eq!(a, OdooSeed::generate(11, 5, 10, 8, 6));
    assert_ne!(a, OdooSeed::generate(12, 5, 10, 8, 6));
    for v in [16u8, 17, 18] {
        let o = Odoo::start(cfg(v), a.clone()).await;
        let orders = o
            .kw(
                "sale.order",
                "search_read",
                json!([[]]),
                json!({"fields": ["state", "order_line", "partner_id"], "order": "id"}),
            )
            .await;
        assert_eq!(orders.as_array().unwrap().len(), 6);
        let confirmed = a.orders.iter().filter(|o| o["state"] == "sale").count();
        let seen = orders
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["state"] == "sale")
            .count();
        assert_eq!(confirmed, seen);
        let products = o.ids("product.product", json!([])).await;
        assert_eq!(products, (1..=8).collect::<Vec<i64>>());
    }
}

#[tokio::test]
async fn stats_count_services_and_models() {
    let o = empty(17).await;
    o.sb.reset_stats();
    rpc(&o.sb, "common", "version", json!([])).await;
    o.kw(
        "res.partner",
        "search_read",
        json!([[]]),
        json!({"fields": ["name"]}),
    )
    .await;
    o.kw(
        "res.partner",
        "search_read",
        json!([[]]),
        json!({"fields": ["name"]}),
    )
    .await;
    let s = o.sb.stats();
    assert_eq!(s.total, 3);
    assert_eq!(s.by_route["POST /jsonrpc"], 3);
    assert_eq!(s.by_route["common.version"], 1);
    assert_eq!(s.by_route["object.execute_kw"], 2);
    assert_eq!(s.by_route["execute_kw res.partner.search_read"], 2);
}

#[tokio::test]
async fn rejects_unknown_versions() {
    let r = start_odoo(&cfg(15), None, OdooSeed::default()).await;
    assert!(r.is_err());
}

#[tokio::test]
async fn name_search_legacy_execute_db_service_and_unknown_routes() {
    for v in [16u8, 17, 18] {
        let o = Odoo::start(cfg(v), OdooSeed::generate(9, 3, 3, 3, 2)).await;
        let dom_kw = if v == 16 { "args" } else { "domain" };
        let r = o
            .kw(
                "res.country.state",
                "name_search",
                json!(["Madrid"]),
                json!({dom_kw: [["country_id.code", "=", "ES"]], "limit": 5}),
            )
            .await;
        assert_eq!(
            r,
            json!([[spanish_state_id("M").unwrap(), "Madrid (ES)"]]),
            "v{v}"
        );
        let other = if v == 16 { "domain" } else { "args" };
        let (name, _) = o
            .err(
                "res.partner",
                "name_search",
                json!(["x"]),
                json!({other: []}),
            )
            .await;
        assert_eq!(name, "builtins.TypeError");
        // name_get is gone in 18.
        let r = o
            .kw_raw("res.partner", "name_get", json!([[1]]), json!({}))
            .await;
        if v >= 18 {
            assert_eq!(r["error"]["data"]["name"], "builtins.AttributeError");
        } else {
            assert_eq!(r["result"], json!([[1, "My Company"]]));
        }
        // Locking: 16 has state `done`, 17+ the `locked` flag.
        if v == 16 {
            assert_eq!(
                o.kw("sale.order", "action_done", json!([[1]]), json!({}))
                    .await,
                true
            );
            assert_eq!(
                o.read1("sale.order", 1, json!(["state"])).await["state"],
                "done"
            );
        } else {
            o.kw_raw("sale.order", "action_lock", json!([[1]]), json!({}))
                .await;
            let (_, msg) = o
                .err("sale.order", "action_cancel", json!([[1]]), json!({}))
                .await;
            assert_eq!(
                msg,
                "You cannot cancel a locked order. Please unlock it first."
            );
        }
    }
    let o = empty(17).await;
    let c = &o.cfg;
    let r = rpc(
        &o.sb,
        "object",
        "execute",
        json!([
            c.database,
            2,
            c.api_key,
            "res.partner",
            "search",
            [["id", "=", 1]]
        ]),
    )
    .await;
    assert_eq!(r["result"], json!([1]));
    let r = rpc(&o.sb, "db", "server_version", json!([])).await;
    assert_eq!(r["result"], "17.0");
    let r = rpc(&o.sb, "nosuch", "x", json!([])).await;
    assert_eq!(r["error"]["data"]["name"], "builtins.KeyError");
    let r = post_raw(
        &format!("{}/web/nosuch", o.sb.base_url),
        "application/json",
        "{\"id\": 3}",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["error"]["code"], 404);
    let r = post_raw(&format!("{}/nosuch", o.sb.base_url), "text/plain", "").await;
    assert_eq!(r.status, 404);
    let r = post_raw(&format!("{}/jsonrpc", o.sb.base_url), "text/plain", "{}").await;
    assert_eq!(r.status, 400);
}
