//! [`OdooSeed::generate`]: deterministic Spanish companies, persons, products and orders.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::base::spanish_state_id;
use super::{Obj, OdooSeed, FIRST_PARTNER_ID, SPAIN_ID};
use crate::kit::fake::{ean13, phone_es, slug, CITIES};
use crate::kit::taxid;

const FIRST_NAMES: [&str; 24] = [
    "María", "Carmen", "Ana", "Laura", "Lucía", "Marta", "Elena", "Nuria", "Paula", "Isabel",
    "Rocío", "Irene", "Antonio", "José", "Manuel", "Javier", "David", "Carlos", "Miguel", "Pablo",
    "Álvaro", "Sergio", "Jorge", "Raúl",
];
const SURNAMES: [&str; 30] = [
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
    "Serrano",
    "Blanco",
    "Molina",
    "Castro",
    "Ortiz",
    "Rubio",
    "Iglesias",
];
const SECTORS: [&str; 14] = [
    "Construcciones",
    "Talleres",
    "Distribuciones",
    "Transportes",
    "Suministros",
    "Reformas",
    "Instalaciones",
    "Ferretería",
    "Electricidad",
    "Fontanería",
    "Carpintería",
    "Gráficas",
    "Limpiezas",
    "Frutas",
];
const STREETS: [&str; 10] = [
    "Calle Mayor",
    "Calle Real",
    "Avenida de la Constitución",
    "Plaza de España",
    "Paseo de la Castellana",
    "Gran Vía",
    "Calle Alcalá",
    "Calle de la Paz",
    "Avenida de Andalucía",
    "Rúa do Progreso",
];
const JOBS: [&str; 6] = [
    "Gerente",
    "Responsable de compras",
    "Administración",
    "Director comercial",
    "Jefe de obra",
    "Contabilidad",
];
/// (name, SKU prefix, min price, max price, service?).
const GOODS: [(&str, &str, f64, f64, bool); 16] = [
    (
        "Tornillo hexagonal M8 (caja 100 uds)",
        "TOR",
        4.0,
        12.0,
        false,
    ),
    (
        "Cable eléctrico 2,5 mm² (rollo 100 m)",
        "CAB",
        35.0,
        70.0,
        false,
    ),
    ("Taladro percutor 750 W", "TAL", 60.0, 140.0, false),
    ("Pintura plástica blanca 15 L", "PIN", 25.0, 60.0, false),
    ("Tubo PVC 40 mm (3 m)", "TUB", 3.0, 9.0, false),
    ("Guantes de trabajo (par)", "GUA", 1.5, 6.0, false),
    ("Casco de seguridad", "CAS", 6.0, 18.0, false),
    ("Llave inglesa 250 mm", "LLA", 8.0, 22.0, false),
    ("Silicona neutra 300 ml", "SIL", 3.0, 8.0, false),
    ("Escalera de aluminio 7 peldaños", "ESC", 70.0, 160.0, false),
    ("Foco LED 50 W", "LED", 12.0, 35.0, false),
    ("Grifo monomando de cocina", "GRI", 30.0, 95.0, false),
    ("Instalación y puesta en marcha", "INS", 60.0, 250.0, true),
    ("Mantenimiento anual", "MAN", 120.0, 480.0, true),
    ("Hora de asistencia técnica", "HOR", 35.0, 65.0, true),
    ("Transporte y entrega", "TRA", 10.0, 45.0, true),
];

struct SeedGen {
    rng: StdRng,
    used: HashSet<String>,
}

impl SeedGen {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.gen_range(0..xs.len())]
    }
    fn pct(&mut self, p: u32) -> bool {
        self.rng.gen_range(0..100) < p
    }
    fn unique(&mut self, mut make: impl FnMut(&mut StdRng) -> String) -> String {
        loop {
            let s = make(&mut self.rng);
            if self.used.insert(s.clone()) {
                return s;
            }
        }
    }
    fn phone(&mut self, prefix: &str) -> String {
        self.unique(|r| phone_es(r, prefix))
    }
    fn address(&mut self, vals: &mut Obj) -> usize {
        let c = self.rng.gen_range(0..CITIES.len());
        let street = format!("{} {}", self.pick(&STREETS), self.rng.gen_range(1..=150));
        vals.insert("street".into(), json!(street));
        if self.pct(25) {
            let floor = format!(
                "{}º {}",
                self.rng.gen_range(1..=8),
                self.pick(&["A", "B", "C", "D"])
            );
            vals.insert("street2".into(), json!(floor));
        }
        vals.insert("city".into(), json!(CITIES[c].name));
        vals.insert(
            "zip".into(),
            json!(format!(
                "{}{:03}",
                CITIES[c].postal,
                self.rng.gen_range(1..=80)
            )),
        );
        vals.insert("state_id".into(), json!(spanish_state_id(CITIES[c].state)));
        vals.insert("country_id".into(), json!(SPAIN_ID));
        c
    }
}

impl OdooSeed {
    /// Deterministic Spanish data: `companies` company contacts (most with
    /// a CIF in `ref`, some also with `vat` = `ES` + CIF), `persons` person
    /// contacts (most with a DNI/NIE in `ref`; about half belong to a
    /// company through `parent_id`, and then share its address as Odoo
    /// makes them), `products` (SKU in `default_code`, most with an EAN-13
    /// `barcode`, a fifth of them services) and `orders` with 1–4 lines
    /// (about two thirds confirmed, some of their lines partly delivered).
    ///
    /// Partner ids run from [`FIRST_PARTNER_ID`] (companies first), product
    /// ids from 1 and order ids from 1.
    pub fn generate(
        seed: u64,
        companies: usize,
        persons: usize,
        products: usize,
        orders: usize,
    ) -> OdooSeed {
        let mut g = SeedGen {
            rng: StdRng::seed_from_u64(seed ^ 0x0d00_5eed),
            used: HashSet::new(),
        };
        let mut out = OdooSeed::default();
        let mut next_id = FIRST_PARTNER_ID;
        let mut company_ids = Vec::new();
        for _ in 0..companies {
            let mut v = Obj::new();
            let (name, org) = {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let sector = g.pick(&SECTORS);
                    let who = g.pick(&SURNAMES);
                    let (suffix, org) = if g.pct(75) {
                        ("S.L.", 'B')
                    } else {
                        ("S.A.", 'A')
                    };
                    let n = if attempt > 10 {
                        format!("{sector} {who} {} {suffix}", g.pick(&CITIES).name)
                    } else {
                        format!("{sector} {who} {suffix}")
                    };
                    if attempt > 30 || g.used.insert(n.clone()) {
                        break (
                            format!(
                                "{n}{}",
                                if attempt > 30 {
                                    format!(" {attempt}")
                                } else {
                                    String::new()
                                }
                            ),
                            org,
                        );
                    }
                }
            };
            let base = slug(name.trim_end_matches(" S.L.").trim_end_matches(" S.A."));
            v.insert("id".into(), json!(next_id));
            v.insert("name".into(), json!(name));
            v.insert("is_company".into(), json!(true));
            let c = g.address(&mut v);
            v.insert("phone".into(), json!(g.phone(CITIES[c].phone)));
            let email = g.unique(|r| {
                let user = ["info", "administracion", "pedidos"][r.gen_range(0..3)];
                let n: u32 = r.gen_range(0..100);
                if n < 70 {
                    format!("{user}@{base}.es")
                } else {
                    format!("{user}@{base}{n}.es")
                }
            });
            v.insert("email".into(), json!(email));
            if g.pct(60) {
                v.insert("website".into(), json!(format!("https://www.{base}.es")));
            }
            if g.pct(90) {
                let province: u32 = CITIES[c].postal.parse().unwrap_or(28);
                let cif =
                    g.unique(|r| taxid::cif(org, province * 100_000 + r.gen_range(0..100_000)));
                if g.pct(70) {
                    v.insert("vat".into(), json!(format!("ES{cif}")));
                }
                v.insert("ref".into(), json!(cif));
            }
            company_ids.push(next_id);
            next_id += 1;
            out.partners.push(Value::Object(v));
        }
        let mut person_ids = Vec::new();
        for _ in 0..persons {
            let mut v = Obj::new();
            let first = g.pick(&FIRST_NAMES);
            let (l1, l2) = (g.pick(&SURNAMES), g.pick(&SURNAMES));
            v.insert("id".into(), json!(next_id));
            v.insert("name".into(), json!(format!("{first} {l1} {l2}")));
            v.insert("is_company".into(), json!(false));
            let c = g.address(&mut v);
            if !company_ids.is_empty() && g.pct(50) {
                let parent = g.pick(&company_ids);
                v.insert("parent_id".into(), json!(parent));
                v.insert("function".into(), json!(g.pick(&JOBS)));
            }
            let (f, a, b) = (slug(first), slug(l1), slug(l2));
            let email = g.unique(|r| {
                let dom = [
                    "gmail.com",
                    "hotmail.com",
                    "yahoo.es",
                    "outlook.es",
                    "telefonica.net",
                ][r.gen_range(0..5)];
                match r.gen_range(0..3) {
                    0 => format!("{f}.{a}@{dom}"),
                    1 => format!("{f}{a}{}@{dom}", r.gen_range(60..100)),
                    _ => format!("{f}.{a}.{b}@{dom}"),
                }
            });
            v.insert("email".into(), json!(email));
            v.insert("mobile".into(), json!(g.phone("6")));
            if g.pct(40) {
                v.insert("phone".into(), json!(g.phone(CITIES[c].phone)));
            }
            if g.pct(85) {
                let id = if g.pct(90) {
                    g.unique(|r| taxid::dni(r.gen_range(10_000_000..80_000_000)))
                } else {
                    g.unique(|r| {
                        taxid::nie(
                            if r.gen_bool(0.6) { 'X' } else { 'Y' },
                            r.gen_range(0..10_000_000),
                        )
                    })
                };
                v.insert("ref".into(), json!(id));
            }
            person_ids.push(next_id);
            next_id += 1;
            out.partners.push(Value::Object(v));
        }
        let mut prices = Vec::new();
        for i in 0..products {
            let (name, prefix, lo, hi, service) = GOODS[i % GOODS.len()];
            let name = if i < GOODS.len() {
                name.to_string()
            } else {
                format!("{name} – modelo {}", i / GOODS.len() + 1)
            };
            let price = (g.rng.gen_range(lo..hi) * 100.0).round() / 100.0;
            let mut v = Obj::new();
            v.insert("id".into(), json!(i + 1));
            v.insert("name".into(), json!(name));
            v.insert(
                "default_code".into(),
                json!(format!("{prefix}-{:05}", i + 1)),
            );
            v.insert("list_price".into(), json!(price));
            v.insert(
                "type".into(),
                json!(if service { "service" } else { "consu" }),
            );
            if !service && g.pct(85) {
                let code = g.unique(|r| ean13(r.gen_range(0..10_000_000_000)));
                v.insert("barcode".into(), json!(code));
            }
            if g.pct(30) {
                v.insert(
                    "description_sale".into(),
                    json!(if service {
                        "Incluye desplazamiento."
                    } else {
                        "Garantía de 2 años."
                    }),
                );
            }
            prices.push(price);
            out.products.push(Value::Object(v));
        }
        let customers: Vec<i64> = company_ids.iter().chain(&person_ids).copied().collect();
        if customers.is_empty() || products == 0 {
            return out;
        }
        for i in 0..orders {
            let mut v = Obj::new();
            v.insert("id".into(), json!(i + 1));
            let partner = if !company_ids.is_empty() && g.pct(70) {
                g.pick(&company_ids)
            } else {
                g.pick(&customers)
            };
            v.insert("partner_id".into(), json!(partner));
            if g.pct(40) {
                v.insert(
                    "client_order_ref".into(),
                    json!(format!("PO-2026-{:04}", g.rng.gen_range(1..10_000))),
                );
            }
            let confirmed = g.pct(65);
            let n = g.rng.gen_range(1..=4.min(products));
            let mut chosen: Vec<usize> = Vec::new();
            while chosen.len() < n {
                let p = g.rng.gen_range(0..products);
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            let mut lines = Vec::new();
            for p in chosen {
                let qty = f64::from(g.rng.gen_range(1..=20u32));
                let mut l =
                    json!({"product_id": p + 1, "product_uom_qty": qty, "price_unit": prices[p]});
                if g.pct(15) {
                    l["discount"] = json!(if g.pct(50) { 5.0 } else { 10.0 });
                }
                if confirmed && g.pct(30) {
                    l["qty_delivered"] = json!((qty / 2.0).floor());
                }
                lines.push(json!([0, 0, l]));
            }
            v.insert("order_line".into(), Value::Array(lines));
            if confirmed {
                v.insert("state".into(), json!("sale"));
            }
            out.orders.push(Value::Object(v));
        }
        out
    }
}
