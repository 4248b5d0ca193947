//! Full and Modified runs (ALG-9) and the single-record path used by Modified and webhooks.
//!
//! **Full** lists every record on both sides and loads every link in one store call, then
//! pairs them in memory: link → the counterpart id the record keeps (Clientify `in_alegra`)
//! → identification → create. No search call per record, no record read twice.
//!
//! **Modified** reads, per side, what changed since the checkpoint:
//! - where the vendor filters by modification time (Clientify `modified[gte]`), from
//!   `min(checkpoint − overlap, now − 25 h)` — the checkpoint is the last (modified, id) seen,
//!   the overlap absorbs clock skew and rows committed late with an earlier timestamp, and 25 h
//!   is ALG-9's floor; re-reading a record already synced costs no write (its hash matches).
//! - where it cannot (Alegra), every record is listed (30 per call) and only those whose hash
//!   differs from the link's are processed.
//!
//! Each changed record then goes through [`Run::sync_record`]: one GET of the counterpart.

use crate::flow::{pair_lease_names, same_link, Flow, PairError, Run};
use chrono::{DateTime, Duration, Utc};
use puente_connectors::{Connector, ConnectorError, ListQuery};
use puente_core::{eligibility, EntityRules, Kind, Record, Side};
use puente_store::Link;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// ALG-9: Modified covers at least this much.
pub const MODIFIED_FLOOR_HOURS: i64 = 25;
/// Overlap with the previous run's checkpoint.
pub const CHECKPOINT_OVERLAP_MINUTES: i64 = 10;

/// Tie-safe Modified cursor: modification time, then id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cursor {
    pub modified: DateTime<Utc>,
    pub id: String,
}

impl Cursor {
    fn of(r: &Record) -> Option<Cursor> {
        r.modified.map(|m| Cursor {
            modified: m,
            id: format!("{:0>20}", r.id),
        })
    }
}

/// One side's records read in this run, indexed for pairing.
pub struct Listing {
    pub by_id: HashMap<String, Record>,
    by_key: HashMap<String, Vec<String>>,
    linked: std::collections::HashSet<String>,
    /// Every record of the kind was listed (not only the recently modified ones).
    pub complete: bool,
}

impl Listing {
    fn new(
        system: &str,
        complete: bool,
        recs: &[Record],
        links: &HashMap<(String, String), Link>,
        rules: &EntityRules,
    ) -> Listing {
        let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
        for r in recs {
            for k in rules.keys_of(&r.fields) {
                by_key.entry(k).or_default().push(r.id.clone());
            }
        }
        Listing {
            by_id: recs.iter().map(|r| (r.id.clone(), r.clone())).collect(),
            by_key,
            linked: recs
                .iter()
                .filter(|r| links.contains_key(&(system.to_string(), r.id.clone())))
                .map(|r| r.id.clone())
                .collect(),
            complete,
        }
    }

    fn unlinked_with_key(&self, key: &str) -> Vec<Record> {
        self.by_key
            .get(key)
            .map(|ids| {
                ids.iter()
                    .filter(|id| !self.linked.contains(*id))
                    .filter_map(|id| self.by_id.get(id).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Where a Modified read starts, given the stored cursor and the clock.
pub fn modified_since(cursor: Option<&Cursor>, now: DateTime<Utc>) -> DateTime<Utc> {
    let floor = now - Duration::hours(MODIFIED_FLOOR_HOURS);
    match cursor {
        Some(c) => (c.modified - Duration::minutes(CHECKPOINT_OVERLAP_MINUTES)).min(floor),
        None => floor,
    }
}

fn checkpoint_scope(flow: &Flow, system: &str, kind: Kind) -> String {
    format!("{}/{}/{}", flow.name, system, kind.as_str())
}

impl Run<'_> {
    async fn list_all(
        &mut self,
        conn: &Arc<dyn Connector>,
        kind: Kind,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let label = match since {
            Some(_) => format!("reading changed {} {}s", conn.system(), kind),
            None => format!("listing {} {}s", conn.system(), kind),
        };
        let mut first = true;
        loop {
            let q = ListQuery {
                modified_since: since,
                created_since: self.created_since,
            };
            let mut page = conn.read().list(kind, &q, token.as_deref()).await?;
            if let Some(cut) = self.created_since {
                // Vendors that cannot filter by creation list everything: keep the recent.
                page.records.retain(|r| r.created.is_none_or(|c| c >= cut));
            }
            if first {
                self.progress.stage(&label, page.total);
                first = false;
            }
            self.progress.inc(page.records.len() as u64);
            out.extend(page.records);
            match page.next {
                Some(n) => token = Some(n),
                None => break,
            }
        }
        Ok(out)
    }

    /// Full sync of one entity kind.
    pub async fn full(&mut self, kind: Kind) -> Result<(), PairError> {
        let flow = self.flow;
        let (sa, sb) = (flow.a.system().to_string(), flow.b.system().to_string());
        // Links before records: a pair whose link is the same under its lease as here was
        // not synced by anyone since, so the records listed after it are not older than it.
        let links = flow.store.links(flow.scope(kind)).await?;
        let a_recs = self.list_all(&flow.a.clone(), kind, None).await?;
        let b_recs = self.list_all(&flow.b.clone(), kind, None).await?;

        let index = |recs: &[Record]| -> HashMap<String, usize> {
            recs.iter()
                .enumerate()
                .map(|(i, r)| (r.id.clone(), i))
                .collect()
        };
        let (a_by_id, b_by_id) = (index(&a_recs), index(&b_recs));
        let rules = flow.rules(kind);
        let keys_of = |r: &Record| rules.keys_of(&r.fields);
        let by_key = |recs: &[Record]| {
            let mut m: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, r) in recs.iter().enumerate() {
                for k in keys_of(r) {
                    m.entry(k).or_default().push(i);
                }
            }
            m
        };
        let (a_by_key, b_by_key) = (by_key(&a_recs), by_key(&b_recs));
        let mut a_used = vec![false; a_recs.len()];
        let mut b_used = vec![false; b_recs.len()];
        // natural key → the record (system, id) that holds it in a pair
        let mut claimed: HashMap<String, (String, String)> = HashMap::new();
        let mut pairs: Vec<(Option<usize>, Option<usize>, Option<Link>)> = Vec::new();
        // A record whose key another pair already holds is a duplicate, named by that key.
        let duplicate = |r: &Record, claimed: &HashMap<String, (String, String)>| {
            keys_of(r).into_iter().find_map(|k| {
                claimed.get(&k).map(|(sys, id)| {
                    let label = rules
                        .spec_of(&r.fields, &k)
                        .map(|s| s.label.clone())
                        .unwrap_or_else(|| rules.key_label());
                    format!("{label} {k} is already synced through {sys} record {id}; duplicate not synced")
                })
            })
        };

        for l in links {
            let ai = l.ids.get(&sa).and_then(|id| a_by_id.get(id)).copied();
            let bi = l.ids.get(&sb).and_then(|id| b_by_id.get(id)).copied();
            if let Some(i) = ai {
                a_used[i] = true;
            }
            if let Some(j) = bi {
                b_used[j] = true;
            }
            let holder = ai
                .map(|i| (sa.clone(), a_recs[i].id.clone()))
                .or_else(|| bi.map(|j| (sb.clone(), b_recs[j].id.clone())));
            if let Some(h) = holder {
                for k in l.keys() {
                    claimed.insert(k.to_string(), h.clone());
                }
                // A link pinned by hand has no key until its first sync: its records' keys
                // are held by it all the same.
                let recs = [ai.map(|i| &a_recs[i]), bi.map(|j| &b_recs[j])];
                for k in recs.into_iter().flatten().flat_map(&keys_of) {
                    claimed.entry(k).or_insert_with(|| h.clone());
                }
            }
            match (ai, bi) {
                (Some(_), Some(_)) => pairs.push((ai, bi, Some(l))),
                (Some(i), None) => {
                    let why = format!(
                        "the linked {sb} record {} no longer exists; deletions are not propagated",
                        l.ids.get(&sb).cloned().unwrap_or_default()
                    );
                    self.skip(kind, &a_recs[i], why);
                }
                (None, Some(j)) => {
                    let why = format!(
                        "the linked {sa} record {} no longer exists; deletions are not propagated",
                        l.ids.get(&sa).cloned().unwrap_or_default()
                    );
                    self.skip(kind, &b_recs[j], why);
                }
                (None, None) => {}
            }
        }

        let mut pending_skips: Vec<(usize, bool, String)> = Vec::new();
        for (i, r) in a_recs.iter().enumerate() {
            if a_used[i] {
                continue;
            }
            a_used[i] = true;
            // ALG-2 (1): the counterpart id kept in the record itself.
            if let Some(j) = r.partner_ref.as_ref().and_then(|p| b_by_id.get(p)).copied() {
                if !b_used[j] {
                    b_used[j] = true;
                    for k in keys_of(r) {
                        claimed.insert(k, (sa.clone(), r.id.clone()));
                    }
                    pairs.push((Some(i), Some(j), None));
                    continue;
                }
            }
            // ALG-2 (2): the natural keys, in the flow's order.
            let keys = keys_of(r);
            if !keys.is_empty() {
                if let Some(why) = duplicate(r, &claimed) {
                    pending_skips.push((i, true, why));
                    continue;
                }
                for k in &keys {
                    claimed.insert(k.clone(), (sa.clone(), r.id.clone()));
                }
                // The unlinked records holding the first key that has any on B, and the
                // other unlinked records of A holding it too.
                let unused =
                    |m: &HashMap<String, Vec<usize>>, k: &str, used: &[bool]| -> Vec<usize> {
                        m.get(k)
                            .map(|c| c.iter().copied().filter(|&x| !used[x]).collect())
                            .unwrap_or_default()
                    };
                let found = keys.iter().find_map(|k| {
                    let bs = unused(&b_by_key, k, &b_used);
                    (!bs.is_empty()).then(|| (k.clone(), bs))
                });
                // Issue 17: more than one record on a side for one key is ambiguous: which
                // pair is right cannot be told, so nothing is written to any of them.
                if let Some((k, bs)) = &found {
                    let more_a: Vec<usize> = unused(&a_by_key, k, &a_used);
                    if bs.len() > 1 || !more_a.is_empty() {
                        let label = rules
                            .spec_of(&r.fields, k)
                            .map(|s| s.label.clone())
                            .unwrap_or_else(|| rules.key_label());
                        let group_a: Vec<usize> = std::iter::once(i).chain(more_a).collect();
                        let names = |recs: &[Record], idx: &[usize], sys: &str| -> Vec<String> {
                            idx.iter()
                                .map(|&x| format!("{sys}:{}", recs[x].id))
                                .collect()
                        };
                        let (a_names, b_names) =
                            (names(&a_recs, &group_a, &sa), names(&b_recs, bs, &sb));
                        for &x in &group_a {
                            a_used[x] = true;
                            self.ambiguous(kind, &a_recs[x], &label, k, &b_names);
                        }
                        for &y in bs {
                            b_used[y] = true;
                            self.ambiguous(kind, &b_recs[y], &label, k, &a_names);
                        }
                        continue;
                    }
                }
                let j = found.map(|(_, bs)| bs[0]);
                if let Some(j) = j {
                    b_used[j] = true;
                    for k in keys_of(&b_recs[j]) {
                        claimed
                            .entry(k)
                            .or_insert_with(|| (sa.clone(), r.id.clone()));
                    }
                    pairs.push((Some(i), Some(j), None));
                    continue;
                }
            }
            // ALG-2 (3): create (or skipped by eligibility in the engine).
            pairs.push((Some(i), None, None));
        }
        for (j, r) in b_recs.iter().enumerate() {
            if b_used[j] {
                continue;
            }
            let keys = keys_of(r);
            if !keys.is_empty() {
                if let Some(why) = duplicate(r, &claimed) {
                    pending_skips.push((j, false, why));
                    continue;
                }
                for k in keys {
                    claimed.insert(k, (sb.clone(), r.id.clone()));
                }
            }
            pairs.push((None, Some(j), None));
        }
        for (idx, is_a, why) in pending_skips {
            let r = if is_a { &a_recs[idx] } else { &b_recs[idx] };
            self.skip(kind, r, why);
        }

        // A stable order (see `Resume`), so a run cut at its deadline can continue.
        let key_of = |ai: Option<usize>, bi: Option<usize>, link: &Option<Link>| -> String {
            let recs = [ai.map(|i| &a_recs[i]), bi.map(|j| &b_recs[j])];
            link.as_ref()
                .and_then(|l| l.key.clone())
                .or_else(|| {
                    recs.iter()
                        .flatten()
                        .find_map(|r| rules.key_of(&r.fields).ok())
                })
                .unwrap_or_else(|| {
                    let r = recs.iter().flatten().next().expect("a pair has a record");
                    format!("~{}:{}", r.system, r.id)
                })
        };
        let mut keyed: Vec<(String, _)> = pairs
            .into_iter()
            .map(|(ai, bi, link)| (key_of(ai, bi, &link), (ai, bi, link)))
            .collect();
        keyed.sort_by(|x, y| x.0.cmp(&y.0));
        if let Some(after) = self.resume_after.take() {
            keyed.retain(|(k, _)| *k > after);
        }

        self.progress
            .stage(&format!("syncing {kind}s"), Some(keyed.len() as u64));
        self.batch_links = true;
        let mut first = true;
        let mut last_key = None;
        for (key, (ai, bi, link)) in keyed {
            // At least one pair per slice, so a run resumed past its deadline still advances.
            if !first
                && self
                    .deadline
                    .is_some_and(|d| std::time::Instant::now() >= d)
            {
                self.summary.resume = Some(crate::Resume {
                    kind: kind.as_str().to_string(),
                    after: last_key.expect("a pair was synced before"),
                });
                break;
            }
            first = false;
            let a = ai.map(|i| a_recs[i].clone());
            let b = bi.map(|j| b_recs[j].clone());
            // A failed pair is logged and counted; the run goes on with the next.
            let _ = self.full_pair(kind, a, b, link).await;
            self.progress.inc(1);
            last_key = Some(key);
        }
        self.flush().await?;
        self.batch_links = false;
        Ok(())
    }

    /// Modified sync of one entity kind. Both sides are read first, so a changed record's
    /// counterpart usually comes from the other side's listing instead of a GET (Alegra is
    /// always listed whole, having no modified filter).
    pub async fn modified(&mut self, kind: Kind) -> Result<(), PairError> {
        let flow = self.flow;
        let links = flow.store.links(flow.scope(kind)).await?;
        let mut by_ext: HashMap<(String, String), Link> = HashMap::new();
        for l in links {
            for (sys, id) in &l.ids {
                by_ext.insert((sys.clone(), id.clone()), l.clone());
            }
        }
        let mut listings: Vec<(Side, String, bool, Vec<Record>)> = Vec::new();
        for side in [Side::A, Side::B] {
            let conn = flow.conn(side).clone();
            let sys = conn.system().to_string();
            let filtered = conn.read().has_modified_filter(kind);
            let since = if filtered {
                let cursor: Option<Cursor> = flow
                    .store
                    .checkpoint(&flow.tenant, &checkpoint_scope(flow, &sys, kind))
                    .await?
                    .and_then(|v| serde_json::from_str(&v).ok());
                Some(modified_since(cursor.as_ref(), Utc::now()))
            } else {
                None
            };
            let recs = self.list_all(&conn, kind, since).await?;
            listings.push((side, sys, !filtered, recs));
        }
        let index: Vec<Listing> = listings
            .iter()
            .map(|(_, sys, complete, recs)| {
                Listing::new(sys, *complete, recs, &by_ext, flow.rules(kind))
            })
            .collect();
        let mut done: std::collections::HashSet<(String, String)> = Default::default();
        for (li, (side, sys, _, recs)) in listings.iter().enumerate() {
            let conn = flow.conn(*side).clone();
            let other_sys = flow
                .conn(if *side == Side::A { Side::B } else { Side::A })
                .system()
                .to_string();
            let other_listing = &index[1 - li];
            self.progress.stage(
                &format!("syncing changed {sys} {kind}s"),
                Some(recs.len() as u64),
            );
            let mut max_cursor: Option<Cursor> = None;
            for r in recs {
                self.progress.inc(1);
                let c = Cursor::of(r);
                let ok = if done.contains(&(sys.clone(), r.id.clone())) {
                    true // its pair was synced from the other side in this run
                } else {
                    let link = by_ext.get(&(sys.clone(), r.id.clone())).cloned();
                    let known = link.as_ref().is_some_and(|l| {
                        crate::flow::link_state(l).knows(r)
                            && !conn.needs_marks(
                                r,
                                l.ids.get(&other_sys).map(String::as_str).unwrap_or(""),
                            )
                    });
                    if known {
                        self.summary.counts(kind.as_str()).unchanged += 1;
                        true
                    } else {
                        match self
                            .sync_record(kind, r.clone(), link, Some(other_listing))
                            .await
                        {
                            Ok(Some(l)) => {
                                for (s, id) in &l.ids {
                                    by_ext.insert((s.clone(), id.clone()), l.clone());
                                    done.insert((s.clone(), id.clone()));
                                }
                                true
                            }
                            Ok(None) => true,
                            Err(e) => !e.is_transient(),
                        }
                    }
                };
                // The cursor only passes records that are done (or failed for good), so a
                // transient failure is read again next run.
                if ok {
                    if let Some(c) = c {
                        if max_cursor.as_ref().is_none_or(|m| &c > m) {
                            max_cursor = Some(c);
                        }
                    }
                }
            }
            if conn.read().has_modified_filter(kind) && !self.dry_run {
                if let Some(c) = max_cursor {
                    let v = serde_json::to_string(&c).expect("cursor serialises");
                    flow.store
                        .put_checkpoint(&flow.tenant, &checkpoint_scope(flow, sys, kind), &v)
                        .await?;
                }
            }
            self.flush().await?;
        }
        Ok(())
    }

    /// One pair of a Full run. A pair that needs no write is settled from the listings; one
    /// that does is written under its pair lease, so a queue worker syncing the same record
    /// at the same time cannot create its counterpart too. If the pair's link changed since
    /// the run loaded it, someone synced the pair meanwhile and the listed records may be
    /// older than their link: the record is read again and synced like an event.
    async fn full_pair(
        &mut self,
        kind: Kind,
        a: Option<Record>,
        b: Option<Record>,
        link: Option<Link>,
    ) -> Result<Option<Link>, PairError> {
        let recs: Vec<&Record> = [a.as_ref(), b.as_ref()].into_iter().flatten().collect();
        let names = pair_lease_names(self.flow.rules(kind), link.as_ref(), &recs);
        if names.is_empty()
            || self.dry_run
            || !self.needs_write(kind, a.as_ref(), b.as_ref(), link.as_ref())
        {
            return self.sync_pair(kind, a, b, link).await;
        }
        let lease = self
            .lease_pair(kind, &names, recs[0], link.as_ref())
            .await?;
        let outer = std::mem::take(&mut self.unsure_create);
        let res = self
            .full_pair_leased(kind, a, b, link, lease.taken_over())
            .await;
        // This pair's own creates only (a dependency's pair, synced inside, ended its own).
        let unsure = std::mem::replace(&mut self.unsure_create, outer);
        lease.end(&res, unsure).await;
        res
    }

    async fn full_pair_leased(
        &mut self,
        kind: Kind,
        a: Option<Record>,
        b: Option<Record>,
        link: Option<Link>,
        taken_over: bool,
    ) -> Result<Option<Link>, PairError> {
        let flow = self.flow;
        let store = flow.store.clone();
        let mut now = None;
        for r in [a.as_ref(), b.as_ref()].into_iter().flatten() {
            now = store
                .link_by_external(flow.scope(kind), &r.system, &r.id)
                .await?;
            if now.is_some() {
                break;
            }
        }
        if now.is_none() {
            let rules = flow.rules(kind);
            let keys: Vec<String> = [a.as_ref(), b.as_ref()]
                .into_iter()
                .flatten()
                .flat_map(|r| rules.keys_of(&r.fields))
                .collect();
            for k in keys {
                now = store.link_by_key(flow.scope(kind), &k).await?;
                if now.is_some() {
                    break;
                }
            }
        }
        let batched = std::mem::replace(&mut self.batch_links, false);
        let res = if same_link(now.as_ref(), link.as_ref()) && !taken_over {
            self.sync_pair(kind, a, b, link).await
        } else {
            let r = a.or(b).expect("a pair has a record");
            self.resync(kind, r).await
        };
        self.batch_links = batched;
        res
    }

    /// Reads `r` again and syncs it as an event would (under the lease already held).
    async fn resync(&mut self, kind: Kind, r: Record) -> Result<Option<Link>, PairError> {
        let flow = self.flow;
        let Some(side) = flow.side_of(&r.system) else {
            return Ok(None);
        };
        let link = flow
            .store
            .link_by_external(flow.scope(kind), &r.system, &r.id)
            .await?;
        // A record embedded in a document (a guest customer, an order's product) has no id
        // to be read by: it is as fresh as the document it came from.
        let fresh = if r.is_embedded() {
            Some(r)
        } else {
            flow.conn(side).read().get(kind, &r.id).await?
        };
        match fresh {
            Some(fresh) => self.sync_record_leased(kind, fresh, link, None).await,
            None => Ok(link),
        }
    }

    /// Whether the link already holds `r` as it is, marks included (nothing to sync).
    fn link_knows(&self, r: &Record, link: Option<&Link>) -> bool {
        let flow = self.flow;
        let (Some(l), Some(side)) = (link, flow.side_of(&r.system)) else {
            return false;
        };
        let other = flow.conn(if side == Side::A { Side::B } else { Side::A });
        let pid = l.ids.get(other.system()).map(String::as_str).unwrap_or("");
        crate::flow::link_state(l).knows(r) && !flow.conn(side).needs_marks(r, pid)
    }

    /// Whether the engine would write anything for this pair (a create, an update, or the
    /// counterpart's id and marks on a record).
    fn needs_write(
        &self,
        kind: Kind,
        a: Option<&Record>,
        b: Option<&Record>,
        link: Option<&Link>,
    ) -> bool {
        let state = link.map(crate::flow::link_state);
        match puente_core::decide(a, b, state.as_ref(), self.flow.rules(kind)) {
            puente_core::Decision::Skip(_) => false,
            puente_core::Decision::Unchanged => match (a, b) {
                (Some(a), Some(b)) => {
                    link.is_none()
                        || self.flow.a.needs_marks(a, &b.id)
                        || self.flow.b.needs_marks(b, &a.id)
                }
                _ => true,
            },
            _ => true,
        }
    }

    /// The single-record path (Modified, webhooks): `r` changed in its system; find its
    /// counterpart (link → kept id → identification → create) and sync the pair. `link` is
    /// the record's link as read *before* `r` was read (`None`: it had none then); `other`
    /// is the other side's listing from this run, if any: records found there are not read
    /// again, and a complete listing makes a search call unnecessary.
    ///
    /// A record that needs syncing is synced under its pair lease (see
    /// [`pair_lease_name`]). If the link changed between the first read and the lease,
    /// another run synced the pair meanwhile and `r` may be older than it: `r` is read again.
    pub async fn sync_record(
        &mut self,
        kind: Kind,
        r: Record,
        link: Option<Link>,
        other_listing: Option<&Listing>,
    ) -> Result<Option<Link>, PairError> {
        let flow = self.flow;
        if flow.side_of(&r.system).is_none() {
            return Ok(None);
        }
        if self.link_knows(&r, link.as_ref()) {
            self.summary.counts(kind.as_str()).unchanged += 1;
            return Ok(link);
        }
        let names = pair_lease_names(flow.rules(kind), link.as_ref(), &[&r]);
        if names.is_empty() || self.dry_run {
            return self.sync_record_leased(kind, r, link, other_listing).await;
        }
        let lease = self.lease_pair(kind, &names, &r, link.as_ref()).await?;
        let outer = std::mem::take(&mut self.unsure_create);
        let now = flow
            .store
            .link_by_external(flow.scope(kind), &r.system, &r.id)
            .await;
        let res = match now {
            Err(e) => Err(e.into()),
            Ok(now) if same_link(now.as_ref(), link.as_ref()) && !lease.taken_over() => {
                self.sync_record_leased(kind, r, link, other_listing).await
            }
            Ok(_) => self.resync(kind, r).await,
        };
        // This pair's own creates only (a dependency's pair, synced inside, ended its own).
        let unsure = std::mem::replace(&mut self.unsure_create, outer);
        lease.end(&res, unsure).await;
        res
    }

    /// [`Run::sync_record`] once the pair is leased (or needs no lease).
    async fn sync_record_leased(
        &mut self,
        kind: Kind,
        r: Record,
        link: Option<Link>,
        other_listing: Option<&Listing>,
    ) -> Result<Option<Link>, PairError> {
        let flow = self.flow;
        let Some(side) = flow.side_of(&r.system) else {
            return Ok(None);
        };
        let other_side = if side == Side::A { Side::B } else { Side::A };
        let other = flow.conn(other_side).clone();
        let listed = |id: &str| other_listing.and_then(|l| l.by_id.get(id)).cloned();
        let mut counterpart: Option<Record> = None;
        if self.link_knows(&r, link.as_ref()) {
            self.summary.counts(kind.as_str()).unchanged += 1;
            return Ok(link);
        }
        if let Some(l) = &link {
            if let Some(oid) = l.ids.get(other.system()) {
                let found = match listed(oid) {
                    Some(o) => Some(o),
                    None if other_listing.is_some_and(|x| x.complete) => None,
                    None => self.fetch(&other, kind, oid).await?,
                };
                match found {
                    Some(o) => counterpart = Some(o),
                    None => {
                        let why = format!("the linked {} record {oid} no longer exists; deletions are not propagated", other.system());
                        self.skip(kind, &r, why);
                        return Ok(link);
                    }
                }
            }
        } else {
            let complete = other_listing.is_some_and(|x| x.complete);
            // ALG-2 (1): the counterpart id kept in the record.
            if let Some(p) = &r.partner_ref {
                let o = match listed(p) {
                    Some(o) => Some(o),
                    None if complete => None,
                    None => self.fetch(&other, kind, p).await?,
                };
                if let Some(o) = o {
                    let taken = flow
                        .store
                        .link_by_external(flow.scope(kind), other.system(), &o.id)
                        .await?;
                    if taken.is_none() {
                        counterpart = Some(o);
                    }
                }
            }
            if counterpart.is_none() {
                let rules = flow.rules(kind);
                let key = match eligibility(&r, rules) {
                    Ok(k) => k,
                    Err(reason) => {
                        self.skip(kind, &r, reason.0);
                        return Ok(None);
                    }
                };
                // A new record whose key the target mints (ALG-8) has nothing to match.
                let keys = if key.is_empty() {
                    Vec::new()
                } else {
                    rules.keys_of(&r.fields)
                };
                for k in &keys {
                    if let Some(l2) = flow.store.link_by_key(flow.scope(kind), k).await? {
                        let holder = l2.ids.get(&r.system).cloned().unwrap_or_default();
                        // A guest customer who now has a record of their own: the record
                        // takes over the link its orders made (same key, same counterpart).
                        if puente_core::is_embedded_id(&holder) && !r.is_embedded() {
                            let mut adopted = l2.clone();
                            adopted.ids.insert(r.system.clone(), r.id.clone());
                            let adopted = flow.store.save_link(&adopted).await?;
                            return Box::pin(self.sync_record_leased(
                                kind,
                                r,
                                Some(adopted),
                                other_listing,
                            ))
                            .await;
                        }
                        let label = rules
                            .spec_of(&r.fields, k)
                            .map(|s| s.label.clone())
                            .unwrap_or_else(|| rules.key_label());
                        let why = format!("{label} {k} is already synced through {} record {holder}; duplicate not synced", r.system);
                        self.skip(kind, &r, why);
                        return Ok(None);
                    }
                }
                // ALG-2 (2): the other side by each key in turn: from a complete listing, or
                // one search per key (keys the other side cannot search are not tried).
                let complete = other_listing.filter(|l| l.complete);
                for spec in rules.keys.iter() {
                    if counterpart.is_some() {
                        break;
                    }
                    let Ok(value) = spec.value(&r.fields) else {
                        continue;
                    };
                    if key.is_empty() {
                        break;
                    }
                    let candidates = match complete {
                        Some(l) => l.unlinked_with_key(&value),
                        None => match other.write() {
                            Some(w) if w.searchable(kind, spec.kind) => w
                                .find_by_key(kind, spec, &value)
                                .await?
                                .into_iter()
                                .filter(|c| spec.value(&c.fields).is_ok_and(|v| v == value))
                                .collect(),
                            _ => Vec::new(),
                        },
                    };
                    let mut free = Vec::new();
                    for o in candidates {
                        let taken = flow
                            .store
                            .link_by_external(flow.scope(kind), other.system(), &o.id)
                            .await?;
                        if taken.is_none() {
                            free.push(o);
                        }
                    }
                    // Issue 17: two unlinked records with this key on the other side: which
                    // one is this record's cannot be told; nothing is written to any.
                    if free.len() > 1 {
                        let names: Vec<String> = free
                            .iter()
                            .map(|o| format!("{}:{}", other.system(), o.id))
                            .collect();
                        self.ambiguous(kind, &r, &spec.label, &value, &names);
                        return Ok(None);
                    }
                    counterpart = free.pop();
                    // ...and two with it on this record's own side (a duplicate made there):
                    // which of them the counterpart belongs to cannot be told either. One
                    // search, made only when a first match is about to be linked.
                    if let Some(o) = &counterpart {
                        let mine = self.own_unlinked_with_key(kind, &r, spec, &value).await?;
                        if !mine.is_empty() {
                            let names = vec![format!("{}:{}", other.system(), o.id)];
                            self.ambiguous(kind, &r, &spec.label, &value, &names);
                            return Ok(None);
                        }
                    }
                }
            }
        }
        let (a, b) = if side == Side::A {
            (Some(r), counterpart)
        } else {
            (counterpart, Some(r))
        };
        self.sync_pair(kind, a, b, link).await
    }

    /// The other unlinked records of `r`'s own system holding `r`'s key `value` (issue 17),
    /// by a search there; none when that side cannot be searched by this key.
    async fn own_unlinked_with_key(
        &mut self,
        kind: Kind,
        r: &Record,
        spec: &puente_core::KeySpec,
        value: &str,
    ) -> Result<Vec<Record>, PairError> {
        let flow = self.flow;
        let Some(side) = flow.side_of(&r.system) else {
            return Ok(Vec::new());
        };
        let own = flow.conn(side).clone();
        let Some(w) = own.write().filter(|w| w.searchable(kind, spec.kind)) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for c in w.find_by_key(kind, spec, value).await? {
            if c.id == r.id || spec.value(&c.fields).ok().as_deref() != Some(value) {
                continue;
            }
            let taken = flow
                .store
                .link_by_external(flow.scope(kind), own.system(), &c.id)
                .await?;
            if taken.is_none() {
                out.push(c);
            }
        }
        Ok(out)
    }

    async fn fetch(
        &mut self,
        conn: &Arc<dyn Connector>,
        kind: Kind,
        id: &str,
    ) -> Result<Option<Record>, PairError> {
        Ok(conn.read().get(kind, id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn alg9_modified_window_covers_25_hours_and_overlaps_the_checkpoint() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(modified_since(None, now), now - Duration::hours(25));
        let recent = Cursor {
            modified: now - Duration::hours(1),
            id: "9".into(),
        };
        assert_eq!(
            modified_since(Some(&recent), now),
            now - Duration::hours(25)
        );
        let old = Cursor {
            modified: now - Duration::hours(72),
            id: "9".into(),
        };
        assert_eq!(
            modified_since(Some(&old), now),
            now - Duration::hours(72) - Duration::minutes(10)
        );
    }

    #[test]
    fn alg9_cursor_orders_by_time_then_id() {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        let mut r = Record::new("clientify", Kind::Contact, "10", Default::default());
        r.modified = Some(t);
        let c10 = Cursor::of(&r).unwrap();
        r.id = "9".into();
        let c9 = Cursor::of(&r).unwrap();
        assert!(c9 < c10, "numeric ids compare as numbers at equal times");
    }
}
