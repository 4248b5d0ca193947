//! Engine overhead per record with all I/O stubbed: parsing a tax id, hashing a record, and
//! deciding a linked pair (echo, one-field change, conflict) — `cargo bench -p puente-core`.

use criterion::{criterion_group, criterion_main, Criterion};
use puente_core::{decide, record_hash, synced_state, Fields, Kind, Record, Rules, TaxId};
use std::hint::black_box;

fn contact(system: &str, city: &str, secs: i64) -> Record {
    let f = Fields::new()
        .with("tax_id", "12345678Z")
        .with("first_name", "Ana María")
        .with("last_name", "Pérez García")
        .with("email", "ana@ejemplo.es")
        .with("phone", "+34 981 000 000")
        .with("status", "client")
        .with("street", "Rúa do Progreso 12")
        .with("city", city)
        .with("postal_code", "27001")
        .with("country", "España");
    let mut r = Record::new(system, Kind::Contact, "1", f);
    r.modified = chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0);
    r
}

fn bench(c: &mut Criterion) {
    let rules = Rules::default();
    let a = contact("clientify", "Lugo", 0);
    let b = contact("alegra", "Lugo", 0);
    let link = synced_state(
        Kind::Contact,
        &a.fields,
        &[],
        ("clientify", &a.fields),
        ("alegra", &b.fields),
    );
    let b_changed = contact("alegra", "Ourense", 10);
    let a_changed = contact("clientify", "Vigo", 20);
    c.bench_function("taxid_parse_untidy", |x| {
        x.iter(|| TaxId::parse(black_box("es 12.345.678-z")))
    });
    c.bench_function("record_hash", |x| {
        x.iter(|| record_hash(Kind::Contact, black_box(&a.fields)))
    });
    c.bench_function("decide_echo_unchanged", |x| {
        x.iter(|| decide(Some(black_box(&a)), Some(&b), Some(&link), &rules))
    });
    c.bench_function("decide_one_side_changed", |x| {
        x.iter(|| decide(Some(black_box(&a)), Some(&b_changed), Some(&link), &rules))
    });
    c.bench_function("decide_conflict", |x| {
        x.iter(|| {
            decide(
                Some(black_box(&a_changed)),
                Some(&b_changed),
                Some(&link),
                &rules,
            )
        })
    });
    c.bench_function("decide_unmatched_create", |x| {
        x.iter(|| decide(Some(black_box(&a)), None, None, &rules))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
