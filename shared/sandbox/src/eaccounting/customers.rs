//! `/v2/customers` [C swagger; D changelog]: GUID `Id`, `CustomerNumber` (at most 20
//! characters, assigned when left out), `Name`, contact and address fields, `VatNumber`
//! (checked, as eAccounting has VIES check it), `TermsOfPaymentId`, `IsPrivatePerson`,
//! `IsActive`, the contact person of a company, `ChangedUtc` on every write.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    self, body_obj, created, error, invalid, is_guid, missing, no_content, ok, opt_bool, opt_str,
    req_str, run,
};
use super::facts::{fmt_time, CHANGED, E_CONFLICT};
use super::{App, Company, Obj};
use crate::kit::lock;
use crate::kit::vat;

/// Text properties a customer takes, with their longest value [I lengths].
const TEXT: [(&str, usize); 22] = [
    ("CustomerNumber", 20),
    ("Name", 100),
    ("EmailAddress", 255),
    ("Telephone", 50),
    ("MobilePhone", 50),
    ("InvoiceAddress1", 50),
    ("InvoiceAddress2", 50),
    ("InvoicePostalCode", 10),
    ("InvoiceCity", 50),
    ("InvoiceCountryCode", 2),
    ("DeliveryAddress1", 50),
    ("DeliveryAddress2", 50),
    ("DeliveryPostalCode", 10),
    ("DeliveryCity", 50),
    ("DeliveryCountryCode", 2),
    ("VatNumber", 20),
    ("CorporateIdentityNumber", 20),
    ("ContactPersonName", 50),
    ("ContactPersonEmail", 255),
    ("ContactPersonPhone", 50),
    ("ContactPersonMobile", 50),
    ("CurrencyCode", 3),
];

/// Checks a customer document (POST or PUT); the stored fields. [I] Required: `Name`,
/// `InvoicePostalCode`, `InvoiceCity`, `TermsOfPaymentId`, `IsPrivatePerson`.
fn check(co: &Company, body: &Obj, own: Option<&str>) -> Result<Obj, Response> {
    let mut out = Obj::new();
    for k in ["Name", "InvoicePostalCode", "InvoiceCity"] {
        req_str(body, k)?;
    }
    for (k, max) in TEXT {
        if let Some(s) = opt_str(body, k)? {
            if s.chars().count() > max {
                return Err(invalid(format!("{k} can be at most {max} characters.")));
            }
            out.insert(k.into(), json!(s));
        }
    }
    let terms = req_str(body, "TermsOfPaymentId")?;
    if !is_guid(&terms) || !co.terms.iter().any(|t| t["Id"] == json!(terms)) {
        return Err(invalid(format!("TermsOfPaymentId {terms} does not exist.")));
    }
    out.insert("TermsOfPaymentId".into(), json!(terms));
    let private = opt_bool(body, "IsPrivatePerson")?
        .ok_or_else(|| invalid("IsPrivatePerson is required."))?;
    out.insert("IsPrivatePerson".into(), json!(private));
    out.insert(
        "IsActive".into(),
        json!(opt_bool(body, "IsActive")?.unwrap_or(true)),
    );
    if let Some(v) = out.get("VatNumber").and_then(Value::as_str) {
        let nordic = ["NL", "DK", "SE"]
            .iter()
            .any(|p| v.to_uppercase().starts_with(p));
        if nordic && !vat::is_valid(v) {
            return Err(invalid(format!("VatNumber {v} is not a valid VAT number.")));
        }
    }
    if let Some(n) = out.get("CustomerNumber").and_then(Value::as_str) {
        if co
            .customers
            .iter()
            .any(|c| c["CustomerNumber"] == json!(n) && c["Id"].as_str() != own)
        {
            return Err(invalid(format!("CustomerNumber {n} is already in use.")));
        }
    }
    Ok(out)
}

pub(super) async fn list(
    State(app): State<App>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let rows: Vec<Value> = lock(&app.inner.company)
        .customers
        .iter()
        .cloned()
        .map(Value::Object)
        .collect();
    api::list(
        &app,
        &q,
        rows,
        CHANGED,
        &["ChangedUtc", "CustomerNumber", "Name"],
    )
}

pub(super) async fn detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let co = lock(&app.inner.company);
    match co.customers.iter().find(|c| c["Id"] == json!(id)) {
        Some(c) => ok(Value::Object(c.clone())),
        None => missing("Customer", &id),
    }
}

/// `POST /v2/customers` → 201 with the customer.
pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let now = fmt_time(app.common.stamp());
        let mut co = lock(&app.inner.company);
        let mut rec = check(&co, &body, None)?;
        if !rec.contains_key("CustomerNumber") {
            let n = co.next_customer;
            co.next_customer += 1;
            rec.insert("CustomerNumber".into(), json!(n.to_string()));
        }
        rec.entry("CurrencyCode").or_insert(json!("SEK"));
        let id = co.guid();
        rec.insert("Id".into(), json!(id));
        rec.insert("CreatedUtc".into(), json!(now));
        rec.insert("ChangedUtc".into(), json!(now));
        co.customers.push(rec.clone());
        Ok(created(Value::Object(rec)))
    })
}

/// `PUT /v2/customers/{id}`: the whole customer → 200.
pub(super) async fn replace(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let now = fmt_time(app.common.stamp());
        let mut co = lock(&app.inner.company);
        let Some(i) = co.customers.iter().position(|c| c["Id"] == json!(id)) else {
            return Err(missing("Customer", &id));
        };
        let mut rec = check(&co, &body, Some(&id))?;
        let old = &co.customers[i];
        for k in ["Id", "CreatedUtc", "CustomerNumber", "CurrencyCode"] {
            if !rec.contains_key(k) {
                if let Some(v) = old.get(k) {
                    rec.insert(k.into(), v.clone());
                }
            }
        }
        rec.insert("ChangedUtc".into(), json!(now));
        co.customers[i] = rec.clone();
        Ok(ok(Value::Object(rec)))
    })
}

/// `DELETE /v2/customers/{id}` → 204; [I] refused while invoices or orders refer to it.
pub(super) async fn remove(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut co = lock(&app.inner.company);
    let Some(i) = co.customers.iter().position(|c| c["Id"] == json!(id)) else {
        return missing("Customer", &id);
    };
    let used = co
        .orders
        .iter()
        .chain(&co.drafts)
        .chain(&co.invoices)
        .any(|d| d["CustomerId"] == json!(id));
    if used {
        return error(
            StatusCode::CONFLICT,
            E_CONFLICT,
            "The customer is used on orders or invoices.",
        );
    }
    co.customers.remove(i);
    no_content()
}
