//! ALG-11: Clientify's webhook deliveries after a write through the API.

use serde_json::Value;

use super::query::render;
use super::{App, Kind, Obj};
use crate::kit::lock;

/// ALG-11: after a write through the API, the `{entity}.{what}` webhook (`contact.saved`,
/// `company.saved`, `product.saved`, `budget.saved`, `company.deleted`) to the configured
/// target, in the configured shape, unsigned (§1.4, §3), whoever made the write. Orders have
/// no event. A "saved" is any write that bumps `modified`, sub-resource writes (tags)
/// included.
pub(super) fn notify(app: &App, kind: Kind, what: &str, rec: &Obj, base: &str) {
    let (target, shape) = lock(&app.common.hook).clone();
    let Some(url) = target else {
        return;
    };
    if kind == Kind::Order {
        return;
    }
    let entity = kind.object_type();
    let event = format!("{entity}.{what}");
    let record = Value::Object(render(rec, kind, base));
    // One django-rest-hooks subscription per event type; its id is only decoration.
    let hook_id = 9820 + kind as u64;
    let body = shape.clientify_body(&event, entity, &record, hook_id);
    app.common.outbox.send(url, &event, body);
}
