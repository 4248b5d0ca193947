//! Odoo sandbox: an offline stand-in of an Odoo 16/17/18 server's external
//! API (`/jsonrpc`, `/xmlrpc/2/<service>` and the legacy `/xmlrpc/<service>`),
//! faithful to `shared/spec/vendor-apis/odoo.md` ("the page").
//!
//! What is modelled, with the page's section in brackets:
//! - services `common` (`version`, `login`, `authenticate`), `object`
//!   (`execute_kw`, `execute`) and `db` (`server_version`, `db_exist`,
//!   `list`) [§1]; API key or password wherever the password goes, `false`
//!   from `authenticate` on bad credentials, Fault 3 on a bad secret [§2];
//! - models `res.partner`, `product.template`, `product.product`,
//!   `sale.order`, `sale.order.line`, `res.country`, `res.country.state`,
//!   `res.currency`, `product.pricelist`, `account.tax`, `uom.uom`,
//!   `res.users`, `res.company` with the 16/17/18 field differences of §5;
//! - methods `search`, `search_read`, `search_count`, `read`, `create`,
//!   `write`, `unlink`, `fields_get`, `name_search`, `name_get` (≤ 17),
//!   `default_get`, `check_access_rights`, `has_access` (18) and on
//!   `sale.order` `action_confirm`, `action_cancel`, `action_draft`,
//!   `action_lock`/`action_unlock` (17+, return None) or `action_done` (16)
//!   [§3]; `read_group` answers a NotImplementedError fault;
//! - domains in prefix notation with every term operator, dotted paths,
//!   `any`/`not any`, `child_of`/`parent_of`, implicit `active` filter and
//!   `context.active_test` [§3];
//! - value encodings (many2one `[id, "name"]`, `false` for empty, datetimes
//!   `YYYY-MM-DD HH:MM:SS` UTC truncated from a microsecond `write_date` set
//!   from the transaction start), x2many commands, and the `write_date`
//!   rules of §3 (a `sale.order.line` write does not touch its order);
//! - faults and JSON-RPC error objects with the codes, exception names and
//!   messages of §4; a `None` result is a Fault 1 over XML-RPC (after the
//!   method ran) and a response without `result` over JSON-RPC.
//!
//! Behaviour taken from the Odoo sources rather than observed is marked
//! [src]; sandbox simplifications are marked [I].
//!
//! Each call is one transaction: it runs under the data lock and journals
//! the rows it changes, which are put back when it fails.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use crate::kit::{lock, taxid, Common};

type Obj = Map<String, Value>;

/// Id of Spain in `res.country` (ids follow a stock database's alphabetical
/// load order, e.g. Belgium = 20 as on the page's server).
pub const SPAIN_ID: i64 = 68;
/// Id of the euro in `res.currency`.
pub const EUR_ID: i64 = 1;
/// The default sale tax ("15%", `[1]` on a new product) [§5 taxes_id].
pub const SALE_TAX_ID: i64 = 1;
/// `uom.uom` "Units".
pub const UNITS_ID: i64 = 1;
/// uid of the API user (`admin`).
pub const ADMIN_UID: i64 = 2;
/// First id handed to a partner created by a seed or the API (1–6 are base
/// data: 1 the company's own partner "My Company", 2 OdooBot (archived),
/// 3 Administrator).
pub const FIRST_PARTNER_ID: i64 = 7;
/// Partner of the company itself: it is a company contact like any other
/// (as in a real database), so a sync sees it too.
pub const COMPANY_PARTNER_ID: i64 = 1;

/// Knobs of one Odoo sandbox.
#[derive(Clone, Debug)]
pub struct OdooConfig {
    /// Major version served: 16, 17 or 18.
    pub version: u8,
    /// The only database name accepted.
    pub database: String,
    /// Login of the API user (uid 2).
    pub login: String,
    /// API key of that user (accepted wherever the password goes).
    pub api_key: String,
    /// Password of that user (also accepted over RPC).
    pub password: String,
    /// Whether `sale_stock` is installed (`qty_to_deliver`, storable
    /// products, `delivery_status`).
    pub sale_stock: bool,
}

impl Default for OdooConfig {
    fn default() -> Self {
        OdooConfig {
            version: 17,
            database: "puente".into(),
            login: "admin".into(),
            api_key: "0c2f5b8e4a7d9f1e3b6a8c0d2e4f6a8b1c3d5e7f".into(),
            password: "admin-sandbox-password".into(),
            sale_stock: true,
        }
    }
}

/// Records loaded before the server starts, as Odoo `create` values.
///
/// - `partners`: `res.partner` values (companies with `is_company: true`,
///   persons with `parent_id` = a partner id). Ids are assigned from
///   [`FIRST_PARTNER_ID`] in list order unless a value carries `"id"`.
/// - `products`: `product.product` values; template fields (`name`,
///   `list_price`, `type`/`detailed_type`, `taxes_id`, …) go to the template
///   created with each variant. Template and variant ids both start at 1.
/// - `orders`: `sale.order` values with `order_line: [[0, 0, {…}], …]`;
///   `"state": "sale"` seeds a confirmed order (as `action_confirm` leaves
///   it), anything else a draft. Ids start at 1, names at `S00001`.
///
/// Any value may carry `create_date`/`write_date`
/// (`YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC); otherwise every seeded record gets
/// the server start as both (one transaction). Seeds go through the same
/// code as API calls, so defaults, partner address/`vat` sync and
/// validation apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OdooSeed {
    pub partners: Vec<Value>,
    pub products: Vec<Value>,
    pub orders: Vec<Value>,
}

// ================================================================ errors

/// Python exception classes the sandbox raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exc {
    User,
    Validation,
    Missing,
    AccessError,
    AccessDenied,
    Value,
    Type,
    Attribute,
    Key,
    Name,
    Operational,
    DatetimeFormat,
    NotImplemented,
    Overflow,
    Expat,
}

impl Exc {
    /// `module.Class` as in JSON-RPC `error.data.name`.
    fn qualname(self) -> &'static str {
        match self {
            Exc::User => "odoo.exceptions.UserError",
            Exc::Validation => "odoo.exceptions.ValidationError",
            Exc::Missing => "odoo.exceptions.MissingError",
            Exc::AccessError => "odoo.exceptions.AccessError",
            Exc::AccessDenied => "odoo.exceptions.AccessDenied",
            Exc::Value => "builtins.ValueError",
            Exc::Type => "builtins.TypeError",
            Exc::Attribute => "builtins.AttributeError",
            Exc::Key => "builtins.KeyError",
            Exc::Name => "builtins.NameError",
            Exc::Operational => "psycopg2.OperationalError",
            Exc::DatetimeFormat => "psycopg2.errors.InvalidDatetimeFormat",
            Exc::NotImplemented => "builtins.NotImplementedError",
            Exc::Overflow => "builtins.OverflowError",
            Exc::Expat => "xml.parsers.expat.ExpatError",
        }
    }

    fn class(self) -> &'static str {
        let q = self.qualname();
        q.rsplit('.').next().unwrap_or(q)
    }

    /// How Python prints the class on a traceback's last line.
    fn traceback_name(self) -> &'static str {
        let q = self.qualname();
        q.strip_prefix("builtins.").unwrap_or(q)
    }

    /// `/xmlrpc/2` faultCode [§4]: RedirectWarning/AccessError/AccessDenied/
    /// UserError are tested in that order (AccessError is a UserError).
    fn code(self) -> i64 {
        match self {
            Exc::AccessError => 4,
            Exc::AccessDenied => 3,
            Exc::User | Exc::Validation | Exc::Missing => 2,
            _ => 1,
        }
    }
}

/// A raised exception.
#[derive(Clone, Debug)]
struct Fault {
    exc: Exc,
    msg: String,
}

type R<T> = Result<T, Fault>;

fn fault(exc: Exc, msg: impl Into<String>) -> Fault {
    Fault {
        exc,
        msg: msg.into(),
    }
}

fn value_err(msg: impl Into<String>) -> Fault {
    fault(Exc::Value, msg)
}

fn user_err(msg: impl Into<String>) -> Fault {
    fault(Exc::User, msg)
}

fn validation(msg: impl Into<String>) -> Fault {
    fault(Exc::Validation, msg)
}

fn type_err(msg: impl Into<String>) -> Fault {
    fault(Exc::Type, msg)
}

fn access_denied() -> Fault {
    fault(Exc::AccessDenied, "Access Denied")
}

impl Fault {
    /// A plausible server traceback whose last line is `ExcType: message`.
    fn traceback(&self) -> String {
        format!(
            "Traceback (most recent call last):\n  \
             File \"/usr/lib/python3/dist-packages/odoo/service/model.py\", line 156, in retrying\n    \
             result = func()\n  \
             File \"/usr/lib/python3/dist-packages/odoo/service/model.py\", line 69, in execute_kw\n    \
             return execute(db, uid, obj, method, *args, **kw or {{}})\n{}: {}\n",
            self.exc.traceback_name(),
            self.msg
        )
    }

    /// `/xmlrpc/2` faultString: the message, or the traceback for code 1.
    fn fault_string(&self) -> String {
        if self.exc.code() == 1 {
            self.traceback()
        } else {
            self.msg.clone()
        }
    }

    /// JSON-RPC `error` object (HTTP 200) [§4].
    fn json_error(&self) -> Value {
        json!({
            "code": 200,
            "message": "Odoo Server Error",
            "data": {
                "name": self.exc.qualname(),
                "debug": self.traceback(),
                "message": self.msg,
                "arguments": [self.msg],
                "context": {},
            }
        })
    }
}

/// Python `repr` of a JSON value (for messages that quote arguments).
fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    format!("{f}")
                }
            } else {
                n.to_string()
            }
        }
        Value::String(s) => {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&json!(k)), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python repr of a leaf once normalised to a tuple: `('name', '=', 1)`.
fn leaf_repr(items: &[Value]) -> String {
    let inner: Vec<String> = items.iter().map(py_repr).collect();
    if inner.len() == 1 {
        format!("({},)", inner[0])
    } else {
        format!("({})", inner.join(", "))
    }
}

/// `res.partner(5, 6)` / `res.partner(999999,)`.
fn recordset_repr(model: &str, ids: &[i64]) -> String {
    let inner: Vec<String> = ids.iter().map(i64::to_string).collect();
    if inner.len() == 1 {
        format!("{model}({},)", inner[0])
    } else {
        format!("{model}({})", inner.join(", "))
    }
}

// ================================================================ schema

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Char,
    Text,
    Html,
    Integer,
    Float,
    Monetary,
    Boolean,
    Selection,
    Many2one,
    One2many,
    Many2many,
    Date,
    Datetime,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Char => "char",
            Ty::Text => "text",
            Ty::Html => "html",
            Ty::Integer => "integer",
            Ty::Float => "float",
            Ty::Monetary => "monetary",
            Ty::Boolean => "boolean",
            Ty::Selection => "selection",
            Ty::Many2one => "many2one",
            Ty::One2many => "one2many",
            Ty::Many2many => "many2many",
            Ty::Date => "date",
            Ty::Datetime => "datetime",
        }
    }
    fn relational(self) -> bool {
        matches!(self, Ty::Many2one | Ty::One2many | Ty::Many2many)
    }
    fn x2many(self) -> bool {
        matches!(self, Ty::One2many | Ty::Many2many)
    }
    fn stringy(self) -> bool {
        matches!(self, Ty::Char | Ty::Text | Ty::Html | Ty::Selection)
    }
}

#[derive(Clone, Debug)]
struct Field {
    name: &'static str,
    ty: Ty,
    string: &'static str,
    relation: Option<&'static str>,
    /// One2many: the inverse many2one on the comodel.
    inverse: Option<&'static str>,
    required: bool,
    /// The `readonly` attribute (a UI hint: stored fields stay writable).
    readonly: bool,
    store: bool,
    /// Usable in a domain (stored, related, or with a search method).
    searchable: bool,
    /// Usable in `order` (stored or inherited through `_inherits`).
    sortable: bool,
    /// Values written through the API are kept (plain or with an inverse).
    writable: bool,
    selection: Vec<(&'static str, &'static str)>,
}

fn fld(name: &'static str, ty: Ty, string: &'static str) -> Field {
    Field {
        name,
        ty,
        string,
        relation: None,
        inverse: None,
        required: false,
        readonly: false,
        store: !ty.x2many() || ty == Ty::Many2many,
        searchable: true,
        sortable: !ty.x2many(),
        writable: true,
        selection: Vec::new(),
    }
}

impl Field {
    fn rel(mut self, model: &'static str) -> Self {
        self.relation = Some(model);
        self
    }
    fn o2m(mut self, model: &'static str, inverse: &'static str) -> Self {
        self.relation = Some(model);
        self.inverse = Some(inverse);
        self.store = false;
        self
    }
    fn req(mut self) -> Self {
        self.required = true;
        self
    }
    fn ro(mut self) -> Self {
        self.readonly = true;
        self
    }
    /// Stored computed field without inverse: writes are ignored.
    fn computed(mut self) -> Self {
        self.readonly = true;
        self.writable = false;
        self
    }
    /// Computed, not stored, no search method: readable only.
    fn ns(mut self) -> Self {
        self.readonly = true;
        self.writable = false;
        self.store = false;
        self.searchable = false;
        self.sortable = false;
        self
    }
    /// Computed, not stored, with a search method.
    fn ns_search(mut self) -> Self {
        self = self.ns();
        self.searchable = true;
        self
    }
    /// Computed, not stored, with an inverse (writable, not searchable).
    fn ns_inverse(mut self) -> Self {
        self = self.ns();
        self.readonly = false;
        self.writable = true;
        self
    }
    /// Field of `product.template` seen on `product.product` (`_inherits`):
    /// not stored on the variant, searchable, sortable, writable.
    fn inherited(mut self) -> Self {
        self.store = false;
        self.searchable = true;
        self.sortable = !self.ty.x2many();
        self
    }
    fn sel(mut self, s: &[(&'static str, &'static str)]) -> Self {
        self.selection = s.to_vec();
        self
    }
}

struct Model {
    name: &'static str,
    description: &'static str,
    /// Default `_order`.
    order: &'static str,
    /// Fields searched by `name_search` and by a string on a relational leaf.
    rec_names: Vec<&'static str>,
    fields: Vec<Field>,
}

impl Model {
    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    fn has(&self, name: &str) -> bool {
        self.field(name).is_some()
    }
}

struct Schema {
    version: u8,
    sale_stock: bool,
    models: BTreeMap<&'static str, Model>,
}

const PARTNER_TYPES_16: [(&str, &str); 5] = [
    ("contact", "Contact"),
    ("invoice", "Invoice Address"),
    ("delivery", "Delivery Address"),
    ("other", "Other Address"),
    ("private", "Private Address"),
];

/// Address fields a `type=contact` child shares with its parent [src
/// `res.partner._address_fields`].
const ADDRESS_FIELDS: [&str; 6] = ["street", "street2", "zip", "city", "state_id", "country_id"];

fn model(
    version: u8,
    name: &'static str,
    description: &'static str,
    order: &'static str,
    rec_names: &[&'static str],
    mut fields: Vec<Field>,
) -> Model {
    use Ty::*;
    // display_name: 16 stores it on res.partner only; 17 computes it with no
    // search method (a domain on it is dropped); 18 searches it [§5].
    let display = fld("display_name", Char, "Display Name");
    let display = if version == 16 && name == "res.partner" {
        display.computed()
    } else if version >= 18 {
        display.ns_search()
    } else {
        display.ns()
    };
    let mut magic = vec![fld("id", Integer, "ID").computed(), display];
    magic.append(&mut fields);
    magic.push(
        fld("create_uid", Many2one, "Created by")
            .rel("res.users")
            .computed(),
    );
    magic.push(fld("create_date", Datetime, "Created on").computed());
    magic.push(
        fld("write_uid", Many2one, "Last Updated by")
            .rel("res.users")
            .computed(),
    );
    magic.push(fld("write_date", Datetime, "Last Updated on").computed());
    if version == 16 {
        magic.push(fld("__last_update", Datetime, "Last Modified on").ns());
    }
    Model {
        name,
        description,
        order,
        rec_names: rec_names.to_vec(),
        fields: magic,
    }
}

fn build_schema(version: u8, sale_stock: bool) -> Schema {
    use Ty::*;
    let v16 = version == 16;
    let v18 = version >= 18;
    let mut models = BTreeMap::new();
    let mut add = |m: Model| {
        models.insert(m.name, m);
    };

    // ---------------------------------------------------------- res.partner
    let mut partner = vec![
        fld("name", Char, "Name"),
        fld("ref", Char, "Reference"),
        fld("vat", Char, "Tax ID"),
        fld("email", Char, "Email"),
        fld("phone", Char, "Phone"),
        // Present through 18.0, removed in 19 [§5].
        fld("mobile", Char, "Mobile"),
        fld("website", Char, "Website Link"),
        fld("function", Char, "Job Position"),
        fld("street", Char, "Street"),
        fld("street2", Char, "Street2"),
        fld("zip", Char, "Zip"),
        fld("city", Char, "City"),
        fld("state_id", Many2one, "State").rel("res.country.state"),
        fld("country_id", Many2one, "Country").rel("res.country"),
        fld("is_company", Boolean, "Is a Company"),
        fld("company_type", Selection, "Company Type")
            .ns_inverse()
            .sel(&[("person", "Individual"), ("company", "Company")]),
        fld("type", Selection, "Address Type").sel(if v16 {
            &PARTNER_TYPES_16[..]
        } else {
            &PARTNER_TYPES_16[..4]
        }),
        fld("parent_id", Many2one, "Related Company").rel("res.partner"),
        fld("child_ids", One2many, "Contact").o2m("res.partner", "parent_id"),
        fld("commercial_partner_id", Many2one, "Commercial Entity")
            .rel("res.partner")
            .computed(),
        fld("active", Boolean, "Active"),
        fld("company_id", Many2one, "Company").rel("res.company"),
        fld("user_id", Many2one, "Salesperson").rel("res.users"),
        fld("lang", Selection, "Language").sel(&[("en_US", "English (US)")]),
        fld("comment", Html, "Notes"),
    ];
    if !v16 {
        partner.insert(1, fld("complete_name", Char, "Complete Name").computed());
    }
    let partner_order = if v16 {
        "display_name ASC, id DESC"
    } else {
        "complete_name ASC, id DESC"
    };
    let partner_names: &[&str] = if v16 {
        &["display_name", "email", "ref", "vat"]
    } else {
        &["complete_name", "email", "ref", "vat"]
    };
    add(model(
        version,
        "res.partner",
        "Contact",
        partner_order,
        partner_names,
        partner,
    ));

    // ------------------------------------------------------------ products
    let type_sel: Vec<(&str, &str)> = if v18 {
        vec![
            ("consu", "Goods"),
            ("service", "Service"),
            ("combo", "Combo"),
        ]
    } else if sale_stock {
        vec![
            ("consu", "Consumable"),
            ("service", "Service"),
            ("product", "Storable Product"),
        ]
    } else {
        vec![("consu", "Consumable"), ("service", "Service")]
    };
    // Template fields, also seen on the variant through `_inherits`.
    let mut tmpl_shared = vec![
        fld("name", Char, "Name").req(),
        fld("list_price", Float, "Sales Price"),
        fld("taxes_id", Many2many, "Customer Taxes").rel("account.tax"),
        fld("uom_id", Many2one, "Unit of Measure")
            .rel("uom.uom")
            .req(),
        fld("sale_ok", Boolean, "Can be Sold"),
        fld("purchase_ok", Boolean, "Can be Purchased"),
        fld("description_sale", Text, "Sales Description"),
        fld("invoice_policy", Selection, "Invoicing Policy").sel(&[
            ("order", "Ordered quantities"),
            ("delivery", "Delivered quantities"),
        ]),
    ];
    if v18 {
        tmpl_shared.push(fld("type", Selection, "Product Type").req().sel(&type_sel));
        if sale_stock {
            tmpl_shared.push(fld("is_storable", Boolean, "Track Inventory"));
        }
    } else {
        // 15/16/17: detailed_type is the input, type follows it [§5].
        tmpl_shared.push(
            fld("detailed_type", Selection, "Product Type")
                .req()
                .sel(&type_sel),
        );
        tmpl_shared.push(fld("type", Selection, "Type").sel(&type_sel));
    }
    let mut tmpl = tmpl_shared.clone();
    tmpl.extend([
        fld("default_code", Char, "Internal Reference"),
        fld("barcode", Char, "Barcode").ns_search(),
        fld("active", Boolean, "Active"),
        fld("product_variant_ids", One2many, "Products").o2m("product.product", "product_tmpl_id"),
        fld("product_variant_id", Many2one, "Product")
            .rel("product.product")
            .ns(),
        fld("product_variant_count", Integer, "# Product Variants").ns(),
        fld("currency_id", Many2one, "Currency")
            .rel("res.currency")
            .ns(),
        fld("company_id", Many2one, "Company").rel("res.company"),
    ]);
    add(model(
        version,
        "product.template",
        "Product",
        "name, id",
        &["name", "default_code"],
        tmpl,
    ));
    let mut variant = vec![
        fld("product_tmpl_id", Many2one, "Product Template")
            .rel("product.template")
            .req(),
        fld("default_code", Char, "Internal Reference"),
        fld("barcode", Char, "Barcode"),
        fld("active", Boolean, "Active"),
        fld("lst_price", Float, "Sales Price").ns_inverse(),
        fld("price_extra", Float, "Variant Price Extra").ns(),
    ];
    variant.extend(tmpl_shared.into_iter().map(Field::inherited));
    variant.push(
        fld("currency_id", Many2one, "Currency")
            .rel("res.currency")
            .ns(),
    );
    add(model(
        version,
        "product.product",
        "Product Variant",
        "default_code, name, id",
        &["default_code", "name", "barcode"],
        variant,
    ));

    // ---------------------------------------------------------- sale.order
    let states: Vec<(&str, &str)> = if v16 {
        vec![
            ("draft", "Quotation"),
            ("sent", "Quotation Sent"),
            ("sale", "Sales Order"),
            ("done", "Locked"),
            ("cancel", "Cancelled"),
        ]
    } else {
        vec![
            ("draft", "Quotation"),
            ("sent", "Quotation Sent"),
            ("sale", "Sales Order"),
            ("cancel", "Cancelled"),
        ]
    };
    let mut order = vec![
        fld("name", Char, "Order Reference").req(),
        fld("partner_id", Many2one, "Customer")
            .rel("res.partner")
            .req(),
        fld("partner_invoice_id", Many2one, "Invoice Address")
            .rel("res.partner")
            .req(),
        fld("partner_shipping_id", Many2one, "Delivery Address")
            .rel("res.partner")
            .req(),
        fld("date_order", Datetime, "Order Date").req(),
        fld("validity_date", Date, "Expiration"),
        fld("commitment_date", Datetime, "Delivery Date"),
        fld("client_order_ref", Char, "Customer Reference"),
        fld("origin", Char, "Source Document"),
        fld("note", Html, "Terms and conditions"),
        fld("state", Selection, "Status").ro().sel(&states),
        {
            let p = fld("pricelist_id", Many2one, "Pricelist").rel("product.pricelist");
            if v16 {
                p.req()
            } else {
                p
            }
        },
        fld("currency_id", Many2one, "Currency")
            .rel("res.currency")
            .computed(),
        fld("order_line", One2many, "Order Lines").o2m("sale.order.line", "order_id"),
        fld("amount_untaxed", Monetary, "Untaxed Amount").computed(),
        fld("amount_tax", Monetary, "Taxes").computed(),
        fld("amount_total", Monetary, "Total").computed(),
        fld("invoice_status", Selection, "Invoice Status")
            .computed()
            .sel(&[
                ("upselling", "Upselling Opportunity"),
                ("invoiced", "Fully Invoiced"),
                ("to invoice", "To Invoice"),
                ("no", "Nothing to Invoice"),
            ]),
        fld("user_id", Many2one, "Salesperson").rel("res.users"),
        fld("company_id", Many2one, "Company")
            .rel("res.company")
            .req(),
    ];
    if !v16 {
        order.push(fld("locked", Boolean, "Locked").ro());
    }
    if sale_stock {
        order.push(
            fld("delivery_status", Selection, "Delivery Status")
                .computed()
                .sel(&[
                    ("pending", "Not Delivered"),
                    ("started", "Started"),
                    ("partial", "Partially Delivered"),
                    ("full", "Fully Delivered"),
                ]),
        );
    }
    add(model(
        version,
        "sale.order",
        "Sales Order",
        "date_order desc, id desc",
        &["name"],
        order,
    ));

    let mut methods = vec![("manual", "Manual"), ("analytic", "Analytic From Expenses")];
    if sale_stock {
        methods.push(("stock_move", "Stock Moves"));
    }
    let mut line = vec![
        fld("order_id", Many2one, "Order Reference")
            .rel("sale.order")
            .req(),
        fld("sequence", Integer, "Sequence"),
        fld("display_type", Selection, "Display Type")
            .sel(&[("line_section", "Section"), ("line_note", "Note")]),
        fld("product_id", Many2one, "Product").rel("product.product"),
        fld("name", Text, "Description").req(),
        fld("product_uom_qty", Float, "Quantity").req(),
        fld("product_uom", Many2one, "Unit of Measure").rel("uom.uom"),
        fld("price_unit", Float, "Unit Price").req(),
        fld("discount", Float, "Discount (%)"),
        fld("tax_id", Many2many, "Taxes").rel("account.tax"),
        fld("price_subtotal", Monetary, "Subtotal").computed(),
        fld("price_tax", Float, "Total Tax").computed(),
        fld("price_total", Monetary, "Total").computed(),
        fld("qty_delivered", Float, "Delivery Quantity"),
        fld(
            "qty_delivered_method",
            Selection,
            "Method to update delivered qty",
        )
        .computed()
        .sel(&methods),
        fld("qty_invoiced", Float, "Invoiced Quantity").computed(),
        fld("qty_to_invoice", Float, "Quantity To Invoice").computed(),
        fld("state", Selection, "Order Status")
            .computed()
            .sel(&states),
        fld("currency_id", Many2one, "Currency")
            .rel("res.currency")
            .computed(),
        fld("order_partner_id", Many2one, "Customer")
            .rel("res.partner")
            .computed(),
        fld("company_id", Many2one, "Company")
            .rel("res.company")
            .computed(),
    ];
    if v18 {
        line.push(fld("technical_price_unit", Float, "Technical Price Unit"));
    }
    if sale_stock {
        // Only with sale_stock, in every version [§5].
        line.push(fld("qty_to_deliver", Float, "Qty To Deliver").ns());
    }
    add(model(
        version,
        "sale.order.line",
        "Sales Order Line",
        "order_id, sequence, id",
        &["name"],
        line,
    ));

    // ----------------------------------------------------- reference data
    add(model(
        version,
        "res.country",
        "Country",
        "name, id",
        &["name", "code"],
        vec![
            fld("name", Char, "Country Name").req(),
            fld("code", Char, "Country Code"),
            fld("currency_id", Many2one, "Currency").rel("res.currency"),
            fld("phone_code", Integer, "Country Calling Code"),
        ],
    ));
    add(model(
        version,
        "res.country.state",
        "Country state",
        "code, id",
        &["name", "code"],
        vec![
            fld("name", Char, "State Name").req(),
            fld("code", Char, "State Code").req(),
            fld("country_id", Many2one, "Country")
                .rel("res.country")
                .req(),
        ],
    ));
    add(model(
        version,
        "res.currency",
        "Currency",
        "active desc, name, id",
        &["name"],
        vec![
            fld("name", Char, "Currency").req(),
            fld("symbol", Char, "Symbol").req(),
            fld("rounding", Float, "Rounding Factor"),
            fld("decimal_places", Integer, "Decimal Places").ns(),
            fld("position", Selection, "Symbol Position")
                .sel(&[("after", "After Amount"), ("before", "Before Amount")]),
            fld("active", Boolean, "Active"),
        ],
    ));
    add(model(
        version,
        "product.pricelist",
        "Pricelist",
        "id",
        &["name"],
        vec![
            fld("name", Char, "Pricelist Name").req(),
            fld("currency_id", Many2one, "Currency")
                .rel("res.currency")
                .req(),
            fld("active", Boolean, "Active"),
            fld("company_id", Many2one, "Company").rel("res.company"),
        ],
    ));
    let mut tax = vec![
        fld("name", Char, "Tax Name").req(),
        fld("amount", Float, "Amount"),
        fld("amount_type", Selection, "Tax Computation")
            .req()
            .sel(&[
                ("group", "Group of Taxes"),
                ("fixed", "Fixed"),
                ("percent", "Percentage of Price"),
                ("division", "Percentage of Price Tax Included"),
            ]),
        fld("type_tax_use", Selection, "Tax Type").req().sel(&[
            ("sale", "Sales"),
            ("purchase", "Purchases"),
            ("none", "None"),
        ]),
        fld("active", Boolean, "Active"),
        fld("company_id", Many2one, "Company")
            .rel("res.company")
            .req(),
    ];
    if v18 {
        // 18: price_include is computed from price_include_override [§5].
        tax.push(fld("price_include", Boolean, "Included in Price").ns());
        tax.push(
            fld(
                "price_include_override",
                Selection,
                "Included in Price (override)",
            )
            .sel(&[
                ("tax_included", "Tax Included"),
                ("tax_excluded", "Tax Excluded"),
            ]),
        );
    } else {
        tax.push(fld("price_include", Boolean, "Included in Price"));
    }
    add(model(version, "account.tax", "Tax", "id", &["name"], tax));
    add(model(
        version,
        "uom.uom",
        "Product Unit of Measure",
        "name, id",
        &["name"],
        vec![
            fld("name", Char, "Unit of Measure").req(),
            fld("factor", Float, "Ratio"),
            fld("active", Boolean, "Active"),
        ],
    ));
    add(model(
        version,
        "res.users",
        "User",
        "name, login, id",
        &["name", "login"],
        vec![
            fld("name", Char, "Name"),
            fld("login", Char, "Login").req(),
            fld("partner_id", Many2one, "Related Partner")
                .rel("res.partner")
                .req(),
            fld("active", Boolean, "Active"),
            fld("company_id", Many2one, "Company").rel("res.company"),
        ],
    ));
    add(model(
        version,
        "res.company",
        "Companies",
        "name, id",
        &["name"],
        vec![
            fld("name", Char, "Company Name").req(),
            fld("partner_id", Many2one, "Partner")
                .rel("res.partner")
                .req(),
            fld("currency_id", Many2one, "Currency")
                .rel("res.currency")
                .req(),
            fld("country_id", Many2one, "Country").rel("res.country"),
        ],
    ));
    Schema {
        version,
        sale_stock,
        models,
    }
}

// ================================================================== data

#[derive(Clone, Default)]
struct Table {
    rows: BTreeMap<i64, Obj>,
    next_id: i64,
}

#[derive(Clone, Default)]
struct Data {
    tables: BTreeMap<&'static str, Table>,
    /// Last `sale.order` sequence number handed out.
    so_seq: u64,
}

const DT: &str = "%Y-%m-%d %H:%M:%S";

/// Odoo's datetime read format (seconds, UTC).
fn fmt_dt(t: NaiveDateTime) -> String {
    t.format(DT).to_string()
}

/// `write_date`/`create_date` storage: microseconds [§3].
fn fmt_dt_micro(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// A stored datetime string (with or without fraction).
fn parse_stored_dt(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(s, DT).ok())
}

/// `fields.Datetime.to_datetime` [src]: a date alone is midnight, otherwise
/// the first 19 characters must be `YYYY-MM-DD HH:MM:SS`.
fn to_datetime(s: &str) -> Result<NaiveDateTime, Fault> {
    let s = s.trim();
    if s.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default());
        }
    }
    let head: String = s.chars().take(19).collect();
    NaiveDateTime::parse_from_str(&head, DT)
        .map_err(|_| value_err(format!("time data '{head}' does not match format '{DT}'")))
}

fn to_date(s: &str) -> Result<NaiveDate, Fault> {
    let head: String = s.trim().chars().take(10).collect();
    NaiveDate::parse_from_str(&head, "%Y-%m-%d").map_err(|_| {
        value_err(format!(
            "time data '{head}' does not match format '%Y-%m-%d'"
        ))
    })
}

/// What PostgreSQL accepts as a timestamp literal in a domain [§3]: dates,
/// `T` or space, fractions, an optional `Z`, and `now`/`today`/`yesterday`/
/// `tomorrow`.
fn pg_timestamp(s: &str, now: DateTime<Utc>) -> Option<NaiveDateTime> {
    let t = s.trim();
    let midnight = now.date_naive().and_hms_opt(0, 0, 0)?;
    match t.to_ascii_lowercase().as_str() {
        "now" => return Some(now.naive_utc()),
        "today" => return Some(midnight),
        "yesterday" => return Some(midnight - TimeDelta::days(1)),
        "tomorrow" => return Some(midnight + TimeDelta::days(1)),
        _ => {}
    }
    let t = t.trim_end_matches('Z').trim_end_matches("+00:00");
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(v) = NaiveDateTime::parse_from_str(t, f) {
            return Some(v);
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Rounds half away from zero to cents, tolerant of binary noise
/// (`float_round` with the currency's 0.01 rounding).
fn round2(x: f64) -> f64 {
    let y = x * 100.0;
    let r = (y + y.signum() * 1e-7).round();
    r / 100.0
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(true) => true,
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::Bool(true) => 1.0,
        _ => 0.0,
    }
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn ids_of(v: &Value) -> Vec<i64> {
    match v {
        Value::Array(a) => a.iter().filter_map(Value::as_i64).collect(),
        Value::Number(n) => n.as_i64().into_iter().collect(),
        _ => Vec::new(),
    }
}

fn fnum(x: f64) -> Value {
    json!(x)
}

/// SQL `LIKE` with `%`, `_` and `\` escapes.
fn sql_like(pattern: &str, text: &str, insensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&p[1..], &t[i..])),
            Some('_') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && go(&p[2..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(&p, &t)
}

/// A transaction: one call's view of the data.
struct Tx<'a> {
    s: &'a Schema,
    d: &'a mut Data,
    /// Transaction start: every `write_date` written by this call.
    now: DateTime<Utc>,
    uid: i64,
    active_test: bool,
    /// Reverse many2one indexes (`"model\0field"` → target → ids), built
    /// on demand and dropped on every write.
    index: RefCell<BTreeMap<String, BTreeMap<i64, Vec<i64>>>>,
    /// Rows as they were before this transaction changed them (`None`:
    /// created by it), for the rollback of a failed call.
    journal: Vec<(&'static str, i64, Option<Obj>)>,
    journaled: HashSet<(&'static str, i64)>,
}

impl<'a> Tx<'a> {
    fn model(&self, name: &str) -> R<&'a Model> {
        let s: &'a Schema = self.s;
        s.models
            .get(name)
            .ok_or_else(|| user_err(format!("Object {name} doesn't exist")))
    }

    fn table(&self, model: &str) -> Option<&Table> {
        self.d.tables.get(model)
    }

    fn table_mut(&mut self, model: &'static str) -> &mut Table {
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

    fn get(&self, model: &str, id: i64, field: &str) -> Value {
        self.rec(model, id)
            .and_then(|r| r.get(field))
            .cloned()
            .unwrap_or(Value::Bool(false))
    }

    fn exists(&self, model: &str, id: i64) -> bool {
        self.rec(model, id).is_some()
    }

    fn all_ids(&self, model: &str) -> Vec<i64> {
        self.table(model)
            .map(|t| t.rows.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Ids of `model` whose many2one `field` is `target`.
    fn children(&self, model: &str, field: &str, target: i64) -> Vec<i64> {
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

    fn m2o(&self, model: &str, id: i64, field: &str) -> Option<i64> {
        self.get(model, id, field).as_i64()
    }

    /// Journals a row's state before its first change in this transaction.
    fn save(&mut self, model: &'static str, id: i64) {
        if self.journaled.insert((model, id)) {
            let old = self.rec(model, id).cloned();
            self.journal.push((model, id, old));
        }
    }

    /// Puts every journaled row back (ids and sequence numbers stay
    /// consumed, as PostgreSQL sequences do).
    fn rollback(&mut self) {
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

    fn remove_row(&mut self, model: &'static str, id: i64) {
        self.save(model, id);
        self.table_mut(model).rows.remove(&id);
    }

    fn set(&mut self, model: &'static str, id: i64, field: &str, v: Value) {
        self.save(model, id);
        if let Some(r) = self.table_mut(model).rows.get_mut(&id) {
            r.insert(field.to_string(), v);
        }
    }

    /// Marks a record as written by this transaction.
    fn touch(&mut self, model: &'static str, id: i64) {
        let now = json!(fmt_dt_micro(self.now));
        let uid = json!(self.uid);
        self.save(model, id);
        if let Some(r) = self.table_mut(model).rows.get_mut(&id) {
            r.insert("write_date".into(), now);
            r.insert("write_uid".into(), uid);
        }
    }

    // ------------------------------------------------------ display names

    fn display_name(&self, model: &str, id: i64) -> String {
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
    fn commercial_partner(&self, id: i64) -> i64 {
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
    fn raw(&self, m: &Model, id: i64, f: &Field) -> Value {
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
    fn render(&self, m: &Model, id: i64, f: &Field) -> Value {
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

// =============================================================== domains

const TERM_OPERATORS: [&str; 19] = [
    "=",
    "!=",
    "<=",
    "<",
    ">",
    ">=",
    "=?",
    "=like",
    "=ilike",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "in",
    "not in",
    "child_of",
    "parent_of",
    "any",
    "not any",
];

#[derive(Clone, Debug)]
enum Node {
    Const(bool),
    Leaf {
        model: &'static str,
        path: Vec<String>,
        op: String,
        value: Value,
    },
    /// `any` / `not any` on a relational field.
    Any {
        model: &'static str,
        field: String,
        sub: Box<Node>,
        negate: bool,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

fn is_null(ty: Ty, x: &Value) -> bool {
    match ty {
        Ty::Boolean => false,
        Ty::One2many | Ty::Many2many => false,
        _ => matches!(x, Value::Null | Value::Bool(false)),
    }
}

fn is_false(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Bool(false))
}

fn negate_op(op: &str) -> Option<&'static str> {
    Some(match op {
        "<" => ">=",
        ">=" => "<",
        ">" => "<=",
        "<=" => ">",
        _ => return None,
    })
}

fn positive_op(op: &str) -> &str {
    match op {
        "!=" => "=",
        "not like" => "like",
        "not ilike" => "ilike",
        "not in" => "in",
        other => other,
    }
}

/// Field text for `like` matching (`str()` of numbers).
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl<'a> Tx<'a> {
    /// Parses a domain for `m` (normalisation and checks of
    /// `odoo.osv.expression` [src]).
    fn parse_domain(&self, m: &'a Model, domain: &Value) -> R<Node> {
        let tokens: Vec<Value> = match domain {
            Value::Null | Value::Bool(false) => Vec::new(),
            Value::Array(a) => a.clone(),
            other => {
                return Err(value_err(format!("Invalid domain: {}", py_repr(other))));
            }
        };
        if tokens.is_empty() {
            return Ok(Node::Const(true));
        }
        // normalize_domain: implicit '&' between terms.
        let mut norm: Vec<Value> = Vec::new();
        let mut expected: i64 = 1;
        for t in &tokens {
            if expected == 0 {
                norm.insert(0, json!("&"));
                expected = 1;
            }
            match t {
                Value::Array(_) => expected -= 1,
                Value::String(op) => {
                    expected += match op.as_str() {
                        "!" => 1,
                        "&" | "|" => 2,
                        _ => 0,
                    } - 1
                }
                _ => expected -= 1,
            }
            norm.push(t.clone());
        }
        if expected != 0 {
            return Err(value_err(format!(
                "Domain {} is syntactically not correct.",
                py_repr(domain)
            )));
        }
        let mut pos = 0;
        let node = self.parse_term(m, &norm, &mut pos)?;
        Ok(node)
    }

    fn parse_term(&self, m: &'a Model, toks: &[Value], pos: &mut usize) -> R<Node> {
        let Some(t) = toks.get(*pos) else {
            return Err(value_err("Invalid domain: unexpected end"));
        };
        *pos += 1;
        match t {
            Value::String(op) if op == "&" || op == "|" => {
                let a = self.parse_term(m, toks, pos)?;
                let b = self.parse_term(m, toks, pos)?;
                Ok(if op == "&" {
                    Node::And(Box::new(a), Box::new(b))
                } else {
                    Node::Or(Box::new(a), Box::new(b))
                })
            }
            Value::String(op) if op == "!" => {
                Ok(Node::Not(Box::new(self.parse_term(m, toks, pos)?)))
            }
            Value::Array(items) if items.len() == 3 => self.parse_leaf(m, items),
            Value::Array(items) => Err(value_err(format!("Invalid leaf {}", leaf_repr(items)))),
            other => Err(value_err(format!("Invalid leaf {}", py_repr(other)))),
        }
    }

    fn parse_leaf(&self, m: &'a Model, items: &[Value]) -> R<Node> {
        let repr = leaf_repr(items);
        let invalid = || value_err(format!("Invalid leaf {repr}"));
        // TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
        if let (Some(l), Some("="), Some(1)) =
            (items[0].as_i64(), items[1].as_str(), items[2].as_i64())
        {
            return Ok(Node::Const(l == 1));
        }
        let Some(name) = items[0].as_str() else {
            return Err(invalid());
        };
        let Some(op) = items[1].as_str() else {
            return Err(invalid());
        };
        let mut op = op.to_lowercase();
        if op == "<>" {
            op = "!=".into();
        }
        if !TERM_OPERATORS.contains(&op.as_str()) {
            return Err(invalid());
        }
        let mut value = items[2].clone();
        if value.is_boolean() && (op == "in" || op == "not in") {
            op = if op == "in" { "=" } else { "!=" }.into();
        }
        if value.is_array() && (op == "=" || op == "!=") {
            op = if op == "=" { "in" } else { "not in" }.into();
        }
        if op == "=?" {
            if is_false(&value) {
                return Ok(Node::Const(true));
            }
            op = "=".into();
        }
        let path: Vec<String> = name.split('.').map(str::to_string).collect();
        // Walk the path to check every field.
        let mut cur = m;
        for (i, part) in path.iter().enumerate() {
            let Some(f) = cur.field(part) else {
                let sub: Vec<Value> = std::iter::once(json!(path[i..].join(".")))
                    .chain(items[1..].iter().cloned())
                    .collect();
                return Err(value_err(format!(
                    "Invalid field {}.{} in leaf {}",
                    cur.name,
                    part,
                    if i == 0 {
                        repr.clone()
                    } else {
                        leaf_repr(&sub)
                    }
                )));
            };
            if !f.searchable {
                // 17: dropped with an ERROR log, the leaf matches everything
                // (observed on res.partner.display_name) [§5].
                tracing::error!(
                    "Non-stored field {}.{} cannot be searched.",
                    cur.name,
                    f.name
                );
                return Ok(Node::Const(true));
            }
            let last = i + 1 == path.len();
            if !last {
                if !f.ty.relational() {
                    return Err(value_err(format!(
                        "Invalid field {}.{} in leaf {repr}",
                        cur.name,
                        path[i + 1]
                    )));
                }
                cur = self.model(f.relation.unwrap_or_default())?;
                continue;
            }
            if op == "any" || op == "not any" {
                if !f.ty.relational() {
                    return Err(value_err(format!(
                        "Invalid operator {op:?} for non-relational field {}.{}",
                        cur.name, f.name
                    )));
                }
                let comodel = self.model(f.relation.unwrap_or_default())?;
                let sub = self.parse_domain(comodel, &value)?;
                let node = Node::Any {
                    model: cur.name,
                    field: f.name.to_string(),
                    sub: Box::new(sub),
                    negate: op == "not any",
                };
                return Ok(self.wrap_path(m, &path[..i], node));
            }
            if matches!(f.ty, Ty::Date | Ty::Datetime) {
                let check = |v: &Value| -> R<()> {
                    if let Some(s) = v.as_str() {
                        if pg_timestamp(s, self.now).is_none() {
                            let kind = if f.ty == Ty::Date {
                                "date"
                            } else {
                                "timestamp"
                            };
                            return Err(fault(
                                Exc::DatetimeFormat,
                                format!("invalid input syntax for type {kind}: \"{s}\""),
                            ));
                        }
                    }
                    Ok(())
                };
                match &value {
                    Value::Array(a) => a.iter().try_for_each(check)?,
                    v => check(v)?,
                }
            }
            if f.ty.relational() {
                let comodel = f.relation.unwrap_or_default();
                let pos = positive_op(&op).to_string();
                let name_ops = ["=", "like", "ilike", "=like", "=ilike"];
                if let Value::String(s) = &value {
                    if name_ops.contains(&pos.as_str()) {
                        let ids = self.name_match(comodel, &pos, s);
                        op = if pos == op { "in" } else { "not in" }.into();
                        value = json!(ids);
                    }
                } else if let Value::Array(a) = &value {
                    if (op == "in" || op == "not in") && a.iter().any(Value::is_string) {
                        let mut ids: Vec<Value> = Vec::new();
                        for x in a {
                            match x {
                                Value::String(s) => ids.extend(
                                    self.name_match(comodel, "=", s)
                                        .into_iter()
                                        .map(|i| json!(i)),
                                ),
                                other => ids.push(other.clone()),
                            }
                        }
                        value = Value::Array(ids);
                    }
                }
            }
        }
        Ok(Node::Leaf {
            model: m.name,
            path,
            op,
            value,
        })
    }

    /// Re-roots a node parsed on a comodel under the relational path that
    /// leads to it (for `a.b any [...]`).
    fn wrap_path(&self, m: &'a Model, prefix: &[String], node: Node) -> Node {
        if prefix.is_empty() {
            return node;
        }
        let mut cur = m;
        let mut models = Vec::new();
        for p in prefix {
            models.push(cur.name);
            let rel = cur.field(p).and_then(|f| f.relation).unwrap_or_default();
            cur = &self.s.models[rel];
        }
        let mut node = node;
        for (p, model) in prefix.iter().zip(models).rev() {
            node = Node::Any {
                model,
                field: p.clone(),
                sub: Box::new(node),
                negate: false,
            };
        }
        node
    }

    /// Ids of `model` whose name fields match `value` with `op`
    /// (`_name_search` / `_rec_names_search`), active only.
    fn name_match(&self, model: &str, op: &str, value: &str) -> Vec<i64> {
        let Some(m) = self.s.models.get(model) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for id in self.all_ids(model) {
            if self.active_test && m.has("active") && !truthy(&self.get(model, id, "active")) {
                continue;
            }
            let hit = m.rec_names.iter().any(|n| {
                m.field(n)
                    .map(|f| self.cmp_scalar(f, &self.raw(m, id, f), op, &json!(value)))
                    .unwrap_or(false)
            });
            if hit {
                out.push(id);
            }
        }
        out
    }

    fn eval(&self, id: i64, node: &Node) -> bool {
        match node {
            Node::Const(b) => *b,
            Node::And(a, b) => self.eval(id, a) && self.eval(id, b),
            Node::Or(a, b) => self.eval(id, a) || self.eval(id, b),
            Node::Not(inner) => match inner.as_ref() {
                // distribute_not: `!(a < 1)` is `a >= 1` (NULL stays out).
                Node::Leaf {
                    model,
                    path,
                    op,
                    value,
                } if negate_op(op).is_some() => {
                    self.eval_leaf(model, id, path, negate_op(op).unwrap_or("="), value)
                }
                other => !self.eval(id, other),
            },
            Node::Leaf {
                model,
                path,
                op,
                value,
            } => self.eval_leaf(model, id, path, op, value),
            Node::Any {
                model,
                field,
                sub,
                negate,
            } => {
                let m = &self.s.models[model];
                let Some(f) = m.field(field) else {
                    return false;
                };
                let targets = ids_of(&self.raw(m, id, f));
                let hit = targets.iter().any(|t| self.eval(*t, sub));
                hit != *negate
            }
        }
    }

    fn eval_leaf(&self, model: &str, id: i64, path: &[String], op: &str, v: &Value) -> bool {
        let m = &self.s.models[model];
        let Some(f) = m.field(&path[0]) else {
            return false;
        };
        let x = self.raw(m, id, f);
        if path.len() > 1 {
            let comodel = f.relation.unwrap_or_default();
            return ids_of(&x)
                .into_iter()
                .any(|t| self.eval_leaf(comodel, t, &path[1..], op, v));
        }
        if op == "child_of" || op == "parent_of" {
            let target_model = if f.name == "id" {
                model
            } else {
                f.relation.unwrap_or(model)
            };
            let wanted: HashSet<i64> = ids_of(v).into_iter().collect();
            return ids_of(&x).into_iter().any(|t| {
                if op == "child_of" {
                    self.ancestors(target_model, t)
                        .iter()
                        .any(|a| wanted.contains(a))
                } else {
                    wanted
                        .iter()
                        .any(|w| self.ancestors(target_model, *w).contains(&t))
                }
            });
        }
        if f.ty.x2many() {
            let xs: HashSet<i64> = ids_of(&x).into_iter().collect();
            let list: Vec<Value> = match v {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            let has_false = list.iter().any(is_false);
            let hit = list
                .iter()
                .filter_map(Value::as_i64)
                .any(|i| xs.contains(&i))
                || (has_false && xs.is_empty());
            return match op {
                "=" | "in" => hit,
                "!=" | "not in" => !hit,
                _ => false,
            };
        }
        self.cmp_scalar(f, &x, op, v)
    }

    /// The record and its parents (`parent_id` chain), self first.
    fn ancestors(&self, model: &str, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut cur = id;
        for _ in 0..64 {
            match self.m2o(model, cur, "parent_id") {
                Some(p) if !out.contains(&p) => {
                    out.push(p);
                    cur = p;
                }
                _ => break,
            }
        }
        out
    }

    /// One comparison of a stored value `x` of field `f` with `v`
    /// (SQL semantics: NULL never equals, negative operators include NULL).
    fn cmp_scalar(&self, f: &Field, x: &Value, op: &str, v: &Value) -> bool {
        let null = is_null(f.ty, x);
        let eq = |a: &Value, b: &Value| -> bool { self.values_eq(f, a, b) };
        match op {
            "=" => {
                if is_false(v) {
                    if f.ty == Ty::Boolean {
                        !truthy(x)
                    } else {
                        null
                    }
                } else {
                    !null && eq(x, v)
                }
            }
            "!=" => {
                if is_false(v) {
                    if f.ty == Ty::Boolean {
                        truthy(x)
                    } else {
                        !null
                    }
                } else {
                    null || !eq(x, v)
                }
            }
            "<" | "<=" | ">" | ">=" => {
                if null || is_false(v) {
                    return false;
                }
                let Some(o) = self.values_cmp(f, x, v) else {
                    return false;
                };
                match op {
                    "<" => o == Ordering::Less,
                    "<=" => o != Ordering::Greater,
                    ">" => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }
            }
            "in" | "not in" => {
                let list: Vec<Value> = match v {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                if f.ty == Ty::Boolean {
                    let hit = list.iter().any(|e| truthy(e) == truthy(x));
                    return hit == (op == "in");
                }
                let has_false = list.iter().any(is_false);
                let hit = !null && list.iter().filter(|e| !is_false(e)).any(|e| eq(x, e));
                if op == "in" {
                    hit || (has_false && null)
                } else if has_false {
                    !null && !hit
                } else {
                    null || !hit
                }
            }
            "like" | "ilike" | "not like" | "not ilike" | "=like" | "=ilike" => {
                let negative = op.starts_with("not");
                let text = if f.ty == Ty::Boolean {
                    None
                } else {
                    as_text(x)
                };
                let Some(text) = text.filter(|_| !null) else {
                    return negative;
                };
                let pat = as_text(v).unwrap_or_default();
                let pattern = if op.starts_with('=') {
                    pat
                } else {
                    format!("%{pat}%")
                };
                let hit = sql_like(&pattern, &text, op.contains("ilike"));
                hit != negative
            }
            _ => false,
        }
    }

    fn values_eq(&self, f: &Field, a: &Value, b: &Value) -> bool {
        match f.ty {
            Ty::Boolean => truthy(a) == truthy(b),
            Ty::Integer | Ty::Float | Ty::Monetary | Ty::Many2one => match (a, b) {
                (_, Value::String(s)) => s.trim().parse::<f64>().ok() == Some(num(a)),
                _ => num(a) == num(b),
            },
            _ => self.values_cmp(f, a, b) == Some(Ordering::Equal),
        }
    }

    fn values_cmp(&self, f: &Field, a: &Value, b: &Value) -> Option<Ordering> {
        match f.ty {
            Ty::Integer | Ty::Float | Ty::Monetary | Ty::Many2one | Ty::Boolean => {
                let bn = match b {
                    Value::String(s) => s.trim().parse::<f64>().ok()?,
                    other => num(other),
                };
                num(a).partial_cmp(&bn)
            }
            Ty::Datetime => {
                let x = parse_stored_dt(a.as_str()?)?;
                let y = pg_timestamp(b.as_str()?, self.now)?;
                Some(x.cmp(&y))
            }
            Ty::Date => {
                let x = NaiveDate::parse_from_str(a.as_str()?, "%Y-%m-%d").ok()?;
                let y = pg_timestamp(b.as_str()?, self.now)?.date();
                Some(x.cmp(&y))
            }
            _ => Some(as_text(a)?.cmp(&as_text(b)?)),
        }
    }

    // ------------------------------------------------------------ search

    fn search(
        &self,
        m: &'a Model,
        domain: &Value,
        offset: usize,
        limit: Option<usize>,
        order: Option<&str>,
    ) -> R<Vec<i64>> {
        let mut node = self.parse_domain(m, domain)?;
        if self.active_test && m.has("active") {
            let mentions_active = domain
                .as_array()
                .map(|a| {
                    a.iter().any(|t| {
                        t.as_array().and_then(|l| l.first()).and_then(Value::as_str)
                            == Some("active")
                    })
                })
                .unwrap_or(false);
            if !mentions_active {
                node = Node::And(
                    Box::new(Node::Leaf {
                        model: m.name,
                        path: vec!["active".into()],
                        op: "=".into(),
                        value: json!(true),
                    }),
                    Box::new(node),
                );
            }
        }
        let terms = parse_order(m, order.filter(|o| !o.trim().is_empty()).unwrap_or(m.order))?;
        let mut ids: Vec<i64> = self
            .all_ids(m.name)
            .into_iter()
            .filter(|id| self.eval(*id, &node))
            .collect();
        self.sort(m, &mut ids, &terms);
        let ids = ids.into_iter().skip(offset);
        Ok(match limit {
            Some(l) => ids.take(l).collect(),
            None => ids.collect(),
        })
    }

    fn sort(&self, m: &Model, ids: &mut [i64], terms: &[OrderTerm]) {
        ids.sort_by(|a, b| self.cmp_records(m, *a, *b, terms, 0).then(a.cmp(b)));
    }

    fn cmp_records(&self, m: &Model, a: i64, b: i64, terms: &[OrderTerm], depth: u8) -> Ordering {
        for t in terms {
            let Some(f) = m.field(&t.field) else { continue };
            let (x, y) = (self.raw(m, a, f), self.raw(m, b, f));
            let (nx, ny) = (is_null(f.ty, &x), is_null(f.ty, &y));
            let o = match (nx, ny) {
                (true, true) => Ordering::Equal,
                // PostgreSQL: NULLS LAST ascending, FIRST descending.
                (true, false) => {
                    if t.nulls_first.unwrap_or(t.desc) {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if t.nulls_first.unwrap_or(t.desc) {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (false, false) => {
                    let o = match f.ty {
                        Ty::Many2one if depth < 3 => {
                            let cm = &self.s.models[f.relation.unwrap_or_default()];
                            let ct = parse_order(cm, cm.order).unwrap_or_default();
                            let (ia, ib) = (x.as_i64().unwrap_or(0), y.as_i64().unwrap_or(0));
                            if ia == ib {
                                continue;
                            }
                            self.cmp_records(cm, ia, ib, &ct, depth + 1)
                                .then(ia.cmp(&ib))
                        }
                        Ty::Char | Ty::Text | Ty::Html | Ty::Selection => {
                            let (sa, sb) = (str_of(&x), str_of(&y));
                            sa.to_lowercase().cmp(&sb.to_lowercase()).then(sa.cmp(sb))
                        }
                        Ty::Boolean => truthy(&x).cmp(&truthy(&y)),
                        Ty::Integer | Ty::Float | Ty::Monetary | Ty::Many2one => {
                            num(&x).partial_cmp(&num(&y)).unwrap_or(Ordering::Equal)
                        }
                        _ => str_of(&x).cmp(str_of(&y)),
                    };
                    if t.desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

#[derive(Clone, Debug)]
struct OrderTerm {
    field: String,
    desc: bool,
    nulls_first: Option<bool>,
}

/// Parses an `order` spec; unknown fields raise, non-stored ones are skipped
/// with a warning ("cannot be sorted on field … (not a column)") [src].
fn parse_order(m: &Model, spec: &str) -> R<Vec<OrderTerm>> {
    let invalid = || {
        value_err(format!(
            "Invalid \"order\" specified ({spec}). A valid \"order\" specification is a \
             comma-separated list of valid field names (optionally followed by asc/desc for the \
             direction)"
        ))
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let Some(first) = words.first() else {
            return Err(invalid());
        };
        let name = first.trim_matches('"');
        let name = name.strip_suffix(".id").unwrap_or(name);
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            return Err(invalid());
        }
        let rest: Vec<String> = words[1..].iter().map(|w| w.to_lowercase()).collect();
        let (desc, tail) = match rest.first().map(String::as_str) {
            Some("desc") => (true, &rest[1..]),
            Some("asc") => (false, &rest[1..]),
            _ => (false, &rest[..]),
        };
        let nulls_first = match tail {
            [] => None,
            [a, b] if a == "nulls" && b == "first" => Some(true),
            [a, b] if a == "nulls" && b == "last" => Some(false),
            _ => return Err(invalid()),
        };
        let Some(f) = m.field(name) else {
            return Err(value_err(format!(
                "Invalid field '{name}' on model '{}'",
                m.name
            )));
        };
        if !f.sortable {
            tracing::warn!(
                "Model '{}' cannot be sorted on field '{}' (not a column)",
                m.name,
                name
            );
            continue;
        }
        out.push(OrderTerm {
            field: name.to_string(),
            desc,
            nulls_first,
        });
    }
    Ok(out)
}

// ================================================================ writes

/// Fields of `product.product` stored on the variant itself; every other
/// template field written on a variant goes to its template (`_inherits`).
const VARIANT_OWN: [&str; 6] = [
    "product_tmpl_id",
    "default_code",
    "barcode",
    "active",
    "lst_price",
    "price_extra",
];

fn table_name(model: &str) -> String {
    model.replace('.', "_")
}

fn not_null_error(m: &Model, f: &Field) -> Fault {
    validation(format!(
        "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n\
         - Delete: another model requires the record being deleted. If possible, archive it \
         instead.\n\nModel: {} ({})\nField: {} ({})\n",
        m.description, m.name, f.string, f.name
    ))
}

fn fk_error(m: &Model, field: &str) -> Fault {
    validation(format!(
        "The operation cannot be completed: another model requires the record being deleted. \
         If possible, archive it instead.\n\nModel: {} ({})\nConstraint: {}_{}_fkey\n",
        m.description,
        m.name,
        table_name(m.name),
        field
    ))
}

fn missing_error(model: &str, ids: &[i64], uid: i64) -> Fault {
    fault(
        Exc::Missing,
        format!(
            "Record does not exist or has been deleted.\n(Record: {}, User: {uid})",
            recordset_repr(model, ids)
        ),
    )
}

/// What an `unlink` does to records pointing at the deleted one.
#[derive(PartialEq)]
enum OnDelete {
    Cascade,
    SetNull,
    Restrict,
}

fn on_delete(model: &str, field: &str) -> OnDelete {
    match (model, field) {
        ("sale.order.line", "order_id") | ("product.product", "product_tmpl_id") => {
            OnDelete::Cascade
        }
        ("res.partner", "parent_id") | (_, "create_uid") | (_, "write_uid") => OnDelete::SetNull,
        _ => OnDelete::Restrict,
    }
}

/// 16/17 `product.template._sanitize_vals`: `type` and `detailed_type`
/// follow each other [src].
fn sanitize_product_vals(version: u8, vals: &mut Obj) {
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
    fn convert(&self, m: &Model, f: &Field, v: &Value) -> R<Value> {
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

    fn defaults(&self, model: &str) -> Obj {
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

    fn create(&mut self, m: &'a Model, vals: &Obj) -> R<i64> {
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
    fn apply_vals(&mut self, m: &'a Model, id: i64, vals: &Obj) -> R<BTreeSet<String>> {
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

    // ------------------------------------------------------------ write

    fn write(&mut self, m: &'a Model, ids: &[i64], vals: &Obj) -> R<()> {
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
                }
            }
        }
        Ok(())
    }

    /// A write on a template: bumps the template, and its variants when
    /// `list_price` changes (observed) or a variant field is set through
    /// the template (`default_code`, `barcode`).
    fn write_template(&mut self, id: i64, vals: &Obj) -> R<()> {
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

    fn check_required(&self, m: &Model, id: i64) -> R<()> {
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
    fn after_write(
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

    fn unlink(&mut self, m: &'a Model, ids: &[i64]) -> R<()> {
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

// =============================================================== methods

/// Binds positional and keyword arguments to `params` like a Python call.
fn bind(method: &str, params: &[&str], args: &[Value], kwargs: &Obj) -> R<Vec<Option<Value>>> {
    if args.len() > params.len() {
        return Err(type_err(format!(
            "{method}() takes {} positional arguments but {} were given",
            params.len() + 1,
            args.len() + 1
        )));
    }
    let mut out: Vec<Option<Value>> = vec![None; params.len()];
    for (i, a) in args.iter().enumerate() {
        out[i] = Some(a.clone());
    }
    for (k, v) in kwargs {
        if k == "context" {
            continue;
        }
        match params.iter().position(|p| p == k) {
            Some(i) if out[i].is_some() => {
                return Err(type_err(format!(
                    "{method}() got multiple values for argument '{k}'"
                )))
            }
            Some(i) => out[i] = Some(v.clone()),
            None => {
                return Err(type_err(format!(
                    "{method}() got an unexpected keyword argument '{k}'"
                )))
            }
        }
    }
    Ok(out)
}

fn opt(v: &Option<Value>) -> Option<&Value> {
    v.as_ref().filter(|v| !is_false(v))
}

fn usize_arg(v: &Option<Value>) -> Option<usize> {
    opt(v).and_then(Value::as_u64).map(|n| n as usize)
}

/// The ids of a recordset call (`args[0]`) and the remaining arguments.
fn split_ids<'v>(method: &str, args: &'v [Value]) -> R<(Vec<i64>, &'v [Value])> {
    let Some(first) = args.first() else {
        return Err(type_err(format!(
            "{method}() missing 1 required positional argument: 'ids'"
        )));
    };
    let ids = match first {
        Value::Number(n) => vec![n.as_i64().ok_or_else(|| value_err("Invalid id"))?],
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_i64()
                    .ok_or_else(|| value_err(format!("Invalid id {}", py_repr(x))))
            })
            .collect::<R<Vec<i64>>>()?,
        Value::Bool(false) | Value::Null => Vec::new(),
        other => return Err(value_err(format!("Invalid ids {}", py_repr(other)))),
    };
    Ok((ids, &args[1..]))
}

impl<'a> Tx<'a> {
    fn read(&self, m: &'a Model, ids: &[i64], fields: Option<&Value>) -> R<Vec<Value>> {
        let list: Vec<&'a Field> = match fields.and_then(Value::as_array).filter(|a| !a.is_empty())
        {
            None => m.fields.iter().collect(),
            Some(names) => {
                let mut out = Vec::new();
                for n in names {
                    let name = str_of(n);
                    let f = m.field(name).ok_or_else(|| {
                        value_err(format!("Invalid field '{name}' on model '{}'", m.name))
                    })?;
                    out.push(f);
                }
                out
            }
        };
        let mut seen = HashSet::new();
        let mut rows = Vec::new();
        for &id in ids {
            if !self.exists(m.name, id) || !seen.insert(id) {
                continue;
            }
            let mut o = Obj::new();
            o.insert("id".into(), json!(id));
            for f in &list {
                o.insert(f.name.to_string(), self.render(m, id, f));
            }
            rows.push(Value::Object(o));
        }
        Ok(rows)
    }

    fn fields_get(
        &self,
        m: &Model,
        allfields: Option<&Value>,
        attributes: Option<&Value>,
    ) -> Value {
        let only: Option<Vec<&str>> = allfields
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().map(str_of).collect());
        let attrs: Option<Vec<&str>> = attributes
            .and_then(Value::as_array)
            .map(|a| a.iter().map(str_of).collect());
        let mut out = Obj::new();
        for f in &m.fields {
            if only.as_ref().is_some_and(|o| !o.contains(&f.name)) {
                continue;
            }
            let mut d = Obj::new();
            d.insert("type".into(), json!(f.ty.name()));
            d.insert("string".into(), json!(f.string));
            d.insert("name".into(), json!(f.name));
            d.insert("required".into(), json!(f.required));
            d.insert("readonly".into(), json!(f.readonly));
            d.insert("store".into(), json!(f.store));
            d.insert("searchable".into(), json!(f.searchable));
            d.insert("sortable".into(), json!(f.sortable));
            d.insert("groupable".into(), json!(f.store && !f.ty.x2many()));
            d.insert("manual".into(), json!(false));
            d.insert("company_dependent".into(), json!(false));
            d.insert("change_default".into(), json!(false));
            d.insert("exportable".into(), json!(true));
            d.insert("depends".into(), json!([]));
            if f.ty.stringy() && f.ty != Ty::Selection {
                d.insert("translate".into(), json!(false));
            }
            if let Some(r) = f.relation {
                d.insert("relation".into(), json!(r));
                d.insert("context".into(), json!({}));
                d.insert("domain".into(), json!([]));
            }
            if let Some(inv) = f.inverse {
                d.insert("relation_field".into(), json!(inv));
            }
            if f.ty == Ty::Selection {
                let sel: Vec<Value> = f.selection.iter().map(|(k, l)| json!([k, l])).collect();
                d.insert("selection".into(), Value::Array(sel));
            }
            if let Some(keep) = &attrs {
                d.retain(|k, _| keep.contains(&k.as_str()));
            }
            out.insert(f.name.to_string(), Value::Object(d));
        }
        Value::Object(out)
    }

    fn name_search(
        &self,
        m: &'a Model,
        name: &str,
        domain: Option<&Value>,
        op: &str,
        limit: Option<usize>,
    ) -> R<Value> {
        let all = self.search(m, domain.unwrap_or(&json!([])), 0, None, None)?;
        let keep: Option<HashSet<i64>> =
            if name.is_empty() && matches!(op, "ilike" | "like" | "=ilike" | "=like") {
                None
            } else {
                let pos = positive_op(op);
                let hits: HashSet<i64> = self.name_match(m.name, pos, name).into_iter().collect();
                if pos != op {
                    let every: HashSet<i64> = all.iter().copied().collect();
                    Some(every.difference(&hits).copied().collect())
                } else {
                    Some(hits)
                }
            };
        let out: Vec<Value> = all
            .into_iter()
            .filter(|id| keep.as_ref().is_none_or(|k| k.contains(id)))
            .take(limit.unwrap_or(usize::MAX))
            .map(|id| json!([id, self.display_name(m.name, id)]))
            .collect();
        Ok(Value::Array(out))
    }

    /// One `execute_kw` call on model `m`.
    fn call(
        &mut self,
        m: &'a Model,
        method: &str,
        args: &[Value],
        kwargs: &Obj,
    ) -> R<Option<Value>> {
        let v = self.s.version;
        let exists_method = |name: &str| -> bool {
            match name {
                "search"
                | "search_read"
                | "search_count"
                | "read"
                | "create"
                | "write"
                | "unlink"
                | "fields_get"
                | "name_search"
                | "default_get"
                | "check_access_rights"
                | "read_group" => true,
                "name_get" => v <= 17,
                "has_access" => v >= 18,
                "action_confirm" | "action_cancel" | "action_draft" | "action_unlock" => {
                    m.name == "sale.order"
                }
                "action_lock" => m.name == "sale.order" && v >= 17,
                "action_done" => m.name == "sale.order" && v == 16,
                _ => false,
            }
        };
        if method.starts_with('_') {
            return Err(fault(
                Exc::AccessError,
                format!(
                    "Private methods (such as '{}.{method}') cannot be called remotely.",
                    m.name
                ),
            ));
        }
        if !exists_method(method) {
            return Err(fault(
                Exc::Attribute,
                format!("The method '{}.{method}' does not exist", m.name),
            ));
        }
        let some = |v: Value| Ok(Some(v));
        match method {
            "search" => {
                let params: &[&str] = if v == 16 {
                    &["domain", "offset", "limit", "order", "count"]
                } else {
                    &["domain", "offset", "limit", "order"]
                };
                let p = bind(method, params, args, kwargs)?;
                let domain = p[0].clone().ok_or_else(|| {
                    type_err("search() missing 1 required positional argument: 'domain'")
                })?;
                let ids = self.search(
                    m,
                    &domain,
                    usize_arg(&p[1]).unwrap_or(0),
                    usize_arg(&p[2]),
                    opt(&p[3]).and_then(Value::as_str),
                )?;
                if p.get(4).is_some_and(|c| opt(c).is_some()) {
                    return some(json!(ids.len()));
                }
                some(json!(ids))
            }
            "search_read" => {
                let p = bind(
                    method,
                    &["domain", "fields", "offset", "limit", "order"],
                    args,
                    kwargs,
                )?;
                let domain = p[0].clone().unwrap_or(json!([]));
                let ids = self.search(
                    m,
                    &domain,
                    usize_arg(&p[2]).unwrap_or(0),
                    usize_arg(&p[3]),
                    opt(&p[4]).and_then(Value::as_str),
                )?;
                some(Value::Array(self.read(m, &ids, opt(&p[1]))?))
            }
            "search_count" => {
                let p = bind(method, &["domain", "limit"], args, kwargs)?;
                let domain = p[0].clone().unwrap_or(json!([]));
                let ids = self.search(m, &domain, 0, usize_arg(&p[1]), Some("id"))?;
                some(json!(ids.len()))
            }
            "read" => {
                let (ids, rest) = split_ids(method, args)?;
                let p = bind(method, &["fields", "load"], rest, kwargs)?;
                some(Value::Array(self.read(m, &ids, opt(&p[0]))?))
            }
            "create" => {
                let p = bind(method, &["vals_list"], args, kwargs)?;
                match p[0].clone() {
                    Some(Value::Object(vals)) => some(json!(self.create(m, &vals)?)),
                    Some(Value::Array(list)) => {
                        let mut ids = Vec::new();
                        for vals in list {
                            let Value::Object(vals) = vals else {
                                return Err(value_err(format!(
                                    "dictionary update sequence element #0 has length 1; 2 is required ({})",
                                    py_repr(&vals)
                                )));
                            };
                            ids.push(self.create(m, &vals)?);
                        }
                        some(json!(ids))
                    }
                    other => Err(type_err(format!(
                        "create() argument must be a dict or a list of dicts, not {}",
                        py_repr(&other.unwrap_or(Value::Null))
                    ))),
                }
            }
            "write" => {
                let (ids, rest) = split_ids(method, args)?;
                let p = bind(method, &["vals"], rest, kwargs)?;
                let Some(Value::Object(vals)) = p[0].clone() else {
                    return Err(type_err(
                        "write() missing 1 required positional argument: 'vals'",
                    ));
                };
                self.write(m, &ids, &vals)?;
                some(json!(true))
            }
            "unlink" => {
                let (ids, rest) = split_ids(method, args)?;
                bind(method, &[], rest, kwargs)?;
                self.unlink(m, &ids)?;
                some(json!(true))
            }
            "fields_get" => {
                let p = bind(method, &["allfields", "attributes"], args, kwargs)?;
                some(self.fields_get(m, opt(&p[0]), opt(&p[1])))
            }
            "name_search" => {
                let dom = if v == 16 { "args" } else { "domain" };
                let p = bind(method, &["name", dom, "operator", "limit"], args, kwargs)?;
                let name = opt(&p[0]).map(str_of).unwrap_or("").to_string();
                let op = opt(&p[2])
                    .and_then(Value::as_str)
                    .unwrap_or("ilike")
                    .to_string();
                let limit = match &p[3] {
                    None => Some(100),
                    Some(l) => opt(&Some(l.clone()))
                        .and_then(Value::as_u64)
                        .map(|n| n as usize),
                };
                some(self.name_search(m, &name, opt(&p[1]), &op, limit)?)
            }
            "name_get" => {
                let (ids, rest) = split_ids(method, args)?;
                bind(method, &[], rest, kwargs)?;
                let out: Vec<Value> = ids
                    .into_iter()
                    .filter(|i| self.exists(m.name, *i))
                    .map(|i| json!([i, self.display_name(m.name, i)]))
                    .collect();
                some(Value::Array(out))
            }
            "default_get" => {
                let p = bind(method, &["fields_list"], args, kwargs)?;
                let wanted: Vec<String> = opt(&p[0])
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|x| str_of(x).to_string()).collect())
                    .unwrap_or_default();
                let mut d = self.defaults(m.name);
                if m.name == "sale.order" && v == 16 {
                    d.insert("pricelist_id".into(), json!(1));
                }
                d.retain(|k, _| wanted.contains(k));
                some(Value::Object(d))
            }
            "check_access_rights" => {
                bind(method, &["operation", "raise_exception"], args, kwargs)?;
                some(json!(true))
            }
            "has_access" => {
                let (_, rest) = split_ids(method, args)?;
                bind(method, &["operation"], rest, kwargs)?;
                some(json!(true))
            }
            "read_group" => Err(fault(
                Exc::NotImplemented,
                "read_group is not modelled by the Puente Odoo sandbox",
            )),
            _ => {
                let (ids, rest) = split_ids(method, args)?;
                bind(method, &[], rest, kwargs)?;
                self.order_action(m, method, &ids)
            }
        }
    }

    fn order_action(&mut self, m: &'a Model, method: &str, ids: &[i64]) -> R<Option<Value>> {
        const O: &str = "sale.order";
        let missing: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|i| !self.exists(O, *i))
            .collect();
        if !missing.is_empty() {
            return Err(missing_error(O, &missing, self.uid));
        }
        let state = |tx: &Self, id: i64| str_of(&tx.get(O, id, "state")).to_string();
        let v17 = self.s.version >= 17;
        match method {
            "action_confirm" => {
                if ids
                    .iter()
                    .any(|i| !["draft", "sent"].contains(&state(self, *i).as_str()))
                {
                    let names: Vec<String> = ids.iter().map(|i| self.display_name(O, *i)).collect();
                    return Err(user_err(format!(
                        "The following orders are not in a state requiring confirmation: {}",
                        names.join(", ")
                    )));
                }
                for &id in ids {
                    self.confirm(id);
                }
                Ok(Some(json!(true)))
            }
            "action_cancel" => {
                let locked = ids.iter().any(|i| {
                    if v17 {
                        truthy(&self.get(O, *i, "locked"))
                    } else {
                        state(self, *i) == "done"
                    }
                });
                if locked {
                    return Err(user_err(
                        "You cannot cancel a locked order. Please unlock it first.",
                    ));
                }
                for &id in ids {
                    self.touch(O, id);
                    self.set(O, id, "state", json!("cancel"));
                }
                Ok(Some(json!(true)))
            }
            "action_draft" => {
                for &id in ids {
                    if ["cancel", "sent"].contains(&state(self, id).as_str()) {
                        self.touch(O, id);
                        self.set(O, id, "state", json!("draft"));
                    }
                }
                Ok(Some(json!(true)))
            }
            "action_lock" | "action_done" => {
                for &id in ids {
                    self.touch(O, id);
                    if v17 {
                        self.set(O, id, "locked", json!(true));
                    } else {
                        self.set(O, id, "state", json!("done"));
                    }
                }
                // 17+: `action_lock` returns None [§5].
                Ok(if v17 { None } else { Some(json!(true)) })
            }
            "action_unlock" => {
                for &id in ids {
                    self.touch(O, id);
                    if v17 {
                        self.set(O, id, "locked", json!(false));
                    } else {
                        self.set(O, id, "state", json!("sale"));
                    }
                }
                Ok(None)
            }
            _ => Err(fault(
                Exc::Attribute,
                format!("The method '{}.{method}' does not exist", m.name),
            )),
        }
    }

    /// `action_confirm` on one order: state `sale`, `date_order` = now.
    fn confirm(&mut self, id: i64) {
        const O: &str = "sale.order";
        self.touch(O, id);
        self.set(O, id, "state", json!("sale"));
        self.set(O, id, "date_order", json!(fmt_dt(self.now.naive_utc())));
    }
}

// =============================================================== XML-RPC

#[derive(Debug)]
struct XEl {
    name: String,
    children: Vec<XNode>,
}

#[derive(Debug)]
enum XNode {
    El(XEl),
    Text(String),
}

impl XEl {
    fn elements(&self) -> impl Iterator<Item = &XEl> {
        self.children.iter().filter_map(|c| match c {
            XNode::El(e) => Some(e),
            XNode::Text(_) => None,
        })
    }
    fn child(&self, name: &str) -> Option<&XEl> {
        self.elements().find(|e| e.name == name)
    }
    fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                XNode::Text(t) => s.push_str(t),
                XNode::El(e) => s.push_str(&e.text()),
            }
        }
        s
    }
}

/// A small XML reader, enough for XML-RPC requests.
struct XmlReader<'s> {
    s: &'s str,
    i: usize,
}

fn xml_unescape(t: &str) -> Result<String, String> {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let end = rest[p..]
            .find(';')
            .ok_or_else(|| "undefined entity".to_string())?;
        let ent = &rest[p + 1..p + end];
        let ch = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or("bad character reference")?,
            e if e.starts_with('#') => e[1..]
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32)
                .ok_or("bad character reference")?,
            _ => return Err(format!("undefined entity &{ent};")),
        };
        out.push(ch);
        rest = &rest[p + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl<'s> XmlReader<'s> {
    fn rest(&self) -> &'s str {
        &self.s[self.i..]
    }
    fn skip_ws(&mut self) {
        let r = self.rest();
        self.i += r.len() - r.trim_start().len();
    }
    fn skip_until(&mut self, end: &str) -> Result<(), String> {
        let p = self
            .rest()
            .find(end)
            .ok_or_else(|| format!("unclosed token: expected {end}"))?;
        self.i += p + end.len();
        Ok(())
    }
    fn skip_misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("<?") {
                self.skip_until("?>")?;
            } else if r.starts_with("<!--") {
                self.skip_until("-->")?;
            } else if r.starts_with("<!") {
                self.skip_until(">")?;
            } else {
                return Ok(());
            }
        }
    }
    fn document(&mut self) -> Result<XEl, String> {
        self.skip_misc()?;
        let root = self.element()?;
        self.skip_misc()?;
        if !self.rest().is_empty() {
            return Err("junk after document element".into());
        }
        Ok(root)
    }
    fn element(&mut self) -> Result<XEl, String> {
        if !self.rest().starts_with('<') {
            return Err("syntax error".into());
        }
        self.i += 1;
        let r = self.rest();
        let n = r
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .ok_or("unclosed token")?;
        let name = r[..n].to_string();
        if name.is_empty() {
            return Err("not well-formed (invalid token)".into());
        }
        self.i += n;
        // Attributes are skipped (quotes respected).
        let mut quote: Option<char> = None;
        let empty;
        loop {
            let c = self.rest().chars().next().ok_or("unclosed token")?;
            self.i += c.len_utf8();
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"') | (None, '\'') => quote = Some(c),
                (None, '/') if self.rest().starts_with('>') => {
                    self.i += 1;
                    empty = true;
                    break;
                }
                (None, '>') => {
                    empty = false;
                    break;
                }
                _ => {}
            }
        }
        let mut el = XEl {
            name,
            children: Vec::new(),
        };
        if empty {
            return Ok(el);
        }
        loop {
            let r = self.rest();
            if r.is_empty() {
                return Err("no element found".into());
            }
            if let Some(close) = r.strip_prefix("</") {
                let end = close.find('>').ok_or("unclosed token")?;
                if close[..end].trim() != el.name {
                    return Err("mismatched tag".into());
                }
                self.i += 2 + end + 1;
                return Ok(el);
            }
            if r.starts_with("<!--") {
                self.skip_until("-->")?;
            } else if let Some(cdata) = r.strip_prefix("<![CDATA[") {
                let end = cdata.find("]]>").ok_or("unclosed CDATA section")?;
                el.children.push(XNode::Text(cdata[..end].to_string()));
                self.i += 9 + end + 3;
            } else if r.starts_with('<') {
                el.children.push(XNode::El(self.element()?));
            } else {
                let end = r.find('<').unwrap_or(r.len());
                el.children.push(XNode::Text(xml_unescape(&r[..end])?));
                self.i += end;
            }
        }
    }
}

/// Decodes an XML-RPC `<value>`. 18 parses `dateTime.iso8601` into a
/// datetime (sent on as `YYYY-MM-DD HH:MM:SS`); 16/17 pass the raw text on,
/// which a datetime field then rejects [§3].
fn xml_value(v: &XEl, version: u8) -> Result<Value, String> {
    let Some(k) = v.elements().next() else {
        return Ok(Value::String(v.text()));
    };
    let t = k.text();
    Ok(match k.name.as_str() {
        "int" | "i4" | "i8" => json!(t.trim().parse::<i64>().map_err(|e| e.to_string())?),
        "boolean" => json!(t.trim() == "1"),
        "string" => json!(t),
        "double" => json!(t.trim().parse::<f64>().map_err(|e| e.to_string())?),
        "nil" => Value::Null,
        "base64" => json!(t.trim()),
        "dateTime.iso8601" => {
            let raw = t.trim();
            if version >= 18 {
                match NaiveDateTime::parse_from_str(raw, "%Y%m%dT%H:%M:%S")
                    .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
                {
                    Ok(d) => json!(fmt_dt(d)),
                    Err(_) => json!(raw),
                }
            } else {
                json!(raw)
            }
        }
        "array" => {
            let data = k.child("data").ok_or("array without data")?;
            let mut out = Vec::new();
            for e in data.elements().filter(|e| e.name == "value") {
                out.push(xml_value(e, version)?);
            }
            Value::Array(out)
        }
        "struct" => {
            let mut o = Obj::new();
            for m in k.elements().filter(|e| e.name == "member") {
                let name = m.child("name").map(XEl::text).unwrap_or_default();
                let val = m.child("value").ok_or("member without value")?;
                o.insert(name, xml_value(val, version)?);
            }
            Value::Object(o)
        }
        other => return Err(format!("unknown XML-RPC type <{other}>")),
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Python float `repr`.
fn py_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// Marshals like Python's `xmlrpc.client` without `allow_none`.
fn xml_encode(v: &Value, out: &mut String) -> R<()> {
    out.push_str("<value>");
    match v {
        Value::Null => {
            return Err(type_err("cannot marshal None unless allow_none is enabled"));
        }
        Value::Bool(b) => out.push_str(&format!("<boolean>{}</boolean>", u8::from(*b))),
        Value::Number(n) => {
            if let Some(i) = n.as_i64().filter(|_| !n.is_f64()) {
                if i > i64::from(i32::MAX) || i < i64::from(i32::MIN) {
                    return Err(fault(Exc::Overflow, "int exceeds XML-RPC limits"));
                }
                out.push_str(&format!("<int>{i}</int>"));
            } else if n.is_u64() {
                return Err(fault(Exc::Overflow, "int exceeds XML-RPC limits"));
            } else {
                out.push_str(&format!(
                    "<double>{}</double>",
                    py_float(n.as_f64().unwrap_or(0.0))
                ));
            }
        }
        Value::String(s) => {
            out.push_str("<string>");
            out.push_str(&xml_escape(s));
            out.push_str("</string>");
        }
        Value::Array(a) => {
            out.push_str("<array><data>\n");
            for x in a {
                xml_encode(x, out)?;
                out.push('\n');
            }
            out.push_str("</data></array>");
        }
        Value::Object(o) => {
            out.push_str("<struct>\n");
            for (k, x) in o {
                out.push_str("<member>\n<name>");
                out.push_str(&xml_escape(k));
                out.push_str("</name>\n");
                xml_encode(x, out)?;
                out.push_str("\n</member>\n");
            }
            out.push_str("</struct>");
        }
    }
    out.push_str("</value>");
    Ok(())
}

fn xml_response(result: &Value) -> R<String> {
    let mut body = String::new();
    xml_encode(result, &mut body)?;
    Ok(format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n{body}\n</param>\n</params>\n</methodResponse>\n"
    ))
}

fn xml_fault(code: Value, string: &str) -> String {
    let mut c = String::new();
    let _ = xml_encode(&code, &mut c);
    format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n{c}\n</member>\n<member>\n<name>faultString</name>\n<value><string>{}</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n",
        xml_escape(string)
    )
}

// =============================================================== service

struct Inner {
    cfg: OdooConfig,
    schema: Schema,
    data: Mutex<Data>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

impl App {
    fn version_info(&self) -> Value {
        let v = self.inner.cfg.version;
        json!({
            "server_version": format!("{v}.0"),
            "server_version_info": [v, 0, 0, "final", 0, ""],
            "server_serie": format!("{v}.0"),
            "protocol_version": 1,
        })
    }

    /// Opening the registry of a missing database [§4 psycopg2.OperationalError].
    fn check_db(&self, db: &Value) -> R<()> {
        let name = str_of(db);
        if name == self.inner.cfg.database {
            return Ok(());
        }
        Err(fault(
            Exc::Operational,
            format!(
                "connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: \
                 FATAL:  database \"{}\" does not exist\n",
                if name.is_empty() {
                    py_repr(db)
                } else {
                    name.to_string()
                }
            ),
        ))
    }

    /// API key or password, exactly where the password goes [§2].
    fn secret_ok(&self, secret: &Value) -> bool {
        let s = str_of(secret);
        !s.is_empty() && (s == self.inner.cfg.api_key || s == self.inner.cfg.password)
    }

    fn login(&self, params: &[Value]) -> R<Value> {
        let db = params.first().cloned().unwrap_or(Value::Null);
        self.check_db(&db)?;
        let login = params.get(1).map(str_of).unwrap_or("");
        let secret = params.get(2).cloned().unwrap_or(Value::Null);
        if login == self.inner.cfg.login && self.secret_ok(&secret) {
            Ok(json!(ADMIN_UID))
        } else {
            tracing::info!("Login failed for db:{} login:{login} from n/a", str_of(&db));
            Ok(Value::Bool(false))
        }
    }

    fn dispatch(&self, service: &str, method: &str, params: &[Value]) -> R<Option<Value>> {
        self.common.record_call(&format!("{service}.{method}"));
        match service {
            "common" => match method {
                "version" => Ok(Some(self.version_info())),
                "login" => {
                    if params.len() != 3 {
                        return Err(type_err(format!(
                            "exp_login() takes 3 positional arguments but {} were given",
                            params.len()
                        )));
                    }
                    self.login(params).map(Some)
                }
                "authenticate" => {
                    if params.len() < 3 || params.len() > 4 {
                        return Err(type_err(format!(
                            "exp_authenticate() takes 4 positional arguments but {} were given",
                            params.len()
                        )));
                    }
                    self.login(params).map(Some)
                }
                "about" => Ok(Some(json!("See http://openerp.com"))),
                _ => Err(fault(Exc::Name, format!("Method not available {method}"))),
            },
            "db" => match method {
                "server_version" => Ok(Some(json!(format!("{}.0", self.inner.cfg.version)))),
                "db_exist" => Ok(Some(json!(
                    params.first().map(str_of) == Some(self.inner.cfg.database.as_str())
                ))),
                "list" => Ok(Some(json!([self.inner.cfg.database]))),
                _ => Err(access_denied()),
            },
            "object" => match method {
                "execute_kw" => self.execute(params, true),
                "execute" => self.execute(params, false),
                _ => Err(fault(Exc::Name, format!("Method not available {method}"))),
            },
            other => Err(fault(Exc::Key, py_repr(&json!(other)))),
        }
    }

    fn execute(&self, params: &[Value], kw: bool) -> R<Option<Value>> {
        let name = if kw { "execute_kw" } else { "execute" };
        if params.len() < 5 {
            return Err(type_err(format!(
                "{name}() missing {} required positional arguments",
                5 - params.len()
            )));
        }
        let (db, uid, secret, model, method) =
            (&params[0], &params[1], &params[2], &params[3], &params[4]);
        let model = str_of(model).to_string();
        let method = str_of(method).to_string();
        self.common.record_call(&format!("{name} {model}.{method}"));
        self.check_db(db)?;
        let uid = match uid {
            Value::Number(n) => n.as_i64().unwrap_or(0),
            Value::Bool(b) => i64::from(*b),
            Value::String(s) => s.trim().parse::<i64>().map_err(|_| {
                value_err(format!(
                    "invalid literal for int() with base 10: {}",
                    py_repr(uid)
                ))
            })?,
            _ => 0,
        };
        if uid != ADMIN_UID || !self.secret_ok(secret) {
            return Err(access_denied());
        }
        let (args, kwargs): (Vec<Value>, Obj) = if kw {
            let args = match params.get(5) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a.clone(),
                Some(other) => {
                    return Err(type_err(format!(
                        "execute_kw() args must be a list, not {}",
                        py_repr(other)
                    )))
                }
            };
            let kwargs = match params.get(6) {
                None | Some(Value::Null) => Obj::new(),
                Some(Value::Object(o)) => o.clone(),
                Some(other) => {
                    return Err(type_err(format!(
                        "execute_kw() argument after ** must be a mapping, not {}",
                        py_repr(other)
                    )))
                }
            };
            (args, kwargs)
        } else {
            (params[5..].to_vec(), Obj::new())
        };
        let active_test = kwargs
            .get("context")
            .and_then(|c| c.get("active_test"))
            .map(truthy)
            .unwrap_or(true);
        let schema = &self.inner.schema;
        let m = schema
            .models
            .get(model.as_str())
            .ok_or_else(|| user_err(format!("Object {model} doesn't exist")))?;
        let mut data = lock(&self.inner.data);
        let now = self.common.stamp();
        let mut tx = Tx {
            s: schema,
            d: &mut data,
            now,
            uid,
            active_test,
            index: RefCell::default(),
            journal: Vec::new(),
            journaled: HashSet::new(),
        };
        let r = tx.call(m, &method, &args, &kwargs);
        if r.is_err() {
            tx.rollback();
        }
        r
    }
}

// ------------------------------------------------------------------ HTTP

fn html_404() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n\
         <p>The requested URL was not found on the server. If you entered the URL manually \
         please check your spelling and try again.</p>\n",
    )
        .into_response()
}

/// Unknown route: a JSON request gets a JSON-RPC error with code 404 (HTTP
/// 200) [§4], anything else werkzeug's HTML page.
async fn not_found(headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    if !is_json {
        return html_404();
    }
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null);
    let msg = "404 Not Found: The requested URL was not found on the server. If you entered \
               the URL manually please check your spelling and try again.";
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {
        "code": 404,
        "message": "404: Not Found",
        "data": {"name": "werkzeug.exceptions.NotFound", "debug": "", "message": msg,
                 "arguments": [], "context": {}},
    }});
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn bad_request(msg: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>{msg}</p>\n"
        ),
    )
        .into_response()
}

// Responses as `Err` values are the axum idiom (as in the other sandboxes).
#[allow(clippy::result_large_err)]
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !ct.contains("json") {
        return Err(bad_request(
            "Function declared as capable of handling request of type 'json' but called with a request of type 'http'",
        ));
    }
    serde_json::from_slice(body).map_err(|_| bad_request("Invalid JSON data"))
}

fn rpc_json(id: Value, r: R<Option<Value>>) -> Response {
    let body = match r {
        Ok(Some(v)) => json!({"jsonrpc": "2.0", "id": id, "result": v}),
        // A None result: no `result` key at all (observed) [§1].
        Ok(None) => json!({"jsonrpc": "2.0", "id": id}),
        Err(f) => json!({"jsonrpc": "2.0", "id": id, "error": f.json_error()}),
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `POST /jsonrpc` [§1].
async fn jsonrpc(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let params = req.get("params").cloned().unwrap_or(json!({}));
    let service = params.get("service").and_then(Value::as_str);
    let method = params.get("method").and_then(Value::as_str);
    let (Some(service), Some(method)) = (service, method) else {
        return rpc_json(
            id,
            Err(type_err(
                "jsonrpc() missing 2 required positional arguments: 'service' and 'method'",
            )),
        );
    };
    let args = match params.get("args") {
        Some(Value::Array(a)) => a.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => vec![other.clone()],
    };
    let r = app.dispatch(service, method, &args);
    rpc_json(id, r)
}

/// `POST /web/webclient/version_info` (JSON route, no auth).
async fn version_info(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    rpc_json(id, Ok(Some(app.version_info())))
}

fn xml_ok(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Runs an XML-RPC call; `legacy` selects `/xmlrpc/<service>` fault shapes.
fn xmlrpc_call(app: &App, service: &str, body: &Bytes, legacy: bool) -> Response {
    let version = app.inner.cfg.version;
    let parsed = std::str::from_utf8(body)
        .map_err(|e| e.to_string())
        .and_then(|s| XmlReader { s, i: 0 }.document())
        .and_then(|root| {
            if root.name != "methodCall" {
                return Err("not a methodCall".into());
            }
            let method = root.child("methodName").map(XEl::text).unwrap_or_default();
            let mut params = Vec::new();
            if let Some(ps) = root.child("params") {
                for p in ps.elements().filter(|e| e.name == "param") {
                    let v = p.child("value").ok_or("param without value")?;
                    params.push(xml_value(v, version)?);
                }
            }
            Ok((method.trim().to_string(), params))
        });
    let r = match parsed {
        Ok((method, params)) => app
            .dispatch(service, &method, &params)
            .and_then(|v| match v {
                Some(v) => xml_response(&v),
                // The method ran and committed; marshalling None fails [§3].
                None => Err(type_err("cannot marshal None unless allow_none is enabled")),
            }),
        Err(e) => Err(fault(Exc::Expat, e)),
    };
    match r {
        Ok(body) => xml_ok(body),
        Err(f) if legacy => {
            let (code, string) = match f.exc {
                Exc::AccessDenied => ("AccessDenied".to_string(), String::new()),
                Exc::Missing => (
                    format!("warning -- MissingError\n\n{}", f.msg),
                    String::new(),
                ),
                Exc::AccessError => (
                    format!("warning -- AccessError\n\n{}", f.msg),
                    String::new(),
                ),
                Exc::User | Exc::Validation => {
                    (format!("warning -- UserError\n\n{}", f.msg), String::new())
                }
                _ => (f.msg.clone(), f.traceback()),
            };
            xml_ok(xml_fault(json!(code), &string))
        }
        Err(f) => xml_ok(xml_fault(json!(f.exc.code()), &f.fault_string())),
    }
}

async fn xmlrpc2(State(app): State<App>, Path(service): Path<String>, body: Bytes) -> Response {
    xmlrpc_call(&app, &service, &body, false)
}

async fn xmlrpc_legacy(
    State(app): State<App>,
    Path(service): Path<String>,
    body: Bytes,
) -> Response {
    xmlrpc_call(&app, &service, &body, true)
}

/// Builds the Odoo router with base data and `seed` loaded.
pub(crate) fn router(common: Arc<Common>, cfg: &OdooConfig, seed: OdooSeed) -> io::Result<Router> {
    if !(16..=18).contains(&cfg.version) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "odoo sandbox: version {} is not one of 16, 17, 18",
                cfg.version
            ),
        ));
    }
    let schema = build_schema(cfg.version, cfg.sale_stock);
    let mut data = Data::default();
    {
        let mut tx = Tx {
            s: &schema,
            d: &mut data,
            now: common.stamp(),
            uid: ADMIN_UID,
            active_test: false,
            index: RefCell::default(),
            journal: Vec::new(),
            journaled: HashSet::new(),
        };
        base_data(&mut tx, cfg);
        let latest = load_seed(&mut tx, seed).map_err(|f| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("odoo seed: {}: {}", f.exc.class(), f.msg),
            )
        })?;
        if let Some(t) = latest {
            common.observe(t);
        }
    }
    let app = App {
        common,
        inner: Arc::new(Inner {
            cfg: cfg.clone(),
            schema,
            data: Mutex::new(data),
        }),
    };
    Ok(Router::new()
        .route("/jsonrpc", post(jsonrpc))
        .route("/web/webclient/version_info", post(version_info))
        .route("/xmlrpc/2/{service}", post(xmlrpc2))
        .route("/xmlrpc/{service}", post(xmlrpc_legacy))
        .fallback(not_found)
        .with_state(app))
}

// ============================================================= base data

/// Spanish provinces as in Odoo's `res.country.state` data (code, name).
const SPANISH_STATES: [(&str, &str); 52] = [
    ("VI", "Álava (Araba)"),
    ("AB", "Albacete"),
    ("A", "Alacant (Alicante)"),
    ("AL", "Almería"),
    ("O", "Asturias"),
    ("AV", "Ávila"),
    ("BA", "Badajoz"),
    ("PM", "Balears (Baleares)"),
    ("B", "Barcelona"),
    ("BU", "Burgos"),
    ("CC", "Cáceres"),
    ("CA", "Cádiz"),
    ("S", "Cantabria"),
    ("CS", "Castelló (Castellón)"),
    ("CE", "Ceuta"),
    ("CR", "Ciudad Real"),
    ("CO", "Córdoba"),
    ("CU", "Cuenca"),
    ("GI", "Girona (Gerona)"),
    ("GR", "Granada"),
    ("GU", "Guadalajara"),
    ("SS", "Gipuzkoa (Guipúzcoa)"),
    ("H", "Huelva"),
    ("HU", "Huesca"),
    ("J", "Jaén"),
    ("C", "A Coruña (La Coruña)"),
    ("LO", "La Rioja"),
    ("GC", "Las Palmas"),
    ("LE", "León"),
    ("L", "Lleida (Lérida)"),
    ("LU", "Lugo"),
    ("M", "Madrid"),
    ("MA", "Málaga"),
    ("ML", "Melilla"),
    ("MU", "Murcia"),
    ("NA", "Navarra (Nafarroa)"),
    ("OR", "Ourense (Orense)"),
    ("P", "Palencia"),
    ("PO", "Pontevedra"),
    ("SA", "Salamanca"),
    ("TF", "Santa Cruz de Tenerife"),
    ("SG", "Segovia"),
    ("SE", "Sevilla"),
    ("SO", "Soria"),
    ("T", "Tarragona"),
    ("TE", "Teruel"),
    ("TO", "Toledo"),
    ("V", "València (Valencia)"),
    ("VA", "Valladolid"),
    ("BI", "Bizkaia (Vizcaya)"),
    ("ZA", "Zamora"),
    ("Z", "Zaragoza"),
];
const FIRST_STATE_ID: i64 = 415;

/// `res.country.state` id of a Spanish province by its Odoo code (`M`,
/// `B`, `SE`, …).
pub fn spanish_state_id(code: &str) -> Option<i64> {
    SPANISH_STATES
        .iter()
        .position(|(c, _)| *c == code)
        .map(|i| FIRST_STATE_ID + i as i64)
}

/// (id, code, name, currency, phone code).
const COUNTRIES: [(i64, &str, &str, i64, i64); 10] = [
    (20, "BE", "Belgium", 1, 32),
    (48, "CO", "Colombia", 2, 57),
    (57, "DE", "Germany", 1, 49),
    (68, "ES", "Spain", 1, 34),
    (75, "FR", "France", 1, 33),
    (109, "IT", "Italy", 1, 39),
    (156, "MX", "Mexico", 2, 52),
    (183, "PT", "Portugal", 1, 351),
    (231, "GB", "United Kingdom", 3, 44),
    (233, "US", "United States", 2, 1),
];

fn put_row(tx: &mut Tx, model: &'static str, id: i64, vals: Value) {
    let now = json!(fmt_dt_micro(tx.now));
    let mut rec = vals.as_object().cloned().unwrap_or_default();
    rec.insert("create_date".into(), now.clone());
    rec.insert("write_date".into(), now);
    rec.insert("create_uid".into(), json!(1));
    rec.insert("write_uid".into(), json!(1));
    let t = tx.table_mut(model);
    t.rows.insert(id, rec);
    t.next_id = t.next_id.max(id + 1);
}

fn base_data(tx: &mut Tx, cfg: &OdooConfig) {
    for (id, name, symbol, pos, active) in [
        (1, "EUR", "€", "after", true),
        (2, "USD", "$", "before", true),
        (3, "GBP", "£", "before", false),
    ] {
        put_row(
            tx,
            "res.currency",
            id,
            json!({"name": name, "symbol": symbol, "rounding": 0.01,
            "position": pos, "active": active}),
        );
    }
    for (id, code, name, cur, phone) in COUNTRIES {
        put_row(
            tx,
            "res.country",
            id,
            json!({"name": name, "code": code, "currency_id": cur,
            "phone_code": phone}),
        );
    }
    for (i, (code, name)) in SPANISH_STATES.iter().enumerate() {
        put_row(
            tx,
            "res.country.state",
            FIRST_STATE_ID + i as i64,
            json!({"name": name, "code": code, "country_id": SPAIN_ID}),
        );
    }
    put_row(
        tx,
        "uom.uom",
        UNITS_ID,
        json!({"name": "Units", "factor": 1.0, "active": true}),
    );
    for (id, use_) in [(SALE_TAX_ID, "sale"), (2, "purchase")] {
        let mut t = json!({"name": "15%", "amount": 15.0, "amount_type": "percent",
            "type_tax_use": use_, "active": true, "company_id": 1});
        if tx.s.version < 18 {
            t["price_include"] = json!(false);
        }
        put_row(tx, "account.tax", id, t);
    }
    put_row(
        tx,
        "res.partner",
        COMPANY_PARTNER_ID,
        json!({"name": "My Company", "is_company": true,
        "type": "contact", "active": true, "company_id": 1, "country_id": SPAIN_ID, "lang": "en_US"}),
    );
    put_row(
        tx,
        "res.partner",
        2,
        json!({"name": "OdooBot", "type": "contact", "active": false,
        "email": "odoobot@example.com", "lang": "en_US", "is_company": false}),
    );
    put_row(
        tx,
        "res.partner",
        3,
        json!({"name": "Administrator", "type": "contact", "active": true,
        "email": "admin@example.com", "company_id": 1, "lang": "en_US", "is_company": false}),
    );
    tx.table_mut("res.partner").next_id = FIRST_PARTNER_ID;
    put_row(
        tx,
        "res.company",
        1,
        json!({"name": "My Company", "partner_id": COMPANY_PARTNER_ID,
        "currency_id": EUR_ID, "country_id": SPAIN_ID}),
    );
    put_row(
        tx,
        "res.users",
        1,
        json!({"name": "OdooBot", "login": "__system__", "partner_id": 2,
        "active": false, "company_id": 1}),
    );
    put_row(
        tx,
        "res.users",
        ADMIN_UID,
        json!({"name": "Administrator", "login": cfg.login,
        "partner_id": 3, "active": true, "company_id": 1}),
    );
    put_row(
        tx,
        "product.pricelist",
        1,
        json!({"name": "Public Pricelist", "currency_id": EUR_ID,
        "active": true}),
    );
}

/// Loads the seed through the API code paths; returns the latest explicit
/// timestamp seen.
fn load_seed(tx: &mut Tx, seed: OdooSeed) -> R<Option<DateTime<Utc>>> {
    let mut latest: Option<DateTime<Utc>> = None;
    let lists: [(&'static str, Vec<Value>); 3] = [
        ("res.partner", seed.partners),
        ("product.product", seed.products),
        ("sale.order", seed.orders),
    ];
    for (model, list) in lists {
        let m = tx.model(model)?;
        for vals in list {
            let Value::Object(mut vals) = vals else {
                return Err(value_err(format!("{model} seed is not an object")));
            };
            let explicit = vals.remove("id").and_then(|v| v.as_i64());
            let created = vals.remove("create_date");
            let written = vals.remove("write_date");
            let state = if model == "sale.order" {
                vals.remove("state")
            } else {
                None
            };
            let prev_next = tx.table_mut(model).next_id;
            if let Some(id) = explicit {
                if tx.exists(model, id) {
                    return Err(value_err(format!("{model} seed: duplicate id {id}")));
                }
                tx.table_mut(model).next_id = id;
            }
            let id = tx.create(m, &vals)?;
            let t = tx.table_mut(model);
            t.next_id = t.next_id.max(prev_next);
            if let Some(state) = state.as_ref().and_then(Value::as_str) {
                match state {
                    "sale" => {
                        tx.confirm(id);
                        if let Some(d) = vals.get("date_order") {
                            let f = m.field("date_order").expect("sale.order.date_order");
                            let c = tx.convert(m, f, d)?;
                            tx.set(model, id, "date_order", c);
                        }
                    }
                    "draft" => {}
                    other => {
                        let f = m.field("state").expect("sale.order.state");
                        let c = tx.convert(m, f, &json!(other))?;
                        tx.set(model, id, "state", c);
                    }
                }
            }
            let stamp = |v: &Option<Value>| -> R<Option<DateTime<Utc>>> {
                match v.as_ref().and_then(Value::as_str) {
                    None => Ok(None),
                    Some(s) => parse_stored_dt(s)
                        .or_else(|| to_datetime(s).ok())
                        .map(|t| Some(t.and_utc()))
                        .ok_or_else(|| value_err(format!("bad seed timestamp {s:?}"))),
                }
            };
            let c = stamp(&created)?;
            let w = stamp(&written)?.or(c);
            let targets: Vec<(&'static str, i64)> = if model == "product.product" {
                let t = tx.m2o(model, id, "product_tmpl_id").unwrap_or(0);
                vec![(model, id), ("product.template", t)]
            } else {
                vec![(model, id)]
            };
            for (tm, tid) in targets {
                if let Some(c) = c {
                    tx.set(tm, tid, "create_date", json!(fmt_dt_micro(c)));
                }
                if let Some(w) = w {
                    tx.set(tm, tid, "write_date", json!(fmt_dt_micro(w)));
                }
            }
            for t in [c, w].into_iter().flatten() {
                if latest.is_none_or(|l| l < t) {
                    latest = Some(t);
                }
            }
        }
    }
    Ok(latest)
}

// ============================================================= generator

#[derive(Clone, Copy)]
struct City {
    name: &'static str,
    state: &'static str,
    zip: &'static str,
    phone: &'static str,
}

const fn city(
    name: &'static str,
    state: &'static str,
    zip: &'static str,
    phone: &'static str,
) -> City {
    City {
        name,
        state,
        zip,
        phone,
    }
}

const CITIES: [City; 17] = [
    city("Madrid", "M", "28", "91"),
    city("Barcelona", "B", "08", "93"),
    city("Valencia", "V", "46", "96"),
    city("Sevilla", "SE", "41", "954"),
    city("Bilbao", "BI", "48", "944"),
    city("Zaragoza", "Z", "50", "976"),
    city("Lugo", "LU", "27", "982"),
    city("Málaga", "MA", "29", "952"),
    city("Murcia", "MU", "30", "968"),
    city("Valladolid", "VA", "47", "983"),
    city("A Coruña", "C", "15", "981"),
    city("Granada", "GR", "18", "958"),
    city("Alicante", "A", "03", "965"),
    city("Palma", "PM", "07", "971"),
    city("Santander", "S", "39", "942"),
    city("Pamplona", "NA", "31", "948"),
    city("Oviedo", "O", "33", "985"),
];

const FIRST_NAMES: [&str; 24] = [
    "María", "Carmen", "Ana", "Laura", "Lucía", "Marta", "Elena", "Nuria", "Paula", "Isabel",
    "Rocío", "Irene", "Antonio", "José", "Manuel", "Javier", "David", "Carlos", "Miguel", "Pablo",
    "Álvaro", "Sergio", "Jorge", "Raúl",
];
const SURNAMES: [&str; 30] = [
    "García",
    "Martínez",
    "López",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Serrano",
    "Blanco",
    "Molina",
    "Castro",
    "Ortiz",
    "Rubio",
    "Iglesias",
];
const SECTORS: [&str; 14] = [
    "Construcciones",
    "Talleres",
    "Distribuciones",
    "Transportes",
    "Suministros",
    "Reformas",
    "Instalaciones",
    "Ferretería",
    "Electricidad",
    "Fontanería",
    "Carpintería",
    "Gráficas",
    "Limpiezas",
    "Frutas",
];
const STREETS: [&str; 10] = [
    "Calle Mayor",
    "Calle Real",
    "Avenida de la Constitución",
    "Plaza de España",
    "Paseo de la Castellana",
    "Gran Vía",
    "Calle Alcalá",
    "Calle de la Paz",
    "Avenida de Andalucía",
    "Rúa do Progreso",
];
const JOBS: [&str; 6] = [
    "Gerente",
    "Responsable de compras",
    "Administración",
    "Director comercial",
    "Jefe de obra",
    "Contabilidad",
];
/// (name, SKU prefix, min price, max price, service?).
const GOODS: [(&str, &str, f64, f64, bool); 16] = [
    (
        "Tornillo hexagonal M8 (caja 100 uds)",
        "TOR",
        4.0,
        12.0,
        false,
    ),
    (
        "Cable eléctrico 2,5 mm² (rollo 100 m)",
        "CAB",
        35.0,
        70.0,
        false,
    ),
    ("Taladro percutor 750 W", "TAL", 60.0, 140.0, false),
    ("Pintura plástica blanca 15 L", "PIN", 25.0, 60.0, false),
    ("Tubo PVC 40 mm (3 m)", "TUB", 3.0, 9.0, false),
    ("Guantes de trabajo (par)", "GUA", 1.5, 6.0, false),
    ("Casco de seguridad", "CAS", 6.0, 18.0, false),
    ("Llave inglesa 250 mm", "LLA", 8.0, 22.0, false),
    ("Silicona neutra 300 ml", "SIL", 3.0, 8.0, false),
    ("Escalera de aluminio 7 peldaños", "ESC", 70.0, 160.0, false),
    ("Foco LED 50 W", "LED", 12.0, 35.0, false),
    ("Grifo monomando de cocina", "GRI", 30.0, 95.0, false),
    ("Instalación y puesta en marcha", "INS", 60.0, 250.0, true),
    ("Mantenimiento anual", "MAN", 120.0, 480.0, true),
    ("Hora de asistencia técnica", "HOR", 35.0, 65.0, true),
    ("Transporte y entrega", "TRA", 10.0, 45.0, true),
];

fn slug(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' => 'a',
            'é' | 'è' => 'e',
            'í' => 'i',
            'ó' | 'ò' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            other => other,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// EAN-13 with a Spanish (84) prefix and a correct check digit.
fn ean13(n: u64) -> String {
    let body = format!("84{:010}", n % 10_000_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

struct SeedGen {
    rng: StdRng,
    used: HashSet<String>,
}

impl SeedGen {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.gen_range(0..xs.len())]
    }
    fn pct(&mut self, p: u32) -> bool {
        self.rng.gen_range(0..100) < p
    }
    fn unique(&mut self, mut make: impl FnMut(&mut StdRng) -> String) -> String {
        loop {
            let s = make(&mut self.rng);
            if self.used.insert(s.clone()) {
                return s;
            }
        }
    }
    fn phone(&mut self, prefix: &str) -> String {
        let prefix = prefix.to_string();
        self.unique(|r| {
            let mut d = prefix.clone();
            while d.len() < 9 {
                d.push(char::from(b'0' + r.gen_range(0..10u8)));
            }
            format!("+34 {} {} {}", &d[..3], &d[3..6], &d[6..])
        })
    }
    fn address(&mut self, vals: &mut Obj) -> usize {
        let c = self.rng.gen_range(0..CITIES.len());
        let street = format!("{} {}", self.pick(&STREETS), self.rng.gen_range(1..=150));
        vals.insert("street".into(), json!(street));
        if self.pct(25) {
            let floor = format!(
                "{}º {}",
                self.rng.gen_range(1..=8),
                self.pick(&["A", "B", "C", "D"])
            );
            vals.insert("street2".into(), json!(floor));
        }
        vals.insert("city".into(), json!(CITIES[c].name));
        vals.insert(
            "zip".into(),
            json!(format!(
                "{}{:03}",
                CITIES[c].zip,
                self.rng.gen_range(1..=80)
            )),
        );
        vals.insert("state_id".into(), json!(spanish_state_id(CITIES[c].state)));
        vals.insert("country_id".into(), json!(SPAIN_ID));
        c
    }
}

impl OdooSeed {
    /// Deterministic Spanish data: `companies` company contacts (most with
    /// a CIF in `ref`, some also with `vat` = `ES` + CIF), `persons` person
    /// contacts (most with a DNI/NIE in `ref`; about half belong to a
    /// company through `parent_id`, and then share its address as Odoo
    /// makes them), `products` (SKU in `default_code`, most with an EAN-13
    /// `barcode`, a fifth of them services) and `orders` with 1–4 lines
    /// (about two thirds confirmed, some of their lines partly delivered).
    ///
    /// Partner ids run from [`FIRST_PARTNER_ID`] (companies first), product
    /// ids from 1 and order ids from 1.
    pub fn generate(
        seed: u64,
        companies: usize,
        persons: usize,
        products: usize,
        orders: usize,
    ) -> OdooSeed {
        let mut g = SeedGen {
            rng: StdRng::seed_from_u64(seed ^ 0x0d00_5eed),
            used: HashSet::new(),
        };
        let mut out = OdooSeed::default();
        let mut next_id = FIRST_PARTNER_ID;
        let mut company_ids = Vec::new();
        for _ in 0..companies {
            let mut v = Obj::new();
            let (name, org) = {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let sector = g.pick(&SECTORS);
                    let who = g.pick(&SURNAMES);
                    let (suffix, org) = if g.pct(75) {
                        ("S.L.", 'B')
                    } else {
                        ("S.A.", 'A')
                    };
                    let n = if attempt > 10 {
                        format!("{sector} {who} {} {suffix}", g.pick(&CITIES).name)
                    } else {
                        format!("{sector} {who} {suffix}")
                    };
                    if attempt > 30 || g.used.insert(n.clone()) {
                        break (
                            format!(
                                "{n}{}",
                                if attempt > 30 {
                                    format!(" {attempt}")
                                } else {
                                    String::new()
                                }
                            ),
                            org,
                        );
                    }
                }
            };
            let base = slug(name.trim_end_matches(" S.L.").trim_end_matches(" S.A."));
            v.insert("id".into(), json!(next_id));
            v.insert("name".into(), json!(name));
            v.insert("is_company".into(), json!(true));
            let c = g.address(&mut v);
            v.insert("phone".into(), json!(g.phone(CITIES[c].phone)));
            let email = g.unique(|r| {
                let user = ["info", "administracion", "pedidos"][r.gen_range(0..3)];
                let n: u32 = r.gen_range(0..100);
                if n < 70 {
                    format!("{user}@{base}.es")
                } else {
                    format!("{user}@{base}{n}.es")
                }
            });
            v.insert("email".into(), json!(email));
            if g.pct(60) {
                v.insert("website".into(), json!(format!("https://www.{base}.es")));
            }
            if g.pct(90) {
                let province: u32 = CITIES[c].zip.parse().unwrap_or(28);
                let cif =
                    g.unique(|r| taxid::cif(org, province * 100_000 + r.gen_range(0..100_000)));
                if g.pct(70) {
                    v.insert("vat".into(), json!(format!("ES{cif}")));
                }
                v.insert("ref".into(), json!(cif));
            }
            company_ids.push(next_id);
            next_id += 1;
            out.partners.push(Value::Object(v));
        }
        let mut person_ids = Vec::new();
        for _ in 0..persons {
            let mut v = Obj::new();
            let first = g.pick(&FIRST_NAMES);
            let (l1, l2) = (g.pick(&SURNAMES), g.pick(&SURNAMES));
            v.insert("id".into(), json!(next_id));
            v.insert("name".into(), json!(format!("{first} {l1} {l2}")));
            v.insert("is_company".into(), json!(false));
            let c = g.address(&mut v);
            if !company_ids.is_empty() && g.pct(50) {
                let parent = g.pick(&company_ids);
                v.insert("parent_id".into(), json!(parent));
                v.insert("function".into(), json!(g.pick(&JOBS)));
            }
            let (f, a, b) = (slug(first), slug(l1), slug(l2));
            let email = g.unique(|r| {
                let dom = [
                    "gmail.com",
                    "hotmail.com",
                    "yahoo.es",
                    "outlook.es",
                    "telefonica.net",
                ][r.gen_range(0..5)];
                match r.gen_range(0..3) {
                    0 => format!("{f}.{a}@{dom}"),
                    1 => format!("{f}{a}{}@{dom}", r.gen_range(60..100)),
                    _ => format!("{f}.{a}.{b}@{dom}"),
                }
            });
            v.insert("email".into(), json!(email));
            v.insert("mobile".into(), json!(g.phone("6")));
            if g.pct(40) {
                v.insert("phone".into(), json!(g.phone(CITIES[c].phone)));
            }
            if g.pct(85) {
                let id = if g.pct(90) {
                    g.unique(|r| taxid::dni(r.gen_range(10_000_000..80_000_000)))
                } else {
                    g.unique(|r| {
                        taxid::nie(
                            if r.gen_bool(0.6) { 'X' } else { 'Y' },
                            r.gen_range(0..10_000_000),
                        )
                    })
                };
                v.insert("ref".into(), json!(id));
            }
            person_ids.push(next_id);
            next_id += 1;
            out.partners.push(Value::Object(v));
        }
        let mut prices = Vec::new();
        for i in 0..products {
            let (name, prefix, lo, hi, service) = GOODS[i % GOODS.len()];
            let name = if i < GOODS.len() {
                name.to_string()
            } else {
                format!("{name} – modelo {}", i / GOODS.len() + 1)
            };
            let price = (g.rng.gen_range(lo..hi) * 100.0).round() / 100.0;
            let mut v = Obj::new();
            v.insert("id".into(), json!(i + 1));
            v.insert("name".into(), json!(name));
            v.insert(
                "default_code".into(),
                json!(format!("{prefix}-{:05}", i + 1)),
            );
            v.insert("list_price".into(), json!(price));
            v.insert(
                "type".into(),
                json!(if service { "service" } else { "consu" }),
            );
            if !service && g.pct(85) {
                let code = g.unique(|r| ean13(r.gen_range(0..10_000_000_000)));
                v.insert("barcode".into(), json!(code));
            }
            if g.pct(30) {
                v.insert(
                    "description_sale".into(),
                    json!(if service {
                        "Incluye desplazamiento."
                    } else {
                        "Garantía de 2 años."
                    }),
                );
            }
            prices.push(price);
            out.products.push(Value::Object(v));
        }
        let customers: Vec<i64> = company_ids.iter().chain(&person_ids).copied().collect();
        if customers.is_empty() || products == 0 {
            return out;
        }
        for i in 0..orders {
            let mut v = Obj::new();
            v.insert("id".into(), json!(i + 1));
            let partner = if !company_ids.is_empty() && g.pct(70) {
                g.pick(&company_ids)
            } else {
                g.pick(&customers)
            };
            v.insert("partner_id".into(), json!(partner));
            if g.pct(40) {
                v.insert(
                    "client_order_ref".into(),
                    json!(format!("PO-2026-{:04}", g.rng.gen_range(1..10_000))),
                );
            }
            let confirmed = g.pct(65);
            let n = g.rng.gen_range(1..=4.min(products));
            let mut chosen: Vec<usize> = Vec::new();
            while chosen.len() < n {
                let p = g.rng.gen_range(0..products);
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            let mut lines = Vec::new();
            for p in chosen {
                let qty = f64::from(g.rng.gen_range(1..=20u32));
                let mut l =
                    json!({"product_id": p + 1, "product_uom_qty": qty, "price_unit": prices[p]});
                if g.pct(15) {
                    l["discount"] = json!(if g.pct(50) { 5.0 } else { 10.0 });
                }
                if confirmed && g.pct(30) {
                    l["qty_delivered"] = json!((qty / 2.0).floor());
                }
                lines.push(json!([0, 0, l]));
            }
            v.insert("order_line".into(), Value::Array(lines));
            if confirmed {
                v.insert("state".into(), json!("sale"));
            }
            out.orders.push(Value::Object(v));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_follow_sql() {
        assert!(sql_like("%ana%", "Mariana", false));
        assert!(sql_like("%ANA%", "Mariana", true));
        assert!(!sql_like("%ANA%", "Mariana", false));
        assert!(sql_like("B_2%", "B12345", false));
        assert!(!sql_like("a\\%", "ab", false));
        assert!(sql_like("a\\%", "a%", false));
    }

    #[test]
    fn amounts_round_half_up_per_line() {
        assert_eq!(round2(37.5 * 0.15), 5.63);
        assert_eq!(round2(2.675), 2.68);
        assert_eq!(round2(-1.005), -1.01);
    }

    #[test]
    fn domain_timestamps_accept_what_postgres_casts() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T17:57:44Z")
            .unwrap()
            .with_timezone(&Utc);
        for s in [
            "2020-01-01",
            "2020-01-01 00:00:00",
            "2020-01-01T00:00:00",
            "2020-01-01 00:00:00.123456",
        ] {
            assert!(pg_timestamp(s, now).is_some(), "{s}");
        }
        assert_eq!(
            pg_timestamp("yesterday", now).unwrap().to_string(),
            "2026-11-21 00:00:00"
        );
        assert!(pg_timestamp("someday", now).is_none());
        assert!(to_datetime("2026-01-01T10:00:00").is_err());
        assert_eq!(
            to_datetime("2026-01-01").unwrap().to_string(),
            "2026-01-01 00:00:00"
        );
    }

    #[test]
    fn xml_rpc_values_round_trip() {
        let v = json!({"a": [1, 2.5, "x<y", true], "b": {"c": false}});
        let body = xml_response(&v).unwrap();
        let root = XmlReader { s: &body, i: 0 }.document().unwrap();
        let value = root
            .child("params")
            .and_then(|p| p.child("param"))
            .and_then(|p| p.child("value"))
            .unwrap();
        assert_eq!(xml_value(value, 17).unwrap(), v);
        assert!(xml_response(&json!([null])).is_err());
        assert!(xml_response(&json!(1u64 << 40)).is_err());
        let dt = XmlReader {
            s: "<value><dateTime.iso8601>20260101T10:00:00</dateTime.iso8601></value>",
            i: 0,
        }
        .document()
        .unwrap();
        assert_eq!(xml_value(&dt, 18).unwrap(), json!("2026-01-01 10:00:00"));
        assert_eq!(xml_value(&dt, 17).unwrap(), json!("20260101T10:00:00"));
    }

    #[test]
    fn python_reprs() {
        assert_eq!(
            leaf_repr(&[json!("a"), json!("="), json!(1)]),
            "('a', '=', 1)"
        );
        assert_eq!(
            py_repr(&json!([true, null, 1.0, "it's"])),
            "[True, None, 1.0, \"it's\"]"
        );
        assert_eq!(recordset_repr("res.partner", &[5, 6]), "res.partner(5, 6)");
    }

    #[test]
    fn generated_barcodes_are_valid_ean13() {
        let code = ean13(1234567890);
        assert_eq!(code.len(), 13);
        let sum: u32 = code
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
            .sum();
        assert_eq!(sum % 10, 0);
    }
}
