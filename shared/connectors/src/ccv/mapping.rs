//! CCV Shop JSON ⇄ canonical records: every CCV field name Puente reads or writes for
//! products, stock, orders (with their rows) and users, and the write bodies.

use crate::time::parse_vendor_time;
use puente_core::{
    canonical_country, canonical_decimal, canonical_sku, decimal, order_items, CustomerRef,
    DependencyRefs, Fields, Kind, OrderItem, Record, Sku,
};
use serde_json::{json, Map, Value};

use super::SYSTEM;

pub(super) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn f(v: &Value, key: &str) -> Option<f64> {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(x)) => x.trim().parse().ok(),
        _ => None,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// CCV's tax tariffs and their percentage in the Netherlands [I: the sandbox's facts; the
/// page lists the tariff names only].
pub const TARIFFS: [(&str, f64); 5] = [
    ("normal", 21.0),
    ("low a", 9.0),
    ("low b", 9.0),
    ("extra low", 0.0),
    ("zero", 0.0),
];

/// The VAT rate of a tariff (`normal` when unknown).
pub fn rate_of(tariff: &str) -> f64 {
    TARIFFS
        .iter()
        .find(|(t, _)| *t == tariff)
        .map_or(21.0, |(_, r)| *r)
}

/// The tariff of a rate, or `None` when CCV has none.
pub fn tariff_of(rate: &str) -> Option<&'static str> {
    let r: f64 = rate.trim().parse().ok()?;
    TARIFFS
        .iter()
        .find(|(_, x)| (*x - r).abs() < 1e-9)
        .map(|(t, _)| *t)
}

/// Order status numbers 1–14 [C] as the canonical status words a flow's filter names.
pub const STATUSES: [&str; 14] = [
    "new",
    "in_process",
    "wait_manufacturer",
    "wait_payment",
    "sent",
    "delivered",
    "completed",
    "cancelled",
    "wait_supplier",
    "packaging",
    "ready_for_pickup",
    "assembling",
    "backorder",
    "reserved",
];

/// How one connection reads prices and labels its orders.
#[derive(Clone, Debug)]
pub struct Shop {
    /// Prices (products, rows, shipping) include VAT [I; a Dutch B2C shop shows them so].
    pub prices_include_tax: bool,
    /// The shop's currency (ISO).
    pub currency: String,
    /// What the shop's orders are labelled with in the accounting system (`ecommerce`).
    pub label: String,
}

impl Shop {
    /// A price as the shop keeps it, without VAT at `rate` percent.
    fn net(&self, price: f64, rate: f64) -> f64 {
        if self.prices_include_tax {
            round2(price / (1.0 + rate / 100.0))
        } else {
            price
        }
    }

    /// A net price as the shop keeps it.
    fn shop_price(&self, net: f64, rate: f64) -> f64 {
        if self.prices_include_tax {
            round2(net * (1.0 + rate / 100.0))
        } else {
            net
        }
    }
}

fn base(kind: Kind, id: String, fields: Fields) -> Record {
    Record {
        system: SYSTEM.into(),
        kind,
        id,
        modified: None,
        fields,
        partner_ref: None,
        marked: true,
        created: None,
        extra: Value::Null,
    }
}

/// A product's category path from the shop's categories (`id → (name, parent)`) and the
/// id of the category it is in.
pub(super) fn category_path(
    cats: &std::collections::HashMap<u64, (String, Option<u64>)>,
    mut id: u64,
) -> String {
    let mut parts = Vec::new();
    for _ in 0..16 {
        let Some((name, parent)) = cats.get(&id) else {
            break;
        };
        parts.push(name.clone());
        match parent {
            Some(p) => id = *p,
            None => break,
        }
    }
    parts.reverse();
    parts.join("/")
}

/// APC-6: a CCV product as canonical fields (`category` is added by the caller, who knows
/// the product's category links).
pub fn product_record(shop: &Shop, v: &Value) -> Record {
    let rate = rate_of(&s(v, "taxtariff"));
    let price = f(v, "price").unwrap_or(0.0);
    let variants = v
        .pointer("/attributecombinations/items")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let fields = Fields::new()
        .with("sku", canonical_sku(&s(v, "productnumber")))
        .with("name", s(v, "name"))
        .with("description", s(v, "description"))
        .with("summary", s(v, "shortdescription"))
        .with("ean", s(v, "eannumber"))
        .with("price", decimal(shop.net(price, rate)))
        .with(
            "price_incl_tax",
            decimal(if shop.prices_include_tax {
                price
            } else {
                round2(price * (1.0 + rate / 100.0))
            }),
        )
        .with("taxes", decimal(rate))
        .with("currency", &shop.currency)
        .with("type", if variants { "variable" } else { "" });
    let mut r = base(Kind::Product, s(v, "id"), fields);
    r.modified = parse_vendor_time(&s(v, "modifydate"));
    r.created = parse_vendor_time(&s(v, "createdate"));
    r
}

/// APC-4: a product's stock as a canonical stock record (same id as the product).
pub fn stock_record(v: &Value) -> Record {
    let managed = v.get("stockenabled").and_then(Value::as_bool) == Some(true);
    let fields = Fields::new()
        .with("sku", canonical_sku(&s(v, "productnumber")))
        .with("available", canonical_decimal(&s(v, "stock")))
        .with("managed", if managed { "true" } else { "false" });
    let mut r = base(Kind::Stock, s(v, "id"), fields);
    r.modified = parse_vendor_time(&s(v, "modifydate"));
    r
}

/// The write body of a product: every mapped field on create, the touched ones on update.
/// `category` is written by the caller (other resources).
pub fn product_body(
    shop: &Shop,
    fields: &Fields,
    touched: &dyn Fn(&str) -> bool,
    creating: bool,
    current_tariff: &str,
) -> Result<Map<String, Value>, String> {
    let mut b = Map::new();
    for (canon, key) in [
        ("sku", "productnumber"),
        ("name", "name"),
        ("description", "description"),
        ("summary", "shortdescription"),
    ] {
        if touched(canon) && (!creating || !fields.get(canon).is_empty()) {
            b.insert(key.into(), json!(fields.get(canon)));
        }
    }
    if touched("ean") {
        let e = fields.get("ean");
        b.insert(
            "eannumber".into(),
            if e.is_empty() { Value::Null } else { json!(e) },
        );
    }
    let tariff = match fields.get("taxes") {
        "" => current_tariff.to_string(),
        t => tariff_of(t)
            .ok_or_else(|| {
                format!("CCV Shop has no tax tariff with the rate {t}% (it has 21, 9 and 0)")
            })?
            .to_string(),
    };
    if touched("taxes") || creating {
        b.insert("taxtariff".into(), json!(tariff));
    }
    let rate = rate_of(&tariff);
    let gross = fields.get("price_incl_tax");
    if touched("price_incl_tax") && !gross.is_empty() && shop.prices_include_tax {
        let g: f64 = gross
            .parse()
            .map_err(|_| format!("price with tax '{gross}' is not a number"))?;
        b.insert("price".into(), json!(g));
    } else if touched("price") || touched("taxes") || creating {
        let net = fields.get("price");
        let n: f64 = if net.is_empty() {
            0.0
        } else {
            net.parse()
                .map_err(|_| format!("price '{net}' is not a number"))?
        };
        b.insert("price".into(), json!(shop.shop_price(n, rate)));
    }
    if creating {
        b.insert("active".into(), json!(true));
    }
    Ok(b)
}

/// APC-4: the body that sets a product's stock (and whether the shop manages it).
pub fn stock_body(fields: &Fields, touched: &dyn Fn(&str) -> bool) -> Result<Value, String> {
    let mut b = Map::new();
    if touched("available") {
        let a = fields.get("available");
        let n: f64 = if a.is_empty() {
            0.0
        } else {
            a.parse()
                .map_err(|_| format!("stock '{a}' is not a number"))?
        };
        b.insert("stock".into(), json!(n));
    }
    if touched("managed") {
        b.insert(
            "stockenabled".into(),
            json!(matches!(fields.get("managed"), "true" | "1" | "yes")),
        );
    }
    Ok(Value::Object(b))
}

/// `street housenumber suffix` of a Personalinfo address.
fn street_line(a: &Value) -> String {
    let n = s(a, "housenumber");
    let n = if n == "0" { String::new() } else { n };
    [s(a, "street"), format!("{n}{}", s(a, "housenumber_suffix"))]
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A street line split back into CCV's street, house number and suffix: the last word that
/// starts with a digit is the number (`Dorpsstraat 12A` → `Dorpsstraat`, 12, `A`).
fn split_street(line: &str) -> (String, Option<u64>, String) {
    let words: Vec<&str> = line.split_whitespace().collect();
    if let Some(pos) = words
        .iter()
        .rposition(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
    {
        let w = words[pos];
        let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
        let suffix: String = w.chars().skip(digits.len()).collect();
        if let Ok(n) = digits.parse() {
            let mut rest: Vec<&str> = words.clone();
            rest.remove(pos);
            return (
                rest.join(" "),
                Some(n),
                suffix.trim_start_matches('-').into(),
            );
        }
    }
    (line.trim().to_string(), None, String::new())
}

/// A Personalinfo (`order.customer`, `user.userinfo`) as canonical contact fields: the
/// billing address's person, company and address, the email, the VAT number as `tax_id`.
pub fn personal_fields(p: &Value) -> Fields {
    let a = p.get("billingaddress").cloned().unwrap_or(Value::Null);
    let phone = match s(&a, "telephone") {
        t if t.is_empty() => s(&a, "mobile"),
        t => t,
    };
    Fields::new()
        .with("email", s(p, "email").trim().to_lowercase())
        .with("first_name", s(&a, "first_name"))
        .with("last_name", s(&a, "last_name"))
        .with("company_name", s(&a, "company"))
        .with("phone", phone)
        .with("street", street_line(&a))
        .with("postal_code", s(&a, "zipcode"))
        .with("city", s(&a, "city"))
        .with("country", canonical_country(&s(&a, "country_code")))
        .with("tax_id", s(p, "btw"))
}

/// APC-5: a shop user (customer account) as a canonical contact.
pub fn user_record(v: &Value) -> Record {
    let info = v.get("userinfo").cloned().unwrap_or(Value::Null);
    let mut r = base(Kind::Contact, s(v, "id"), personal_fields(&info));
    r.created = parse_vendor_time(&s(v, "createdate"));
    r.extra = json!({ "userinfo": info });
    r
}

/// The `userinfo` that writes `fields` over the user's current one.
pub fn userinfo_body(fields: &Fields, current: Option<&Value>) -> Value {
    let mut info = current
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    info["email"] = json!(fields.get("email"));
    info["btw"] = json!(fields.get("tax_id"));
    let (street, number, suffix) = split_street(fields.get("street"));
    let mut addr = info
        .get("billingaddress")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    for (k, v) in [
        ("first_name", fields.get("first_name")),
        ("last_name", fields.get("last_name")),
        ("company", fields.get("company_name")),
        ("zipcode", fields.get("postal_code")),
        ("city", fields.get("city")),
        ("country_code", fields.get("country")),
        ("telephone", fields.get("phone")),
    ] {
        addr[k] = json!(v);
    }
    addr["street"] = json!(street);
    addr["housenumber"] = json!(number.unwrap_or(0));
    addr["housenumber_suffix"] = json!(suffix);
    info["billingaddress"] = addr.clone();
    if info.get("deliveryaddress").is_none_or(|d| !d.is_object()) {
        info["deliveryaddress"] = addr;
    }
    info
}

/// APC-1: a CCV order (its rows given, `rows`) as a canonical order: net line prices with
/// their VAT rate, the shipping and the discount coupon as lines of their own, the customer
/// carried inside it (a guest has no account) and its products as dependencies.
pub fn order_record(shop: &Shop, v: &Value, rows: &[Value]) -> Record {
    let mut items = Vec::new();
    let mut products = std::collections::BTreeMap::new();
    for r in rows {
        let count = f(r, "count").unwrap_or(0.0);
        let price = f(r, "price").unwrap_or(0.0);
        let tax = f(r, "tax").unwrap_or(0.0);
        let discount = f(r, "discount").unwrap_or(0.0);
        let pct = if count * price > 0.0 {
            discount / (count * price) * 100.0
        } else {
            0.0
        };
        let sku = s(r, "product_number");
        if let (Ok(k), pid) = (Sku::parse(&sku), s(r, "product_id")) {
            if !pid.is_empty() {
                products.insert(k.key(), pid);
            }
        }
        items.push(OrderItem {
            name: s(r, "product_name"),
            sku,
            price: decimal(shop.net(price, tax)),
            quantity: decimal(count),
            discount: if pct.abs() < 1e-9 {
                String::new()
            } else {
                decimal((pct * 100.0).round() / 100.0)
            },
            tax: decimal(tax),
            line_kind: String::new(),
        });
    }
    // [I] Shipping is charged at 21 % (the sandbox's; real orders say
    // `shipping_tax_percentage`).
    let ship_rate = f(v, "shipping_tax_percentage").unwrap_or(21.0);
    let shipping = f(v, "total_shipping").unwrap_or(0.0);
    let ship_net = shop.net(shipping, ship_rate);
    if shipping > 0.0 {
        items.push(OrderItem {
            name: s(v, "deliver_method"),
            sku: String::new(),
            price: decimal(ship_net),
            quantity: "1".into(),
            tax: decimal(ship_rate),
            line_kind: "shipping".into(),
            ..OrderItem::default()
        });
    }
    if let Some(c) = v.get("discountcoupon").filter(|c| c.is_object()) {
        let amount = f(c, "discount").unwrap_or(0.0);
        if amount > 0.0 {
            items.push(OrderItem {
                name: s(c, "code"),
                sku: String::new(),
                price: decimal(-shop.net(amount, 21.0)),
                quantity: "1".into(),
                tax: "21".into(),
                line_kind: "discount".into(),
                ..OrderItem::default()
            });
        }
    }
    let customer = v.get("customer").cloned().unwrap_or(Value::Null);
    let contact = personal_fields(&customer);
    let status = v
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|n| STATUSES.get(n.checked_sub(1)? as usize))
        .copied()
        .unwrap_or("");
    let paid = v.get("paid").and_then(Value::as_bool) == Some(true);
    let created = parse_vendor_time(&s(v, "create_date"));
    let d = customer
        .get("deliveryaddress")
        .cloned()
        .unwrap_or(Value::Null);
    let name = [s(&d, "first_name"), s(&d, "last_name")].join(" ");
    let shipping_address = [
        s(&d, "company"),
        name.trim().to_string(),
        street_line(&d),
        format!("{} {}", s(&d, "zipcode"), s(&d, "city")),
        s(&d, "country_code"),
    ]
    .iter()
    .map(|x| x.trim())
    .filter(|x| !x.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    let fields = Fields::new()
        .with("order_id", s(v, "ordernumber_full"))
        .with("ecommerce", &shop.label)
        .with("status", status)
        .with(
            "order_date",
            created
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
        )
        .with("currency", s(v, "currency"))
        .with("items", order_items(&items))
        .with("customer", contact.get("email"))
        .with("total", canonical_decimal(&s(v, "total_price")))
        .with("payment", if paid { "paid" } else { "unpaid" })
        .with("payment_method", s(v, "paymethod"))
        .with("shipping_method", s(v, "deliver_method"))
        .with(
            "shipping_cost",
            if shipping > 0.0 {
                decimal(ship_net)
            } else {
                String::new()
            },
        )
        .with("shipping_address", shipping_address);
    let mut r = base(Kind::Order, s(v, "id"), fields);
    r.created = created;
    r.modified = created;
    let refs = DependencyRefs {
        customer: Some(CustomerRef {
            id: String::new(),
            kind: Some(Kind::Contact),
            fields: Some(contact),
        }),
        products,
    };
    r.extra = json!({ "refs": refs });
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Shop {
        Shop {
            prices_include_tax: true,
            currency: "EUR".into(),
            label: "ccv".into(),
        }
    }

    #[test]
    fn apc6_ccv_prices_read_net_and_write_gross_without_drift() {
        let p = json!({"id": 2001, "productnumber": "BON-1001", "name": "Bonen", "price": 15.72,
            "taxtariff": "normal", "attributecombinations": {"items": []}});
        let r = product_record(&shop(), &p);
        assert_eq!(r.fields.get("price"), "12.99");
        assert_eq!(r.fields.get("price_incl_tax"), "15.72");
        assert_eq!(r.fields.get("taxes"), "21");
        assert_eq!(r.fields.get("type"), "");
        let all = |_: &str| true;
        let b = product_body(&shop(), &r.fields, &all, true, "normal").unwrap();
        assert_eq!(b["price"], json!(15.72));
        assert_eq!(b["taxtariff"], json!("normal"));
        let e = product_body(
            &shop(),
            &r.fields.clone().with("taxes", "25"),
            &all,
            true,
            "",
        )
        .unwrap_err();
        assert!(e.contains("rate 25%"), "{e}");
        let mut v = p.clone();
        v["attributecombinations"]["items"] = json!([{"id": 1}]);
        assert_eq!(product_record(&shop(), &v).fields.get("type"), "variable");
    }

    #[test]
    fn apc5_street_lines_split_back_into_number_and_suffix() {
        assert_eq!(
            split_street("Dorpsstraat 12A"),
            ("Dorpsstraat".into(), Some(12), "A".into())
        );
        assert_eq!(
            split_street("Van Goghlaan 3-bis"),
            ("Van Goghlaan".into(), Some(3), "bis".into())
        );
        assert_eq!(split_street("Postbus"), ("Postbus".into(), None, "".into()));
        let a = json!({"street": "Dorpsstraat", "housenumber": 12, "housenumber_suffix": "A"});
        assert_eq!(street_line(&a), "Dorpsstraat 12A");
    }
}
