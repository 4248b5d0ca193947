//! Writing and deleting records: the ORM rules that follow a write (partner sync, order line
//! defaults, barcode uniqueness) and `ondelete` on unlink.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::create::{sanitize_product_vals, VARIANT_OWN};
use super::domain::is_null;
use super::fault::{fk_error, missing_error, not_null_error, user_err, validation, R};
use super::schema::{Model, Schema, Ty, ADDRESS_FIELDS};
use super::tx::Tx;
use super::values::{fnum, ids_of, num, str_of, truthy};
use super::Obj;

/// `sale.order.line` fields whose write recomputes the order's stored `amount_*` [§3].
const LINE_TOTAL_FIELDS: [&str; 5] = [
    "price_unit",
    "product_uom_qty",
    "discount",
    "tax_id",
    "product_id",
];

/// What an `unlink` does to records pointing at the deleted one.
#[derive(PartialEq)]
pub(super) enum OnDelete {
    Cascade,
    SetNull,
    Restrict,
}

pub(super) fn on_delete(model: &str, field: &str) -> OnDelete {
    match (model, field) {
        ("sale.order.line", "order_id") | ("product.product", "product_tmpl_id") => {
            OnDelete::Cascade
        }
        ("res.partner", "parent_id") | (_, "create_uid") | (_, "write_uid") => OnDelete::SetNull,
        _ => OnDelete::Restrict,
    }
}

impl<'a> Tx<'a> {
    pub(super) fn write(&mut self, m: &'a Model, ids: &[i64], vals: &Obj) -> R<()> {
        let missing: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|i| !self.exists(m.name, *i))
            .collect();
        if !missing.is_empty() {
            return Err(missing_error(m.name, &missing, self.uid));
        }
        for &id in ids {
            match m.name {
                "product.template" => self.write_template(id, vals)?,
                "product.product" => {
                    let tm = self.model("product.template")?;
                    let (mut t_vals, mut v_vals) = (Obj::new(), Obj::new());
                    for (k, v) in vals {
                        if VARIANT_OWN.contains(&k.as_str()) || !tm.has(k) {
                            v_vals.insert(k.clone(), v.clone());
                        } else {
                            t_vals.insert(k.clone(), v.clone());
                        }
                    }
                    if !t_vals.is_empty() {
                        let t = self.m2o(m.name, id, "product_tmpl_id").unwrap_or(0);
                        self.write_template(t, &t_vals)?;
                    }
                    self.touch(m.name, id);
                    let keys = self.apply_vals(m, id, &v_vals)?;
                    self.after_write(m, id, &keys, false)?;
                }
                _ => {
                    self.touch(m.name, id);
                    let keys = self.apply_vals(m, id, vals)?;
                    self.after_write(m, id, &keys, false)?;
                    // A line field that feeds the order's stored totals recomputes them,
                    // which stamps the order (odoo.md §3, observed on 17 and 18); a
                    // name-only edit does not. The totals themselves are computed on read
                    // here, with the same values [I].
                    if m.name == "sale.order.line"
                        && keys.iter().any(|k| LINE_TOTAL_FIELDS.contains(&k.as_str()))
                    {
                        if let Some(order) = self.m2o(m.name, id, "order_id") {
                            self.touch("sale.order", order);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A write on a template: bumps the template, and its variants when
    /// `list_price` changes (observed) or a variant field is set through
    /// the template (`default_code`, `barcode`).
    pub(super) fn write_template(&mut self, id: i64, vals: &Obj) -> R<()> {
        let tm = self.model("product.template")?;
        let pm = self.model("product.product")?;
        if !self.exists(tm.name, id) {
            return Err(missing_error(tm.name, &[id], self.uid));
        }
        let mut vals = vals.clone();
        sanitize_product_vals(self.s.version, &mut vals);
        let barcode = vals.remove("barcode");
        self.touch(tm.name, id);
        let keys = self.apply_vals(tm, id, &vals)?;
        self.check_required(tm, id)?;
        let variants = self.children(pm.name, "product_tmpl_id", id);
        let mut vv = Obj::new();
        if variants.len() == 1 {
            if let Some(c) = vals.get("default_code") {
                vv.insert("default_code".into(), c.clone());
            }
            if let Some(b) = barcode {
                vv.insert("barcode".into(), b);
            }
        }
        for v in &variants {
            if keys.contains("list_price") || !vv.is_empty() {
                self.touch(pm.name, *v);
            }
            if !vv.is_empty() {
                let k = self.apply_vals(pm, *v, &vv)?;
                self.after_write(pm, *v, &k, false)?;
            }
        }
        Ok(())
    }

    pub(super) fn check_required(&self, m: &Model, id: i64) -> R<()> {
        for f in &m.fields {
            if f.required && f.store && f.writable && !f.ty.x2many() {
                let v = self.raw(m, id, f);
                if is_null(f.ty, &v) {
                    return Err(not_null_error(m, f));
                }
            }
        }
        Ok(())
    }

    /// Model hooks after values were applied (Odoo's overrides of
    /// `create`/`write`, stored computes and constraints).
    pub(super) fn after_write(
        &mut self,
        m: &'a Model,
        id: i64,
        keys: &BTreeSet<String>,
        create: bool,
    ) -> R<()> {
        match m.name {
            "res.partner" => self.partner_sync(id, keys)?,
            "sale.order" => {
                let partner = self.get(m.name, id, "partner_id");
                if keys.contains("partner_id") {
                    for f in ["partner_invoice_id", "partner_shipping_id"] {
                        if !keys.contains(f) {
                            self.set(m.name, id, f, partner.clone());
                        }
                    }
                }
            }
            "sale.order.line" => self.line_defaults(id, keys, create)?,
            "product.product" => {
                self.check_barcode(id)?;
                if keys.contains("default_code") {
                    let t = self.m2o(m.name, id, "product_tmpl_id").unwrap_or(0);
                    if self.children(m.name, "product_tmpl_id", t).len() == 1 {
                        let c = self.get(m.name, id, "default_code");
                        self.set("product.template", t, "default_code", c);
                    }
                }
            }
            _ => {}
        }
        self.check_required(m, id)?;
        if m.name == "res.partner"
            && str_of(&self.get(m.name, id, "type")) == "contact"
            && is_null(Ty::Char, &self.get(m.name, id, "name"))
        {
            return Err(validation(
                "The operation cannot be completed: Contacts require a name",
            ));
        }
        Ok(())
    }

    fn check_barcode(&self, id: i64) -> R<()> {
        let b = self.get("product.product", id, "barcode");
        let Some(code) = b.as_str().filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        let others: Vec<i64> = self
            .all_ids("product.product")
            .into_iter()
            .filter(|o| {
                *o != id && self.get("product.product", *o, "barcode").as_str() == Some(code)
            })
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        if self.s.version == 16 {
            return Err(validation(
                "The operation cannot be completed: A barcode can only be assigned to one product !",
            ));
        }
        let mut all = others;
        all.push(id);
        all.sort_unstable();
        let names: Vec<String> = all
            .iter()
            .map(|p| self.display_name("product.product", *p))
            .collect();
        Err(validation(format!(
            "Barcode(s) already assigned:\n\n- Barcode \"{code}\" already assigned to product(s): {}",
            names.join(", ")
        )))
    }

    /// `res.partner._fields_sync` [src]: parent loop check, commercial
    /// fields (`vat`) and address from the parent, then to the children.
    fn partner_sync(&mut self, id: i64, keys: &BTreeSet<String>) -> R<()> {
        const P: &str = "res.partner";
        let parent = self.m2o(P, id, "parent_id");
        if keys.contains("parent_id") {
            if let Some(p) = parent {
                if self.ancestors(P, p).contains(&id) {
                    return Err(validation(
                        "You cannot create recursive Partner hierarchies.",
                    ));
                }
            }
        }
        let ty = str_of(&self.get(P, id, "type")).to_string();
        // 1. upstream
        if let Some(p) = parent
            .filter(|_| keys.contains("parent_id") || (keys.contains("type") && ty == "contact"))
        {
            if keys.contains("parent_id") {
                let commercial = self.commercial_partner(id);
                if commercial != id {
                    let vat = self.get(P, commercial, "vat");
                    self.set(P, id, "vat", vat);
                }
            }
            if ty == "contact" && ADDRESS_FIELDS.iter().any(|f| truthy(&self.get(P, p, f))) {
                for f in ADDRESS_FIELDS {
                    let v = self.get(P, p, f);
                    self.set(P, id, f, v);
                }
            }
        }
        // 2. downstream
        if keys.contains("vat") && self.commercial_partner(id) == id {
            self.commercial_sync_to_children(id);
        }
        let changed: Vec<&str> = ADDRESS_FIELDS
            .iter()
            .copied()
            .filter(|f| keys.contains(*f))
            .collect();
        if !changed.is_empty() {
            for c in self.children(P, "parent_id", id) {
                if str_of(&self.get(P, c, "type")) == "contact" {
                    self.touch(P, c);
                    for f in &changed {
                        let v = self.get(P, id, f);
                        self.set(P, c, f, v);
                    }
                }
            }
        }
        Ok(())
    }

    fn commercial_sync_to_children(&mut self, id: i64) {
        const P: &str = "res.partner";
        let vat = self.get(P, id, "vat");
        for c in self.children(P, "parent_id", id) {
            if truthy(&self.get(P, c, "is_company")) {
                continue;
            }
            self.commercial_sync_to_children(c);
            self.touch(P, c);
            self.set(P, c, "vat", vat.clone());
        }
    }

    /// Sale line defaults from the product (computed, writable fields:
    /// `name`, `price_unit`, `product_uom`, `tax_id`) and the display-type
    /// constraints.
    fn line_defaults(&mut self, id: i64, keys: &BTreeSet<String>, create: bool) -> R<()> {
        const L: &str = "sale.order.line";
        let lm = self.model(L)?;
        let order = self.m2o(L, id, "order_id");
        if order.is_none() {
            if let Some(f) = lm.field("order_id") {
                return Err(not_null_error(lm, f));
            }
        }
        let display = truthy(&self.get(L, id, "display_type"));
        let product = self.m2o(L, id, "product_id");
        if display {
            if product.is_some()
                || num(&self.get(L, id, "price_unit")) != 0.0
                || (keys.contains("product_uom_qty")
                    && num(&self.get(L, id, "product_uom_qty")) != 0.0)
            {
                return Err(validation(
                    "The operation cannot be completed: Forbidden values on non-accountable sale order line",
                ));
            }
            self.set(L, id, "product_uom_qty", fnum(0.0));
            return Ok(());
        }
        let Some(p) = product else {
            return Err(validation(
                "The operation cannot be completed: Missing required fields on accountable sale order line.",
            ));
        };
        if create || keys.contains("product_id") {
            let t = self
                .m2o("product.product", p, "product_tmpl_id")
                .unwrap_or(0);
            let price = num(&self.get("product.template", t, "list_price"));
            if !keys.contains("name") {
                let mut name = self.display_name("product.product", p);
                let desc = self.get("product.template", t, "description_sale");
                if let Some(d) = desc.as_str().filter(|d| !d.is_empty()) {
                    name = format!("{name}\n{d}");
                }
                self.set(L, id, "name", json!(name));
            }
            if !keys.contains("price_unit") {
                self.set(L, id, "price_unit", fnum(price));
            }
            if self.s.version >= 18 {
                self.set(L, id, "technical_price_unit", fnum(price));
            }
            if !keys.contains("product_uom") {
                let u = self.get("product.template", t, "uom_id");
                self.set(L, id, "product_uom", u);
            }
            if !keys.contains("tax_id") {
                let taxes = self.get("product.template", t, "taxes_id");
                self.set(L, id, "tax_id", taxes);
            }
        }
        Ok(())
    }

    // ----------------------------------------------------------- unlink

    pub(super) fn unlink(&mut self, m: &'a Model, ids: &[i64]) -> R<()> {
        let missing: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|i| !self.exists(m.name, *i))
            .collect();
        if !missing.is_empty() {
            return Err(missing_error(m.name, &missing, self.uid));
        }
        for &id in ids {
            match m.name {
                "sale.order" => {
                    let state = str_of(&self.get(m.name, id, "state")).to_string();
                    if !["draft", "cancel"].contains(&state.as_str()) {
                        return Err(user_err(
                            "You can not delete a sent quotation or a confirmed sales order. You must first cancel it.",
                        ));
                    }
                }
                "sale.order.line" => {
                    let o = self.m2o(m.name, id, "order_id").unwrap_or(0);
                    let state = str_of(&self.get("sale.order", o, "state")).to_string();
                    if ["sale", "done"].contains(&state.as_str())
                        && !truthy(&self.get(m.name, id, "display_type"))
                    {
                        return Err(user_err(
                            "Once a sales order is confirmed, you can't remove one of its lines \
                             (we need to track if something gets invoiced or delivered).\n\t\
                             Set the quantity to 0 instead.",
                        ));
                    }
                }
                _ => {}
            }
            if !self.exists(m.name, id) {
                continue;
            }
            let tmpl = if m.name == "product.product" {
                self.m2o(m.name, id, "product_tmpl_id")
            } else {
                None
            };
            self.remove_row(m.name, id);
            // References to the deleted row.
            let s: &'a Schema = self.s;
            for (cname, cm) in &s.models {
                for f in &cm.fields {
                    if f.relation != Some(m.name) || !f.store {
                        continue;
                    }
                    if f.ty == Ty::Many2many {
                        let rows: Vec<i64> = self.all_ids(cname);
                        for r in rows {
                            let cur = ids_of(&self.get(cname, r, f.name));
                            if cur.contains(&id) {
                                let new: Vec<i64> = cur.into_iter().filter(|x| *x != id).collect();
                                self.set(cname, r, f.name, json!(new));
                            }
                        }
                        continue;
                    }
                    if f.ty != Ty::Many2one {
                        continue;
                    }
                    let refs = self.children(cname, f.name, id);
                    if refs.is_empty() {
                        continue;
                    }
                    match on_delete(cname, f.name) {
                        OnDelete::Cascade => self.unlink(cm, &refs)?,
                        OnDelete::SetNull => {
                            for r in refs {
                                self.set(cname, r, f.name, Value::Bool(false));
                            }
                        }
                        OnDelete::Restrict => return Err(fk_error(cm, f.name)),
                    }
                }
            }
            // A variant's template goes with its last variant [src].
            if let Some(t) = tmpl {
                if self
                    .children("product.product", "product_tmpl_id", t)
                    .is_empty()
                {
                    self.remove_row("product.template", t);
                }
            }
        }
        Ok(())
    }
}
