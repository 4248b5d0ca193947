//! Sales: orders, lines, amounts and write dates; product templates and variants; the seed
//! generator.

use super::*;

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

    // A name-only line edit leaves its order's write_date; a quantity edit recomputes the
    // order's stored totals and so stamps the order [§3, observed on 17.0 and 18.0].
    o.sb.advance_clock(10);
    o.kw(
        "sale.order.line",
        "write",
        json!([[lines[1]], {"name": "Special (gift)"}]),
        json!({}),
    )
    .await;
    let r1 = o
        .read1("sale.order", so, json!(["write_date", "amount_untaxed"]))
        .await;
    assert_eq!(r1["write_date"], r["write_date"]);
    assert_eq!(r1["amount_untaxed"], 47.49);
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
    assert_ne!(r2["write_date"], r["write_date"]);
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
