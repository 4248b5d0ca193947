//! The connector conformance suite (`shared/spec/platform.md` §8): what every connector must
//! do against its sandbox, the way `puente_store::conformance` gates every store. Each
//! vendor's file gives a [`Case`] (its sandbox, sample records, how its webhooks are pointed
//! and whether they are signed) and expands [`connector_conformance!`]; the properties run
//! as far as the connector's declared capabilities reach (what it reads, writes, searches
//! by, whether it has webhooks), and a test whose capability is absent checks that the
//! connector indeed declares none.
//!
//! The suite only talks to the connector through the platform's traits and to the sandbox
//! through its kit handle (counters, request and write logs, faults), never through a
//! vendor's routes.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::any;
use axum::Router;
use puente_connectors::config::{ConnectionSpec, SideSettings};
use puente_connectors::http::RetryPolicy;
use puente_connectors::{
    Connector, ConnectorError, IdSyntax, ListQuery, WebhookRequest, WebhookSetup, QUERY_HEADER,
};
use puente_core::{Fields, KeyKind, KeySpec, Kind, Record};
use puente_sandbox::{Faults, Sandbox};

/// One connector under test.
pub struct Case {
    /// Its name in both registries (connector and sandbox).
    pub vendor: &'static str,
    /// Settings added to the sandbox's own (a small page size, so paging is exercised).
    pub settings: &'static [(&'static str, i64)],
    /// A sample per entity the connector writes.
    pub samples: Vec<Sample>,
    /// For vendors whose webhook URL is pasted into their UI ([`WebhookSetup::Manual`]): how
    /// the sandbox is told to deliver to `url`.
    pub point_webhooks: Option<fn(&Sandbox, &str)>,
    /// Whether the vendor signs its deliveries over the body (a tampered one is refused).
    pub signed_webhooks: bool,
}

/// How to make a record of one entity.
pub struct Sample {
    pub kind: Kind,
    /// The canonical fields of the `n`th new record (unique per `n`); read back equal.
    pub fields: fn(u32) -> Fields,
    /// A field and its new value, for the update properties.
    pub change: (&'static str, &'static str),
}

/// A started sandbox and the connector built for it from the registries.
pub struct Harness {
    pub sandbox: Sandbox,
    pub conn: Arc<dyn Connector>,
    pub case: Case,
    /// Keys a sample keeps in another field than the key's default, as a flow would say
    /// (`code:order_id`): `(entity, key, field)`.
    pub key_fields: &'static [(Kind, KeyKind, &'static str)],
}

/// A key of `(entity, key kind)` kept in a field of another name.
pub type KeyField = (Kind, KeyKind, &'static str);

/// Quick retries: the suite's faults are answered at once.
fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

/// Starts the case's sandbox from the sandbox registry and builds its connector through the
/// connector registry, from the settings the sandbox says reach it.
pub async fn start(case: Case, key_fields: &'static [KeyField]) -> Harness {
    let entry = puente_sandbox::sandbox(case.vendor)
        .unwrap_or_else(|| panic!("no sandbox named {}", case.vendor));
    let started = entry.start(None).await.expect("sandbox starts");
    let mut table = toml::Table::new();
    for (k, v) in &started.connection {
        if *k != "type" {
            table.insert((*k).to_string(), toml::Value::String(v.clone()));
        }
    }
    for (k, v) in case.settings {
        table.insert((*k).to_string(), toml::Value::Integer(*v));
    }
    let vendor = puente_connectors::registry::vendor(case.vendor)
        .unwrap_or_else(|| panic!("no connector named {}", case.vendor));
    let spec = ConnectionSpec {
        name: case.vendor,
        table: &table,
        text: None,
        retry: policy(),
    };
    vendor
        .validate(&spec)
        .expect("the sandbox's settings validate");
    let conn = vendor
        .build(&spec, &SideSettings::default())
        .expect("connector builds");
    conn.check().await.expect("credentials work");
    Harness {
        sandbox: started.sandbox,
        conn,
        case,
        key_fields,
    }
}

/// Every record of `kind` matching `q`, page by page, in the order the connector gives.
async fn list_all(conn: &dyn Connector, kind: Kind, q: &ListQuery) -> Vec<Record> {
    let mut out = Vec::new();
    let mut page: Option<String> = None;
    for _ in 0..10_000 {
        let p = conn
            .read()
            .list(kind, q, page.as_deref())
            .await
            .unwrap_or_else(|e| panic!("list {kind}: {e}"));
        out.extend(p.records);
        match p.next {
            Some(n) => page = Some(n),
            None => return out,
        }
    }
    panic!("list {kind}: paging never ended");
}

/// The kinds the connector reads.
fn kinds(h: &Harness) -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| h.conn.supports(*k))
        .collect()
}

/// Creates the `n`th sample of `s` through the connector.
async fn create(h: &Harness, s: &Sample, n: u32) -> Record {
    let w = h
        .conn
        .writer(s.kind)
        .expect("a sample means the kind is written");
    w.create(s.kind, &(s.fields)(n), None)
        .await
        .unwrap_or_else(|e| panic!("create {}: {e}", s.kind))
}

/// Paging covers each record once, in a stable order: two listings agree, no id repeats,
/// and a record just created is listed exactly once.
pub async fn paging_covers_each_record_once(h: &Harness) {
    let mut made = BTreeMap::new();
    for s in &h.case.samples {
        made.insert(s.kind, create(h, s, 1).await.id);
    }
    for kind in kinds(h) {
        let first = list_all(&*h.conn, kind, &ListQuery::all()).await;
        let second = list_all(&*h.conn, kind, &ListQuery::all()).await;
        let ids: Vec<&str> = first.iter().map(|r| r.id.as_str()).collect();
        let again: Vec<&str> = second.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, again, "{kind}: two listings in the same order");
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{kind}: no record listed twice");
        if let Some(id) = made.get(&kind) {
            assert_eq!(
                ids.iter().filter(|x| **x == id.as_str()).count(),
                1,
                "{kind}: the record just created is listed once"
            );
        }
        for r in &first {
            assert_eq!(r.kind, kind);
            assert!(
                h.conn.id_syntax(kind).parse(&r.id).is_ok(),
                "{kind}: listed id {:?} is one of the vendor's ids",
                r.id
            );
        }
    }
}

/// A modified-since listing keeps every record modified at or after the instant, ties in
/// the same second included (records are created back to back to make some).
pub async fn since_filter_keeps_ties(h: &Harness) {
    for s in &h.case.samples {
        create(h, s, 2).await;
        create(h, s, 3).await;
    }
    let mut checked = 0;
    for kind in kinds(h) {
        if !h.conn.read().has_modified_filter(kind) {
            continue;
        }
        let all = list_all(&*h.conn, kind, &ListQuery::all()).await;
        let mut times: Vec<_> = all.iter().filter_map(|r| r.modified).collect();
        times.sort();
        let Some(&newest) = times.last() else {
            continue;
        };
        // The instant: a time two records share when there is one, else the newest.
        let since = times
            .windows(2)
            .rev()
            .find(|w| w[0] == w[1])
            .map(|w| w[0])
            .unwrap_or(newest);
        let got: HashSet<String> =
            list_all(&*h.conn, kind, &ListQuery::modified_since(Some(since)))
                .await
                .into_iter()
                .map(|r| r.id)
                .collect();
        let want: Vec<&Record> = all
            .iter()
            .filter(|r| r.modified.is_some_and(|m| m >= since))
            .collect();
        assert!(!want.is_empty());
        for r in want {
            assert!(
                got.contains(&r.id),
                "{kind} {} modified {:?} is missing from the listing since {since}",
                r.id,
                r.modified
            );
        }
        checked += 1;
    }
    if checked == 0 {
        for kind in kinds(h) {
            assert!(!h.conn.read().has_modified_filter(kind));
        }
    }
}

/// An id the vendor could have but does not: `None`, not an error.
pub async fn missing_id_is_none(h: &Harness) {
    for kind in kinds(h) {
        let id = match h.conn.id_syntax(kind) {
            IdSyntax::Integer => "987654321",
            IdSyntax::Uuid => "0f0e0d0c-0b0a-4909-8807-060504030201",
            IdSyntax::Text { .. } => "puente-missing-record",
        };
        let got = h.conn.read().get(kind, id).await;
        assert!(
            matches!(got, Ok(None)),
            "{kind} {id}: expected Ok(None), got {got:?}"
        );
    }
}

/// Every key a connector says it can search by finds the record that has it.
pub async fn declared_keys_find(h: &Harness) {
    for s in &h.case.samples {
        let w = h.conn.writer(s.kind).unwrap();
        let made = create(h, s, 4).await;
        let fields = (s.fields)(4);
        let mut searched = 0;
        for kk in KeyKind::ALL {
            if !w.searchable(s.kind, kk) {
                continue;
            }
            let spec = key_spec(h, s.kind, kk);
            let value = spec.value(&fields).unwrap_or_else(|e| {
                panic!("{} sample lacks its searchable {kk:?} key: {e:?}", s.kind)
            });
            let found = w
                .find_by_key(s.kind, &spec, &value)
                .await
                .unwrap_or_else(|e| panic!("find {} by {kk:?}: {e}", s.kind));
            assert!(
                found.iter().any(|r| r.id == made.id),
                "{} {} not found by its {kk:?} {value}",
                s.kind,
                made.id
            );
            searched += 1;
        }
        assert!(searched > 0, "{}: no searchable key declared", s.kind);
    }
}

/// The fields written are the fields read back.
pub async fn read_back_equals_written(h: &Harness) {
    for s in &h.case.samples {
        let made = create(h, s, 5).await;
        let back = h
            .conn
            .read()
            .get(s.kind, &made.id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{} {} not found after create", s.kind, made.id));
        for (f, v) in (s.fields)(5).iter() {
            assert_eq!(back.fields.get(f), v, "{} field {f} read back", s.kind);
            assert_eq!(made.fields.get(f), v, "{} field {f} as created", s.kind);
        }
    }
}

/// An update sends only the changed field: the other values are not in what was written,
/// and they read back as they were. An entity the connector never updates refuses with
/// `Unsupported` before sending anything.
pub async fn update_sends_only_changes(h: &Harness) {
    let mut updated_none = 0;
    for s in &h.case.samples {
        let made = create(h, s, 6).await;
        let before = (s.fields)(6);
        let (field, value) = s.change;
        assert_ne!(
            before.get(field),
            value,
            "the sample's change changes something"
        );
        let mut set = Fields::new();
        set.set(field, value);
        h.sandbox.reset_stats();
        let after = match h
            .conn
            .writer(s.kind)
            .unwrap()
            .update(&made, &set, &[], None)
            .await
        {
            Ok(after) => after,
            // A vendor whose records of this kind a flow only creates (RO App's clients):
            // the refusal is said before anything is sent.
            Err(ConnectorError::Unsupported { .. }) => {
                assert!(
                    h.sandbox.writes().is_empty(),
                    "{}: a refused update wrote {:?}",
                    s.kind,
                    h.sandbox.writes()
                );
                updated_none += 1;
                continue;
            }
            Err(e) => panic!("update {}: {e}", s.kind),
        };
        let writes = h.sandbox.writes();
        assert!(!writes.is_empty(), "{}: the update wrote", s.kind);
        let sent: String = writes.iter().map(|(_, b)| b.as_str()).collect();
        assert!(sent.contains(value), "{}: {value} was sent: {sent}", s.kind);
        // A vendor whose updates take the whole document (its declared capability) sends
        // the unchanged values too; what it must get right is the record read back below.
        let partial = h.conn.writer(s.kind).unwrap().partial_updates(s.kind);
        for (f, v) in before.iter().filter(|_| partial) {
            // Values long enough not to appear by chance in ids, dates or other fields.
            if f != field && v.len() >= 6 && !value.contains(v) {
                assert!(
                    !sent.contains(v),
                    "{}: unchanged {f} = {v} was sent again: {sent}",
                    s.kind
                );
            }
        }
        let back = h.conn.read().get(s.kind, &made.id).await.unwrap().unwrap();
        for (f, v) in before.iter() {
            let want = if f == field { value } else { v };
            assert_eq!(back.fields.get(f), want, "{} {f} after update", s.kind);
            assert_eq!(after.fields.get(f), want, "{} {f} as returned", s.kind);
        }
    }
    assert!(
        h.case.samples.is_empty() || updated_none < h.case.samples.len(),
        "at least one entity is updated"
    );
}

/// A 429 is waited out as its retry hint says (the sandbox's is one second), then the call
/// succeeds.
pub async fn rate_limit_retry_after_honoured(h: &Harness) {
    let kind = kinds(h)[0];
    let id = list_all(&*h.conn, kind, &ListQuery::all())
        .await
        .first()
        .map(|r| r.id.clone())
        .expect("the sandbox is seeded");
    h.sandbox.reset_stats();
    // Of every 2 requests the second is answered 429.
    h.sandbox.set_faults(Faults {
        burst_429: Some((2, 1)),
        ..Faults::default()
    });
    let started = Instant::now();
    for _ in 0..2 {
        let got = h.conn.read().get(kind, &id).await;
        assert!(matches!(got, Ok(Some(_))), "{kind} {id}: {got:?}");
    }
    let waited = started.elapsed();
    h.sandbox.set_faults(Faults::default());
    let stats = h.sandbox.stats();
    assert!(stats.rate_limited >= 1, "a 429 was answered: {stats:?}");
    assert!(
        waited >= Duration::from_millis(950),
        "the retry waited for the hint, not {waited:?}"
    );
}

/// A create whose answer is lost is never sent again blindly. Each write a create makes
/// (counted on a create just before) loses its answer in turn, on a new record each time:
/// the connector either recovers (a call safe to repeat, such as a JSON-RPC read) or says
/// the outcome is unknown, and never more than one record results. At least one of them is
/// the create itself, which must come back as unknown.
pub async fn lost_post_not_repeated(h: &Harness) {
    let Some(s) = h.case.samples.first() else {
        assert!(h.conn.write().is_none());
        return;
    };
    let w = h.conn.writer(s.kind).unwrap();
    create(h, s, 7).await;
    h.sandbox.reset_stats();
    create(h, s, 8).await;
    let writes = h.sandbox.writes().len() as u32;
    assert!(writes >= 1, "a create writes");
    let spec = key_spec(h, s.kind, s.kind_key());
    let mut unknown = 0;
    for k in 1..=writes {
        let n = 10 + k;
        h.sandbox.reset_stats();
        h.sandbox.set_faults(Faults {
            lose_write: Some(k),
            ..Faults::default()
        });
        let got = w.create(s.kind, &(s.fields)(n), None).await;
        h.sandbox.set_faults(Faults::default());
        assert_eq!(
            h.sandbox.stats().faults.get("lost_response"),
            Some(&1),
            "write {k} of {writes} lost its answer"
        );
        let key = spec.value(&(s.fields)(n)).unwrap();
        let same = list_all(&*h.conn, s.kind, &ListQuery::all())
            .await
            .into_iter()
            .filter(|r| spec.value(&r.fields).is_ok_and(|v| v == key))
            .count();
        match got {
            Ok(_) => assert_eq!(same, 1, "{}: write {k} lost, recovered: one {key}", s.kind),
            Err(ConnectorError::Ambiguous { .. }) => {
                unknown += 1;
                assert!(
                    same <= 1,
                    "{}: write {k} lost: {same} records {key}",
                    s.kind
                );
            }
            Err(e) => {
                assert!(!e.is_transient() || same == 0, "{e}");
                assert!(
                    same <= 1,
                    "{}: write {k} lost: {same} records {key}",
                    s.kind
                );
            }
        }
    }
    assert!(
        unknown >= 1,
        "the create's own lost answer is an unknown outcome"
    );
}

/// The key `kk` of `kind` in the field the case names, else as the entity's default rules
/// spell it, else with its default field.
fn key_spec(h: &Harness, kind: Kind, kk: KeyKind) -> KeySpec {
    if let Some((_, _, field)) = h.key_fields.iter().find(|(k, x, _)| *k == kind && *x == kk) {
        let mut spec = KeySpec::of(kk);
        spec.field = (*field).to_string();
        return spec;
    }
    puente_core::EntityRules::for_kind(kind)
        .keys
        .into_iter()
        .find(|k| k.kind == kk)
        .unwrap_or_else(|| KeySpec::of(kk))
}

impl Sample {
    /// The entity's natural key kind.
    fn kind_key(&self) -> KeyKind {
        puente_core::EntityRules::for_kind(self.kind).keys[0].kind
    }
}

/// What reached the suite's receiver.
type Captured = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

/// A receiver on loopback that keeps every request and answers 200, as Puente's does.
async fn receiver() -> (String, Captured) {
    let got: Captured = Default::default();
    let keep = got.clone();
    let app = Router::new().fallback(any(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let keep = keep.clone();
        async move {
            let mut hs: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_lowercase(),
                        v.to_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            // The query as Puente's acceptance path hands it on (vendors that fill their
            // data into the URL).
            if let Some(q) = uri.query() {
                hs.push((QUERY_HEADER.to_string(), q.to_string()));
            }
            keep.lock().unwrap().push((hs, body.to_vec()));
            StatusCode::OK
        }
    }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hooks/{}", "conformance"), got)
}

/// Points the vendor's webhooks at a receiver (subscribing through the API, whose handshake
/// the receiver answers, or as the user would by hand), writes a record — through the
/// connector, or as the vendor's own user when the connector writes nothing there (a shop's
/// orders) — and returns what arrived before the write (handshakes) and the deliveries
/// after, with the record's kind and id.
async fn deliveries(h: &Harness) -> Option<(Captured, usize, Kind, String)> {
    let hooks = h.conn.webhooks()?;
    let sample = h.case.samples.first();
    let user = h.sandbox.user();
    let kind = match (sample, &user) {
        (Some(s), _) => s.kind,
        (None, Some(u)) => u
            .entity()
            .parse()
            .unwrap_or_else(|_| panic!("the sandbox's user makes {}", u.entity())),
        (None, None) => return None,
    };
    let (url, got) = receiver().await;
    match hooks.setup() {
        WebhookSetup::Api => {
            let made = hooks
                .subscribe(&url, &[kind])
                .await
                .unwrap_or_else(|e| panic!("subscribe: {e}"));
            assert!(!made.is_empty(), "a subscription was made");
        }
        WebhookSetup::Manual => {
            let point = h
                .case
                .point_webhooks
                .expect("a Manual vendor's case says how its sandbox is pointed");
            point(&h.sandbox, &url);
        }
    }
    // A handshake the subscription set off arrives before the write.
    wait_delivered(h).await;
    let before = got.lock().unwrap().len();
    let id = match (sample, user) {
        (Some(s), _) => create(h, s, 8).await.id,
        (None, Some(u)) => u
            .make(8)
            .unwrap_or_else(|e| panic!("the user makes one: {e}")),
        (None, None) => unreachable!(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.lock().unwrap().len() == before || h.sandbox.webhooks_pending() > 0 {
        assert!(Instant::now() < deadline, "no delivery arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Some((got, before, kind, id))
}

/// Waits until the sandbox has no delivery queued or in progress.
async fn wait_delivered(h: &Harness) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.sandbox.webhooks_pending() > 0 {
        assert!(Instant::now() < deadline, "deliveries never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A delivery from the sandbox verifies and names the record written; anything the sandbox
/// sent before the write is the vendor's handshake, which the connector recognises.
pub async fn webhook_delivery_verified_and_parsed(h: &Harness) {
    let Some((got, before, kind, id)) = deliveries(h).await else {
        assert!(
            h.conn.webhooks().is_none(),
            "webhooks declared but not exercised (no sample, and no user in the sandbox)"
        );
        return;
    };
    let hooks = h.conn.webhooks().unwrap();
    let got = got.lock().unwrap().clone();
    for (headers, body) in &got[..before] {
        let req = WebhookRequest { headers, body };
        assert!(
            hooks.is_handshake(&req),
            "a request before any write is a handshake"
        );
    }
    let mut named = false;
    for (headers, body) in &got[before..] {
        let req = WebhookRequest { headers, body };
        assert!(!hooks.is_handshake(&req), "a delivery is not a handshake");
        hooks
            .verify_with_vendor(&req)
            .await
            .unwrap_or_else(|e| panic!("the sandbox's own delivery verifies: {e}"));
        let d = hooks
            .parse(&req)
            .unwrap_or_else(|e| panic!("delivery parses: {e:?}"));
        named |= d.targets.contains(&(kind, id.clone()));
    }
    assert!(named, "a delivery names {kind} {id}");
}

/// A signed delivery with its body changed, or without its signature, is refused.
pub async fn tampered_webhook_refused(h: &Harness) {
    let Some((got, before, _, _)) = deliveries(h).await else {
        assert!(
            h.conn.webhooks().is_none(),
            "webhooks declared but not exercised (no sample, and no user in the sandbox)"
        );
        return;
    };
    let hooks = h.conn.webhooks().unwrap();
    let got = got.lock().unwrap().clone();
    let (headers, body) = &got[before];
    if !h.case.signed_webhooks {
        // Unsigned vendors are checked by the URL secret alone, before the connector.
        let mut other = body.clone();
        other.push(b' ');
        let req = WebhookRequest {
            headers,
            body: &other,
        };
        assert!(
            hooks.verify_with_vendor(&req).await.is_ok(),
            "an unsigned vendor checks no body"
        );
        return;
    }
    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'1' { b'2' } else { b'1' };
    let req = WebhookRequest {
        headers,
        body: &tampered,
    };
    assert!(hooks.verify(&req).is_err(), "a changed body is refused");
    assert!(
        hooks.verify_with_vendor(&req).await.is_err(),
        "a changed body is refused, the vendor's keys read again"
    );
    let plain: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k == "content-type")
        .cloned()
        .collect();
    let req = WebhookRequest {
        headers: &plain,
        body,
    };
    assert!(
        hooks.verify(&req).is_err(),
        "an unsigned delivery is refused"
    );
    assert!(
        hooks.verify_with_vendor(&req).await.is_err(),
        "an unsigned delivery is refused"
    );
}

/// Expands to one `#[tokio::test]` per property, each on a fresh sandbox built by `$case`;
/// `keys = &[(entity, key kind, field)]` names keys a sample keeps in another field.
macro_rules! connector_conformance {
    ($case:expr) => {
        connector_conformance!($case, keys = &[]);
    };
    ($case:expr, keys = $keys:expr) => {
        connector_conformance!(@tests ($case, $keys)
            paging_covers_each_record_once
            since_filter_keeps_ties
            missing_id_is_none
            declared_keys_find
            read_back_equals_written
            update_sends_only_changes
            rate_limit_retry_after_honoured
            lost_post_not_repeated
            webhook_delivery_verified_and_parsed
            tampered_webhook_refused
        );
    };
    (@tests ($case:expr, $keys:expr) $($name:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let h = crate::suite::start($case, $keys).await;
                crate::suite::$name(&h).await;
                h.sandbox.shutdown();
            }
        )*
    };
}

/// The `n`th valid DNI (8 digits and its check letter).
pub fn dni(n: u32) -> String {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let num = 40_000_000 + n;
    format!("{num}{}", LETTERS[(num % 23) as usize] as char)
}

/// The `n`th valid CIF of a limited company (`B`, 7 digits, control digit).
pub fn cif(n: u32) -> String {
    let digits = format!("{:07}", 6_100_000 + n);
    let mut sum = 0;
    for (i, c) in digits.bytes().enumerate() {
        let d = u32::from(c - b'0');
        sum += if i % 2 == 0 {
            (d * 2) / 10 + (d * 2) % 10
        } else {
            d
        };
    }
    let control = (10 - sum % 10) % 10;
    let out = format!("B{digits}{control}");
    assert!(puente_core::TaxId::parse(&out).is_ok(), "{out} is a CIF");
    out
}

/// Canonical fields from pairs.
pub fn fields(pairs: &[(&str, String)]) -> Fields {
    let mut f = Fields::new();
    for (k, v) in pairs {
        f.set(k, v);
    }
    f
}
