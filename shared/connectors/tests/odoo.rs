//! The Odoo client against the Odoo sandbox, for each served version (16, 17, 18), plus
//! XML-RPC smoke calls and the retry rules against a failing fake server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use puente_connectors::odoo::{
    command, fault_message, fault_name, many2one, parse_datetime, text, Domain, OdooClient,
    OdooSettings,
};
use puente_connectors::{ConnectorError, RetryPolicy};
use puente_sandbox::odoo::{OdooConfig, OdooSeed, FIRST_PARTNER_ID};
use puente_sandbox::{start_odoo, Sandbox};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const VERSIONS: [u8; 3] = [16, 17, 18];

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

fn client_for(sb: &Sandbox, cfg: &OdooConfig, key: &str) -> OdooClient {
    OdooClient::new(OdooSettings {
        url: sb.base_url.clone(),
        database: cfg.database.clone(),
        login: cfg.login.clone(),
        api_key: key.to_string(),
        retry: fast_retry(),
    })
}

async fn sandbox(version: u8, seed: OdooSeed) -> (Sandbox, OdooConfig) {
    let cfg = OdooConfig {
        version,
        ..OdooConfig::default()
    };
    let sb = start_odoo(&cfg, None, seed).await.expect("sandbox");
    (sb, cfg)
}

#[tokio::test]
async fn odo8_version_and_authenticate_good_and_bad_key() {
    for v in VERSIONS {
        let (sb, cfg) = sandbox(v, OdooSeed::default()).await;
        let c = client_for(&sb, &cfg, &cfg.api_key);
        assert_eq!(c.version().await.unwrap(), u32::from(v));
        assert_eq!(c.authenticate().await.unwrap(), 2);
        assert_eq!(c.check().await.unwrap(), (u32::from(v), 2));
        // The password works where the key goes.
        let p = client_for(&sb, &cfg, &cfg.password);
        assert_eq!(p.authenticate().await.unwrap(), 2);

        let bad = client_for(&sb, &cfg, "wrong-key");
        let e = bad.authenticate().await.unwrap_err();
        assert!(matches!(e, ConnectorError::Auth { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("Odoo rejected the credentials for user admin on database puente"),
            "{e}"
        );
        assert!(!e.is_transient());
        // execute_kw authenticates first, so a bad key fails the same way.
        let e = bad
            .search_read("res.partner", &Domain::new(), &["name"], Some(1), 0, None)
            .await
            .unwrap_err();
        assert!(matches!(e, ConnectorError::Auth { .. }), "{e:?}");

        let wrong_db = OdooClient::new(OdooSettings {
            url: format!("{}/odoo/contacts", sb.base_url),
            database: "nosuch".into(),
            login: cfg.login.clone(),
            api_key: cfg.api_key.clone(),
            retry: fast_retry(),
        });
        assert_eq!(wrong_db.base_url(), sb.base_url);
        let e = wrong_db.authenticate().await.unwrap_err();
        assert_eq!(fault_name(&e), Some("psycopg2.OperationalError"));
        assert!(!e.is_transient());
        assert!(
            e.to_string().contains("database \"nosuch\" does not exist"),
            "{e}"
        );
        // Issue 17: and what to do about it, of the connection's own section.
        let e = e.with_system("erp");
        assert!(
            e.to_string().contains(
                "no database named 'nosuch' on this server; check connections.erp.database"
            ),
            "{e}"
        );
    }
}

#[tokio::test]
async fn search_read_with_domains_and_paging() {
    for v in VERSIONS {
        let seed = OdooSeed::generate(5, 4, 12, 6, 5);
        let (sb, cfg) = sandbox(v, seed.clone()).await;
        let c = client_for(&sb, &cfg, &cfg.api_key);
        // Person contacts with a tax id in `ref`, paged in a total order.
        let d = Domain::new()
            .eq("is_company", false)
            .ne("ref", false)
            .ge("id", FIRST_PARTNER_ID);
        let total = c.search_count("res.partner", &d).await.unwrap();
        let expected = seed
            .partners
            .iter()
            .filter(|p| p["is_company"] == false && p.get("ref").is_some())
            .count() as u64;
        assert_eq!(total, expected, "v{v}");
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let page = c
                .search_read(
                    "res.partner",
                    &d,
                    &["name", "ref", "parent_id", "write_date", "mobile"],
                    Some(4),
                    offset,
                    Some("write_date asc, id asc"),
                )
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            for r in &page {
                assert!(text(&r["ref"]).is_some());
                assert!(parse_datetime(r["write_date"].as_str().unwrap()).is_some());
                // many2one: [id, name] or false.
                assert!(r["parent_id"] == false || many2one(&r["parent_id"]).is_some());
                seen.push(r["id"].as_i64().unwrap());
            }
            offset += page.len() as u32;
        }
        assert_eq!(seen.len() as u64, total);
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        // OR / NOT / in.
        let companies_or_no_ref = Domain::new()
            .eq("is_company", true)
            .or_else(Domain::leaf("ref", "=", false));
        let ids = c
            .search("res.partner", &companies_or_no_ref, None, 0, Some("id"))
            .await
            .unwrap();
        let neg = c
            .search(
                "res.partner",
                &companies_or_no_ref.clone().negate(),
                None,
                0,
                Some("id"),
            )
            .await
            .unwrap();
        let all = c
            .search("res.partner", &Domain::new(), None, 0, None)
            .await
            .unwrap();
        assert_eq!(ids.len() + neg.len(), all.len());
        let some = c
            .search(
                "res.partner",
                &Domain::new().is_in("id", [1, 7, 8, 999]),
                None,
                0,
                Some("id"),
            )
            .await
            .unwrap();
        assert_eq!(some, vec![1, 7, 8]);
        // By SKU, case-insensitively.
        let sku = seed.products[0]["default_code"].as_str().unwrap();
        let p = c
            .search_read(
                "product.product",
                &Domain::new().eq_ilike("default_code", &sku.to_lowercase()),
                &["name", "default_code", "list_price", "barcode"],
                None,
                0,
                None,
            )
            .await
            .unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0]["default_code"], sku);
    }
}

#[tokio::test]
async fn create_with_line_commands_write_read_and_order_line_write_dates() {
    for v in VERSIONS {
        let (sb, cfg) = sandbox(v, OdooSeed::default()).await;
        let c = client_for(&sb, &cfg, &cfg.api_key);
        let partner = c
            .create(
                "res.partner",
                json!({"name": "Ferretería Gil S.L.", "is_company": true, "ref": "B12345674"}),
            )
            .await
            .unwrap();
        let products = c
            .create_many(
                "product.product",
                vec![
                    json!({"name": "Martillo", "default_code": "MAR-1", "list_price": 12.5}),
                    json!({"name": "Clavos", "default_code": "CLA-1", "list_price": 3.0}),
                ],
            )
            .await
            .unwrap();
        assert_eq!(products.len(), 2);
        let order = c
            .create(
                "sale.order",
                json!({"partner_id": partner, "client_order_ref": "PO-1", "order_line": [
                    command::create(json!({"product_id": products[0], "product_uom_qty": 3})),
                    command::create(json!({"product_id": products[1], "product_uom_qty": 2, "price_unit": 2.5})),
                ]}),
            )
            .await
            .unwrap();
        let o = c
            .read(
                "sale.order",
                &[order, 999_999],
                &[
                    "name",
                    "state",
                    "order_line",
                    "amount_total",
                    "amount_untaxed",
                    "write_date",
                    "partner_id",
                ],
            )
            .await
            .unwrap();
        // Unknown ids are silently dropped.
        assert_eq!(o.len(), 1);
        assert_eq!(o[0]["state"], "draft");
        assert_eq!(o[0]["amount_untaxed"], 42.5);
        assert_eq!(
            many2one(&o[0]["partner_id"]),
            Some((partner, "Ferretería Gil S.L.".into()))
        );
        let lines: Vec<i64> = o[0]["order_line"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let order_written = o[0]["write_date"].clone();

        // Editing only a line's name bumps the line, not the order [§3, observed on 17 and 18].
        sb.advance_clock(5);
        c.write(
            "sale.order.line",
            &[lines[1]],
            json!({"name": "Clavos 3 mm"}),
        )
        .await
        .unwrap();
        let o1 = c
            .read("sale.order", &[order], &["write_date"])
            .await
            .unwrap();
        assert_eq!(o1[0]["write_date"], order_written, "v{v}");

        // Editing a quantity recomputes the stored totals, which stamps the order too [§3].
        sb.advance_clock(5);
        c.write(
            "sale.order.line",
            &[lines[0]],
            json!({"product_uom_qty": 5}),
        )
        .await
        .unwrap();
        let o2 = c
            .read("sale.order", &[order], &["write_date", "amount_untaxed"])
            .await
            .unwrap();
        assert_ne!(o2[0]["write_date"], order_written, "v{v}");
        assert_eq!(o2[0]["amount_untaxed"], 67.5);
        let l = c
            .read(
                "sale.order.line",
                &[lines[0]],
                &["write_date", "product_uom_qty", "name"],
            )
            .await
            .unwrap();
        assert_ne!(l[0]["write_date"], order_written);
        assert_eq!(l[0]["name"], "[MAR-1] Martillo");
        // Lines can be followed on their own write_date.
        let changed = c
            .search_read(
                "sale.order.line",
                &Domain::new().since(
                    "write_date",
                    parse_datetime(l[0]["write_date"].as_str().unwrap()).unwrap(),
                ),
                &["order_id"],
                None,
                0,
                Some("write_date asc, id asc"),
            )
            .await
            .unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(many2one(&changed[0]["order_id"]).unwrap().0, order);

        // Confirm and write on the order itself.
        c.execute_kw("sale.order", "action_confirm", json!([[order]]), json!({}))
            .await
            .unwrap();
        c.write("sale.order", &[order], json!({"client_order_ref": "PO-2"}))
            .await
            .unwrap();
        let o3 = c
            .read("sale.order", &[order], &["state", "client_order_ref"])
            .await
            .unwrap();
        assert_eq!(o3[0]["state"], "sale");
        assert_eq!(o3[0]["client_order_ref"], "PO-2");
        // A None result (17+ action_lock) reads as null.
        if v >= 17 {
            let r = c
                .execute_kw("sale.order", "action_lock", json!([[order]]), json!({}))
                .await
                .unwrap();
            assert_eq!(r, Value::Null);
        }
    }
}

#[tokio::test]
async fn fields_get_shows_version_differences() {
    for v in VERSIONS {
        let (sb, cfg) = sandbox(v, OdooSeed::default()).await;
        let c = client_for(&sb, &cfg, &cfg.api_key);
        let tmpl = c
            .fields_get("product.template", &["type", "selection"])
            .await
            .unwrap();
        assert_eq!(tmpl.contains_key("detailed_type"), v < 18, "v{v}");
        assert_eq!(tmpl["type"]["type"], "selection");
        let order = c
            .fields_get("sale.order", &["selection", "required"])
            .await
            .unwrap();
        assert_eq!(order.contains_key("locked"), v >= 17);
        assert_eq!(order["pricelist_id"]["required"], json!(v == 16));
        let partner = c.fields_get("res.partner", &["store"]).await.unwrap();
        assert_eq!(partner["display_name"]["store"], json!(v == 16));
        assert!(partner.contains_key("mobile"));
        let line = c.fields_get("sale.order.line", &[]).await.unwrap();
        assert!(line.contains_key("qty_to_deliver"));
        assert_eq!(line["qty_to_deliver"]["type"], "float");
        assert_eq!(line.contains_key("technical_price_unit"), v >= 18);
    }
    // Without sale_stock, qty_to_deliver does not exist and reading it is a fault.
    let cfg = OdooConfig {
        sale_stock: false,
        ..OdooConfig::default()
    };
    let sb = start_odoo(&cfg, None, OdooSeed::generate(1, 1, 1, 2, 2))
        .await
        .unwrap();
    let c = client_for(&sb, &cfg, &cfg.api_key);
    let line = c.fields_get("sale.order.line", &["type"]).await.unwrap();
    assert!(!line.contains_key("qty_to_deliver"));
    let e = c
        .search_read(
            "sale.order.line",
            &Domain::new(),
            &["qty_to_deliver"],
            None,
            0,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(fault_name(&e), Some("builtins.ValueError"));
    assert_eq!(
        fault_message(&e),
        Some("Invalid field 'qty_to_deliver' on model 'sale.order.line'")
    );
}

#[tokio::test]
async fn faults_become_clear_typed_errors() {
    for v in VERSIONS {
        let (sb, cfg) = sandbox(v, OdooSeed::default()).await;
        let c = client_for(&sb, &cfg, &cfg.api_key);
        let e = c
            .write("res.partner", &[999_999], json!({"name": "x"}))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                ConnectorError::Vendor {
                    transient: false,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(fault_name(&e), Some("odoo.exceptions.MissingError"));
        assert!(
            e.to_string()
                .contains("Record does not exist or has been deleted."),
            "{e}"
        );
        let e = c
            .search_count("no.such.model", &Domain::new())
            .await
            .unwrap_err();
        assert_eq!(fault_name(&e), Some("odoo.exceptions.UserError"));
        assert_eq!(
            fault_message(&e),
            Some("Object no.such.model doesn't exist")
        );
        let e = c
            .search(
                "res.partner",
                &Domain::leaf("no_such_field", "=", 1),
                None,
                0,
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(fault_name(&e), Some("builtins.ValueError"));
        let parent = c
            .create("res.partner", json!({"name": "P", "is_company": true}))
            .await
            .unwrap();
        let child = c
            .create("res.partner", json!({"name": "C", "parent_id": parent}))
            .await
            .unwrap();
        let e = c
            .write("res.partner", &[parent], json!({"parent_id": child}))
            .await
            .unwrap_err();
        assert_eq!(fault_name(&e), Some("odoo.exceptions.ValidationError"));
        assert_eq!(
            fault_message(&e),
            Some("You cannot create recursive Partner hierarchies.")
        );
    }
}

#[tokio::test]
async fn each_call_is_one_counted_vendor_call() {
    let (sb, cfg) = sandbox(17, OdooSeed::generate(2, 2, 2, 2, 2)).await;
    let c = client_for(&sb, &cfg, &cfg.api_key);
    sb.reset_stats();
    c.search_read("res.partner", &Domain::new(), &["name"], None, 0, None)
        .await
        .unwrap();
    c.search_read("res.partner", &Domain::new(), &["name"], None, 0, None)
        .await
        .unwrap();
    let s = sb.stats();
    // One authenticate (cached uid afterwards) and two search_read.
    assert_eq!(s.by_route["common.authenticate"], 1);
    assert_eq!(s.by_route["execute_kw res.partner.search_read"], 2);
    assert_eq!(s.total, 3);
    assert_eq!(c.calls().total, 3);
}

// ------------------------------------------------------------------- XML-RPC

async fn xmlrpc(base: &str, service: &str, body: String) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/xmlrpc/2/{service}"))
        .header("Content-Type", "text/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

fn call(method: &str, params: &[String]) -> String {
    let ps: String = params
        .iter()
        .map(|p| format!("<param><value>{p}</value></param>"))
        .collect();
    format!("<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{ps}</params></methodCall>")
}

fn s(x: &str) -> String {
    format!("<string>{x}</string>")
}

#[tokio::test]
async fn xmlrpc_version_authenticate_and_execute_kw() {
    for v in VERSIONS {
        let (sb, cfg) = sandbox(v, OdooSeed::generate(4, 2, 2, 1, 0)).await;
        let t = xmlrpc(&sb.base_url, "common", call("version", &[])).await;
        assert!(t.contains(&format!("<int>{v}</int>")), "{t}");
        let t = xmlrpc(
            &sb.base_url,
            "common",
            call(
                "authenticate",
                &[
                    s(&cfg.database),
                    s(&cfg.login),
                    s(&cfg.api_key),
                    "<struct></struct>".into(),
                ],
            ),
        )
        .await;
        assert!(t.contains("<params>") && t.contains("<int>2</int>"), "{t}");
        let t = xmlrpc(
            &sb.base_url,
            "object",
            call(
                "execute_kw",
                &[
                    s(&cfg.database),
                    "<int>2</int>".into(),
                    s(&cfg.api_key),
                    s("res.partner"),
                    s("search_count"),
                    "<array><data><value><array><data><value><array><data><value><string>is_company</string></value><value><string>=</string></value><value><boolean>1</boolean></value></data></array></value></data></array></value></data></array>".into(),
                ],
            ),
        )
        .await;
        // Two seeded companies plus the company's own partner.
        assert!(t.contains("<int>3</int>"), "{t}");
        let t = xmlrpc(
            &sb.base_url,
            "object",
            call(
                "execute_kw",
                &[
                    s(&cfg.database),
                    "<int>2</int>".into(),
                    s("bad"),
                    s("res.partner"),
                    s("search"),
                    "<array><data></data></array>".into(),
                ],
            ),
        )
        .await;
        assert!(
            t.contains("<fault>") && t.contains("<int>3</int>") && t.contains("Access Denied"),
            "{t}"
        );
    }
}

// ------------------------------------------------------------ retry rules

/// A server answering 502 to the first `fail` requests, then a JSON-RPC result.
async fn flaky(fail: usize) -> (String, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = l.accept().await else {
                return;
            };
            let n = h.fetch_add(1, Ordering::SeqCst);
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(k) = sock.read(&mut chunk).await {
                if k == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..k]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let (status, body) = if n < fail {
                ("502 Bad Gateway", "<html>bad gateway</html>".to_string())
            } else {
                (
                    "200 OK",
                    json!({"jsonrpc": "2.0", "id": 1, "result": [{"id": 1, "name": "X"}]})
                        .to_string(),
                )
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    (url, hits)
}

fn flaky_client(url: &str) -> OdooClient {
    OdooClient::new(OdooSettings {
        url: url.to_string(),
        database: "db".into(),
        login: "admin".into(),
        api_key: "k".into(),
        retry: fast_retry(),
    })
}

#[tokio::test]
async fn reads_are_retried_after_5xx_but_creates_are_ambiguous() {
    let (url, hits) = flaky(1).await;
    let c = flaky_client(&url);
    let r = c
        .call(
            "object",
            "execute_kw",
            json!(["db", 2, "k", "res.partner", "search_read", [[]], {}]),
            true,
        )
        .await
        .unwrap();
    assert_eq!(r[0]["name"], "X");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(c.calls().retries, 1);

    let (url, hits) = flaky(1).await;
    let c = flaky_client(&url);
    let e = c
        .call(
            "object",
            "execute_kw",
            json!(["db", 2, "k", "res.partner", "create", [{}], {}]),
            false,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectorError::Ambiguous { .. }), "{e:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // A server that never recovers: a transient vendor error after the retries.
    let (url, hits) = flaky(100).await;
    let c = flaky_client(&url);
    let e = c.version().await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}
