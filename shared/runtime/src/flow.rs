//! A configured flow (two connections, the entities it syncs, its rules) and the executor that
//! turns the engine's decisions into vendor writes, links and activity-log entries.
//!
//! The path of one pair (architecture.md): decide → make the record exist / write only the
//! differing fields → store the link with per-field hashes (optimistic version) → log what
//! happened. A link is only advanced when every write of the pair succeeded, so a failed
//! write can never make the engine believe a side holds a value it does not.

mod detail;

use crate::notify::Notifier;
use crate::summary::{PlanItem, Progress, Summary};
use chrono::Utc;
use detail::{key_of, matched_by, request_of, rules_for, values_of};
use puente_connectors::{Connector, ConnectorError};
use puente_core::{
    decide, synced_state, Decision, EntityRules, Fields, Kind, LinkState, Record, Side,
};
use puente_store::{Action, ActivityEntry, LeaseGrant, Link, Scope, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A flow between system A and system B (e.g. Clientify ⇄ Alegra).
pub struct Flow {
    pub tenant: String,
    pub name: String,
    pub a: Arc<dyn Connector>,
    pub b: Arc<dyn Connector>,
    pub kinds: Vec<Kind>,
    /// Each entity's rules in this flow (direction, keys, owners, write mode, filters).
    pub rules: BTreeMap<Kind, EntityRules>,
    pub store: Arc<dyn Store>,
    /// How long activity-log entries are kept (APC-8 / GDPR).
    pub log_retention: chrono::Duration,
    /// Where vendors deliver webhooks for this flow's tenant, or why nowhere (ALG-11).
    pub webhooks: Result<WebhookReceiver, String>,
    /// Links of an earlier version, adopted into the app's flows before first use.
    pub(crate) legacy: Arc<crate::legacy::LegacyLinks>,
    /// How far back a backfill run reaches, in days.
    pub backfill_days: u32,
    /// Where failures are reported at once (APC-8).
    pub notifier: Arc<dyn Notifier>,
}

/// Puente's public webhook receiver of one tenant: `{public_url}/webhooks/{tenant}`, and the
/// secret that completes each system's URL.
#[derive(Clone)]
pub struct WebhookReceiver {
    pub base: String,
    pub secret: String,
}

impl WebhookReceiver {
    /// The URL `system` delivers to.
    pub fn url(&self, system: &str) -> String {
        format!("{}/{system}/{}", self.base, self.secret)
    }
}

impl Flow {
    /// The rules of `kind` in this flow (the entity's defaults for a kind the flow does not
    /// sync, which only dependencies reach).
    pub fn rules(&self, kind: Kind) -> &EntityRules {
        static DEFAULTS: std::sync::OnceLock<BTreeMap<Kind, EntityRules>> =
            std::sync::OnceLock::new();
        self.rules.get(&kind).unwrap_or_else(|| {
            &DEFAULTS.get_or_init(|| {
                Kind::ALL
                    .into_iter()
                    .map(|k| (k, EntityRules::for_kind(k)))
                    .collect()
            })[&kind]
        })
    }

    /// The kinds runs, webhooks and events sync on their own: the flow's entities except
    /// those synced only as dependencies of its documents (`standalone = false`).
    pub fn run_kinds(&self) -> Vec<Kind> {
        self.kinds
            .iter()
            .copied()
            .filter(|k| self.rules(*k).standalone)
            .collect()
    }

    /// Makes the store ready for this flow: links of an earlier version are moved into
    /// their flows (once per app; see `legacy`).
    pub async fn ready(&self) -> Result<(), StoreError> {
        self.legacy.ensure().await
    }

    /// The store scope of this flow's links of `kind`: links belong to their flow.
    pub fn scope(&self, kind: Kind) -> Scope<'_> {
        Scope::new(&self.tenant, &self.name, kind.as_str())
    }

    pub fn conn(&self, side: Side) -> &Arc<dyn Connector> {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    /// The side a system is on, if it is part of this flow.
    pub fn side_of(&self, system: &str) -> Option<Side> {
        if self.a.system() == system {
            Some(Side::A)
        } else if self.b.system() == system {
            Some(Side::B)
        } else {
            None
        }
    }
}

/// The link's memory, as the engine sees it.
pub fn link_state(l: &Link) -> LinkState {
    LinkState {
        field_hashes: l.field_hashes.clone(),
        record_hashes: l.record_hashes.clone(),
    }
}

/// Why a pair failed: a vendor said no, the link could not be stored, or another worker
/// held the pair for longer than we wait.
#[derive(Debug)]
pub enum PairError {
    Vendor(ConnectorError),
    Store(StoreError),
    /// The pair's lease stayed taken (see [`PAIR_LEASE_WAIT`]); worth another try.
    Busy(String),
}

impl std::fmt::Display for PairError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PairError::Vendor(e) => write!(f, "{e}"),
            PairError::Store(e) => write!(f, "link store: {e}"),
            PairError::Busy(name) => write!(
                f,
                "another run is syncing this record ({name}); try again later"
            ),
        }
    }
}

impl PairError {
    /// Worth another try later (queue retry).
    pub fn is_transient(&self) -> bool {
        match self {
            PairError::Vendor(e) => e.is_transient(),
            PairError::Store(StoreError::Conflict(_))
            | PairError::Store(StoreError::Backend(_)) => true,
            PairError::Store(_) => false,
            PairError::Busy(_) => true,
        }
    }
}

impl From<ConnectorError> for PairError {
    fn from(e: ConnectorError) -> Self {
        PairError::Vendor(e)
    }
}

impl From<StoreError> for PairError {
    fn from(e: StoreError) -> Self {
        PairError::Store(e)
    }
}

/// The key, in a skip entry's `values`, of the skipped record's content hash.
pub const RECORD_FINGERPRINT: &str = "@record";

/// One run of a flow: holds the summary, the dry-run switch and the batches of links and log
/// entries that a Full run writes to the store in bulk.
pub struct Run<'f> {
    pub flow: &'f Flow,
    pub run_id: String,
    pub dry_run: bool,
    pub summary: Summary,
    pub progress: &'f dyn Progress,
    /// Save links in batches (Full) instead of one by one (events).
    pub(crate) batch_links: bool,
    pending_links: Vec<Link>,
    pending_log: Vec<ActivityEntry>,
    /// Skip entries in `pending_log` (by index) written only when the record or the reason
    /// changed since the record's last entry (see [`Run::note_skip`]).
    skip_checks: Vec<usize>,
    /// A Full run stops taking new pairs after this instant (and says where to resume).
    pub(crate) deadline: Option<std::time::Instant>,
    /// Pair keys up to this one are done (a resumed Full run of one kind).
    pub(crate) resume_after: Option<String>,
    /// A backfill takes only records created since this instant.
    pub(crate) created_since: Option<chrono::DateTime<Utc>>,
    /// A create whose outcome stayed unknown (its answer lost, and the look-up after it did
    /// not settle it) happened in the pair being synced: if the pair fails, its lease is
    /// abandoned rather than given back ([`PairLeases::abandon`]).
    pub(crate) unsure_create: bool,
}

const BATCH: usize = 200;

/// How long a pair lease lives if its holder dies without giving it back (a Lambda killed
/// at its time limit). A pair takes a few vendor calls; this covers their retries.
pub const PAIR_LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(120);
/// How long a run waits for a pair another run is syncing before giving up (transiently).
pub const PAIR_LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The leases that serialise every write to one pair, whoever makes it (a queue worker, a
/// Modified or a Full poll): named after the pair's natural keys, which both a linked pair
/// (its link's keys) and a not-yet-linked record (its own keys) have, so two runs that would
/// each create the counterpart of the same new record take the same lease. An entity matched
/// by several keys (email, then phone) takes one lease per key, in name order, so two
/// records that share only their phone are serialised too. Empty when there is no key
/// (the record is ineligible and will only be skipped).
pub(crate) fn pair_lease_names(
    rules: &EntityRules,
    link: Option<&Link>,
    recs: &[&Record],
) -> Vec<String> {
    let kind = rules.kind;
    let mut keys: Vec<String> = match link {
        Some(l) => match l.keys() {
            k if k.is_empty() => vec![format!("link:{}", l.id)],
            k => k.into_iter().map(str::to_string).collect(),
        },
        None => recs.iter().flat_map(|r| rules.keys_of(&r.fields)).collect(),
    };
    if keys.is_empty() && link.is_none() && rules.key_minted_on_create {
        // A new budget has no code until Alegra mints it (ALG-8): lease the record.
        if let Some(r) = recs.first() {
            keys.push(format!("new:{}:{}", r.system, r.id));
        }
    }
    let mut names: Vec<String> = keys
        .into_iter()
        .map(|k| format!("pair/{}/{k}", kind.as_str()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether two reads of a link show the same stored state (so nobody synced the pair in
/// between).
pub(crate) fn same_link(x: Option<&Link>, y: Option<&Link>) -> bool {
    match (x, y) {
        (None, None) => true,
        (Some(x), Some(y)) => x.id == y.id && x.version == y.version,
        _ => false,
    }
}

/// A held pair lease. Given back with [`PairLease::release`]. If the process dies holding
/// it, it expires after [`PAIR_LEASE_TTL`]; if the future holding it is dropped instead
/// (cancelled, or a test's simulated crash), it is marked expired at once. Either way the
/// next holder is told it took the lease over ([`PairLease::taken_over`]): the pair may be
/// half-written (a vendor record created, its link not saved), so it reads everything
/// again and searches before it creates.
pub(crate) struct PairLease {
    store: Arc<dyn Store>,
    tenant: String,
    name: String,
    owner: String,
    held: bool,
    /// The previous holder died holding it.
    pub(crate) taken_over: bool,
}

/// The leases of one pair (see [`pair_lease_names`]), taken in name order.
pub(crate) struct PairLeases(Vec<PairLease>);

impl PairLeases {
    /// Whether any previous holder died holding one of them.
    pub(crate) fn taken_over(&self) -> bool {
        self.0.iter().any(|l| l.taken_over)
    }

    pub(crate) async fn release(self) {
        for l in self.0.into_iter().rev() {
            l.release().await;
        }
    }

    /// Ends the leases as a holder that died would: expired at once but not given back,
    /// so the next holder is told it took them over and reads and searches again instead
    /// of trusting a listing it made before. For a pair that failed after a create whose
    /// outcome is unknown: the counterpart may exist with no link to it.
    pub(crate) async fn abandon(self) {
        for mut l in self.0.into_iter().rev() {
            l.held = false;
            if let Err(e) = l
                .store
                .take_lease(&l.tenant, &l.name, &l.owner, std::time::Duration::ZERO)
                .await
            {
                tracing::warn!(error = %e, lease = %l.name, "pair lease not abandoned; it expires by itself");
            }
        }
    }

    /// Gives the leases back, or abandons them when `res` failed after an unsure create.
    pub(crate) async fn end<T, E>(self, res: &Result<T, E>, unsure_create: bool) {
        if res.is_err() && unsure_create {
            tracing::warn!(
                "a create's outcome stayed unknown: the pair lease is left to be taken over, so the next run searches before it creates"
            );
            self.abandon().await;
        } else {
            self.release().await;
        }
    }
}

impl PairLease {
    pub(crate) async fn release(mut self) {
        self.held = false;
        if let Err(e) = self
            .store
            .release_lease(&self.tenant, &self.name, &self.owner)
            .await
        {
            tracing::warn!(error = %e, lease = %self.name, "pair lease not released; it expires by itself");
        }
    }
}

impl Drop for PairLease {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (store, tenant, name, owner) = (
                self.store.clone(),
                std::mem::take(&mut self.tenant),
                std::mem::take(&mut self.name),
                std::mem::take(&mut self.owner),
            );
            rt.spawn(async move {
                let _ = store
                    .take_lease(&tenant, &name, &owner, std::time::Duration::ZERO)
                    .await;
            });
        }
    }
}

/// A run id no other run shares, even two runs started in the same millisecond by one
/// process or by two Lambda containers (it is also the owner of the run's leases).
fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    static SALT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let salt = SALT.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.finish()
    });
    format!(
        "{}-{:08x}-{}",
        Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        salt & 0xffff_ffff,
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// The records an activity-log entry is about.
pub(crate) struct Refs<'a> {
    /// (system, id) of the record the change came from.
    pub source: (&'a str, Option<&'a str>),
    /// (system, id) of the record written, if any.
    pub target: Option<(&'a str, &'a str)>,
    pub link: Option<&'a str>,
}

impl<'f> Run<'f> {
    pub fn new(flow: &'f Flow, mode: &str, dry_run: bool, progress: &'f dyn Progress) -> Run<'f> {
        let run_id = new_run_id();
        Run {
            flow,
            summary: Summary {
                tenant: flow.tenant.clone(),
                flow: flow.name.clone(),
                mode: mode.to_string(),
                run_id: run_id.clone(),
                dry_run,
                ..Summary::default()
            },
            run_id,
            dry_run,
            progress,
            batch_links: false,
            pending_links: Vec::new(),
            pending_log: Vec::new(),
            skip_checks: Vec::new(),
            deadline: None,
            resume_after: None,
            created_since: None,
            unsure_create: false,
        }
    }

    pub(crate) fn log(
        &mut self,
        (kind, action): (Kind, Action),
        refs: Refs<'_>,
        fields: Vec<String>,
        reason: Option<String>,
    ) {
        let Refs {
            source,
            target,
            link: link_id,
        } = refs;
        if self.dry_run {
            return;
        }
        let now = Utc::now();
        // The reason can quote a value (an invalid or duplicate identification): it goes to
        // the activity log, which the tenant reads and which expires (APC-8), never to the
        // process logs.
        tracing::debug!(
            tenant = %self.flow.tenant, flow = %self.flow.name, kind = %kind, %action,
            system = source.0, record = source.1.unwrap_or("-"),
            target = target.map(|t| t.0).unwrap_or("-"), target_id = target.map(|t| t.1).unwrap_or("-"),
            fields = %fields.join(","), has_reason = reason.is_some(),
            "record synced"
        );
        self.pending_log.push(ActivityEntry {
            seq: 0,
            tenant: self.flow.tenant.clone(),
            at: now,
            run_id: Some(self.run_id.clone()),
            flow: self.flow.name.clone(),
            kind: kind.as_str().to_string(),
            action,
            system: source.0.to_string(),
            external_id: source.1.map(str::to_string),
            target_system: target.map(|t| t.0.to_string()),
            target_id: target.map(|t| t.1.to_string()),
            link_id: link_id.map(str::to_string),
            fields,
            reason,
            expires_at: now + self.flow.log_retention,
            ..ActivityEntry::default()
        });
    }

    fn plan(
        &mut self,
        kind: Kind,
        action: &str,
        system: &str,
        id: Option<&str>,
        fields: Vec<String>,
        reason: Option<String>,
    ) {
        if self.dry_run {
            self.summary.plan.push(PlanItem {
                kind: kind.as_str().into(),
                action: action.into(),
                system: system.into(),
                id: id.map(str::to_string),
                fields,
                reason,
                document: None,
            });
        }
    }

    /// Takes the pair leases `names` (in order) for syncing `src` (and its `link`); if it
    /// cannot, those taken are given back and the pair is counted and logged as failed, as
    /// [`Run::sync_pair`] does for its own errors.
    pub(crate) async fn lease_pair(
        &mut self,
        kind: Kind,
        names: &[String],
        src: &Record,
        link: Option<&Link>,
    ) -> Result<PairLeases, PairError> {
        let mut held = Vec::with_capacity(names.len());
        for name in names {
            match self.wait_for_lease(name).await {
                Ok(l) => held.push(l),
                Err(e) => {
                    PairLeases(held).release().await;
                    self.pair_failed(kind, src, link, &e);
                    return Err(e);
                }
            }
        }
        Ok(PairLeases(held))
    }

    /// Takes the pair lease `name`, waiting up to [`PAIR_LEASE_WAIT`] while another run
    /// holds it.
    async fn wait_for_lease(&self, name: &str) -> Result<PairLease, PairError> {
        let store = self.flow.store.clone();
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            let grant = store
                .take_lease(&self.flow.tenant, name, &self.run_id, PAIR_LEASE_TTL)
                .await?;
            if grant.held() {
                if grant == LeaseGrant::TakenOver {
                    tracing::warn!(tenant = %self.flow.tenant, flow = %self.flow.name, lease = %name,
                        "took over a pair lease its holder did not give back; re-reading the pair");
                }
                return Ok(PairLease {
                    store,
                    tenant: self.flow.tenant.clone(),
                    name: name.to_string(),
                    owner: self.run_id.clone(),
                    held: true,
                    taken_over: grant == LeaseGrant::TakenOver,
                });
            }
            if started.elapsed() >= PAIR_LEASE_WAIT {
                return Err(PairError::Busy(name.to_string()));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(250));
        }
    }

    /// Writes pending links and log entries to the store.
    pub async fn flush(&mut self) -> Result<(), StoreError> {
        if !self.pending_links.is_empty() {
            let links = std::mem::take(&mut self.pending_links);
            if let Err(e) = self.flow.store.save_links(&links).await {
                // One bad link must not sink the batch: save them one by one and report.
                tracing::warn!(error = %e, "batched link save failed; saving one by one");
                for l in links {
                    if let Err(e) = self.flow.store.save_link(&l).await {
                        let kind: Kind = l.kind.parse().unwrap_or(Kind::Contact);
                        self.summary.counts(kind.as_str()).failed += 1;
                        self.log(
                            (kind, Action::Failed),
                            Refs {
                                source: ("puente", Some(&l.id)),
                                target: None,
                                link: Some(&l.id),
                            },
                            vec![],
                            Some(format!("link not saved: {e}")),
                        );
                    }
                }
            }
        }
        if !self.pending_log.is_empty() {
            let mut entries = std::mem::take(&mut self.pending_log);
            let checks = std::mem::take(&mut self.skip_checks);
            let mut repeated = vec![false; entries.len()];
            for i in checks {
                let Some(e) = entries.get(i) else { continue };
                if self.already_logged(e).await? {
                    repeated[i] = true;
                    self.summary.counts(&e.kind).skips_repeated += 1;
                }
            }
            let mut i = 0;
            entries.retain(|_| {
                i += 1;
                !repeated[i - 1]
            });
            if !entries.is_empty() {
                self.flow.store.append(&entries).await?;
            }
        }
        Ok(())
    }

    /// Issue 17 (log growth): the skip just logged for `r` is written only if the record or
    /// the reason changed since the record's last entry. The record's content hash goes with
    /// the entry (`values["@record"]`, a hash, not a value) to tell.
    fn note_skip(&mut self, kind: Kind, r: &Record) {
        if self.dry_run {
            return;
        }
        let fingerprint = puente_core::record_hash(kind, &r.fields);
        self.annotate(|e| {
            e.values.insert(RECORD_FINGERPRINT.into(), fingerprint);
        });
        self.skip_checks.push(self.pending_log.len() - 1);
    }

    /// Whether `e`, a skip, says what the record's newest entry already says: the same
    /// action and reason about the same record content.
    async fn already_logged(&self, e: &ActivityEntry) -> Result<bool, StoreError> {
        let last = self
            .flow
            .store
            .query(&puente_store::LogQuery {
                tenant: e.tenant.clone(),
                flow: Some(e.flow.clone()),
                kind: Some(e.kind.clone()),
                system: Some(e.system.clone()),
                external_id: e.external_id.clone(),
                limit: 1,
                ..Default::default()
            })
            .await?;
        Ok(last.first().is_some_and(|l| {
            l.action == e.action
                && l.reason == e.reason
                && l.values.get(RECORD_FINGERPRINT) == e.values.get(RECORD_FINGERPRINT)
        }))
    }

    async fn save_link(&mut self, link: Link) -> Result<Link, StoreError> {
        if self.batch_links {
            let mut l = link;
            self.pending_links.push(l.clone());
            l.version += 1;
            if self.pending_links.len() >= BATCH {
                self.flush().await?;
            }
            Ok(l)
        } else {
            let saved = self.flow.store.save_link(&link).await?;
            if self.pending_log.len() >= BATCH {
                self.flush().await?;
            }
            Ok(saved)
        }
    }

    fn new_link(
        &self,
        kind: Kind,
        a: &Record,
        b: &Record,
        merged: &Fields,
        kept: &[String],
        prior: Option<&Link>,
    ) -> Link {
        let state = synced_state(
            kind,
            merged,
            kept,
            (&a.system, &a.fields),
            (&b.system, &b.fields),
        );
        let mut ids = BTreeMap::new();
        ids.insert(a.system.clone(), a.id.clone());
        ids.insert(b.system.clone(), b.id.clone());
        let rules = self.flow.rules(kind);
        let mut keys = rules.keys_of(merged).into_iter();
        let key = keys.next().unwrap_or_default();
        Link {
            tenant: self.flow.tenant.clone(),
            flow: self.flow.name.clone(),
            kind: kind.as_str().to_string(),
            id: prior
                .map(|l| l.id.clone())
                .unwrap_or_else(|| format!("{}:{}", a.system, a.id)),
            key: (!key.is_empty()).then(|| key.to_string()),
            more_keys: keys.collect(),
            ids,
            field_hashes: state.field_hashes,
            record_hashes: state.record_hashes,
            version: prior.map(|l| l.version).unwrap_or(0),
            updated_at: Utc::now(),
        }
    }

    /// Syncs one pair. `a`/`b` are the records on each side (either may be missing), `link`
    /// the pair's link if it has one. Returns the pair's link afterwards. Failures are counted
    /// and logged here, and returned so the queue can retry transient ones.
    pub async fn sync_pair(
        &mut self,
        kind: Kind,
        a: Option<Record>,
        b: Option<Record>,
        link: Option<Link>,
    ) -> Result<Option<Link>, PairError> {
        let res = self
            .sync_pair_inner(kind, a.as_ref(), b.as_ref(), link.as_ref())
            .await;
        if let Err(e) = &res {
            let src = a.as_ref().or(b.as_ref()).expect("a pair has a record");
            self.pair_failed(kind, src, link.as_ref(), e);
        }
        res
    }

    /// Counts and logs a pair that failed, by the record the change came from.
    pub(crate) fn pair_failed(
        &mut self,
        kind: Kind,
        src: &Record,
        link: Option<&Link>,
        e: &PairError,
    ) {
        self.summary.counts(kind.as_str()).failed += 1;
        self.log(
            (kind, Action::Failed),
            Refs {
                source: (&src.system, Some(&src.id)),
                target: None,
                link: link.map(|l| l.id.as_str()),
            },
            vec![],
            Some(e.to_string()),
        );
        self.annotate(|en| {
            en.key = src.key().ok();
            en.request = request_of(e);
        });
        self.report(kind, src, e);
    }

    async fn sync_pair_inner(
        &mut self,
        kind: Kind,
        a: Option<&Record>,
        b: Option<&Record>,
        link: Option<&Link>,
    ) -> Result<Option<Link>, PairError> {
        let state = link.map(link_state);
        // A record inside another (a guest customer in an order) is only ever a source.
        let embedded = a.into_iter().chain(b).find(|r| r.is_embedded());
        let one_way;
        let rules = match embedded {
            Some(r) => {
                let mut x = self.flow.rules(kind).clone();
                x.direction = puente_core::Direction::From(r.system.clone());
                one_way = x;
                &one_way
            }
            None => self.flow.rules(kind),
        };
        match decide(a, b, state.as_ref(), rules) {
            Decision::Skip(reason) => {
                let r = a.or(b).expect("decide skips only with a record");
                self.summary.counts(kind.as_str()).skipped += 1;
                self.plan(
                    kind,
                    "skip",
                    &r.system,
                    Some(&r.id),
                    vec![],
                    Some(reason.0.clone()),
                );
                self.log(
                    (kind, Action::Skipped),
                    Refs {
                        source: (&r.system, Some(&r.id)),
                        target: None,
                        link: link.map(|l| l.id.as_str()),
                    },
                    vec![],
                    Some(reason.0),
                );
                self.annotate(|e| e.key = r.key().ok());
                self.note_skip(kind, r);
                Ok(link.cloned())
            }
            Decision::Unchanged => {
                let (a, b) = (a.expect("pair"), b.expect("pair"));
                let marks_a = !a.is_embedded() && self.flow.a.needs_marks(a, &b.id);
                let marks_b = !b.is_embedded() && self.flow.b.needs_marks(b, &a.id);
                if !marks_a && !marks_b {
                    self.summary.counts(kind.as_str()).unchanged += 1;
                    return Ok(link.cloned());
                }
                let merged = a.fields.clone();
                self.write_pair(kind, a, b, &merged, &Default::default(), link)
                    .await
            }
            Decision::Create { on, fields } => {
                let src = match on {
                    Side::A => b.expect("source"),
                    Side::B => a.expect("source"),
                };
                let dst_conn = self.flow.conn(on).clone();
                let dst_sys = dst_conn.system().to_string();
                // ROA-2: a record the target cannot take at all fails before anything of it
                // (its customer and products included) is written.
                if let Some(why) = dst_conn.writer(kind)?.refuse(kind, &fields).await? {
                    return Err(PairError::Vendor(ConnectorError::Mapping {
                        system: dst_sys,
                        detail: format!("{} {kind} {} not written: {why}", src.system, src.id),
                    }));
                }
                // Counted once the create is done (or planned): a create that fails is
                // counted as failed only.
                let count_created = |summary: &mut crate::Summary| {
                    summary
                        .counts(kind.as_str())
                        .created
                        .entry(dst_sys.clone())
                        .and_modify(|n| *n += 1)
                        .or_insert(1);
                };
                if self.dry_run {
                    count_created(&mut self.summary);
                    self.plan(
                        kind,
                        "create",
                        &dst_sys,
                        None,
                        fields.names(),
                        Some(format!("from {} {}", src.system, src.id)),
                    );
                    // APC-7: the document as the target's mapping makes it.
                    let doc = dst_conn.write().and_then(|w| w.preview(kind, &fields));
                    if let Some(p) = self.summary.plan.last_mut() {
                        p.document = doc;
                    }
                    return Ok(None);
                }
                let with_refs = self.with_dependencies(kind, src, on, &fields).await?;
                let created = self.create_on(&dst_conn, kind, &with_refs, &src.id).await?;
                count_created(&mut self.summary);
                crash_point!(AfterVendorWrite);
                // ALG-8: the key the target minted (`ALG-{new id}`) is the pair's key.
                let mut fields = fields;
                let rules = self.flow.rules(kind);
                if rules.key_minted_on_create {
                    for k in &rules.keys {
                        if fields.get(&k.field).is_empty() {
                            fields.set(&k.field, created.fields.get(&k.field));
                        }
                    }
                }
                // The source may keep the counterpart's id and marks (Clientify in_alegra, tag).
                let src_conn = self
                    .flow
                    .conn(if on == Side::A { Side::B } else { Side::A })
                    .clone();
                let mut src_after = src.clone();
                let mut marks_err = None;
                if !src.is_embedded() && src_conn.needs_marks(src, &created.id) {
                    match async {
                        src_conn
                            .writer(kind)?
                            .update(src, &Fields::new(), &[], Some(&created.id))
                            .await
                    }
                    .await
                    {
                        Ok(r) => {
                            src_after = r;
                            crash_point!(AfterVendorWrite);
                        }
                        // The record exists now: link it anyway; the marks follow next run.
                        Err(e) => marks_err = Some(e),
                    }
                }
                let (ra, rb) = if on == Side::A {
                    (&created, &src_after)
                } else {
                    (&src_after, &created)
                };
                let new = self.new_link(kind, ra, rb, &fields, &[], link);
                let saved = self.save_link(new).await?;
                self.log(
                    (kind, Action::Created),
                    Refs {
                        source: (&src.system, Some(&src.id)),
                        target: Some((&dst_sys, &created.id)),
                        link: Some(&saved.id),
                    },
                    fields.names(),
                    None,
                );
                self.annotate(|e| {
                    e.key = key_of(self.flow.rules(kind), &fields);
                    e.values = values_of(&fields, &[]);
                    e.matched_by = Some(format!("none, created on {dst_sys}"));
                });
                if let Some(e) = marks_err {
                    tracing::warn!(error = %e, "link marks not written; retried next run");
                }
                Ok(Some(saved))
            }
            Decision::Update(m) => {
                let (a, b) = (a.expect("pair"), b.expect("pair"));
                self.write_pair(kind, a, b, &m.merged, &m, link).await
            }
        }
    }

    /// Creates on `conn`; when the create's outcome is unknown (timeout, 5xx), looks the
    /// record up by its identification before trying once more: never a blind retry.
    async fn create_on(
        &mut self,
        conn: &Arc<dyn Connector>,
        kind: Kind,
        fields: &Fields,
        partner: &str,
    ) -> Result<Record, ConnectorError> {
        match conn.writer(kind)?.create(kind, fields, Some(partner)).await {
            Err(ConnectorError::Ambiguous { detail, .. }) => {
                tracing::warn!(system = conn.system(), %detail, "create outcome unknown; looking it up");
                // Until the look-up or the second create settles it (then the pair goes on,
                // or fails with this still set).
                self.unsure_create = true;
                let rules = self.flow.rules(kind);
                let writer = conn.writer(kind)?;
                let mut searched = false;
                for spec in &rules.keys {
                    let Ok(value) = spec.value(fields) else {
                        continue;
                    };
                    if !writer.searchable(kind, spec.kind) {
                        continue;
                    }
                    searched = true;
                    let found = writer.find_by_key(kind, spec, &value).await?;
                    if let Some(r) = found
                        .into_iter()
                        .find(|r| spec.value(&r.fields).is_ok_and(|v| v == value))
                    {
                        return Ok(r);
                    }
                }
                if !searched {
                    return Err(ConnectorError::Decode {
                        system: conn.system().into(),
                        detail: format!("no usable {} to look the record up", rules.key_label()),
                    });
                }
                writer.create(kind, fields, Some(partner)).await
            }
            other => other,
        }
    }

    async fn write_pair(
        &mut self,
        kind: Kind,
        a: &Record,
        b: &Record,
        merged: &Fields,
        m: &puente_core::Merge,
        link: Option<&Link>,
    ) -> Result<Option<Link>, PairError> {
        let write_a = m.writes_a() || (!a.is_embedded() && self.flow.a.needs_marks(a, &b.id));
        let write_b = m.writes_b() || (!b.is_embedded() && self.flow.b.needs_marks(b, &a.id));
        let counts_a = m.writes_a();
        let counts_b = m.writes_b();
        let (sa, sb) = (a.system.clone(), b.system.clone());
        // ROA-3: a record its system no longer lets anyone change is left as it is.
        for (write, side, r, from) in [(write_a, Side::A, a, b), (write_b, Side::B, b, a)] {
            if !write {
                continue;
            }
            if let Some(why) = self.flow.conn(side).writer(kind)?.frozen(r) {
                let reason = format!("{} {} not updated: {why}", r.system, r.id);
                self.summary.counts(kind.as_str()).skipped += 1;
                self.plan(
                    kind,
                    "skip",
                    &r.system,
                    Some(&r.id),
                    vec![],
                    Some(reason.clone()),
                );
                self.log(
                    (kind, Action::Skipped),
                    Refs {
                        source: (&from.system, Some(&from.id)),
                        target: Some((&r.system, &r.id)),
                        link: link.map(|l| l.id.as_str()),
                    },
                    vec![],
                    Some(reason),
                );
                return Ok(link.cloned());
            }
        }
        for (write, side, from) in [(write_a, Side::A, b), (write_b, Side::B, a)] {
            if !write {
                continue;
            }
            let conn = self.flow.conn(side).clone();
            if let Some(why) = conn.writer(kind)?.refuse(kind, merged).await? {
                return Err(PairError::Vendor(ConnectorError::Mapping {
                    system: conn.system().to_string(),
                    detail: format!("{} {kind} {} not written: {why}", from.system, from.id),
                }));
            }
        }
        if self.dry_run {
            if write_a {
                self.plan(kind, "update", &sa, Some(&a.id), m.fields_a(), None);
            }
            if write_b {
                self.plan(kind, "update", &sb, Some(&b.id), m.fields_b(), None);
            }
            if !write_a && !write_b {
                self.plan(
                    kind,
                    "link",
                    &sa,
                    Some(&a.id),
                    vec![],
                    Some(format!("to {sb} {} by identification", b.id)),
                );
            }
            self.count_update(kind, counts_a.then_some(&sa), counts_b.then_some(&sb));
            return Ok(link.cloned());
        }
        let a_after = if write_a {
            let set = self.with_dependencies(kind, b, Side::A, &m.to_a).await?;
            let r = self
                .flow
                .a
                .writer(kind)?
                .update(a, &set, &m.clear_a, Some(&b.id))
                .await?;
            crash_point!(AfterVendorWrite);
            r
        } else {
            a.clone()
        };
        let b_after = if write_b {
            let set = self.with_dependencies(kind, a, Side::B, &m.to_b).await?;
            let r = self
                .flow
                .b
                .writer(kind)?
                .update(b, &set, &m.clear_b, Some(&a.id))
                .await?;
            crash_point!(AfterVendorWrite);
            r
        } else {
            b.clone()
        };
        let new = self.new_link(kind, &a_after, &b_after, merged, &m.kept, link);
        let unchanged_link = link.is_some_and(|l| {
            l.field_hashes == new.field_hashes
                && l.record_hashes == new.record_hashes
                && l.ids == new.ids
                && l.key == new.key
        });
        let saved = if unchanged_link {
            link.cloned().expect("link")
        } else {
            self.save_link(new).await?
        };
        self.count_update(kind, counts_a.then_some(&sa), counts_b.then_some(&sb));
        // One entry per side written: the change came from the other side.
        let sides = [
            (counts_a, (&sb, &b.id), (&sa, &a.id), m.fields_a()),
            (counts_b, (&sa, &a.id), (&sb, &b.id), m.fields_b()),
        ];
        for (written, from, to, fields) in sides {
            if written {
                let refs = Refs {
                    source: (from.0, Some(from.1)),
                    target: Some((to.0, to.1)),
                    link: Some(&saved.id),
                };
                let (set, clear) = if *to.0 == sa {
                    (&m.to_a, &m.clear_a)
                } else {
                    (&m.to_b, &m.clear_b)
                };
                let rules = rules_for(m, self.flow.rules(kind), &fields, from.0);
                self.log((kind, Action::Updated), refs, fields, None);
                let key = key_of(self.flow.rules(kind), merged);
                self.annotate(|e| {
                    e.matched_by = Some(matched_by(kind, link, key.as_deref()));
                    e.key = key;
                    e.values = values_of(set, clear);
                    e.rules = rules;
                });
            }
        }
        if !m.first_match_conflicts.is_empty() {
            self.log_first_match_conflict(kind, (a, b), m, &saved.id);
            let key = key_of(self.flow.rules(kind), merged);
            self.annotate(|e| {
                e.matched_by = Some(matched_by(kind, None, key.as_deref()));
                e.key = key;
            });
        }
        if !counts_a && !counts_b && link.is_none() {
            self.log(
                (kind, Action::Unchanged),
                Refs {
                    source: (&sa, Some(&a.id)),
                    target: Some((&sb, &b.id)),
                    link: Some(&saved.id),
                },
                vec![],
                Some("linked to the existing record with the same identification".into()),
            );
            let key = key_of(self.flow.rules(kind), merged);
            self.annotate(|e| {
                e.matched_by = Some(matched_by(kind, None, key.as_deref()));
                e.key = key;
            });
        }
        Ok(Some(saved))
    }

    /// Issue 17: a pair first matched while both records held different values of some
    /// fields keeps both; one `conflict` entry names the fields and shows each side's value,
    /// and says how to decide them.
    fn log_first_match_conflict(
        &mut self,
        kind: Kind,
        (a, b): (&Record, &Record),
        m: &puente_core::Merge,
        link: &str,
    ) {
        let fields = m.first_match_conflicts.clone();
        let reason = format!(
            "conflict at first match: {} differ between {} {} and {} {}; each keeps its own \
             value until one is edited (to decide, pin the field to a connection or set \
             first_match = \"newest\" in the flow)",
            fields.join(", "),
            a.system,
            a.id,
            b.system,
            b.id
        );
        self.log(
            (kind, Action::Conflict),
            Refs {
                source: (&a.system, Some(&a.id)),
                target: Some((&b.system, &b.id)),
                link: Some(link),
            },
            fields.clone(),
            Some(reason),
        );
        let values = fields
            .iter()
            .flat_map(|f| {
                [
                    (format!("{}.{f}", a.system), a.fields.get(f).to_string()),
                    (format!("{}.{f}", b.system), b.fields.get(f).to_string()),
                ]
            })
            .collect();
        self.annotate(|e| e.values = values);
    }

    /// ALG-8 / architecture step 6: before a record that refers to others (a budget's
    /// customer and products) is written to `target`, those records are made to exist there
    /// through the same single-record path ([`Run::sync_record`], under their own pair
    /// leases — never the budget's, so no lease is taken twice) and `fields` is returned with
    /// their ids on `target` (`puente_core::REF_CUSTOMER`, `ref_product`). A linked record is
    /// used as it is; one that cannot be synced (e.g. a customer without NIF) fails the
    /// budget with a reason rather than writing it half-linked.
    pub(crate) async fn with_dependencies(
        &mut self,
        kind: Kind,
        src: &Record,
        target: Side,
        fields: &Fields,
    ) -> Result<Fields, PairError> {
        let mut refs = src.dependency_refs();
        let flow = self.flow;
        // APC-1: a side with one default customer for every document takes none of its own.
        if !flow
            .conn(target)
            .write()
            .is_none_or(|w| w.takes_customer(kind))
        {
            refs.customer = None;
        }
        if refs.customer.is_none() && refs.products.is_empty() {
            return Ok(fields.clone());
        }
        let Some(src_side) = flow.side_of(&src.system) else {
            return Ok(fields.clone());
        };
        let src_conn = flow.conn(src_side).clone();
        let tsys = flow.conn(target).system().to_string();
        let mut out = fields.clone();
        // Dependencies are saved at once (not batched), so the next budget finds them.
        let batched = std::mem::replace(&mut self.batch_links, false);
        let res = async {
            if let Some(c) = refs.customer.as_ref().filter(|c| c.id.is_empty()) {
                let (k, id) = self.embedded_customer(kind, src, c, &tsys).await?;
                out.set(puente_core::REF_CUSTOMER, id);
                out.set(puente_core::REF_CUSTOMER_KIND, k.as_str());
            } else if let Some(c) = &refs.customer {
                let kinds = match c.kind {
                    Some(k) => vec![k],
                    None => vec![Kind::Contact, Kind::Company],
                };
                let mut found = None;
                for k in &kinds {
                    if let Some(id) = self.linked_id(*k, &src.system, &c.id, &tsys).await? {
                        found = Some((*k, id));
                        break;
                    }
                }
                if found.is_none() {
                    let k = match c.kind {
                        Some(k) => Some(k),
                        None => src_conn.writer(kind)?.party_kind(&c.id).await?,
                    };
                    if let Some(k) = k {
                        if let Some(id) = self.sync_dependency(k, &src_conn, &c.id, &tsys).await? {
                            found = Some((k, id));
                        }
                    }
                }
                let Some((k, id)) = found else {
                    return Err(PairError::Vendor(ConnectorError::Mapping {
                        system: tsys.clone(),
                        detail: format!(
                            "the {kind}'s customer ({} {}) could not be synced to {tsys} first (see its own log entry); the {kind} is not written",
                            src.system, c.id
                        ),
                    }));
                };
                out.set(puente_core::REF_CUSTOMER, id);
                out.set(puente_core::REF_CUSTOMER_KIND, k.as_str());
            }
            for (sku_key, pid) in &refs.products {
                let id = match self.linked_id(Kind::Product, &src.system, pid, &tsys).await? {
                    Some(id) => Some(id),
                    None => {
                        self.sync_dependency(Kind::Product, &src_conn, pid, &tsys)
                            .await?
                    }
                };
                let Some(id) = id else {
                    return Err(PairError::Vendor(ConnectorError::Mapping {
                        system: tsys.clone(),
                        detail: format!(
                            "the {kind}'s product {sku_key} ({} {pid}) could not be synced to {tsys} first (see its own log entry); the {kind} is not written",
                            src.system
                        ),
                    }));
                };
                out.set(&puente_core::ref_product(sku_key), id);
            }
            Ok(out)
        }
        .await;
        self.batch_links = batched;
        res
    }

    /// A customer carried inside `src` (a shop's guest order): synced as a record of its
    /// own named by its first key (see [`puente_core::EMBEDDED_ID_PREFIX`]), found on the
    /// target by the flow's keys for its kind (email, phone) or created there. Its kind and
    /// id on `tsys`; a customer without any key fails the document with a reason.
    async fn embedded_customer(
        &mut self,
        kind: Kind,
        src: &Record,
        c: &puente_core::CustomerRef,
        tsys: &str,
    ) -> Result<(Kind, String), PairError> {
        let k = c.kind.unwrap_or(Kind::Contact);
        let fields = c.fields.clone().unwrap_or_default();
        let rules = self.flow.rules(k);
        let Some(key) = rules.keys.iter().find_map(|spec| spec.value(&fields).ok()) else {
            return Err(PairError::Vendor(ConnectorError::Mapping {
                system: tsys.to_string(),
                detail: format!(
                    "the {kind}'s customer has no {} to find or create it on {tsys} by; the {kind} is not written",
                    rules.key_label()
                ),
            }));
        };
        let rec = Record::embedded(&src.system, k, &key, fields.clone());
        let scope = self.flow.scope(k);
        let link = self
            .flow
            .store
            .link_by_external(scope, &src.system, &rec.id)
            .await?;
        match &link {
            // Synced before and unchanged since: no call. A changed one (a new address in
            // a later order) is synced again below, which updates the customer (APC-1).
            Some(l) if link_state(l).knows(&rec) => {
                if let Some(id) = l.ids.get(tsys) {
                    return Ok((k, id.clone()));
                }
            }
            Some(_) => {}
            None => {
                // The same customer may be named by another of its keys in another
                // document (its email in one order, its phone in the next): any of them
                // already linked is it (ROA-8).
                for other in rules
                    .keys
                    .iter()
                    .filter_map(|spec| spec.value(&fields).ok())
                {
                    let id = format!("{}{other}", puente_core::EMBEDDED_ID_PREFIX);
                    if let Some(id) = self.linked_id(k, &src.system, &id, tsys).await? {
                        return Ok((k, id));
                    }
                }
                // A record of its own already holds the key (the shop account of the
                // guest's email): its counterpart is the customer.
                if let Some(l) = self.flow.store.link_by_key(scope, &key).await? {
                    let holder = l.ids.get(&src.system).map(String::as_str).unwrap_or("");
                    if !puente_core::is_embedded_id(holder) {
                        if let Some(id) = l.ids.get(tsys) {
                            return Ok((k, id.clone()));
                        }
                    }
                }
                // Or found on the target by one of its keys, held by another of this
                // side's embedded customers (the client made for its phone, now named by
                // its email): the same person.
                if let Some(id) = self.target_held_by_embedded(k, src, &fields, tsys).await? {
                    return Ok((k, id));
                }
            }
        }
        let link = Box::pin(self.sync_record(k, rec, link, None)).await?;
        match link.and_then(|l| l.ids.get(tsys).cloned()) {
            Some(id) => Ok((k, id)),
            None => Err(PairError::Vendor(ConnectorError::Mapping {
                system: tsys.to_string(),
                detail: format!(
                    "the {kind}'s customer ({key}) could not be synced to {tsys} first (see its own log entry); the {kind} is not written"
                ),
            })),
        }
    }

    /// A record on `tsys` matching one of the embedded customer's keys and already linked
    /// to another of `src`'s side's embedded customers: the same person (ROA-8).
    async fn target_held_by_embedded(
        &mut self,
        k: Kind,
        src: &Record,
        fields: &Fields,
        tsys: &str,
    ) -> Result<Option<String>, PairError> {
        let rules = self.flow.rules(k).clone();
        if let Some(side) = self.flow.side_of(tsys) {
            let conn = self.flow.conn(side).clone();
            if let Some(w) = conn.write() {
                for spec in &rules.keys {
                    let Ok(value) = spec.value(fields) else {
                        continue;
                    };
                    if !w.searchable(k, spec.kind) {
                        continue;
                    }
                    for c in w.find_by_key(k, spec, &value).await? {
                        if spec.value(&c.fields).ok().as_deref() != Some(value.as_str()) {
                            continue;
                        }
                        let held = self
                            .flow
                            .store
                            .link_by_external(self.flow.scope(k), tsys, &c.id)
                            .await?;
                        let embedded_here = held.is_some_and(|l| {
                            l.ids
                                .get(&src.system)
                                .is_some_and(|id| puente_core::is_embedded_id(id))
                        });
                        if embedded_here {
                            return Ok(Some(c.id));
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// The id on `tsys` of the record `system`/`id` of `kind`, when they are linked.
    async fn linked_id(
        &self,
        kind: Kind,
        system: &str,
        id: &str,
        tsys: &str,
    ) -> Result<Option<String>, PairError> {
        Ok(self
            .flow
            .store
            .link_by_external(self.flow.scope(kind), system, id)
            .await?
            .and_then(|l| l.ids.get(tsys).cloned()))
    }

    /// Reads a dependency on its own side and syncs it; its id on `tsys` afterwards.
    async fn sync_dependency(
        &mut self,
        kind: Kind,
        conn: &Arc<dyn Connector>,
        id: &str,
        tsys: &str,
    ) -> Result<Option<String>, PairError> {
        let Some(rec) = conn.read().get(kind, id).await? else {
            return Ok(None);
        };
        let link = Box::pin(self.sync_record(kind, rec, None, None)).await?;
        Ok(link.and_then(|l| l.ids.get(tsys).cloned()))
    }

    fn count_update(&mut self, kind: Kind, a: Option<&String>, b: Option<&String>) {
        let c = self.summary.counts(kind.as_str());
        if a.is_none() && b.is_none() {
            c.unchanged += 1;
        }
        for s in [a, b].into_iter().flatten() {
            *c.updated.entry(s.clone()).or_default() += 1;
        }
    }

    /// Counts and logs an event whose record id is not one of its vendor's ids (see
    /// `puente_connectors::ids`): failed for good, nothing read or written.
    pub(crate) fn refuse_event(&mut self, kind: Kind, system: &str, id: &str, why: String) {
        // The id as it came, control characters escaped and cut short: it is not an id.
        let shown: String = id.chars().take(64).flat_map(char::escape_debug).collect();
        self.summary.counts(kind.as_str()).failed += 1;
        tracing::warn!(tenant = %self.flow.tenant, flow = %self.flow.name, %system, kind = %kind,
            "event refused: its record id is not a {system} id");
        self.log(
            (kind, Action::Failed),
            Refs {
                source: (system, Some(&shown)),
                target: None,
                link: None,
            },
            vec![],
            Some(format!("event refused, nothing read or written: {why}")),
        );
    }

    /// Logs a record skipped before it reached the engine (e.g. a duplicate identification).
    pub(crate) fn skip(&mut self, kind: Kind, r: &Record, reason: String) {
        self.summary.counts(kind.as_str()).skipped += 1;
        self.plan(
            kind,
            "skip",
            &r.system,
            Some(&r.id),
            vec![],
            Some(reason.clone()),
        );
        self.log(
            (kind, Action::Skipped),
            Refs {
                source: (&r.system, Some(&r.id)),
                target: None,
                link: None,
            },
            vec![],
            Some(reason),
        );
        self.annotate(|e| e.key = r.key().ok());
        self.note_skip(kind, r);
    }

    /// Issue 17: `r`'s key `key` matches several unlinked records (`candidates`, as
    /// SYSTEM:ID): nothing is written to any of them; the entry names every candidate and
    /// how to settle it. Counted as skipped.
    pub(crate) fn ambiguous(
        &mut self,
        kind: Kind,
        r: &Record,
        label: &str,
        key: &str,
        candidates: &[String],
    ) {
        let other = if r.system == self.flow.a.system() {
            self.flow.b.system()
        } else {
            self.flow.a.system()
        };
        let reason = format!(
            "{label} {key} matches {} unlinked records: {}; nothing written to any of them. \
             Pin the right pair with `puente link {}:{} {other}:ID --kind {kind}`",
            candidates.len(),
            candidates.join(", "),
            r.system,
            r.id,
        );
        self.summary.counts(kind.as_str()).skipped += 1;
        self.plan(
            kind,
            "ambiguous",
            &r.system,
            Some(&r.id),
            vec![],
            Some(reason.clone()),
        );
        self.log(
            (kind, Action::Ambiguous),
            Refs {
                source: (&r.system, Some(&r.id)),
                target: None,
                link: None,
            },
            vec![],
            Some(reason),
        );
        self.annotate(|e| e.key = Some(key.to_string()));
        self.note_skip(kind, r);
    }

    /// Records vendor call counts into the summary.
    pub fn finish_calls(&mut self) {
        for c in [&self.flow.a, &self.flow.b] {
            self.summary.calls.insert(c.system().to_string(), c.calls());
        }
    }
}
