//! Deterministic generation of the seeded data ("the world").

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::clientify::{FIRST_COMPANY_ID, FIRST_CONTACT_ID};
use crate::kit::clock::{fmt_micros, fmt_seconds};
use crate::kit::taxid;
use crate::{alegra, SandboxConfig};

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

struct City {
    city: &'static str,
    province: &'static str,
    postal: &'static str,
    phone: &'static str,
}

const fn city(
    city: &'static str,
    province: &'static str,
    postal: &'static str,
    phone: &'static str,
) -> City {
    City {
        city,
        province,
        postal,
        phone,
    }
}

const CITIES: [City; 17] = [
    city("Madrid", "Madrid", "28", "91"),
    city("Barcelona", "Barcelona", "08", "93"),
    city("Valencia", "Valencia", "46", "96"),
    city("Sevilla", "Sevilla", "41", "954"),
    city("Bilbao", "Bizkaia", "48", "944"),
    city("Zaragoza", "Zaragoza", "50", "976"),
    city("Lugo", "Lugo", "27", "982"),
    city("Málaga", "Málaga", "29", "952"),
    city("Murcia", "Murcia", "30", "968"),
    city("Valladolid", "Valladolid", "47", "983"),
    city("A Coruña", "A Coruña", "15", "981"),
    city("Granada", "Granada", "18", "958"),
    city("Alicante", "Alicante", "03", "965"),
    city("Palma", "Illes Balears", "07", "971"),
    city("Santander", "Cantabria", "39", "942"),
    city("Pamplona", "Navarra", "31", "948"),
    city("Oviedo", "Asturias", "33", "985"),
];

const FEMALE: [&str; 30] = [
    "María", "Carmen", "Ana", "Laura", "Lucía", "Marta", "Elena", "Sara", "Paula", "Cristina",
    "Isabel", "Pilar", "Rosa", "Teresa", "Raquel", "Beatriz", "Nuria", "Silvia", "Alba", "Irene",
    "Sofía", "Inés", "Julia", "Noelia", "Rocío", "Mónica", "Patricia", "Lorena", "Andrea",
    "Natalia",
];
const MALE: [&str; 30] = [
    "Antonio",
    "José",
    "Manuel",
    "Francisco",
    "David",
    "Juan",
    "Javier",
    "Daniel",
    "Carlos",
    "Jesús",
    "Alejandro",
    "Miguel",
    "Rafael",
    "Pablo",
    "Pedro",
    "Ángel",
    "Sergio",
    "Fernando",
    "Jorge",
    "Luis",
    "Alberto",
    "Álvaro",
    "Adrián",
    "Diego",
    "Raúl",
    "Iván",
    "Rubén",
    "Óscar",
    "Andrés",
    "Joaquín",
];
const SURNAMES: [&str; 50] = [
    "García",
    "Martínez",
    "López",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Ramírez",
    "Serrano",
    "Blanco",
    "Molina",
    "Morales",
    "Suárez",
    "Ortega",
    "Delgado",
    "Castro",
    "Ortiz",
    "Rubio",
    "Marín",
    "Sanz",
    "Núñez",
    "Iglesias",
    "Medina",
    "Garrido",
    "Cortés",
    "Castillo",
    "Santos",
    "Lozano",
    "Guerrero",
    "Cano",
    "Prieto",
    "Méndez",
    "Calvo",
    "Vidal",
];
const STREETS: [&str; 16] = [
    "Calle Mayor",
    "Calle Real",
    "Avenida de la Constitución",
    "Plaza de España",
    "Calle San Francisco",
    "Paseo de la Castellana",
    "Gran Vía",
    "Avenida de América",
    "Calle del Carmen",
    "Ronda de Segovia",
    "Calle Alcalá",
    "Calle Serrano",
    "Calle de la Paz",
    "Avenida de Andalucía",
    "Calle Nueva",
    "Rúa do Progreso",
];
const SECTORS: [&str; 18] = [
    "Construcciones",
    "Talleres",
    "Distribuciones",
    "Transportes",
    "Suministros",
    "Reformas",
    "Instalaciones",
    "Asesoría",
    "Comercial",
    "Panadería",
    "Ferretería",
    "Electricidad",
    "Fontanería",
    "Carpintería",
    "Consultoría",
    "Gráficas",
    "Limpiezas",
    "Frutas",
];
const MAIL_DOMAINS: [&str; 8] = [
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "hotmail.com",
    "yahoo.es",
    "outlook.es",
    "telefonica.net",
    "icloud.com",
];
const CAMPAIGNS: [&str; 4] = ["newsletter-2026", "feria-ifema", "google-ads", "referido"];
const OWNERS: [&str; 2] = ["comercial@puente.local", "ventas@puente.local"];

#[derive(Clone)]
struct Person {
    first: &'static str,
    second: &'static str,
    last1: &'static str,
    last2: &'static str,
    email: String,
    mobile: String,
    street: String,
    city: usize,
    postal: String,
    tax: Option<String>,
}

impl Person {
    fn first_name(&self) -> String {
        join(&[self.first, self.second])
    }
    fn last_name(&self) -> String {
        join(&[self.last1, self.last2])
    }
}

#[derive(Clone)]
struct Company {
    name: String,
    email: String,
    phone: String,
    street: String,
    city: usize,
    postal: String,
    tax: Option<String>,
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lower-case ASCII slug: accents stripped, only letters and digits.
fn slug(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            other => other,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

struct Gen {
    rng: StdRng,
    taxes: HashSet<String>,
    emails: HashSet<String>,
    phones: HashSet<String>,
    companies: HashSet<String>,
}

impl Gen {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.gen_range(0..xs.len())]
    }

    fn percent(&mut self, p: u32) -> bool {
        self.rng.gen_range(0..100) < p
    }

    fn unique_phone(&mut self, prefix: &str) -> String {
        loop {
            let mut digits = prefix.to_string();
            while digits.len() < 9 {
                digits.push(char::from(b'0' + self.rng.gen_range(0..10u8)));
            }
            let p = format!("+34 {} {} {}", &digits[..3], &digits[3..6], &digits[6..]);
            if self.phones.insert(p.clone()) {
                return p;
            }
        }
    }

    fn mobile(&mut self) -> String {
        self.unique_phone("6")
    }

    fn street(&mut self) -> String {
        let s = self.pick(&STREETS);
        let n = self.rng.gen_range(1..=150);
        if self.percent(40) {
            let floor = self.rng.gen_range(1..=8);
            let door = self.pick(&["A", "B", "C", "D"]);
            format!("{s} {n}, {floor}º {door}")
        } else {
            format!("{s} {n}")
        }
    }

    fn postal(&mut self, city: usize) -> String {
        format!("{}{:03}", CITIES[city].postal, self.rng.gen_range(1..=80))
    }

    fn unique_tax(&mut self, make: impl Fn(&mut StdRng) -> String) -> String {
        loop {
            let t = make(&mut self.rng);
            if self.taxes.insert(t.clone()) {
                return t;
            }
        }
    }

    /// Person tax id: DNI 90 %, NIE 10 %.
    fn person_tax(&mut self) -> String {
        if self.percent(90) {
            self.unique_tax(|r| taxid::dni(r.gen_range(10_000_000..80_000_000)))
        } else {
            self.unique_tax(|r| {
                let p = if r.gen_bool(0.6) { 'X' } else { 'Y' };
                taxid::nie(p, r.gen_range(0..10_000_000))
            })
        }
    }

    fn email_for(&mut self, first: &str, last1: &str, last2: &str) -> String {
        let (f, l1, l2) = (slug(first), slug(last1), slug(last2));
        let mut attempt = 0u32;
        loop {
            let domain = self.pick(&MAIL_DOMAINS);
            let local = match (self.rng.gen_range(0..4), attempt) {
                (_, a) if a > 3 => format!("{f}.{l1}{}", self.rng.gen_range(1..1000)),
                (0, _) => format!("{f}.{l1}"),
                (1, _) => format!("{}{l1}{}", &f[..1], &l2[..1.min(l2.len())]),
                (2, _) => format!("{f}.{l1}.{l2}"),
                _ => format!("{f}{l1}{}", self.rng.gen_range(60..100)),
            };
            let e = format!("{local}@{domain}");
            if self.emails.insert(e.clone()) {
                return e;
            }
            attempt += 1;
        }
    }

    fn person(&mut self, with_tax: bool) -> Person {
        let female = self.rng.gen_bool(0.5);
        let names: &[&'static str] = if female { &FEMALE } else { &MALE };
        let first = self.pick(names);
        let second = if self.percent(15) {
            let mut s = self.pick(names);
            while s == first {
                s = self.pick(names);
            }
            s
        } else {
            ""
        };
        let last1 = self.pick(&SURNAMES);
        let last2 = self.pick(&SURNAMES);
        let email = self.email_for(first, last1, last2);
        let mobile = self.mobile();
        let street = self.street();
        let city = self.rng.gen_range(0..CITIES.len());
        let postal = self.postal(city);
        let tax = with_tax.then(|| self.person_tax());
        Person {
            first,
            second,
            last1,
            last2,
            email,
            mobile,
            street,
            city,
            postal,
            tax,
        }
    }

    fn company(&mut self, with_tax: bool) -> Company {
        let mut attempts = 0u32;
        let (name, org) = loop {
            attempts += 1;
            let sector = self.pick(&SECTORS);
            let mut who = if self.percent(20) {
                format!("Hermanos {}", self.pick(&SURNAMES))
            } else {
                self.pick(&SURNAMES).to_string()
            };
            if attempts > 20 {
                // Name space exhausted (thousands of companies): add a place.
                let place = CITIES[self.rng.gen_range(0..CITIES.len())].city;
                who = format!("{who} {place} {attempts}");
            }
            let (suffix, org) = match self.rng.gen_range(0..20) {
                0..=13 => ("S.L.", 'B'),
                14..=16 => ("S.A.", 'A'),
                17..=18 => ("S.L.U.", 'B'),
                _ => ("S.Coop.", 'F'),
            };
            let n = format!("{sector} {who} {suffix}");
            if self.companies.insert(n.clone()) {
                break (n, org);
            }
        };
        let city = self.rng.gen_range(0..CITIES.len());
        let base = slug(
            &name
                .replace(" S.L.U.", "")
                .replace(" S.L.", "")
                .replace(" S.A.", "")
                .replace(" S.Coop.", ""),
        );
        let email = loop {
            let user = self.pick(&["info", "administracion", "contacto", "facturacion"]);
            let e = format!("{user}@{base}.es");
            if self.emails.insert(e.clone()) {
                break e;
            }
            let e = format!("{user}@{base}{}.es", self.rng.gen_range(1..100));
            if self.emails.insert(e.clone()) {
                break e;
            }
        };
        let phone = self.unique_phone(CITIES[city].phone);
        let street = self.street();
        let postal = self.postal(city);
        let province: u32 = CITIES[city].postal.parse().unwrap_or(28);
        let tax = with_tax.then(|| {
            self.unique_tax(|r| taxid::cif(org, province * 100_000 + r.gen_range(0..100_000)))
        });
        Company {
            name,
            email,
            phone,
            street,
            city,
            postal,
            tax,
        }
    }

    /// ~30 % of Clientify tax ids are written untidily.
    fn untidy(&mut self, t: &str) -> String {
        if !self.percent(30) {
            return t.to_string();
        }
        let kind = taxid::classify(t);
        let (head, body, tail) = match kind {
            Some(taxid::TaxIdKind::Dni) => ("", &t[..8], &t[8..]),
            _ => (&t[..1], &t[1..8], &t[8..]),
        };
        let form = match (self.rng.gen_range(0..5), kind) {
            (0, _) => t.to_lowercase(),
            (1, Some(taxid::TaxIdKind::Dni)) => format!(
                "{}.{}.{}-{}",
                &body[..2],
                &body[2..5],
                &body[5..],
                tail.to_lowercase()
            ),
            (1, Some(taxid::TaxIdKind::Cif)) => format!("{head}-{body}{tail}"),
            (1, _) | (2, _) => format!(
                "{head}{}{body}-{tail}",
                if head.is_empty() { "" } else { "-" }
            ),
            (3, _) => format!(
                "{head}{}{body} {tail}",
                if head.is_empty() { "" } else { " " }
            ),
            _ => format!("es {t}"),
        };
        if self.percent(30) {
            form.to_lowercase()
        } else {
            form
        }
    }

    /// `n` distinct indices out of `0..len`.
    fn choose_indices(&mut self, len: usize, n: usize) -> HashSet<usize> {
        let mut idx: Vec<usize> = (0..len).collect();
        idx.shuffle(&mut self.rng);
        idx.into_iter().take(n).collect()
    }

    /// A creation time in the 60 days before `anchor`, and a modification
    /// time between it and `anchor`.
    fn times(&mut self, anchor: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let span = 60 * 86_400 * 1_000_000i64;
        let created = anchor - TimeDelta::microseconds(self.rng.gen_range(3_600_000_000..span));
        let modified = if self.percent(50) {
            created
        } else {
            let gap = (anchor - created).num_microseconds().unwrap_or(1) - 1_000_000;
            created + TimeDelta::microseconds(self.rng.gen_range(0..gap.max(1)))
        };
        (created, modified)
    }
}

/// Which field of a shared record differs between the vendors.
#[derive(Clone, Copy)]
enum Diff {
    Phone,
    Email,
    Street,
}

fn rounded_percent(n: usize, pct: u32) -> usize {
    (n * pct as usize + 50) / 100
}

/// Records of one side: (person-or-company, clientify side?) pairs get
/// shuffled, stamped and numbered in creation order.
struct Stamped<T> {
    item: T,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
}

fn stamp_all<T>(g: &mut Gen, items: Vec<T>, anchor: DateTime<Utc>) -> Vec<Stamped<T>> {
    let mut out: Vec<Stamped<T>> = items
        .into_iter()
        .map(|item| {
            let (created, modified) = g.times(anchor);
            Stamped {
                item,
                created,
                modified,
            }
        })
        .collect();
    out.sort_by_key(|s| s.created);
    out
}

fn apply_diff_person(g: &mut Gen, p: &mut Person, d: Diff) {
    match d {
        Diff::Phone => p.mobile = g.mobile(),
        Diff::Email => {
            let alt = g.email_for(p.first, p.last2, p.last1);
            p.email = alt;
        }
        Diff::Street => p.street = g.street(),
    }
}

fn apply_diff_company(g: &mut Gen, c: &mut Company, d: Diff) {
    match d {
        Diff::Phone => c.phone = g.unique_phone(CITIES[c.city].phone),
        Diff::Email => {
            let domain = c
                .email
                .split('@')
                .nth(1)
                .unwrap_or("empresa.es")
                .to_string();
            let mut n = 0;
            loop {
                let user = g.pick(&["pedidos", "compras", "gerencia", "oficina"]);
                let e = if n < 4 {
                    format!("{user}@{domain}")
                } else {
                    format!("{user}{n}@{domain}")
                };
                n += 1;
                if g.emails.insert(e.clone()) {
                    c.email = e;
                    break;
                }
            }
        }
        Diff::Street => c.street = g.street(),
    }
}

/// Builds both sides of one entity type: shared pairs (same tax id, some
/// differing in one field) plus side-only records, some without tax id.
fn sides<T: Clone>(
    g: &mut Gen,
    per_side: usize,
    shared: usize,
    without_id_percent: u32,
    make: impl Fn(&mut Gen, bool) -> T,
    diff: impl Fn(&mut Gen, &mut T, Diff),
) -> (Vec<T>, Vec<T>) {
    let shared = shared.min(per_side);
    let mut left = Vec::with_capacity(per_side);
    let mut right = Vec::with_capacity(per_side);
    for _ in 0..shared {
        let p = make(g, true);
        left.push(p.clone());
        right.push(p);
    }
    // ~25 % of the shared pairs differ in one field, on one side.
    let differing = g.choose_indices(shared, (shared + 2) / 4);
    let mut differing: Vec<usize> = differing.into_iter().collect();
    differing.sort_unstable();
    for i in differing {
        let d = g.pick(&[Diff::Phone, Diff::Email, Diff::Street]);
        if g.rng.gen_bool(0.5) {
            diff(g, &mut left[i], d);
        } else {
            diff(g, &mut right[i], d);
        }
    }
    let own = per_side - shared;
    let missing = rounded_percent(own, without_id_percent);
    for side in [&mut left, &mut right] {
        let no_id = g.choose_indices(own, missing);
        for i in 0..own {
            side.push(make(g, !no_id.contains(&i)));
        }
    }
    (left, right)
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
        let mut g = Gen {
            rng: StdRng::seed_from_u64(cfg.seed),
            taxes: HashSet::new(),
            emails: HashSet::new(),
            phones: HashSet::new(),
            companies: HashSet::new(),
        };
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
                "addresses": [{"id": next_sub(), "type": 2, "street": p.street, "city": c.city,
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
                "addresses": [{"id": next_sub(), "type": 1, "street": co.street, "city": c.city,
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
                        "address": {"address": p.street, "city": c.city, "department": c.province,
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
                        "address": {"address": co.street, "city": c.city, "department": c.province,
                                    "country": "España", "zipCode": co.postal},
                        "created_at": created,
                        "updated_at": updated,
                    })
                }
            };
            alegra_contacts.push(v);
        }
        World {
            clientify_contacts,
            clientify_companies,
            alegra_contacts,
            alegra_items: alegra_items(),
            clientify_products: clientify_products(),
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
