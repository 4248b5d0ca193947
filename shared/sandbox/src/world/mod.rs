//! Deterministic generation of the seeded data ("the world") of the Clientify and Alegra
//! sandboxes: the same people and companies on both sides, some with differences, so a sync
//! between them has something to match, create and reconcile.
//!
//! [`gen`] has the generator; this module lays its records out as each vendor serves them.

mod gen;

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use crate::clientify::{FIRST_COMPANY_ID, FIRST_CONTACT_ID};
use crate::kit::clock::{fmt_micros, fmt_seconds};
use crate::kit::fake::CITIES;
use crate::{alegra, SandboxConfig};

use gen::{
    apply_diff_company, apply_diff_person, join, sides, stamp_all, Company, Gen, Person, CAMPAIGNS,
    OWNERS,
};

/// The generated data, so tests can compute expected results.
///
/// The values are exactly what the servers serve after [`crate::start`]
/// (same ids, same timestamps). Clientify records carry an absolute `url`
/// only in the `world` returned by `start` (the port is not known before);
/// [`World::generate`] leaves it out.
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    /// Clientify contacts (persons), ids ascending.
    pub clientify_contacts: Vec<Value>,
    /// Clientify companies, ids ascending.
    pub clientify_companies: Vec<Value>,
    /// Alegra contacts: persons (clients/leads) and providers together,
    /// ids ascending.
    pub alegra_contacts: Vec<Value>,
    /// Alegra items (ALG-7): a fixed catalogue, the same for every seed; some without
    /// `reference` (never synced), one sharing its SKU (in another case) with a Clientify
    /// product.
    pub alegra_items: Vec<Value>,
    /// Clientify products: a fixed catalogue; one without SKU.
    pub clientify_products: Vec<Value>,
}

/// The fixed Alegra items of every world.
fn alegra_items() -> Vec<Value> {
    vec![
        json!({"id": "1", "name": "Silla de oficina", "description": "Ergonómica, negra",
               "reference": "SIL-001", "price": 120, "tax": [1]}),
        json!({"id": "2", "name": "Mesa de reuniones", "description": "",
               "reference": "MES-002", "price": [{"idPriceList": "1", "price": "450.50"}], "tax": [1]}),
        json!({"id": "3", "name": "Servicio de montaje", "description": "Por hora",
               "reference": "", "price": 35, "tax": [1]}),
        json!({"id": "4", "name": "Libro de estilo", "description": "",
               "reference": "LIB-004", "price": 18, "tax": [3]}),
        json!({"id": "5", "name": "Cable HDMI", "description": "2 m",
               "reference": "cab-005", "price": 9.95, "tax": [1]}),
        json!({"id": "6", "name": "Transporte", "description": "", "price": 20, "tax": [2]}),
    ]
}

/// The fixed Clientify products of every world (`CAB-005` is Alegra's `cab-005`).
fn clientify_products() -> Vec<Value> {
    vec![
        json!({"id": 501, "sku": "CAB-005", "name": "Cable HDMI 2m", "description": "",
               "price": "9.95", "taxes": [{"name": "IVA 21%", "percentage": 21}]}),
        json!({"id": 502, "sku": "LAM-010", "name": "Lámpara de pie", "description": "LED",
               "price": "65.00", "taxes": [{"name": "IVA 21%", "percentage": 21}]}),
        json!({"id": 503, "sku": "PAP-011", "name": "Papel A4 (500)", "description": "",
               "price": "4.50", "taxes": [{"name": "IVA 10%", "percentage": 10}]}),
        json!({"id": 504, "sku": "", "name": "Muestra sin código", "description": "",
               "price": "1.00", "taxes": []}),
    ]
}

impl World {
    /// The world for `cfg`, with timestamps spread over the 60 days before
    /// today's midnight (UTC), so two calls on the same day are identical.
    pub fn generate(cfg: &SandboxConfig) -> World {
        let now = Utc::now();
        let midnight = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(now);
        World::generate_at(cfg, midnight)
    }

    /// Like [`World::generate`] with an explicit reference instant: every
    /// timestamp is within the 60 days before `anchor`.
    pub fn generate_at(cfg: &SandboxConfig, anchor: DateTime<Utc>) -> World {
        let mut g = Gen::new(cfg.seed);
        let pct = cfg.without_id_percent.min(100);
        let (cl_people, al_people) = sides(
            &mut g,
            cfg.contacts,
            cfg.shared_contacts,
            pct,
            |g, t| g.person(t),
            apply_diff_person,
        );
        let (cl_companies, al_companies) = sides(
            &mut g,
            cfg.companies,
            cfg.shared_companies,
            pct,
            |g, t| g.company(t),
            apply_diff_company,
        );

        // ---- Clientify
        let mut cl_people = cl_people;
        cl_people.shuffle(&mut g.rng);
        let mut cl_companies = cl_companies;
        cl_companies.shuffle(&mut g.rng);
        let company_names: Vec<String> = cl_companies.iter().map(|c| c.name.clone()).collect();
        let people = stamp_all(&mut g, cl_people, anchor);
        let companies = stamp_all(&mut g, cl_companies, anchor);
        let mut used = HashSet::new();
        let mut unique = |t: DateTime<Utc>| {
            let mut t = t;
            while !used.insert(t) {
                t += TimeDelta::microseconds(1);
            }
            t
        };
        let mut sub = 1u64;
        let mut next_sub = || {
            sub += 1;
            sub - 1
        };
        let mut clientify_contacts = Vec::new();
        for (i, st) in people.into_iter().enumerate() {
            let p = st.item;
            let c = &CITIES[p.city];
            let status = match g.rng.gen_range(0..100) {
                0..=49 => "client",
                50..=69 => "cold-lead",
                70..=74 => "warm-lead",
                75..=79 => "hot-lead",
                80..=89 => "other",
                _ => "visitor",
            };
            let contact_type = match status {
                "client" => "Cliente actual",
                "cold-lead" | "warm-lead" | "hot-lead" => "Cliente potencial",
                _ => "",
            };
            let tags: Vec<&str> = match g.rng.gen_range(0..100) {
                0..=14 => vec!["vip"],
                15..=21 => vec!["newsletter"],
                22..=24 => vec!["vip", "newsletter"],
                _ => vec![],
            };
            let custom_fields = if g.percent(20) {
                json!([{"field": "source_campaign", "value": g.pick(&CAMPAIGNS)}])
            } else {
                json!([])
            };
            let company_name = if !company_names.is_empty() && g.percent(25) {
                company_names[g.rng.gen_range(0..company_names.len())].clone()
            } else {
                String::new()
            };
            let tax = match &p.tax {
                Some(t) => g.untidy(t),
                None => String::new(),
            };
            let owner = g.pick(&OWNERS);
            let created = unique(st.created);
            let modified = unique(st.modified.max(created));
            clientify_contacts.push(json!({
                "id": FIRST_CONTACT_ID + i as u64,
                "first_name": p.first_name(),
                "last_name": p.last_name(),
                "status": status,
                "contact_type": contact_type,
                "emails": [{"id": next_sub(), "type": 1, "email": p.email}],
                "phones": [{"id": next_sub(), "type": 2, "phone": p.mobile}],
                "addresses": [{"id": next_sub(), "type": 2, "street": p.street, "city": c.name,
                               "state": c.province, "country": "España", "postal_code": p.postal}],
                "tags": tags,
                "custom_fields": custom_fields,
                "taxpayer_identification_number": tax,
                "company_name": company_name,
                "owner": owner,
                "created": fmt_micros(created),
                "modified": fmt_micros(modified),
            }));
        }
        let mut clientify_companies = Vec::new();
        for (i, st) in companies.into_iter().enumerate() {
            let co = st.item;
            let c = &CITIES[co.city];
            let tax = match &co.tax {
                Some(t) => g.untidy(t),
                None => String::new(),
            };
            let tags: Vec<&str> = if g.percent(15) {
                vec!["proveedor-habitual"]
            } else {
                vec![]
            };
            let created = unique(st.created);
            let modified = unique(st.modified.max(created));
            clientify_companies.push(json!({
                "id": FIRST_COMPANY_ID + i as u64,
                "name": co.name,
                "business_name": co.name,
                "taxpayer_identification_number": tax,
                "emails": [{"id": next_sub(), "type": 1, "email": co.email}],
                "phones": [{"id": next_sub(), "type": 3, "phone": co.phone}],
                "addresses": [{"id": next_sub(), "type": 1, "street": co.street, "city": c.name,
                               "state": c.province, "country": "España", "postal_code": co.postal}],
                "tags": tags,
                "custom_fields": [],
                "created": fmt_micros(created),
                "modified": fmt_micros(modified),
            }));
        }

        // ---- Alegra: persons and providers share one id sequence.
        enum Rec {
            P(Person),
            C(Company),
        }
        let mut all: Vec<Rec> = al_people.into_iter().map(Rec::P).collect();
        all.extend(al_companies.into_iter().map(Rec::C));
        all.shuffle(&mut g.rng);
        let stamped = stamp_all(&mut g, all, anchor);
        let mut alegra_contacts = Vec::new();
        for (i, st) in stamped.into_iter().enumerate() {
            let id = (i + 1).to_string();
            let created = fmt_seconds(st.created);
            let updated = fmt_seconds(st.modified.max(st.created));
            let ident = |t: &Option<String>| match t {
                Some(t) => (json!(t), json!({"type": alegra::id_type(t), "number": t})),
                None => (json!(""), Value::Null),
            };
            let v = match st.item {
                Rec::P(p) => {
                    let c = &CITIES[p.city];
                    let typ: Vec<&str> = match g.rng.gen_range(0..100) {
                        0..=69 => vec!["client"],
                        70..=89 => vec!["lead"],
                        _ => vec![],
                    };
                    let (identification, obj) = ident(&p.tax);
                    let name = join(&[p.first, p.second, p.last1, p.last2]);
                    json!({
                        "id": id,
                        "name": name,
                        "nameObject": {"firstName": p.first, "secondName": p.second,
                                       "lastName": p.last1, "secondLastName": p.last2},
                        "identification": identification,
                        "identificationObject": obj,
                        "kindOfPerson": "PERSON_ENTITY",
                        "email": p.email,
                        "phonePrimary": "",
                        "mobile": p.mobile,
                        "observations": "",
                        "status": "active",
                        "type": typ,
                        "address": {"address": p.street, "city": c.name, "department": c.province,
                                    "country": "España", "zipCode": p.postal},
                        "created_at": created,
                        "updated_at": updated,
                    })
                }
                Rec::C(co) => {
                    let c = &CITIES[co.city];
                    let (identification, obj) = ident(&co.tax);
                    json!({
                        "id": id,
                        "name": co.name,
                        "nameObject": null,
                        "identification": identification,
                        "identificationObject": obj,
                        "kindOfPerson": "LEGAL_ENTITY",
                        "email": co.email,
                        "phonePrimary": co.phone,
                        "mobile": "",
                        "observations": "",
                        "status": "active",
                        "type": ["provider"],
                        "address": {"address": co.street, "city": c.name, "department": c.province,
                                    "country": "España", "zipCode": co.postal},
                        "created_at": created,
                        "updated_at": updated,
                    })
                }
            };
            alegra_contacts.push(v);
        }
        // A sandbox asked for no contacts and no companies is empty: no catalogue either
        // (issue 17: a test or a user starting from nothing gets nothing).
        let empty = cfg.contacts == 0 && cfg.companies == 0;
        World {
            clientify_contacts,
            clientify_companies,
            alegra_contacts,
            alegra_items: if empty { Vec::new() } else { alegra_items() },
            clientify_products: if empty {
                Vec::new()
            } else {
                clientify_products()
            },
        }
    }

    /// Adds the absolute `url` Clientify serves (`base` is the sandbox's
    /// `base_url`, e.g. `http://127.0.0.1:PORT/v1`).
    pub(crate) fn attach_clientify_urls(&mut self, base: &str) {
        for (seg, list) in [
            ("contacts", &mut self.clientify_contacts),
            ("companies", &mut self.clientify_companies),
        ] {
            for v in list.iter_mut() {
                let id = v.get("id").and_then(Value::as_u64).unwrap_or(0);
                if let Value::Object(o) = v {
                    o.insert("url".into(), json!(format!("{base}/{seg}/{id}/")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::taxid;
    use std::collections::HashMap;

    fn cfg() -> SandboxConfig {
        SandboxConfig::default()
    }

    fn tax_ids(list: &[Value], key: &str) -> Vec<String> {
        list.iter()
            .map(|v| v[key].as_str().unwrap_or("").to_string())
            .filter(|t| !t.is_empty())
            .collect()
    }

    #[test]
    fn generate_is_deterministic_per_seed() {
        let a = World::generate(&cfg());
        let b = World::generate(&cfg());
        assert_eq!(a, b);
        let other = World::generate(&SandboxConfig { seed: 7, ..cfg() });
        assert_ne!(a.clientify_contacts, other.clientify_contacts);
    }

    #[test]
    fn generated_tax_ids_pass_check_character_validation() {
        for seed in 0..5 {
            let w = World::generate(&SandboxConfig { seed, ..cfg() });
            let mut all = tax_ids(&w.clientify_contacts, "taxpayer_identification_number");
            all.extend(tax_ids(
                &w.clientify_companies,
                "taxpayer_identification_number",
            ));
            all.extend(tax_ids(&w.alegra_contacts, "identification"));
            assert!(!all.is_empty());
            for t in &all {
                assert!(taxid::is_valid(t), "invalid tax id {t:?}");
            }
            // Alegra side is tidy: plain upper case.
            for t in tax_ids(&w.alegra_contacts, "identification") {
                assert_eq!(t, taxid::normalize(&t));
            }
            // Persons get DNI/NIE, companies and providers CIF.
            for t in tax_ids(&w.clientify_contacts, "taxpayer_identification_number") {
                assert_ne!(taxid::classify(&t), Some(taxid::TaxIdKind::Cif));
            }
            for t in tax_ids(&w.clientify_companies, "taxpayer_identification_number") {
                assert_eq!(taxid::classify(&t), Some(taxid::TaxIdKind::Cif));
            }
        }
    }

    #[test]
    fn shared_and_missing_id_counts_match_config() {
        let c = SandboxConfig {
            contacts: 60,
            companies: 20,
            shared_contacts: 12,
            shared_companies: 4,
            without_id_percent: 10,
            ..cfg()
        };
        let w = World::generate(&c);
        assert_eq!(w.clientify_contacts.len(), 60);
        assert_eq!(w.clientify_companies.len(), 20);
        assert_eq!(w.alegra_contacts.len(), 80);
        let canon =
            |v: Vec<String>| -> Vec<String> { v.iter().map(|t| taxid::canonical(t)).collect() };
        let cl_people = canon(tax_ids(
            &w.clientify_contacts,
            "taxpayer_identification_number",
        ));
        let cl_comp = canon(tax_ids(
            &w.clientify_companies,
            "taxpayer_identification_number",
        ));
        let al = tax_ids(&w.alegra_contacts, "identification");
        let shared_people = cl_people.iter().filter(|t| al.contains(t)).count();
        let shared_comp = cl_comp.iter().filter(|t| al.contains(t)).count();
        assert_eq!(shared_people, 12);
        assert_eq!(shared_comp, 4);
        // All tax ids unique apart from the deliberate shared ones.
        let mut counts: HashMap<String, usize> = HashMap::new();
        for t in cl_people.iter().chain(&cl_comp).chain(&al) {
            *counts.entry(t.clone()).or_default() += 1;
        }
        assert_eq!(counts.values().filter(|n| **n == 2).count(), 16);
        assert!(counts.values().all(|n| *n <= 2));
        // 10 % of the 48 / 16 non-shared records per side lack an id.
        assert_eq!(cl_people.len(), 60 - 5);
        assert_eq!(cl_comp.len(), 20 - 2);
        assert_eq!(al.len(), 80 - 5 - 2);
        let providers = w
            .alegra_contacts
            .iter()
            .filter(|v| v["type"] == json!(["provider"]))
            .count();
        assert_eq!(providers, 20);
        // Ids ascending with creation, sequential on Alegra.
        for (i, v) in w.alegra_contacts.iter().enumerate() {
            assert_eq!(v["id"], json!((i + 1).to_string()));
        }
    }

    #[test]
    fn large_worlds_generate_with_exact_shared_counts() {
        let c = SandboxConfig {
            seed: 7,
            contacts: 1000,
            companies: 4000,
            shared_contacts: 80,
            shared_companies: 20,
            ..cfg()
        };
        let w = World::generate(&c);
        assert_eq!(w.alegra_contacts.len(), 5000);
        let al: HashSet<String> = tax_ids(&w.alegra_contacts, "identification")
            .into_iter()
            .collect();
        let shared = |list: &[Value]| {
            tax_ids(list, "taxpayer_identification_number")
                .iter()
                .filter(|t| al.contains(&taxid::canonical(t)))
                .count()
        };
        assert_eq!(shared(&w.clientify_contacts), 80);
        assert_eq!(shared(&w.clientify_companies), 20);
    }

    #[test]
    fn some_shared_pairs_differ_and_untidy_ids_exist() {
        let w = World::generate(&cfg());
        let untidy = tax_ids(&w.clientify_contacts, "taxpayer_identification_number")
            .into_iter()
            .filter(|t| *t != taxid::normalize(t))
            .count();
        assert!(untidy > 0, "expected some untidy Clientify tax ids");
        // For each shared person compare email/phone/street.
        let mut differing = 0;
        for c in &w.clientify_contacts {
            let t = taxid::canonical(c["taxpayer_identification_number"].as_str().unwrap_or(""));
            if t.is_empty() {
                continue;
            }
            if let Some(a) = w
                .alegra_contacts
                .iter()
                .find(|a| a["identification"] == json!(t))
            {
                let same = c["emails"][0]["email"] == a["email"]
                    && c["phones"][0]["phone"] == a["mobile"]
                    && c["addresses"][0]["street"] == a["address"]["address"];
                if !same {
                    differing += 1;
                }
                assert_eq!(
                    c["last_name"],
                    json!(format!(
                        "{} {}",
                        a["nameObject"]["lastName"].as_str().unwrap_or(""),
                        a["nameObject"]["secondLastName"].as_str().unwrap_or("")
                    ))
                );
            }
        }
        assert!(
            (1..=4).contains(&differing),
            "{differing} of 10 shared persons differ"
        );
    }
}
