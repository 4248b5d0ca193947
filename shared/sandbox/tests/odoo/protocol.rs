//! The services: versions, authentication, error shapes, `None` results, stats, the legacy
//! routes.

use super::*;

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
