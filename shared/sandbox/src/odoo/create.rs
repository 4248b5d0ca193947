//! Creating records: value conversion, defaults, `_inherits` templates and variants, and
//! x2many commands.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::fault::{fk_error, py_repr, value_err, Fault, R};
use super::schema::{Field, Model, Ty};
use super::tx::Tx;
use super::values::{fmt_dt, fmt_dt_micro, fnum, ids_of, num, to_date, to_datetime, truthy};
use super::write::{on_delete, OnDelete};
use super::{Obj, SALE_TAX_ID, UNITS_ID};

/// Fields of `product.product` stored on the variant itself; every other
/// template field written on a variant goes to its template (`_inherits`).
pub(super) const VARIANT_OWN: [&str; 6] = [
    "product_tmpl_id",
    "default_code",
    "barcode",
    "active",
    "lst_price",
    "price_extra",
];

/// 16/17 `product.template._sanitize_vals`: `type` and `detailed_type`
/// follow each other [src].
pub(super) fn sanitize_product_vals(version: u8, vals: &mut Obj) {
    if version >= 18 {
        return;
    }
    match (
        vals.get("type").cloned(),
        vals.get("detailed_type").cloned(),
    ) {
        (Some(t), None) => {
            vals.insert("detailed_type".into(), t);
        }
        (None, Some(d)) => {
            vals.insert("type".into(), d);
        }
        _ => {}
    }
}

impl<'a> Tx<'a> {
    /// Converts an incoming scalar value to storage form.
    pub(super) fn convert(&self, m: &Model, f: &Field, v: &Value) -> R<Value> {
        let wrong = || {
            value_err(format!(
                "Wrong value for {}.{}: {}",
                m.name,
                f.name,
                py_repr(v)
            ))
        };
        Ok(match f.ty {
            Ty::Char | Ty::Text | Ty::Html => match v {
                Value::Null | Value::Bool(false) => Value::Bool(false),
                Value::String(s) => json!(s),
                other => json!(py_repr(other)),
            },
            Ty::Selection => match v {
                Value::Null | Value::Bool(false) => Value::Bool(false),
                Value::String(s) if f.selection.iter().any(|(k, _)| k == s) => json!(s),
                _ => return Err(wrong()),
            },
            Ty::Integer => match v {
                Value::String(s) => json!(s.trim().parse::<i64>().map_err(|_| {
                    value_err(format!(
                        "invalid literal for int() with base 10: {}",
                        py_repr(v)
                    ))
                })?),
                other => json!(num(other) as i64),
            },
            Ty::Float | Ty::Monetary => match v {
                Value::String(s) => fnum(s.trim().parse::<f64>().map_err(|_| {
                    value_err(format!("could not convert string to float: {}", py_repr(v)))
                })?),
                other => fnum(num(other)),
            },
            Ty::Boolean => json!(truthy(v)),
            Ty::Date => match v {
                Value::Null | Value::Bool(false) => Value::Bool(false),
                Value::String(s) => json!(to_date(s)?.format("%Y-%m-%d").to_string()),
                _ => return Err(wrong()),
            },
            Ty::Datetime => match v {
                Value::Null | Value::Bool(false) => Value::Bool(false),
                Value::String(s) => json!(fmt_dt(to_datetime(s)?)),
                _ => return Err(wrong()),
            },
            Ty::Many2one => match v {
                Value::Null | Value::Bool(false) => Value::Bool(false),
                Value::Number(n) if n.as_i64() == Some(0) => Value::Bool(false),
                Value::Number(n) => {
                    let id = n.as_i64().ok_or_else(wrong)?;
                    if !self.exists(f.relation.unwrap_or_default(), id) {
                        return Err(fk_error(m, f.name));
                    }
                    json!(id)
                }
                _ => return Err(wrong()),
            },
            Ty::One2many | Ty::Many2many => return Err(wrong()),
        })
    }

    /// Inserts a new row with defaults and log fields; returns its id.
    fn insert_row(&mut self, model: &'static str, defaults: Obj) -> i64 {
        let now = json!(fmt_dt_micro(self.now));
        let uid = json!(self.uid);
        let id = self.table_mut(model).next_id.max(1);
        self.save(model, id);
        let t = self.table_mut(model);
        t.next_id = id + 1;
        let mut rec = defaults;
        rec.insert("create_date".into(), now.clone());
        rec.insert("write_date".into(), now);
        rec.insert("create_uid".into(), uid.clone());
        rec.insert("write_uid".into(), uid);
        t.rows.insert(id, rec);
        id
    }

    pub(super) fn defaults(&self, model: &str) -> Obj {
        let v = self.s.version;
        let mut o = Obj::new();
        let mut put = |k: &str, v: Value| {
            o.insert(k.to_string(), v);
        };
        match model {
            "res.partner" => {
                put("active", json!(true));
                put("type", json!("contact"));
                put("is_company", json!(false));
                put("lang", json!("en_US"));
            }
            "product.template" => {
                put("active", json!(true));
                put("type", json!("consu"));
                if v < 18 {
                    put("detailed_type", json!("consu"));
                }
                put("list_price", fnum(1.0));
                put("sale_ok", json!(true));
                put("purchase_ok", json!(true));
                put("uom_id", json!(UNITS_ID));
                put("taxes_id", json!([SALE_TAX_ID]));
                put("invoice_policy", json!("order"));
            }
            "product.product" => put("active", json!(true)),
            "sale.order" => {
                put("state", json!("draft"));
                put("date_order", json!(fmt_dt(self.now.naive_utc())));
                put("company_id", json!(1));
                put("user_id", json!(self.uid));
                if v >= 17 {
                    put("locked", json!(false));
                }
            }
            "sale.order.line" => {
                put("sequence", json!(10));
                put("product_uom_qty", fnum(1.0));
                put("discount", fnum(0.0));
                put("qty_delivered", fnum(0.0));
                put("qty_invoiced", fnum(0.0));
                put("price_unit", fnum(0.0));
            }
            "res.currency" | "product.pricelist" | "uom.uom" | "res.users" => {
                put("active", json!(true))
            }
            "account.tax" => {
                put("active", json!(true));
                put("amount_type", json!("percent"));
                put("type_tax_use", json!("sale"));
                put("company_id", json!(1));
            }
            _ => {}
        }
        o
    }

    // ----------------------------------------------------------- create

    pub(super) fn create(&mut self, m: &'a Model, vals: &Obj) -> R<i64> {
        match m.name {
            "product.product" => return self.create_variant(vals),
            "product.template" => return self.create_template(vals),
            _ => {}
        }
        let mut vals = vals.clone();
        if m.name == "sale.order" {
            let name = vals.get("name").and_then(Value::as_str).unwrap_or("New");
            if name == "New" || name == "/" {
                self.d.so_seq += 1;
                vals.insert("name".into(), json!(format!("S{:05}", self.d.so_seq)));
            }
            if self.s.version == 16 && !vals.contains_key("pricelist_id") {
                vals.insert("pricelist_id".into(), json!(1));
            }
        }
        let defaults = self.defaults(m.name);
        let id = self.insert_row(m.name, defaults);
        let keys = self.apply_vals(m, id, &vals)?;
        self.after_write(m, id, &keys, true)?;
        Ok(id)
    }

    fn create_template(&mut self, vals: &Obj) -> R<i64> {
        let tm = self.model("product.template")?;
        let mut vals = vals.clone();
        sanitize_product_vals(self.s.version, &mut vals);
        let barcode = vals.remove("barcode");
        let id = self.insert_row("product.template", self.defaults("product.template"));
        let keys = self.apply_vals(tm, id, &vals)?;
        self.check_required(tm, id)?;
        let mut vv = Obj::new();
        vv.insert("product_tmpl_id".into(), json!(id));
        if let Some(c) = vals.get("default_code") {
            vv.insert("default_code".into(), c.clone());
        }
        if let Some(b) = barcode {
            vv.insert("barcode".into(), b);
        }
        let pm = self.model("product.product")?;
        let vid = self.insert_row("product.product", self.defaults("product.product"));
        self.apply_vals(pm, vid, &vv)?;
        self.after_write(pm, vid, &vv.keys().cloned().collect(), true)?;
        let _ = keys;
        Ok(id)
    }

    fn create_variant(&mut self, vals: &Obj) -> R<i64> {
        let pm = self.model("product.product")?;
        let tm = self.model("product.template")?;
        let (mut t_vals, mut v_vals) = (Obj::new(), Obj::new());
        for (k, v) in vals {
            if VARIANT_OWN.contains(&k.as_str()) || !tm.has(k) {
                v_vals.insert(k.clone(), v.clone());
            } else {
                t_vals.insert(k.clone(), v.clone());
            }
        }
        if let Some(p) = v_vals.remove("lst_price") {
            t_vals.entry("list_price").or_insert(p);
        }
        sanitize_product_vals(self.s.version, &mut t_vals);
        let tmpl = match v_vals.get("product_tmpl_id").and_then(Value::as_i64) {
            Some(t) => {
                if !self.exists("product.template", t) {
                    return Err(fk_error(pm, "product_tmpl_id"));
                }
                if !t_vals.is_empty() {
                    self.write_template(t, &t_vals)?;
                }
                t
            }
            None => {
                let t = self.insert_row("product.template", self.defaults("product.template"));
                if let Some(c) = v_vals.get("default_code") {
                    t_vals.entry("default_code").or_insert(c.clone());
                }
                self.apply_vals(tm, t, &t_vals)?;
                self.check_required(tm, t)?;
                v_vals.insert("product_tmpl_id".into(), json!(t));
                t
            }
        };
        let id = self.insert_row("product.product", self.defaults("product.product"));
        let keys = self.apply_vals(pm, id, &v_vals)?;
        self.after_write(pm, id, &keys, true)?;
        let _ = tmpl;
        Ok(id)
    }

    /// Applies `vals` to an existing row (x2many commands included);
    /// returns the names of the fields written.
    pub(super) fn apply_vals(&mut self, m: &'a Model, id: i64, vals: &Obj) -> R<BTreeSet<String>> {
        let mut keys = BTreeSet::new();
        let mut unknown = Vec::new();
        for (k, v) in vals {
            let Some(f) = m.field(k) else {
                unknown.push(k.clone());
                continue;
            };
            if !f.writable {
                continue;
            }
            match (m.name, f.name) {
                ("res.partner", "company_type") => {
                    let is_company = v.as_str() == Some("company");
                    if !matches!(v.as_str(), Some("company") | Some("person")) {
                        return Err(value_err(format!(
                            "Wrong value for res.partner.company_type: {}",
                            py_repr(v)
                        )));
                    }
                    self.set(m.name, id, "is_company", json!(is_company));
                    keys.insert("is_company".to_string());
                    continue;
                }
                ("product.product", "lst_price") => {
                    let t = self.m2o(m.name, id, "product_tmpl_id").unwrap_or(0);
                    let mut tv = Obj::new();
                    tv.insert("list_price".into(), v.clone());
                    self.write_template(t, &tv)?;
                    continue;
                }
                _ => {}
            }
            match f.ty {
                Ty::One2many => self.o2m_commands(m, id, f, v)?,
                Ty::Many2many => {
                    let cur = ids_of(&self.get(m.name, id, f.name));
                    let new = self.m2m_commands(m, f, cur, v)?;
                    self.set(m.name, id, f.name, json!(new));
                }
                _ => {
                    let c = self.convert(m, f, v)?;
                    self.set(m.name, id, f.name, c);
                }
            }
            keys.insert(k.clone());
        }
        if !unknown.is_empty() {
            tracing::warn!(
                "{}.write() with unknown fields: {}",
                m.name,
                unknown.join(", ")
            );
        }
        Ok(keys)
    }

    fn bad_command(v: &Value) -> Fault {
        value_err(format!("Invalid x2many command {}", py_repr(v)))
    }

    fn commands(v: &Value) -> R<Vec<(i64, i64, Value)>> {
        let Value::Array(list) = v else {
            return Err(Self::bad_command(v));
        };
        let mut out = Vec::new();
        for c in list {
            match c {
                // A bare id list means "set" (`convert_to_cache`).
                Value::Number(n) => out.push((4, n.as_i64().unwrap_or(0), Value::Null)),
                Value::Array(a) if !a.is_empty() => {
                    let code = a[0].as_i64().ok_or_else(|| Self::bad_command(c))?;
                    let id = a.get(1).and_then(Value::as_i64).unwrap_or(0);
                    let arg = a.get(2).cloned().unwrap_or(Value::Null);
                    if !(0..=6).contains(&code) {
                        return Err(Self::bad_command(c));
                    }
                    out.push((code, id, arg));
                }
                _ => return Err(Self::bad_command(c)),
            }
        }
        // A list of bare ids replaces the relation.
        if list.iter().all(Value::is_number) && !list.is_empty() {
            let ids: Vec<Value> = list.clone();
            return Ok(vec![(6, 0, Value::Array(ids))]);
        }
        Ok(out)
    }

    fn m2m_commands(&mut self, m: &'a Model, f: &Field, cur: Vec<i64>, v: &Value) -> R<Vec<i64>> {
        let comodel = self.model(f.relation.unwrap_or_default())?;
        let mut ids = cur;
        for (code, cid, arg) in Self::commands(v)? {
            match code {
                0 => {
                    let vals = arg.as_object().cloned().unwrap_or_default();
                    let new = self.create(comodel, &vals)?;
                    ids.push(new);
                }
                1 => {
                    let vals = arg.as_object().cloned().unwrap_or_default();
                    self.write(comodel, &[cid], &vals)?;
                }
                2 => {
                    ids.retain(|i| *i != cid);
                    self.unlink(comodel, &[cid])?;
                }
                3 => ids.retain(|i| *i != cid),
                4 => {
                    if !self.exists(comodel.name, cid) {
                        return Err(fk_error(m, f.name));
                    }
                    if !ids.contains(&cid) {
                        ids.push(cid);
                    }
                }
                5 => ids.clear(),
                _ => {
                    let new = ids_of(&arg);
                    for i in &new {
                        if !self.exists(comodel.name, *i) {
                            return Err(fk_error(m, f.name));
                        }
                    }
                    ids = new;
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    fn o2m_commands(&mut self, m: &'a Model, id: i64, f: &Field, v: &Value) -> R<()> {
        let comodel = self.model(f.relation.unwrap_or_default())?;
        let inverse = f.inverse.unwrap_or_default();
        let cascade = on_delete(comodel.name, inverse) == OnDelete::Cascade;
        for (code, cid, arg) in Self::commands(v)? {
            let detach = |tx: &mut Self, cid: i64| -> R<()> {
                if cascade {
                    tx.unlink(comodel, &[cid])
                } else {
                    let mut vals = Obj::new();
                    vals.insert(inverse.to_string(), Value::Bool(false));
                    tx.write(comodel, &[cid], &vals)
                }
            };
            match code {
                0 => {
                    let mut vals = arg.as_object().cloned().unwrap_or_default();
                    vals.insert(inverse.to_string(), json!(id));
                    self.create(comodel, &vals)?;
                }
                1 => {
                    let vals = arg.as_object().cloned().unwrap_or_default();
                    self.write(comodel, &[cid], &vals)?;
                }
                2 => self.unlink(comodel, &[cid])?,
                3 => detach(self, cid)?,
                4 => {
                    let mut vals = Obj::new();
                    vals.insert(inverse.to_string(), json!(id));
                    self.write(comodel, &[cid], &vals)?;
                }
                5 => {
                    for c in self.children(comodel.name, inverse, id) {
                        detach(self, c)?;
                    }
                }
                _ => {
                    let keep = ids_of(&arg);
                    for c in self.children(comodel.name, inverse, id) {
                        if !keep.contains(&c) {
                            detach(self, c)?;
                        }
                    }
                    for c in keep {
                        if self.m2o(comodel.name, c, inverse) != Some(id) {
                            let mut vals = Obj::new();
                            vals.insert(inverse.to_string(), json!(id));
                            self.write(comodel, &[c], &vals)?;
                        }
                    }
                }
            }
        }
        let _ = m;
        Ok(())
    }
}
