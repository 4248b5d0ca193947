//! Partners and schemas: seeded searches, domains and paging, many2one values, child
//! contacts, `display_name` per version, `fields_get`.

use super::*;

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
