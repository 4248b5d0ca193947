//! ALG-11: Clientify's webhook deliveries after a write through the API (spec §3: "POST … to
//! a configured URL, unsigned"), and the knobs the [`Sandbox`] handle turns.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::query::render;
use super::{App, Kind, Obj};
use crate::kit::{lock, Sandbox};

/// The three Clientify payload shapes the vendor's own n8n node accepts (§1.4). Which one
/// Clientify really sends is unknown, hence configurable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookShape {
    /// `{"event":"contact.saved","contact":{…}}`.
    Event,
    /// `{"hook":{"id":…,"event":"contact.saved"},"contact":{…}}`. The default: Clientify is
    /// a Django/DRF application and this is the shape of django-rest-hooks, the usual
    /// webhook library there (§1.4 [I]).
    #[default]
    Hook,
    /// `{"event","timestamp","account_id","user_id","data":{"contact":{…},"changes":{…}}}`.
    Data,
}

impl WebhookShape {
    pub const ALL: [WebhookShape; 3] =
        [WebhookShape::Event, WebhookShape::Hook, WebhookShape::Data];

    /// The body of a Clientify delivery of `event` (`contact.saved`) about `record` of type
    /// `entity` (`contact`). `hook_id` numbers the subscription in the `hook` shape.
    pub fn clientify_body(self, event: &str, entity: &str, record: &Value, hook_id: u64) -> Value {
        let mut o = Map::new();
        match self {
            WebhookShape::Event => {
                o.insert("event".into(), json!(event));
                o.insert(entity.into(), record.clone());
            }
            WebhookShape::Hook => {
                o.insert("hook".into(), json!({"id": hook_id, "event": event}));
                o.insert(entity.into(), record.clone());
            }
            WebhookShape::Data => {
                o.insert("event".into(), json!(event));
                o.insert(
                    "timestamp".into(),
                    json!(chrono::Utc::now().timestamp_millis()),
                );
                o.insert("account_id".into(), json!(1));
                o.insert("user_id".into(), json!(1));
                o.insert(
                    "data".into(),
                    json!({entity: record.clone(), "changes": {}}),
                );
            }
        }
        Value::Object(o)
    }
}

/// Where this sandbox's deliveries go (`None`: off) and in which shape; kept in the
/// sandbox's [`Common`](crate::kit::Common) so the [`Sandbox`] handle can change them while
/// it runs.
pub(super) struct Hooks(pub(super) Mutex<(Option<String>, WebhookShape)>);

/// Clientify's knobs on the handle (no-ops on a sandbox of another vendor).
impl Sandbox {
    /// Clientify: where its webhooks go (`None`: off). Takes effect for the next write.
    pub fn set_webhook_target(&self, url: Option<String>) {
        if let Some(h) = self.common.ext::<Hooks>() {
            lock(&h.0).0 = url;
        }
    }

    /// Clientify: the payload shape of its webhooks.
    pub fn set_webhook_shape(&self, shape: WebhookShape) {
        if let Some(h) = self.common.ext::<Hooks>() {
            lock(&h.0).1 = shape;
        }
    }
}

/// ALG-11: after a write through the API, the `{entity}.{what}` webhook (`contact.saved`,
/// `company.saved`, `product.saved`, `budget.saved`, `company.deleted`) to the configured
/// target, in the configured shape, unsigned (§1.4, §3), whoever made the write. Orders have
/// no event. A "saved" is any write that bumps `modified`, sub-resource writes (tags)
/// included.
pub(super) fn notify(app: &App, kind: Kind, what: &str, rec: &Obj, base: &str) {
    let Some(hooks) = app.common.ext::<Hooks>() else {
        return;
    };
    let (target, shape) = lock(&hooks.0).clone();
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
