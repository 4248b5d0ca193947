//! A connection's identity in a tenant is its configured name, not its vendor's: links,
//! events, checkpoints, webhook URLs and log entries say `shop_nl`, so two connections of
//! one vendor (two shops, two Alegra companies) never share a link. Vendor modules spell
//! their records and errors with the vendor's name; [`named`] puts the connection's name
//! on everything a connector hands out, so no vendor module needs to know it.

use crate::{
    BackReference, CallStats, Connector, ConnectorError, Delivery, IdSyntax, ListQuery, Page, Read,
    WebhookError, WebhookRequest, WebhookSetup, Webhooks, Write,
};
use async_trait::async_trait;
use puente_core::{Fields, KeyKind, KeySpec, Kind, Record};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `inner` as the connection called `name`.
pub fn named(name: &str, inner: Arc<dyn Connector>) -> Arc<dyn Connector> {
    flow_side(name, inner, BTreeMap::new())
}

/// `inner` as the connection called `name`, seen by a flow that syncs only `fields` of
/// some entities: the other canonical fields of those records are kept out of the engine's
/// sight (it neither compares, hashes nor writes them) and handed back to the connector
/// when it updates the record, so a field the flow does not sync is never blanked.
pub fn flow_side(
    name: &str,
    inner: Arc<dyn Connector>,
    fields: BTreeMap<Kind, Vec<String>>,
) -> Arc<dyn Connector> {
    Arc::new(Named {
        name: name.to_string(),
        inner,
        fields,
    })
}

struct Named {
    name: String,
    inner: Arc<dyn Connector>,
    /// Per entity, the only canonical fields the flow sees (entities absent: all).
    fields: BTreeMap<Kind, Vec<String>>,
}

/// Where fields outside the flow's lists wait in a record (see [`flow_side`]).
const HIDDEN: &str = puente_core::HIDDEN_FIELDS;

impl Named {
    fn own(&self, mut r: Record) -> Record {
        r.system.clone_from(&self.name);
        if let Some(keep) = self.fields.get(&r.kind) {
            let mut hidden = serde_json::Map::new();
            let mut seen = Fields::new();
            for (k, v) in r.fields.iter() {
                if keep.iter().any(|f| f == k) {
                    seen.set(k, v);
                } else {
                    hidden.insert(k.to_string(), serde_json::Value::String(v.to_string()));
                }
            }
            r.fields = seen;
            if !hidden.is_empty() {
                if !r.extra.is_object() {
                    r.extra = serde_json::json!({});
                }
                r.extra[HIDDEN] = serde_json::Value::Object(hidden);
            }
        }
        r
    }

    /// `r` as the connector mapped it: the hidden fields back in place.
    fn whole(r: &Record) -> std::borrow::Cow<'_, Record> {
        let Some(hidden) = r.extra.get(HIDDEN).and_then(|h| h.as_object()) else {
            return std::borrow::Cow::Borrowed(r);
        };
        let mut w = r.clone();
        for (k, v) in hidden {
            if let Some(v) = v.as_str() {
                w.fields.set(k, v);
            }
        }
        if let Some(o) = w.extra.as_object_mut() {
            o.remove(HIDDEN);
        }
        std::borrow::Cow::Owned(w)
    }

    fn err(&self, e: ConnectorError) -> ConnectorError {
        e.with_system(&self.name)
    }

    fn res<T>(
        &self,
        r: Result<T, ConnectorError>,
        map: impl FnOnce(T) -> T,
    ) -> Result<T, ConnectorError> {
        r.map(map).map_err(|e| self.err(e))
    }
}

#[async_trait]
impl Connector for Named {
    fn system(&self) -> &str {
        &self.name
    }

    fn vendor(&self) -> &'static str {
        self.inner.vendor()
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.inner.check().await.map_err(|e| self.err(e))
    }

    async fn prepare(&self) -> Result<Vec<String>, ConnectorError> {
        self.inner.prepare().await.map_err(|e| self.err(e))
    }

    fn supports(&self, kind: Kind) -> bool {
        self.inner.supports(kind)
    }

    fn id_syntax(&self, kind: Kind) -> IdSyntax {
        self.inner.id_syntax(kind)
    }

    fn calls(&self) -> CallStats {
        self.inner.calls()
    }

    fn reset_budget(&self) {
        self.inner.reset_budget()
    }

    fn read(&self) -> &dyn Read {
        self
    }

    fn write(&self) -> Option<&dyn Write> {
        self.inner.write().map(|_| self as &dyn Write)
    }

    fn webhooks(&self) -> Option<&dyn Webhooks> {
        self.inner.webhooks().map(|_| self as &dyn Webhooks)
    }

    fn back_reference(&self) -> Option<&dyn BackReference> {
        self.inner
            .back_reference()
            .map(|_| self as &dyn BackReference)
    }
}

#[async_trait]
impl Read for Named {
    fn has_modified_filter(&self, kind: Kind) -> bool {
        self.inner.read().has_modified_filter(kind)
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let r = self.inner.read().list(kind, q, page).await;
        self.res(r, |mut p| {
            p.records = std::mem::take(&mut p.records)
                .into_iter()
                .map(|r| self.own(r))
                .collect();
            p
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        let r = self.inner.read().get(kind, id).await;
        self.res(r, |o| o.map(|r| self.own(r)))
    }
}

impl Named {
    /// The inner connector's write capability (`write()` only offers this wrapper's when
    /// the inner one has it).
    fn inner_write(&self) -> Result<&dyn Write, ConnectorError> {
        self.inner.writer(Kind::Contact).map_err(|e| self.err(e))
    }
}

#[async_trait]
impl Write for Named {
    fn searchable(&self, kind: Kind, key: KeyKind) -> bool {
        self.inner.write().is_some_and(|w| w.searchable(kind, key))
    }

    async fn find_by_key(
        &self,
        kind: Kind,
        spec: &KeySpec,
        value: &str,
    ) -> Result<Vec<Record>, ConnectorError> {
        let r = self.inner_write()?.find_by_key(kind, spec, value).await;
        self.res(r, |v| v.into_iter().map(|r| self.own(r)).collect())
    }

    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let r = self.inner_write()?.create(kind, fields, partner_id).await;
        self.res(r, |r| self.own(r))
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let r = self
            .inner_write()?
            .update(&Self::whole(current), set, clear, partner_id)
            .await;
        self.res(r, |r| self.own(r))
    }

    fn partial_updates(&self, kind: Kind) -> bool {
        self.inner.write().is_none_or(|w| w.partial_updates(kind))
    }

    fn takes_customer(&self, kind: Kind) -> bool {
        self.inner.write().is_none_or(|w| w.takes_customer(kind))
    }

    fn preview(&self, kind: Kind, fields: &Fields) -> Option<serde_json::Value> {
        self.inner.write().and_then(|w| w.preview(kind, fields))
    }

    fn frozen(&self, current: &Record) -> Option<String> {
        self.inner
            .write()
            .and_then(|w| w.frozen(&Self::whole(current)))
    }

    async fn refuse(&self, kind: Kind, fields: &Fields) -> Result<Option<String>, ConnectorError> {
        let r = self.inner_write()?.refuse(kind, fields).await;
        self.res(r, |x| x)
    }

    async fn party_kind(&self, id: &str) -> Result<Option<Kind>, ConnectorError> {
        let r = self.inner_write()?.party_kind(id).await;
        self.res(r, |k| k)
    }
}

#[async_trait]
impl Webhooks for Named {
    fn setup(&self) -> WebhookSetup {
        self.hooks().setup()
    }

    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), String> {
        self.hooks().verify(req)
    }

    async fn verify_with_vendor(&self, req: &WebhookRequest<'_>) -> Result<(), String> {
        self.hooks().verify_with_vendor(req).await
    }

    fn is_handshake(&self, req: &WebhookRequest<'_>) -> bool {
        self.hooks().is_handshake(req)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Delivery, WebhookError> {
        self.hooks().parse(req)
    }

    async fn subscribe(&self, url: &str, kinds: &[Kind]) -> Result<Vec<String>, ConnectorError> {
        self.hooks()
            .subscribe(url, kinds)
            .await
            .map_err(|e| self.err(e))
    }
}

impl BackReference for Named {
    fn needs_marks(&self, record: &Record, partner_id: &str) -> bool {
        self.inner
            .back_reference()
            .is_some_and(|b| b.needs_marks(&Self::whole(record), partner_id))
    }
}

impl Named {
    /// The inner connector's webhooks (`webhooks()` only offers this wrapper's when the
    /// inner one has them).
    fn hooks(&self) -> &dyn Webhooks {
        self.inner
            .webhooks()
            .expect("Named offers Webhooks only when its connector has them")
    }
}
