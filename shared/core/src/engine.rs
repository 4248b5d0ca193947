//! The sync engine: pure decisions, no I/O.
//!
//! Given the two sides of a pair (either may be missing), the link's memory of the last synced
//! state and the flow's rules, [`decide`] says what to write where. The runtime does the
//! fetching, writing and storing; keeping this part pure is what lets the chaos and property
//! tests run thousands of scenarios in memory.
//!
//! How a field is merged (architecture.md, "merge"):
//! - equal on both sides → nothing to do;
//! - pinned by the flow to one system → that system's value (P2);
//! - the link remembers its last synced hash: the side whose value still hashes to it did not
//!   change, so the other side's value flows across;
//! - changed on both sides → the more recently modified record wins (ALG-10), ties to the
//!   flow's preferred system;
//! - never synced and one side empty → the non-empty value (a first link fills gaps, it never
//!   blanks a field);
//! - never synced and both hold different values → each side keeps its own and the pair is
//!   reported as a conflict at first match ([`FirstMatch::KeepBoth`], the default); the link
//!   remembers both values, so the next edit on either side flows across. With
//!   `first_match = "newest"` the newer record wins instead, except that a customer is never
//!   demoted to a lead.

use crate::hash::{field_hashes, record_hash, value_hash};
use crate::keys::{KeyError, KeyKind};
use crate::record::{Fields, Kind, Record};
use crate::rules::{EntityRules, FirstMatch, Owner, WriteMode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a link remembers of the last sync of a pair.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkState {
    /// field → hash of the value both sides held after the last sync.
    pub field_hashes: BTreeMap<String, String>,
    /// system → hash of that side's record as last written or read by us.
    pub record_hashes: BTreeMap<String, String>,
}

impl LinkState {
    /// True when `record` is exactly what we last wrote to or read from its system: an echo
    /// of our own write, or a record nobody touched. It costs no further call.
    pub fn knows(&self, record: &Record) -> bool {
        self.record_hashes.get(&record.system) == Some(&record_hash(record.kind, &record.fields))
    }
}

/// The rules the engine decides a pair by: one entity's rules in one flow (see
/// [`crate::rules`]).
pub type Rules = EntityRules;

/// Why a record or pair is not synced (ALG-3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipReason(pub String);

/// ALG-3 / ODO-1..4: only records with a valid natural key take part (a NIF/CIF/NIE for
/// contacts and companies, a SKU for products, an order number for orders, any of the
/// flow's keys for an entity matched by several), and only records the flow's filters let
/// through (ODO-4: confirmed orders; drafts and quotations are never sent). Returns the
/// record's first key (empty for a new record whose key its target mints).
pub fn eligibility(record: &Record, rules: &EntityRules) -> Result<String, SkipReason> {
    let (sys, kind, id) = (&record.system, record.kind, &record.id);
    let unsupported = record.fields.get(crate::record::UNSUPPORTED);
    if !unsupported.is_empty() {
        return Err(SkipReason(format!("{sys} {kind} {id}: {unsupported}")));
    }
    let key = if rules.key_minted_on_create
        && rules
            .keys
            .iter()
            .all(|k| record.fields.get(&k.field).is_empty())
    {
        // A new record whose key its target mints (ALG-8): eligible, with no key yet.
        String::new()
    } else {
        rules.key_of(&record.fields).map_err(|e| {
            let only_tax_id = rules.keys.iter().all(|k| k.kind == KeyKind::TaxId);
            let label = rules.key_label();
            SkipReason(match e {
                KeyError::Missing if only_tax_id => {
                    format!("no identification (NIF/CIF/NIE) on {sys} {kind} {id}")
                }
                KeyError::Missing => format!("no {label} on {sys} {kind} {id}"),
                KeyError::Invalid(why) => format!("invalid {label} on {sys} {kind} {id}: {why}"),
            })
        })?
    };
    for (field, why) in &rules.required {
        if record.value(field).is_empty() {
            return Err(SkipReason(format!("{sys} {kind} {id} is not sent: {why}")));
        }
    }
    for f in &rules.filters {
        let v = record.value(&f.field);
        let shown = if v.is_empty() { "unknown" } else { v };
        if !f.any_of.is_empty() && !f.any_of.iter().any(|a| a == v) {
            return Err(SkipReason(format!(
                "only {} {kind}s are sent; {sys} {kind} {id} is {shown}",
                f.any_of.join(" or ")
            )));
        }
        if f.none_of.iter().any(|a| a == v) {
            return Err(SkipReason(format!(
                "{} {kind}s are not sent; {sys} {kind} {id} is {shown}",
                f.none_of.join(" and ")
            )));
        }
    }
    Ok(key)
}

/// The outcome of a field-level merge of two records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Merge {
    /// The state both sides hold once the writes are done.
    pub merged: Fields,
    /// Fields to write to side A (only those that differ), with their new values.
    pub to_a: Fields,
    /// Fields to write to side B.
    pub to_b: Fields,
    /// Names of fields to clear (set empty) on A and on B: a cleared value is a change too.
    pub clear_a: Vec<String>,
    pub clear_b: Vec<String>,
    /// Fields that changed on both sides since the last sync (decided by ALG-10 or a pin).
    pub conflicts: Vec<String>,
    /// Fields both sides held with different values when first matched, each side keeping
    /// its own ([`FirstMatch::KeepBoth`]): a `conflict at first match`. Also fields kept so
    /// before and still untouched on both sides (not reported again: see [`Merge::first_match_conflicts`]).
    pub kept: Vec<String>,
    /// The subset of `kept` that is new: first matched now, to be reported.
    pub first_match_conflicts: Vec<String>,
}

impl Merge {
    pub fn writes_a(&self) -> bool {
        !self.to_a.is_empty() || !self.clear_a.is_empty()
    }
    pub fn writes_b(&self) -> bool {
        !self.to_b.is_empty() || !self.clear_b.is_empty()
    }
    /// Names of the fields written to A (set or cleared).
    pub fn fields_a(&self) -> Vec<String> {
        let mut v = self.to_a.names();
        v.extend(self.clear_a.iter().cloned());
        v.sort();
        v
    }
    pub fn fields_b(&self) -> Vec<String> {
        let mut v = self.to_b.names();
        v.extend(self.clear_b.iter().cloned());
        v.sort();
        v
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Winner {
    A,
    B,
}

fn newer(a: &Record, b: &Record, rules: &EntityRules) -> Winner {
    match (a.modified, b.modified) {
        (Some(x), Some(y)) if x > y => Winner::A,
        (Some(x), Some(y)) if y > x => Winner::B,
        (Some(_), None) => Winner::A,
        (None, Some(_)) => Winner::B,
        _ => {
            if !rules.prefer_on_tie.is_empty() && rules.prefer_on_tie == b.system {
                Winner::B
            } else {
                Winner::A
            }
        }
    }
}

/// The marker a link keeps, in place of one value's hash, for a field each side holds with
/// its own value since a first match: both hashes, by system.
const KEPT: &str = "kept|";

fn kept_marker(sys_a: &str, va: &str, sys_b: &str, vb: &str) -> String {
    format!(
        "{KEPT}{sys_a}={}|{sys_b}={}",
        value_hash(va),
        value_hash(vb)
    )
}

/// The hashes a kept-both marker holds for `sys_a` and `sys_b`; `None` for a plain hash.
fn kept_hashes<'h>(h: &'h str, sys_a: &str, sys_b: &str) -> Option<(&'h str, &'h str)> {
    let rest = h.strip_prefix(KEPT)?;
    let mut ha = None;
    let mut hb = None;
    for part in rest.split('|') {
        let (sys, hash) = part.rsplit_once('=')?;
        if sys == sys_a {
            ha = Some(hash);
        } else if sys == sys_b {
            hb = Some(hash);
        }
    }
    Some((ha?, hb?))
}

/// ALG-4 on a first match: a customer is never demoted to a lead (or anything else) because
/// the other record happens to be newer.
fn never_demoted(a: &Record, b: &Record, field: &str) -> Option<Winner> {
    if !matches!(a.kind, Kind::Contact | Kind::Company) || field != "status" {
        return None;
    }
    match (a.fields.get(field), b.fields.get(field)) {
        ("client", _) => Some(Winner::A),
        (_, "client") => Some(Winner::B),
        _ => None,
    }
}

/// Field-level merge of `a` and `b` (same kind) against the last synced state `base`.
pub fn merge(a: &Record, b: &Record, base: Option<&LinkState>, rules: &EntityRules) -> Merge {
    let mut m = Merge::default();
    let newest = newer(a, b, rules);
    let source = rules.source();
    let side_of = |sys: &str| {
        if sys == b.system {
            Winner::B
        } else {
            Winner::A
        }
    };
    for &f in a.kind.fields() {
        let va = a.fields.get(f);
        let vb = b.fields.get(f);
        let pick = if va == vb {
            Winner::A
        } else if let Some(sys) = source {
            // One-way entity: the source's value, always (an edit on the mirror is undone).
            side_of(sys)
        } else if let Owner::Pinned(sys) = rules.owner(f) {
            side_of(sys)
        } else if *rules.owner(f) == Owner::CreateOnly {
            // Written when the record was created; each side keeps its own since (APC-6:
            // data enriched on the target survives).
            m.merged.set(f, va);
            continue;
        } else {
            match base.and_then(|l| l.field_hashes.get(f)) {
                Some(h) => {
                    let (ha, hb) = kept_hashes(h, &a.system, &b.system).unwrap_or((h, h));
                    let a_same = value_hash(va) == ha;
                    let b_same = value_hash(vb) == hb;
                    match (a_same, b_same) {
                        (true, false) => Winner::B,
                        (false, true) => Winner::A,
                        (true, true) => {
                            // Kept both at the first match, and neither side edited since.
                            m.kept.push(f.to_string());
                            m.merged.set(f, va);
                            continue;
                        }
                        (false, false) => {
                            m.conflicts.push(f.to_string());
                            newest
                        }
                    }
                }
                None if va.is_empty() => Winner::B,
                None if vb.is_empty() => Winner::A,
                None => match (rules.first_match, never_demoted(a, b, f)) {
                    (_, Some(w)) => w,
                    (FirstMatch::KeepBoth, None) => {
                        m.kept.push(f.to_string());
                        m.first_match_conflicts.push(f.to_string());
                        m.merged.set(f, va);
                        continue;
                    }
                    (FirstMatch::Newest, None) => {
                        m.conflicts.push(f.to_string());
                        newest
                    }
                },
            }
        };
        let v = if pick == Winner::A { va } else { vb };
        m.merged.set(f, v);
        if v != va {
            if v.is_empty() {
                m.clear_a.push(f.to_string());
            } else {
                m.to_a.set(f, v);
            }
        }
        if v != vb {
            if v.is_empty() {
                m.clear_b.push(f.to_string());
            } else {
                m.to_b.set(f, v);
            }
        }
    }
    m
}

/// Which side of a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    A,
    B,
}

/// What to do with a pair.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Not synced, with the reason (logged as skipped).
    Skip(SkipReason),
    /// Both sides already agree with each other and with the link: no write at all.
    Unchanged,
    /// Create the record on `on` with `fields` (the other side's canonical fields).
    Create { on: Side, fields: Fields },
    /// Write the differing fields to one or both sides (a `Merge` with no writes is a pair
    /// that agrees but whose link must be (re)saved, e.g. a first match).
    Update(Merge),
}

/// Decides what to do with a pair. `a` and `b` are the two sides (at least one present);
/// `link` what was last synced, if the pair was linked before; `rules` the entity's rules
/// in the flow.
pub fn decide(
    a: Option<&Record>,
    b: Option<&Record>,
    link: Option<&LinkState>,
    rules: &EntityRules,
) -> Decision {
    match (a, b) {
        (None, None) => Decision::Skip(SkipReason("no record on either side".into())),
        (Some(r), None) | (None, Some(r)) => {
            if let Some(src) = rules.source().filter(|s| *s != r.system) {
                return Decision::Skip(SkipReason(format!(
                    "{}s flow one way, from {src}; {} {} {} is not sent to {src}",
                    r.kind, r.system, r.kind, r.id
                )));
            }
            if let Err(e) = eligibility(r, rules) {
                return Decision::Skip(e);
            }
            if rules.write == WriteMode::UpdateOnly {
                return Decision::Skip(SkipReason(format!(
                    "{}s are update-only in this flow; {} {} {} has no counterpart to update",
                    r.kind, r.system, r.kind, r.id
                )));
            }
            let on = if a.is_some() { Side::B } else { Side::A };
            Decision::Create {
                on,
                fields: r.fields.clone(),
            }
        }
        (Some(a), Some(b)) => {
            if let Some(l) = link {
                if l.knows(a) && l.knows(b) {
                    return Decision::Unchanged;
                }
            } else {
                // A first match: both must be eligible on their own.
                if let Err(e) = eligibility(a, rules).and(eligibility(b, rules)) {
                    return Decision::Skip(e);
                }
            }
            let mut m = merge(a, b, link, rules);
            if rules.write == WriteMode::CreateOnly {
                // Created once, never written again: the pair is linked as it stands.
                m.to_a = Fields::new();
                m.to_b = Fields::new();
                m.clear_a.clear();
                m.clear_b.clear();
            }
            // ALG-3 holds for the result too: a merge that would leave no valid key (e.g. one
            // side cleared the identification) is not propagated.
            if let Err(e) = rules.key_of(&m.merged) {
                let e = match e {
                    KeyError::Missing => "empty".to_string(),
                    KeyError::Invalid(why) => why,
                };
                return Decision::Skip(SkipReason(format!(
                    "{} would become invalid ({e}); {} {} and {} {} left as they are",
                    rules.key_label(),
                    a.system,
                    a.id,
                    b.system,
                    b.id
                )));
            }
            Decision::Update(m)
        }
    }
}

/// The link state after a sync where both sides hold `merged`, given the canonical fields each
/// side reported back after the write (its response or the record we read). `kept`: fields
/// each side keeps its own value of ([`Merge::kept`]); the link remembers both.
pub fn synced_state(
    kind: Kind,
    merged: &Fields,
    kept: &[String],
    a: (&str, &Fields),
    b: (&str, &Fields),
) -> LinkState {
    let mut record_hashes = BTreeMap::new();
    record_hashes.insert(a.0.to_string(), record_hash(kind, a.1));
    record_hashes.insert(b.0.to_string(), record_hash(kind, b.1));
    let mut hashes = field_hashes(kind, merged);
    for f in kept {
        let (va, vb) = (a.1.get(f), b.1.get(f));
        if va != vb {
            hashes.insert(f.clone(), kept_marker(a.0, va, b.0, vb));
        }
    }
    LinkState {
        field_hashes: hashes,
        record_hashes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::FirstMatch;
    use chrono::{TimeZone, Utc};

    fn rec(system: &str, id: &str, secs: i64, fields: &[(&str, &str)]) -> Record {
        let mut f = Fields::new();
        for (k, v) in fields {
            f.set(k, v);
        }
        let mut r = Record::new(system, Kind::Contact, id, f);
        r.modified = Some(Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap());
        r
    }

    fn base_of(a: &Record, b: &Record, merged: &Fields) -> LinkState {
        synced_state(
            Kind::Contact,
            merged,
            &[],
            (&a.system, &a.fields),
            (&b.system, &b.fields),
        )
    }

    const NIF: &str = "12345678Z";

    #[test]
    fn alg3_record_without_identification_is_skipped_with_reason() {
        let r = rec("alegra", "7", 0, &[("first_name", "Ana")]);
        match decide(None, Some(&r), None, &Rules::default()) {
            Decision::Skip(SkipReason(why)) => assert!(why.contains("no identification"), "{why}"),
            d => panic!("{d:?}"),
        }
        let bad = rec("alegra", "8", 0, &[("tax_id", "12345678A")]);
        match decide(None, Some(&bad), None, &Rules::default()) {
            Decision::Skip(SkipReason(why)) => assert!(why.contains("expected 'Z'"), "{why}"),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn alg2_unmatched_record_is_created_on_the_other_side() {
        let r = rec("alegra", "7", 0, &[("tax_id", NIF), ("first_name", "Ana")]);
        assert_eq!(
            decide(None, Some(&r), None, &Rules::default()),
            Decision::Create {
                on: Side::A,
                fields: r.fields.clone()
            }
        );
    }

    /// Two records first matched by NIF: each holds a field the other lacks, and both hold a
    /// different first name (the Alegra one newer).
    fn ana_and_anna() -> (Record, Record) {
        let a = rec(
            "clientify",
            "1",
            10,
            &[("tax_id", NIF), ("first_name", "Ana"), ("email", "a@x.es")],
        );
        let b = rec(
            "alegra",
            "7",
            20,
            &[("tax_id", NIF), ("first_name", "Anna"), ("city", "Lugo")],
        );
        (a, b)
    }

    #[test]
    fn alg10_first_match_newest_opt_in_fills_gaps_and_newest_wins_real_conflicts() {
        let (a, b) = ana_and_anna();
        let rules = Rules {
            first_match: FirstMatch::Newest,
            ..Rules::default()
        };
        let Decision::Update(m) = decide(Some(&a), Some(&b), None, &rules) else {
            panic!()
        };
        assert_eq!(m.merged.get("first_name"), "Anna"); // b newer
        assert_eq!(m.merged.get("email"), "a@x.es"); // gap filled, not blanked
        assert_eq!(m.merged.get("city"), "Lugo");
        assert_eq!(m.to_a.names(), vec!["city", "first_name"]);
        assert_eq!(m.to_b.names(), vec!["email"]);
        assert_eq!(m.conflicts, vec!["first_name"]);
        assert!(m.kept.is_empty());
    }

    #[test]
    fn first_match_keeps_both_values_fills_gaps_and_reports_the_conflict() {
        let (a, b) = ana_and_anna();
        let Decision::Update(m) = decide(Some(&a), Some(&b), None, &Rules::default()) else {
            panic!()
        };
        // Gaps are filled both ways; the name both hold is left as each side has it.
        assert_eq!(m.to_a.names(), vec!["city"]);
        assert_eq!(m.to_b.names(), vec!["email"]);
        assert!(m.clear_a.is_empty() && m.clear_b.is_empty());
        assert_eq!(m.first_match_conflicts, vec!["first_name"]);
        assert_eq!(m.kept, vec!["first_name"]);
        assert!(m.conflicts.is_empty());

        // The link remembers both names: untouched, nothing is written and nothing is
        // reported again; the next edit of the name, on either side, flows across.
        let a1 = Record {
            fields: a.fields.clone().with("city", "Lugo"),
            ..a.clone()
        };
        let b1 = Record {
            fields: b.fields.clone().with("email", "a@x.es"),
            ..b.clone()
        };
        let link = synced_state(
            Kind::Contact,
            &m.merged,
            &m.kept,
            (&a1.system, &a1.fields),
            (&b1.system, &b1.fields),
        );
        let a2 = rec(
            "clientify",
            "1",
            30,
            &[
                ("tax_id", NIF),
                ("first_name", "Ana"),
                ("email", "a@x.es"),
                ("city", "Lugo"),
                ("phone", "600000000"),
            ],
        );
        let Decision::Update(m2) = decide(Some(&a2), Some(&b1), Some(&link), &Rules::default())
        else {
            panic!()
        };
        assert_eq!(m2.to_b.names(), vec!["phone"]);
        assert!(m2.to_a.is_empty());
        assert!(m2.first_match_conflicts.is_empty());
        assert_eq!(m2.kept, vec!["first_name"]);

        // An edit of the name on the older side (Clientify) now wins: it is the only change.
        let a3 = rec(
            "clientify",
            "1",
            5,
            &[
                ("tax_id", NIF),
                ("first_name", "Ana María"),
                ("email", "a@x.es"),
                ("city", "Lugo"),
            ],
        );
        let Decision::Update(m3) = decide(Some(&a3), Some(&b1), Some(&link), &Rules::default())
        else {
            panic!()
        };
        assert_eq!(m3.to_b.get("first_name"), "Ana María");
        assert!(m3.to_a.is_empty());
        assert!(m3.kept.is_empty() && m3.conflicts.is_empty());
    }

    #[test]
    fn first_match_keeps_both_but_pins_still_decide_their_fields() {
        let a = rec(
            "clientify",
            "1",
            10,
            &[("tax_id", NIF), ("first_name", "Ana")],
        );
        let b = rec(
            "alegra",
            "7",
            20,
            &[("tax_id", NIF), ("first_name", "Anna")],
        );
        let mut rules = Rules::default();
        rules
            .owners
            .insert("first_name".into(), Owner::Pinned("clientify".into()));
        let Decision::Update(m) = decide(Some(&a), Some(&b), None, &rules) else {
            panic!()
        };
        assert_eq!(m.to_b.get("first_name"), "Ana");
        assert!(m.kept.is_empty() && m.first_match_conflicts.is_empty());
    }

    #[test]
    fn alg4_first_match_never_demotes_a_client_to_a_lead() {
        // Alegra says client; Clientify's newer record says lead. Both first-match modes
        // keep the client.
        let a = rec("clientify", "1", 50, &[("tax_id", NIF), ("status", "lead")]);
        let b = rec("alegra", "7", 10, &[("tax_id", NIF), ("status", "client")]);
        for fm in [FirstMatch::KeepBoth, FirstMatch::Newest] {
            let rules = Rules {
                first_match: fm,
                ..Rules::default()
            };
            let Decision::Update(m) = decide(Some(&a), Some(&b), None, &rules) else {
                panic!()
            };
            assert_eq!(m.to_a.get("status"), "client", "{fm:?}");
            assert!(m.to_b.is_empty(), "{fm:?}");
        }
    }

    #[test]
    fn alg10_different_fields_edited_on_both_sides_keep_both_edits() {
        let a0 = rec(
            "clientify",
            "1",
            0,
            &[("tax_id", NIF), ("first_name", "Ana"), ("city", "Lugo")],
        );
        let b0 = rec(
            "alegra",
            "7",
            0,
            &[("tax_id", NIF), ("first_name", "Ana"), ("city", "Lugo")],
        );
        let base = base_of(&a0, &b0, &a0.fields);
        // A edits first_name (later), B edits city (earlier)
        let a1 = rec(
            "clientify",
            "1",
            50,
            &[
                ("tax_id", NIF),
                ("first_name", "Ana María"),
                ("city", "Lugo"),
            ],
        );
        let b1 = rec(
            "alegra",
            "7",
            40,
            &[("tax_id", NIF), ("first_name", "Ana"), ("city", "Ourense")],
        );
        let Decision::Update(m) = decide(Some(&a1), Some(&b1), Some(&base), &Rules::default())
        else {
            panic!()
        };
        assert_eq!(m.merged.get("first_name"), "Ana María");
        assert_eq!(m.merged.get("city"), "Ourense");
        assert_eq!(m.to_a.names(), vec!["city"]);
        assert_eq!(m.to_b.names(), vec!["first_name"]);
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn alg10_same_field_edited_on_both_sides_keeps_the_newer_value() {
        let a0 = rec(
            "clientify",
            "1",
            0,
            &[("tax_id", NIF), ("email", "old@x.es")],
        );
        let b0 = rec("alegra", "7", 0, &[("tax_id", NIF), ("email", "old@x.es")]);
        let base = base_of(&a0, &b0, &a0.fields);
        let a1 = rec(
            "clientify",
            "1",
            30,
            &[("tax_id", NIF), ("email", "a@x.es")],
        );
        let b1 = rec("alegra", "7", 31, &[("tax_id", NIF), ("email", "b@x.es")]);
        let Decision::Update(m) = decide(Some(&a1), Some(&b1), Some(&base), &Rules::default())
        else {
            panic!()
        };
        assert_eq!(m.merged.get("email"), "b@x.es");
        assert_eq!(m.conflicts, vec!["email"]);
        // and the other way round
        let b2 = rec("alegra", "7", 29, &[("tax_id", NIF), ("email", "b@x.es")]);
        let Decision::Update(m) = decide(Some(&a1), Some(&b2), Some(&base), &Rules::default())
        else {
            panic!()
        };
        assert_eq!(m.merged.get("email"), "a@x.es");
    }

    #[test]
    fn alg10_ties_go_to_the_preferred_system_and_pins_always_win() {
        let a0 = rec(
            "clientify",
            "1",
            0,
            &[("tax_id", NIF), ("email", "old@x.es"), ("phone", "1")],
        );
        let base = base_of(&a0, &a0, &a0.fields);
        let a1 = rec(
            "clientify",
            "1",
            5,
            &[("tax_id", NIF), ("email", "a@x.es"), ("phone", "2")],
        );
        let b1 = rec(
            "alegra",
            "7",
            5,
            &[("tax_id", NIF), ("email", "b@x.es"), ("phone", "1")],
        );
        let rules = Rules {
            prefer_on_tie: "alegra".into(),
            owners: [("phone".to_string(), Owner::Pinned("alegra".to_string()))].into(),
            ..Rules::default()
        };
        let Decision::Update(m) = decide(Some(&a1), Some(&b1), Some(&base), &rules) else {
            panic!()
        };
        assert_eq!(m.merged.get("email"), "b@x.es");
        assert_eq!(
            m.merged.get("phone"),
            "1",
            "pinned to alegra although only clientify changed it"
        );
    }

    #[test]
    fn alg10_a_cleared_field_flows_as_a_clear() {
        let a0 = rec("clientify", "1", 0, &[("tax_id", NIF), ("email", "x@x.es")]);
        let base = base_of(&a0, &a0, &a0.fields);
        let a1 = rec("clientify", "1", 5, &[("tax_id", NIF)]);
        let b1 = rec("alegra", "7", 0, &[("tax_id", NIF), ("email", "x@x.es")]);
        let Decision::Update(m) = decide(Some(&a1), Some(&b1), Some(&base), &Rules::default())
        else {
            panic!()
        };
        assert_eq!(m.clear_b, vec!["email"]);
        assert!(!m.writes_a());
    }

    #[test]
    fn alg9_echo_of_our_own_write_is_unchanged() {
        let a = rec("clientify", "1", 0, &[("tax_id", NIF), ("email", "x@x.es")]);
        let b = rec("alegra", "7", 9, &[("tax_id", NIF), ("email", "x@x.es")]);
        let link = base_of(&a, &b, &a.fields);
        assert!(link.knows(&a) && link.knows(&b));
        assert_eq!(
            decide(Some(&a), Some(&b), Some(&link), &Rules::default()),
            Decision::Unchanged
        );
    }

    #[test]
    fn alg3_merge_that_would_clear_the_identification_is_skipped() {
        let a0 = rec("clientify", "1", 0, &[("tax_id", NIF)]);
        let base = base_of(&a0, &a0, &a0.fields);
        let a1 = rec("clientify", "1", 5, &[("first_name", "Ana")]);
        let b1 = rec("alegra", "7", 0, &[("tax_id", NIF)]);
        assert!(matches!(
            decide(Some(&a1), Some(&b1), Some(&base), &Rules::default()),
            Decision::Skip(_)
        ));
    }

    fn order(system: &str, id: &str, status: &str, items: &str) -> Record {
        let f = Fields::new()
            .with("order_id", "S00001")
            .with("ecommerce", "Odoo")
            .with("status", status)
            .with("items", items);
        Record::new(system, Kind::Order, id, f)
    }

    /// ODO-4's rules as the Clientify ⇄ Odoo preset gives them.
    fn one_way() -> Rules {
        Rules {
            direction: crate::rules::Direction::From("odoo".to_string()),
            filters: vec![crate::rules::Filter {
                field: "status".into(),
                any_of: vec!["confirmed".into(), "locked".into()],
                none_of: vec![],
            }],
            ..Rules::for_kind(Kind::Order)
        }
    }

    #[test]
    fn roa5_required_fields_and_filters_read_fields_the_flow_does_not_sync() {
        let mut rules = Rules::for_kind(Kind::Order);
        rules
            .required
            .insert("items".into(), "it has no products".into());
        rules.filters.push(crate::rules::Filter {
            field: "status".into(),
            any_of: vec![],
            none_of: vec!["completed".into()],
        });
        let mut o = Record::new(
            "shop",
            Kind::Order,
            "7",
            Fields::new()
                .with("order_id", "#7")
                .with("ecommerce", "Shop"),
        );
        match eligibility(&o, &rules) {
            Err(SkipReason(why)) => assert_eq!(why, "shop order 7 is not sent: it has no products"),
            ok => panic!("{ok:?}"),
        }
        o.fields.set("items", "[1]");
        assert!(eligibility(&o, &rules).is_ok());
        // The status is kept aside (the flow does not sync it) and still filters.
        o.extra = serde_json::json!({ crate::record::HIDDEN_FIELDS: {"status": "completed"} });
        assert!(eligibility(&o, &rules).unwrap_err().0.contains("completed"));
    }

    #[test]
    fn odo4_only_confirmed_orders_are_created_and_only_from_the_source() {
        let draft = order("odoo", "1", "draft", "[]");
        match decide(None, Some(&draft), None, &one_way()) {
            Decision::Skip(SkipReason(why)) => assert!(why.contains("only confirmed"), "{why}"),
            d => panic!("{d:?}"),
        }
        let sale = order("odoo", "1", "confirmed", "[]");
        assert!(matches!(
            decide(None, Some(&sale), None, &one_way()),
            Decision::Create { on: Side::A, .. }
        ));
        // A Clientify-only order is never sent to Odoo.
        let crm = order("clientify", "9", "confirmed", "[]");
        match decide(Some(&crm), None, None, &one_way()) {
            Decision::Skip(SkipReason(why)) => assert!(why.contains("one way"), "{why}"),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn odo4_one_way_kinds_take_the_source_value_even_when_the_mirror_is_newer() {
        let mut crm = order("clientify", "9", "confirmed", "[1]");
        crm.modified = Some(Utc.timestamp_opt(1_700_000_100, 0).unwrap());
        let mut erp = order("odoo", "1", "locked", "[2]");
        erp.modified = Some(Utc.timestamp_opt(1_700_000_000, 0).unwrap());
        let Decision::Update(m) = decide(Some(&crm), Some(&erp), None, &one_way()) else {
            panic!()
        };
        assert_eq!(m.merged.get("items"), "[2]");
        assert_eq!(m.merged.get("status"), "locked");
        assert!(!m.writes_b(), "nothing is written to the source");
        assert_eq!(m.fields_a(), vec!["items", "status"]);
    }

    #[test]
    fn odo3_products_need_a_sku() {
        let p = Record::new(
            "odoo",
            Kind::Product,
            "4",
            Fields::new().with("name", "Mesa"),
        );
        let products = Rules::for_kind(Kind::Product);
        match decide(None, Some(&p), None, &products) {
            Decision::Skip(SkipReason(why)) => assert!(why.contains("no SKU"), "{why}"),
            d => panic!("{d:?}"),
        }
        let p = Record::new(
            "odoo",
            Kind::Product,
            "4",
            Fields::new().with("sku", " mx-1 "),
        );
        assert_eq!(eligibility(&p, &products).unwrap(), "MX-1");
    }
}
