//! A connection's identity in a tenant is its configured name, not its vendor's: links,
//! events, checkpoints, webhook URLs and log entries say `shop_nl`, so two connections of
//! one vendor (two shops, two Alegra companies) never share a link. Vendor modules spell
//! their records and errors with the vendor's name; [`named`] puts the connection's name
//! on everything a connector hands out, so no vendor module needs to know it.

use crate::{CallStats, Connector, ConnectorError, IdSyntax, Page};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puente_core::{Fields, Kind, Record};
use std::sync::Arc;

/// `inner` as the connection called `name`.
pub fn named(name: &str, inner: Arc<dyn Connector>) -> Arc<dyn Connector> {
    Arc::new(Named {
        name: name.to_string(),
        inner,
    })
}

struct Named {
    name: String,
    inner: Arc<dyn Connector>,
}

impl Named {
    fn own(&self, mut r: Record) -> Record {
        r.system.clone_from(&self.name);
        r
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

    async fn subscribe_webhooks(
        &self,
        url: &str,
        kinds: &[Kind],
    ) -> Result<Vec<String>, ConnectorError> {
        self.inner
            .subscribe_webhooks(url, kinds)
            .await
            .map_err(|e| self.err(e))
    }

    fn supports(&self, kind: Kind) -> bool {
        self.inner.supports(kind)
    }

    fn id_syntax(&self, kind: Kind) -> IdSyntax {
        self.inner.id_syntax(kind)
    }

    fn has_modified_filter(&self, kind: Kind) -> bool {
        self.inner.has_modified_filter(kind)
    }

    async fn list(
        &self,
        kind: Kind,
        since: Option<DateTime<Utc>>,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let r = self.inner.list(kind, since, page).await;
        self.res(r, |mut p| {
            p.records = std::mem::take(&mut p.records)
                .into_iter()
                .map(|r| self.own(r))
                .collect();
            p
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        let r = self.inner.get(kind, id).await;
        self.res(r, |o| o.map(|r| self.own(r)))
    }

    async fn find_by_key(&self, kind: Kind, key: &str) -> Result<Vec<Record>, ConnectorError> {
        let r = self.inner.find_by_key(kind, key).await;
        self.res(r, |v| v.into_iter().map(|r| self.own(r)).collect())
    }

    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let r = self.inner.create(kind, fields, partner_id).await;
        self.res(r, |r| self.own(r))
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let r = self.inner.update(current, set, clear, partner_id).await;
        self.res(r, |r| self.own(r))
    }

    async fn party_kind(&self, id: &str) -> Result<Option<Kind>, ConnectorError> {
        self.inner.party_kind(id).await.map_err(|e| self.err(e))
    }

    fn needs_marks(&self, record: &Record, partner_id: &str) -> bool {
        self.inner.needs_marks(record, partner_id)
    }

    fn calls(&self) -> CallStats {
        self.inner.calls()
    }

    fn reset_budget(&self) {
        self.inner.reset_budget()
    }
}
