//! The world's generator: Spanish people and companies with valid, unique tax ids, emails
//! and phones, and the pairing of the two sides (shared records, differences, records
//! without id).

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::kit::fake::{phone_es, slug, CITIES};
use crate::kit::taxid;

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
pub(super) const CAMPAIGNS: [&str; 4] =
    ["newsletter-2026", "feria-ifema", "google-ads", "referido"];
pub(super) const OWNERS: [&str; 2] = ["comercial@puente.local", "ventas@puente.local"];

#[derive(Clone)]
pub(super) struct Person {
    pub(super) first: &'static str,
    pub(super) second: &'static str,
    pub(super) last1: &'static str,
    pub(super) last2: &'static str,
    pub(super) email: String,
    pub(super) mobile: String,
    pub(super) street: String,
    pub(super) city: usize,
    pub(super) postal: String,
    pub(super) tax: Option<String>,
}

impl Person {
    pub(super) fn first_name(&self) -> String {
        join(&[self.first, self.second])
    }
    pub(super) fn last_name(&self) -> String {
        join(&[self.last1, self.last2])
    }
}

#[derive(Clone)]
pub(super) struct Company {
    pub(super) name: String,
    pub(super) email: String,
    pub(super) phone: String,
    pub(super) street: String,
    pub(super) city: usize,
    pub(super) postal: String,
    pub(super) tax: Option<String>,
}

pub(super) fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) struct Gen {
    pub(super) rng: StdRng,
    taxes: HashSet<String>,
    emails: HashSet<String>,
    phones: HashSet<String>,
    companies: HashSet<String>,
}

impl Gen {
    pub(super) fn new(seed: u64) -> Gen {
        Gen {
            rng: StdRng::seed_from_u64(seed),
            taxes: HashSet::new(),
            emails: HashSet::new(),
            phones: HashSet::new(),
            companies: HashSet::new(),
        }
    }

    pub(super) fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.gen_range(0..xs.len())]
    }

    pub(super) fn percent(&mut self, p: u32) -> bool {
        self.rng.gen_range(0..100) < p
    }

    fn unique_phone(&mut self, prefix: &str) -> String {
        loop {
            let p = phone_es(&mut self.rng, prefix);
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

    pub(super) fn person(&mut self, with_tax: bool) -> Person {
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

    pub(super) fn company(&mut self, with_tax: bool) -> Company {
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
                let place = CITIES[self.rng.gen_range(0..CITIES.len())].name;
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
    pub(super) fn untidy(&mut self, t: &str) -> String {
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
pub(super) enum Diff {
    Phone,
    Email,
    Street,
}

fn rounded_percent(n: usize, pct: u32) -> usize {
    (n * pct as usize + 50) / 100
}

/// Records of one side: (person-or-company, clientify side?) pairs get
/// shuffled, stamped and numbered in creation order.
pub(super) struct Stamped<T> {
    pub(super) item: T,
    pub(super) created: DateTime<Utc>,
    pub(super) modified: DateTime<Utc>,
}

pub(super) fn stamp_all<T>(g: &mut Gen, items: Vec<T>, anchor: DateTime<Utc>) -> Vec<Stamped<T>> {
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

pub(super) fn apply_diff_person(g: &mut Gen, p: &mut Person, d: Diff) {
    match d {
        Diff::Phone => p.mobile = g.mobile(),
        Diff::Email => {
            let alt = g.email_for(p.first, p.last2, p.last1);
            p.email = alt;
        }
        Diff::Street => p.street = g.street(),
    }
}

pub(super) fn apply_diff_company(g: &mut Gen, c: &mut Company, d: Diff) {
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
pub(super) fn sides<T: Clone>(
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
