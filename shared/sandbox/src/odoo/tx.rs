//! The store and one call's transaction over it: row access with a rollback journal, display
//! names, computed field values and the sale order amounts.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::fault::{user_err, R};
use super::schema::{Field, Model, Schema, Ty, PARTNER_TYPES_16};
use super::search::parse_order;
use super::values::{
    fmt_dt, fmt_dt_micro, fnum, ids_of, num, parse_stored_dt, round2, str_of, truthy,
};
use super::{Obj, EUR_ID};

#[derive(Clone, Default)]
pub(super) struct Table {
    pub(super) rows: BTreeMap<i64, Obj>,
    pub(super) next_id: i64,
}

#[derive(Clone, Default)]
pub(super) struct Data {
    tables: BTreeMap<&'static str, Table>,
    /// Last `sale.order` sequence number handed out.
    pub(super) so_seq: u64,
}

/// A transaction: one call's view of the data.
pub(super) struct Tx<'a> {
    pub(super) s: &'a Schema,
    pub(super) d: &'a mut Data,
    /// Transaction start: every `write_date` written by this call.
    pub(super) now: DateTime<Utc>,
    pub(super) uid: i64,
    pub(super) active_test: bool,
    /// Reverse many2one indexes (`"model\0field"` → target → ids), built
    /// on demand and dropped on every write.
    index: RefCell<BTreeMap<String, BTreeMap<i64, Vec<i64>>>>,
    /// Rows as they were before this transaction changed them (`None`:
    /// created by it), for the rollback of a failed call.
    journal: Vec<(&'static str, i64, Option<Obj>)>,
    journaled: HashSet<(&'static str, i64)>,
}

impl<'a> Tx<'a> {
    /// A transaction over `d` started at `now` by `uid`; `active_test` is the context flag
    /// that hides archived records from searches.
    pub(super) fn new(
        s: &'a Schema,
        d: &'a mut Data,
        now: DateTime<Utc>,
        uid: i64,
        active_test: bool,
    ) -> Self {
        Tx {
            s,
            d,
            now,
            uid,
            active_test,
            index: RefCell::default(),
            journal: Vec::new(),
            journaled: HashSet::new(),
        }
    }

    pub(super) fn model(&self, name: &str) -> R<&'a Model> {
        let s: &'a Schema = self.s;
        s.models
            .get(name)
            .ok_or_else(|| user_err(format!("Object {name} doesn't exist")))
    }

    fn table(&self, model: &str) -> Option<&Table> {
        self.d.tables.get(model)
    }

    pub(super) fn table_mut(&mut self, model: &'static str) -> &mut Table {
        // A write may change this model's many2ones: drop its reverse indexes.
        let prefix = format!("{model}\u{0}");
        self.index.get_mut().retain(|k, _| !k.starts_with(&prefix));
        self.d.tables.entry(model).or_insert_with(|| Table {
            rows: BTreeMap::new(),
            next_id: 1,
        })
    }

    fn rec(&self, model: &str, id: i64) -> Option<&Obj> {
        self.table(model).and_then(|t| t.rows.get(&id))
    }

    pub(super) fn get(&self, model: &str, id: i64, field: &str) -> Value {
        self.rec(model, id)
            .and_then(|r| r.get(field))
            .cloned()
            .unwrap_or(Value::Bool(false))
    }

    pub(super) fn exists(&self, model: &str, id: i64) -> bool {
        self.rec(model, id).is_some()
    }

    pub(super) fn all_ids(&self, model: &str) -> Vec<i64> {
        self.table(model)
            .map(|t| t.rows.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Ids of `model` whose many2one `field` is `target`.
    pub(super) fn children(&self, model: &str, field: &str, target: i64) -> Vec<i64> {
        let key = format!("{model}\u{0}{field}");
        let mut cache = self.index.borrow_mut();
        let index = cache.entry(key).or_insert_with(|| {
            let mut idx: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
            if let Some(t) = self.table(model) {
                for (id, r) in &t.rows {
                    if let Some(to) = r.get(field).and_then(Value::as_i64) {
                        idx.entry(to).or_default().push(*id);
                    }
                }
            }
            idx
        });
        index.get(&target).cloned().unwrap_or_default()
    }

    pub(super) fn m2o(&self, model: &str, id: i64, field: &str) -> Option<i64> {
        self.get(model, id, field).as_i64()
    }

    /// Journals a row's state before its first change in this transaction.
    pub(super) fn save(&mut self, model: &'static str, id: i64) {
        if self.journaled.insert((model, id)) {
            let old = self.rec(model, id).cloned();
            self.journal.push((model, id, old));
        }
    }

    /// Puts every journaled row back (ids and sequence numbers stay
    /// consumed, as PostgreSQL sequences do).
    pub(super) fn rollback(&mut self) {
        while let Some((model, id, old)) = self.journal.pop() {
            let t = self.table_mut(model);
            match old {
                Some(o) => {
                    t.rows.insert(id, o);
                }
                None => {
                    t.rows.remove(&id);
                }
            }
        }
        self.journaled.clear();
    }

    pub(super) fn remove_row(&mut self, model: &'static str, id: i64) {
        self.save(model, id);
        self.table_mut(model).rows.remove(&id);
    }

    pub(super) fn set(&mut self, model: &'static str, id: i64, field: &str, v: Value) {
        self.save(model, id);
        if let Some(r) = self.table_mut(model).rows.get_mut(&id) {
            r.insert(field.to_string(), v);
        }
    }

    /// Marks a record as written by this transaction.
    pub(super) fn touch(&mut self, model: &'static str, id: i64) {
        let now = json!(fmt_dt_micro(self.now));
        let uid = json!(self.uid);
        self.save(model, id);
        if let Some(r) = self.table_mut(model).rows.get_mut(&id) {
            r.insert("write_date".into(), now);
            r.insert("write_uid".into(), uid);
        }
    }

    // ------------------------------------------------------ display names

    pub(super) fn display_name(&self, model: &str, id: i64) -> String {
        let g = |f: &str| str_of(&self.get(model, id, f)).to_string();
        match model {
            "res.partner" => self.partner_complete_name(id),
            "product.product" | "product.template" => {
                let (name, code) = if model == "product.product" {
                    let t = self.m2o(model, id, "product_tmpl_id").unwrap_or(0);
                    (
                        str_of(&self.get("product.template", t, "name")).to_string(),
                        g("default_code"),
                    )
                } else {
                    (g("name"), g("default_code"))
                };
                if code.is_empty() {
                    name
                } else {
                    format!("[{code}] {name}")
                }
            }
            "res.country.state" => {
                let c = self.m2o(model, id, "country_id").unwrap_or(0);
                format!(
                    "{} ({})",
                    g("name"),
                    str_of(&self.get("res.country", c, "code"))
                )
            }
            "product.pricelist" => {
                let c = self.m2o(model, id, "currency_id").unwrap_or(0);
                format!(
                    "{} ({})",
                    g("name"),
                    str_of(&self.get("res.currency", c, "name"))
                )
            }
            "sale.order.line" => {
                let o = self.m2o(model, id, "order_id").unwrap_or(0);
                let order = str_of(&self.get("sale.order", o, "name")).to_string();
                let name = g("name");
                let first = name.lines().next().unwrap_or("").to_string();
                format!("{order} - {first}")
            }
            _ => g("name"),
        }
    }

    /// `res.partner._get_complete_name` [src].
    fn partner_complete_name(&self, id: i64) -> String {
        let g = |f: &str| self.get("res.partner", id, f);
        let mut name = str_of(&g("name")).to_string();
        if let Some(parent) = g("parent_id").as_i64() {
            let ty = str_of(&g("type")).to_string();
            if name.is_empty() {
                if let Some((_, label)) = PARTNER_TYPES_16
                    .iter()
                    .find(|(k, _)| *k == ty && ["invoice", "delivery", "other"].contains(k))
                {
                    name = label.to_string();
                }
            }
            if !truthy(&g("is_company")) {
                let commercial = self.commercial_partner(id);
                let company = if truthy(&self.get("res.partner", commercial, "is_company")) {
                    str_of(&self.get("res.partner", commercial, "name")).to_string()
                } else {
                    String::new()
                };
                let head = if company.is_empty() {
                    str_of(&self.get("res.partner", parent, "name")).to_string()
                } else {
                    company
                };
                name = format!("{head}, {name}");
            }
        }
        name.trim().to_string()
    }

    /// `commercial_partner_id`: the partner itself when it is a company or
    /// has no parent, else its parent's commercial partner.
    pub(super) fn commercial_partner(&self, id: i64) -> i64 {
        let mut cur = id;
        for _ in 0..64 {
            if truthy(&self.get("res.partner", cur, "is_company")) {
                return cur;
            }
            match self.m2o("res.partner", cur, "parent_id") {
                Some(p) if self.exists("res.partner", p) => cur = p,
                _ => return cur,
            }
        }
        cur
    }

    // ----------------------------------------------------------- values

    /// Sorted ids of `comodel` pointing at `id` through `inverse`, in the
    /// comodel's default order.
    fn o2m_ids(&self, comodel: &str, inverse: &str, id: i64) -> Vec<i64> {
        let ids = self.children(comodel, inverse, id);
        match self.s.models.get(comodel) {
            Some(m) => {
                let terms = parse_order(m, m.order).unwrap_or_default();
                let mut ids = ids;
                self.sort(m, &mut ids, &terms);
                ids
            }
            None => ids,
        }
    }

    /// The value of `f` on a record, in storage form (many2one = id or
    /// false, x2many = ids, datetimes with microseconds), computed fields
    /// included.
    pub(super) fn raw(&self, m: &Model, id: i64, f: &Field) -> Value {
        let model = m.name;
        match (model, f.name) {
            (_, "id") => return json!(id),
            (_, "display_name") => return json!(self.display_name(model, id)),
            (_, "__last_update") => {
                let w = self.get(model, id, "write_date");
                return if truthy(&w) {
                    w
                } else {
                    self.get(model, id, "create_date")
                };
            }
            _ => {}
        }
        if f.ty == Ty::One2many {
            return json!(self.o2m_ids(
                f.relation.unwrap_or_default(),
                f.inverse.unwrap_or_default(),
                id
            ));
        }
        match model {
            "res.partner" => match f.name {
                "complete_name" => return json!(self.partner_complete_name(id)),
                "commercial_partner_id" => return json!(self.commercial_partner(id)),
                "company_type" => {
                    return json!(if truthy(&self.get(model, id, "is_company")) {
                        "company"
                    } else {
                        "person"
                    })
                }
                _ => {}
            },
            "product.template" => match f.name {
                "barcode" => {
                    let v = self.children("product.product", "product_tmpl_id", id);
                    return if v.len() == 1 {
                        self.get("product.product", v[0], "barcode")
                    } else {
                        Value::Bool(false)
                    };
                }
                "product_variant_id" => {
                    let v = self.children("product.product", "product_tmpl_id", id);
                    return v.first().map(|i| json!(i)).unwrap_or(Value::Bool(false));
                }
                "product_variant_count" => {
                    return json!(self
                        .children("product.product", "product_tmpl_id", id)
                        .len())
                }
                "currency_id" => return json!(EUR_ID),
                _ => {}
            },
            "product.product" => {
                let tmpl = self.m2o(model, id, "product_tmpl_id").unwrap_or(0);
                match f.name {
                    "lst_price" => {
                        return fnum(num(&self.get("product.template", tmpl, "list_price")))
                    }
                    "price_extra" => return fnum(0.0),
                    "currency_id" => return json!(EUR_ID),
                    _ if !f.store => {
                        let tm = &self.s.models["product.template"];
                        if let Some(tf) = tm.field(f.name) {
                            return self.raw(tm, tmpl, tf);
                        }
                    }
                    _ => {}
                }
            }
            "sale.order" => match f.name {
                "amount_untaxed" | "amount_tax" | "amount_total" => {
                    let (u, t) = self.order_amounts(id);
                    return fnum(match f.name {
                        "amount_untaxed" => u,
                        "amount_tax" => t,
                        _ => round2(u + t),
                    });
                }
                "currency_id" => return json!(self.order_currency(id)),
                "invoice_status" => {
                    let state = str_of(&self.get(model, id, "state")).to_string();
                    let lines = self.children("sale.order.line", "order_id", id);
                    let to_invoice = ["sale", "done"].contains(&state.as_str())
                        && lines.iter().any(|l| self.line_qty_to_invoice(*l) > 0.0);
                    return json!(if to_invoice { "to invoice" } else { "no" });
                }
                "delivery_status" => {
                    let state = str_of(&self.get(model, id, "state")).to_string();
                    if !["sale", "done"].contains(&state.as_str()) {
                        return Value::Bool(false);
                    }
                    let lines: Vec<i64> = self
                        .children("sale.order.line", "order_id", id)
                        .into_iter()
                        .filter(|l| self.line_is_stock(*l))
                        .collect();
                    if lines.is_empty() {
                        return Value::Bool(false);
                    }
                    let delivered: f64 = lines
                        .iter()
                        .map(|l| num(&self.get("sale.order.line", *l, "qty_delivered")))
                        .sum();
                    let all = lines.iter().all(|l| {
                        num(&self.get("sale.order.line", *l, "qty_delivered"))
                            >= num(&self.get("sale.order.line", *l, "product_uom_qty"))
                    });
                    return json!(if all {
                        "full"
                    } else if delivered > 0.0 {
                        "partial"
                    } else {
                        "pending"
                    });
                }
                _ => {}
            },
            "sale.order.line" => {
                let order = self.m2o(model, id, "order_id").unwrap_or(0);
                match f.name {
                    "price_subtotal" | "price_tax" | "price_total" => {
                        let (sub, tax) = self.line_amounts(id);
                        return fnum(match f.name {
                            "price_subtotal" => sub,
                            "price_tax" => tax,
                            _ => round2(sub + tax),
                        });
                    }
                    "qty_to_invoice" => return fnum(self.line_qty_to_invoice(id)),
                    "qty_to_deliver" => {
                        return fnum(
                            num(&self.get(model, id, "product_uom_qty"))
                                - num(&self.get(model, id, "qty_delivered")),
                        )
                    }
                    "qty_delivered_method" => {
                        return json!(if self.line_is_stock(id) {
                            "stock_move"
                        } else {
                            "manual"
                        })
                    }
                    "state" => return self.get("sale.order", order, "state"),
                    "currency_id" => return json!(self.order_currency(order)),
                    "order_partner_id" => return self.get("sale.order", order, "partner_id"),
                    "company_id" => return self.get("sale.order", order, "company_id"),
                    _ => {}
                }
            }
            "account.tax" if f.name == "price_include" && self.s.version >= 18 => {
                return json!(
                    str_of(&self.get(model, id, "price_include_override")) == "tax_included"
                );
            }
            "res.currency" if f.name == "decimal_places" => return json!(2),
            _ => {}
        }
        match self.rec(model, id).and_then(|r| r.get(f.name)) {
            Some(v) => v.clone(),
            None => default_raw(f.ty),
        }
    }

    /// `raw` as `read` answers it [§3 value encoding].
    pub(super) fn render(&self, m: &Model, id: i64, f: &Field) -> Value {
        let v = self.raw(m, id, f);
        match f.ty {
            Ty::Many2one => match v.as_i64() {
                Some(t) if self.exists(f.relation.unwrap_or_default(), t) => {
                    json!([t, self.display_name(f.relation.unwrap_or_default(), t)])
                }
                _ => Value::Bool(false),
            },
            Ty::Datetime => match v.as_str().and_then(parse_stored_dt) {
                Some(t) => json!(fmt_dt(t)),
                None => Value::Bool(false),
            },
            Ty::Float | Ty::Monetary => fnum(num(&v)),
            Ty::Integer => json!(num(&v) as i64),
            Ty::Boolean => json!(truthy(&v)),
            Ty::One2many | Ty::Many2many => json!(ids_of(&v)),
            _ => match v {
                Value::Null => Value::Bool(false),
                other => other,
            },
        }
    }

    // ------------------------------------------------- sale computations

    fn order_currency(&self, order: i64) -> i64 {
        // 16: related pricelist_id.currency_id; 17/18: the pricelist's or
        // the company's [§5].
        self.m2o("sale.order", order, "pricelist_id")
            .and_then(|p| self.m2o("product.pricelist", p, "currency_id"))
            .unwrap_or(EUR_ID)
    }

    fn line_is_stock(&self, line: i64) -> bool {
        if !self.s.sale_stock {
            return false;
        }
        let Some(p) = self.m2o("sale.order.line", line, "product_id") else {
            return false;
        };
        let t = self
            .m2o("product.product", p, "product_tmpl_id")
            .unwrap_or(0);
        str_of(&self.get("product.template", t, "type")) != "service"
    }

    /// (subtotal, tax) of a line, rounded per line (`round_per_line`).
    fn line_amounts(&self, line: i64) -> (f64, f64) {
        let g = |f: &str| self.get("sale.order.line", line, f);
        if truthy(&g("display_type")) {
            return (0.0, 0.0);
        }
        let base = num(&g("product_uom_qty"))
            * num(&g("price_unit"))
            * (1.0 - num(&g("discount")) / 100.0);
        let mut incl_rate = 0.0;
        let mut excl_rate = 0.0;
        for t in ids_of(&g("tax_id")) {
            let rate = num(&self.get("account.tax", t, "amount")) / 100.0;
            let included = if self.s.version >= 18 {
                str_of(&self.get("account.tax", t, "price_include_override")) == "tax_included"
            } else {
                truthy(&self.get("account.tax", t, "price_include"))
            };
            if included {
                incl_rate += rate;
            } else {
                excl_rate += rate;
            }
        }
        let sub = round2(base / (1.0 + incl_rate));
        let incl_tax = round2(base - sub);
        let excl_tax = round2(sub * excl_rate);
        let tax = if incl_rate > 0.0 {
            round2(incl_tax + excl_tax)
        } else {
            excl_tax
        };
        (sub, tax)
    }

    fn order_amounts(&self, order: i64) -> (f64, f64) {
        let mut u = 0.0;
        let mut t = 0.0;
        for l in self.children("sale.order.line", "order_id", order) {
            let (a, b) = self.line_amounts(l);
            u += a;
            t += b;
        }
        (round2(u), round2(t))
    }

    fn line_qty_to_invoice(&self, line: i64) -> f64 {
        let order = self.m2o("sale.order.line", line, "order_id").unwrap_or(0);
        let state = str_of(&self.get("sale.order", order, "state")).to_string();
        if !["sale", "done"].contains(&state.as_str())
            || truthy(&self.get("sale.order.line", line, "display_type"))
        {
            return 0.0;
        }
        let g = |f: &str| num(&self.get("sale.order.line", line, f));
        let p = self.m2o("sale.order.line", line, "product_id").unwrap_or(0);
        let t = self
            .m2o("product.product", p, "product_tmpl_id")
            .unwrap_or(0);
        let policy = str_of(&self.get("product.template", t, "invoice_policy")).to_string();
        let basis = if policy == "delivery" {
            g("qty_delivered")
        } else {
            g("product_uom_qty")
        };
        basis - g("qty_invoiced")
    }
}

fn default_raw(ty: Ty) -> Value {
    match ty {
        Ty::Boolean => Value::Bool(false),
        Ty::Integer => json!(0),
        Ty::Float | Ty::Monetary => fnum(0.0),
        Ty::One2many | Ty::Many2many => json!([]),
        _ => Value::Bool(false),
    }
}
