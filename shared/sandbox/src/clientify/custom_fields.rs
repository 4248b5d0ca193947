//! `/v1/custom-fields/`: the definitions custom field values refer to.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::drf::{bad_request, char_value, display, field_err, not_found, parse_body};
use super::query::{abs_base, envelope, paginate};
use super::{App, Kind, Obj, Q};
use crate::kit::http::{json, qget};
use crate::kit::lock;

/// Field types a definition may declare (anything else is a DRF choice error).
const FIELD_TYPES: [&str; 12] = [
    "text",
    "textarea",
    "number",
    "decimal",
    "date",
    "datetime",
    "boolean",
    "select",
    "multiselect",
    "url",
    "email",
    "phone",
];

/// A custom field definition; values on records name it in `field`.
pub(super) struct FieldDef {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) field_type: String,
}

impl FieldDef {
    fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "object_type": self.kind.object_type(),
               "field_type": self.field_type})
    }
}

/// `GET /v1/custom-fields/` (`?object_type=contact|company`): DRF envelope
/// of definitions [C: C3 §1.3].
pub(super) async fn list_defs(
    State(app): State<App>,
    Query(q): Q,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let filter = match qget(&q, "object_type").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match Kind::from_object_type(v) {
            Some(k) => Some(k),
            None => {
                let mut e = Obj::new();
                field_err(
                    &mut e,
                    "object_type",
                    format!("Select a valid choice. {v} is not one of the available choices."),
                );
                return bad_request(e);
            }
        },
    };
    let defs: Vec<Value> = lock(&app.inner.data)
        .defs
        .iter()
        .filter(|d| filter.is_none_or(|k| d.kind == k))
        .map(FieldDef::to_json)
        .collect();
    let base = abs_base(&headers, &app.common);
    match paginate(&defs, &q, &format!("{base}{}", uri.path())) {
        Ok((page, p)) => envelope(&p, page.to_vec()),
        Err(r) => r,
    }
}

/// `GET /v1/custom-fields/{id}/` [C: C3].
pub(super) async fn get_def(State(app): State<App>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    let d = lock(&app.inner.data);
    match d.defs.iter().find(|x| x.id == id) {
        Some(def) => json(StatusCode::OK, def.to_json()),
        None => not_found(),
    }
}

/// `POST /v1/custom-fields/` `{name, object_type, field_type}` → 201.
/// No client creates definitions by API (§1.3: "assume created in the UI")
/// [I]; modelled so the product can create `in_alegra`; duplicate name per
/// object type → 400 [I].
pub(super) async fn create_def(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match parse_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut e = Obj::new();
    let name = match body.get("name").map(char_value) {
        None => {
            field_err(&mut e, "name", "This field is required.");
            String::new()
        }
        Some(Ok(n)) if n.is_empty() => {
            field_err(&mut e, "name", "This field may not be blank.");
            n
        }
        Some(Ok(n)) => n,
        Some(Err(m)) => {
            field_err(&mut e, "name", m);
            String::new()
        }
    };
    let kind = match body.get("object_type") {
        None => {
            field_err(&mut e, "object_type", "This field is required.");
            None
        }
        Some(v) => {
            let k = v.as_str().and_then(Kind::from_object_type);
            if k.is_none() {
                field_err(
                    &mut e,
                    "object_type",
                    format!("\"{}\" is not a valid choice.", display(v)),
                );
            }
            k
        }
    };
    let field_type = match body.get("field_type") {
        None | Some(Value::Null) => "text".to_string(),
        Some(v) => match v.as_str() {
            Some(t) if FIELD_TYPES.contains(&t) => t.to_string(),
            _ => {
                field_err(
                    &mut e,
                    "field_type",
                    format!("\"{}\" is not a valid choice.", display(v)),
                );
                String::new()
            }
        },
    };
    let mut d = lock(&app.inner.data);
    if let Some(k) = kind {
        if !name.is_empty() && d.defined(&name, k) {
            field_err(
                &mut e,
                "name",
                "A custom field with this name already exists.",
            );
        }
    }
    match kind {
        Some(k) if e.is_empty() => {
            let def = d.define(&name, k, &field_type).to_json();
            json(StatusCode::CREATED, def)
        }
        _ => bad_request(e),
    }
}
