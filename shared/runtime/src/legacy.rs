//! Links written before links were scoped by flow (issue 12) are moved into their flows.
//!
//! Until then links were keyed by (tenant, kind) and their ids by *vendor* name, so a
//! Clientify contact synced by a Clientify ⇄ Alegra flow and a Clientify ⇄ Odoo flow shared
//! one link (the defect that made the second flow create duplicates). The store keeps such
//! links in the empty flow's scope after its schema migration; here each one is copied into
//! every configured flow whose two connections it links — its ids renamed from vendor to
//! connection name, its record hashes kept for those two sides — and then deleted. A link
//! that holds ids of three systems (the defect's mark) gives each flow its own pair.
//! Checkpoints named by vendor are copied to the connection's name where the two differ.
//!
//! It runs once per [`App`](crate::App), before the first run or event of any of its flows,
//! and is idempotent: a copy that already exists (an earlier attempt that stopped half-way)
//! is left as it is, and the legacy link is deleted after every copy is in place.

use puente_core::Kind;
use puente_store::{Link, Scope, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One flow as adoption sees it.
#[derive(Clone, Debug)]
pub(crate) struct FlowSides {
    pub flow: String,
    pub kinds: Vec<Kind>,
    /// (connection name, vendor) of side A and side B.
    pub sides: [(String, String); 2],
}

/// The legacy links of one app's tenant, adopted once.
pub(crate) struct LegacyLinks {
    tenant: String,
    flows: Vec<FlowSides>,
    store: Arc<dyn Store>,
    done: tokio::sync::OnceCell<()>,
}

impl LegacyLinks {
    pub(crate) fn new(tenant: &str, flows: Vec<FlowSides>, store: Arc<dyn Store>) -> Self {
        LegacyLinks {
            tenant: tenant.to_string(),
            flows,
            store,
            done: tokio::sync::OnceCell::new(),
        }
    }

    /// Adopts the legacy links, the first time it is called (a failure is retried on the
    /// next call).
    pub(crate) async fn ensure(&self) -> Result<(), StoreError> {
        self.done.get_or_try_init(|| self.adopt()).await.map(|_| ())
    }

    async fn adopt(&self) -> Result<(), StoreError> {
        let mut kinds: Vec<Kind> = self.flows.iter().flat_map(|f| f.kinds.clone()).collect();
        kinds.sort();
        kinds.dedup();
        let mut moved = 0usize;
        for kind in kinds {
            let legacy = self
                .store
                .links(Scope::new(&self.tenant, "", kind.as_str()))
                .await?;
            for old in legacy {
                let mut adopted = false;
                for f in self.flows.iter().filter(|f| f.kinds.contains(&kind)) {
                    let Some(new) = self.copy_for(f, &old) else {
                        continue;
                    };
                    match self.store.save_link(&new).await {
                        Ok(_) => {}
                        // Already copied by an earlier attempt, or the flow has since linked
                        // these records itself: its own link wins.
                        Err(StoreError::Conflict(_) | StoreError::Duplicate(_)) => {}
                        Err(e) => return Err(e),
                    }
                    adopted = true;
                }
                if adopted {
                    match self.store.delete_link(&old).await {
                        Ok(()) | Err(StoreError::NotFound(_) | StoreError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                    moved += 1;
                } else {
                    tracing::warn!(tenant = %self.tenant, kind = %kind, link = %old.id,
                        "a link of an earlier version matches no configured flow; kept as it is");
                }
            }
        }
        self.copy_checkpoints().await?;
        if moved > 0 {
            tracing::info!(tenant = %self.tenant, links = moved, "links of an earlier version moved into their flows");
        }
        Ok(())
    }

    /// `old` as a link of flow `f`, when it links both of `f`'s connections (by vendor, the
    /// name ids had then). Where two flows of the same two vendors could claim it (two
    /// connections of one vendor), only the flow whose connections are named after their
    /// vendors takes it: that is the connection the old version used.
    fn copy_for(&self, f: &FlowSides, old: &Link) -> Option<Link> {
        let vendors_of = |x: &FlowSides| [x.sides[0].1.clone(), x.sides[1].1.clone()];
        let rivals = self
            .flows
            .iter()
            .filter(|g| g.flow != f.flow && vendors_of(g) == vendors_of(f))
            .count();
        if rivals > 0 && f.sides.iter().any(|(name, vendor)| name != vendor) {
            return None;
        }
        let mut ids = BTreeMap::new();
        let mut record_hashes = BTreeMap::new();
        for (name, vendor) in &f.sides {
            ids.insert(name.clone(), old.ids.get(vendor)?.clone());
            if let Some(h) = old.record_hashes.get(vendor) {
                record_hashes.insert(name.clone(), h.clone());
            }
        }
        Some(Link {
            flow: f.flow.clone(),
            ids,
            record_hashes,
            version: 0,
            ..old.clone()
        })
    }

    /// Modified checkpoints were scoped `flow/vendor/kind`; they are now
    /// `flow/connection/kind`. Copied where the two differ and the new one is missing.
    async fn copy_checkpoints(&self) -> Result<(), StoreError> {
        for f in &self.flows {
            for (name, vendor) in f.sides.iter().filter(|(n, v)| n != v) {
                for kind in &f.kinds {
                    let old = format!("{}/{vendor}/{}", f.flow, kind.as_str());
                    let new = format!("{}/{name}/{}", f.flow, kind.as_str());
                    if self.store.checkpoint(&self.tenant, &new).await?.is_some() {
                        continue;
                    }
                    if let Some(v) = self.store.checkpoint(&self.tenant, &old).await? {
                        self.store.put_checkpoint(&self.tenant, &new, &v).await?;
                    }
                }
            }
        }
        Ok(())
    }
}
