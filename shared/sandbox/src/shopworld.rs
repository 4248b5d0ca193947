//! The cast the shop sandboxes (Shopify, WooCommerce) and the RO App sandbox share, so a
//! shop → RO App test meets the same people and products on both sides (seed 003, ROA-7 and
//! ROA-8): the same person with the phone written differently in each system, one with only
//! an email, one with only a phone, one with neither; the same products by SKU, one only by
//! name, some without a SKU at all.
//!
//! Each vendor's generator seeds the cast first, in the order listed here, then generated
//! records (seeded names and phones) up to the configured sizes.

use rand::Rng;

/// One person of the cast. `phone` is the national number (nine digits, Spain); each system
/// writes it in its own format (see [`PhoneStyle`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Person {
    pub first_name: &'static str,
    pub last_name: &'static str,
    /// Lower case; `""` for none.
    pub email: &'static str,
    /// Nine digits; `""` for none.
    pub phone: &'static str,
    pub city: &'static str,
    pub street: &'static str,
    pub zip: &'static str,
}

const fn person(
    first_name: &'static str,
    last_name: &'static str,
    email: &'static str,
    phone: &'static str,
    city: &'static str,
    street: &'static str,
    zip: &'static str,
) -> Person {
    Person {
        first_name,
        last_name,
        email,
        phone,
        city,
        street,
        zip,
    }
}

/// The cast. Index = the person's number in the docs of each sandbox's seed.
pub const PEOPLE: [Person; 7] = [
    // 0: everywhere, phone in a different format in each system.
    person(
        "Lucía",
        "García Pérez",
        "lucia.garcia@example.es",
        "600112233",
        "Madrid",
        "Calle de Alcalá 12, 3º B",
        "28014",
    ),
    // 1: a guest of both shops; not in RO App yet.
    person(
        "Javier",
        "Martín Ruiz",
        "javier.martin@example.es",
        "611223344",
        "Valencia",
        "Avinguda del Port 45",
        "46023",
    ),
    // 2: email only; in RO App with the email in other capitals.
    person(
        "Carmen",
        "López Sanz",
        "carmen.lopez@example.es",
        "",
        "Sevilla",
        "Calle Sierpes 8",
        "41004",
    ),
    // 3: phone only.
    person(
        "Pablo",
        "Sánchez Gil",
        "",
        "622334455",
        "Bilbao",
        "Gran Vía 30",
        "48009",
    ),
    // 4: neither email nor phone (WooCommerce: skipped, ROA-5).
    person(
        "Ana",
        "Fernández Ruiz",
        "",
        "",
        "Zaragoza",
        "Paseo de la Independencia 5",
        "50001",
    ),
    // 5: in both shops and RO App, phone written with spaces in RO App.
    person(
        "Marta",
        "Gómez Vidal",
        "marta.gomez@example.es",
        "633445566",
        "Barcelona",
        "Carrer de Mallorca 200",
        "08008",
    ),
    // 6: Shopify customer whose shop phone and RO App phone agree only by digits.
    person(
        "Sergio",
        "Díaz Moreno",
        "sergio.diaz@example.es",
        "644556677",
        "Málaga",
        "Calle Larios 3",
        "29005",
    ),
];

/// How a system writes a Spanish mobile number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneStyle {
    /// `+34600112233` (Shopify customers: E.164).
    E164,
    /// `+34 600 11 22 33`.
    Spaced,
    /// `600112233`.
    National,
    /// `600 11 22 33`.
    NationalSpaced,
    /// `0034600112233`.
    Intl00,
    /// `+34 (600) 11-22-33` (RO App).
    RoApp,
}

impl PhoneStyle {
    pub const ALL: [PhoneStyle; 6] = [
        PhoneStyle::E164,
        PhoneStyle::Spaced,
        PhoneStyle::National,
        PhoneStyle::NationalSpaced,
        PhoneStyle::Intl00,
        PhoneStyle::RoApp,
    ];
}

/// `national` (nine digits) written in `style`; `""` stays `""`.
pub fn format_phone(national: &str, style: PhoneStyle) -> String {
    if national.len() != 9 {
        return national.to_string();
    }
    let (a, b, c, d) = (
        &national[..3],
        &national[3..5],
        &national[5..7],
        &national[7..],
    );
    match style {
        PhoneStyle::E164 => format!("+34{national}"),
        PhoneStyle::Spaced => format!("+34 {a} {b} {c} {d}"),
        PhoneStyle::National => national.to_string(),
        PhoneStyle::NationalSpaced => format!("{a} {b} {c} {d}"),
        PhoneStyle::Intl00 => format!("0034{national}"),
        PhoneStyle::RoApp => format!("+34 ({a}) {b}-{c}-{d}"),
    }
}

/// The digits of a phone with a Spanish country code (`+34`, `0034`) dropped: what matching
/// compares (`+34 (600) 11-22-33` and `0034600112233` both give `600112233`).
pub fn phone_digits(phone: &str) -> String {
    let d: String = phone.chars().filter(char::is_ascii_digit).collect();
    if let Some(rest) = d.strip_prefix("0034") {
        rest.to_string()
    } else if d.len() == 11 && d.starts_with("34") {
        d[2..].to_string()
    } else {
        d
    }
}

/// One product of the shared catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    /// `""`: no SKU.
    pub sku: &'static str,
    pub title: &'static str,
    /// Euro cents.
    pub price: u64,
    /// Category path, most general first; empty: uncategorised.
    pub category: &'static [&'static str],
    /// Whether RO App's catalogue has it (by SKU when it has one, else by title).
    pub in_roapp: bool,
}

const fn product(
    sku: &'static str,
    title: &'static str,
    price: u64,
    category: &'static [&'static str],
    in_roapp: bool,
) -> Product {
    Product {
        sku,
        title,
        price,
        category,
        in_roapp,
    }
}

/// The shared catalogue. Shopify and WooCommerce group the two cases and the three shirts
/// as variants of one product each ([`VARIANT_GROUPS`]).
pub const PRODUCTS: [Product; 12] = [
    product(
        "CASE-IP15-BLK",
        "Funda iPhone 15 negra",
        1990,
        &["Accesorios", "Fundas", "iPhone"],
        true,
    ),
    product(
        "CASE-IP15-RED",
        "Funda iPhone 15 roja",
        1990,
        &["Accesorios", "Fundas", "iPhone"],
        false,
    ),
    product(
        "SCR-IP15",
        "Protector de pantalla iPhone 15",
        990,
        &["Accesorios", "Protectores"],
        true,
    ),
    product(
        "CHG-USBC-20W",
        "Cargador USB-C 20W",
        2490,
        &["Accesorios", "Cargadores"],
        true,
    ),
    product(
        "CBL-USBC-1M",
        "Cable USB-C 1 m",
        950,
        &["Accesorios", "Cables"],
        false,
    ),
    product(
        "BAT-SGS21",
        "Batería Samsung Galaxy S21",
        3900,
        &["Repuestos", "Baterías", "Samsung"],
        true,
    ),
    product(
        "SCRN-SGS21",
        "Pantalla Samsung Galaxy S21",
        12900,
        &["Repuestos", "Pantallas", "Samsung"],
        false,
    ),
    product("", "Servicio de diagnóstico", 1500, &["Servicios"], true),
    product("", "Tarjeta regalo", 2500, &[], false),
    product(
        "TSH-LOGO-S",
        "Camiseta logo S",
        1500,
        &["Ropa", "Camisetas"],
        false,
    ),
    product(
        "TSH-LOGO-M",
        "Camiseta logo M",
        1500,
        &["Ropa", "Camisetas"],
        false,
    ),
    product(
        "TSH-LOGO-L",
        "Camiseta logo L",
        1500,
        &["Ropa", "Camisetas"],
        false,
    ),
];

/// Products of [`PRODUCTS`] (by index) sold as variants of one product, with its title and
/// the option name (`Color`, `Talla`).
pub const VARIANT_GROUPS: [(&str, &str, &[usize]); 2] = [
    ("Funda iPhone 15", "Color", &[0, 1]),
    ("Camiseta logo", "Talla", &[9, 10, 11]),
];

const FIRST: [&str; 20] = [
    "María", "José", "Elena", "Antonio", "Laura", "Manuel", "Paula", "David", "Sara", "Jorge",
    "Cristina", "Alberto", "Irene", "Raúl", "Nuria", "Óscar", "Beatriz", "Iván", "Rocío", "Hugo",
];

const LAST: [&str; 20] = [
    "Rodríguez",
    "González",
    "Hernández",
    "Jiménez",
    "Álvarez",
    "Romero",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Castro",
    "Ortega",
    "Rubio",
    "Molina",
    "Delgado",
    "Morales",
    "Ortiz",
    "Marín",
    "Iglesias",
];

/// A generated person (number `n` of a sandbox's extra customers): seeded name, a unique
/// mobile `7xxxxxxxx` (so it never collides with the cast's `6…`), an email (one in ten has
/// none).
pub(crate) fn generated_person(rng: &mut impl Rng, n: usize) -> (String, String, String, String) {
    let first = FIRST[rng.gen_range(0..FIRST.len())];
    let last = format!(
        "{} {}",
        LAST[rng.gen_range(0..LAST.len())],
        LAST[rng.gen_range(0..LAST.len())]
    );
    let phone = format!("7{:08}", 10_000_000 + n * 7919 % 89_999_999);
    let email = if n % 10 == 9 {
        String::new()
    } else {
        format!(
            "{}.{}{}@example.com",
            crate::kit::fake::slug(first),
            crate::kit::fake::slug(last.split(' ').next().unwrap_or("x")),
            n
        )
    };
    (first.to_string(), last, email, phone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_style_of_a_number_has_the_same_digits() {
        for style in PhoneStyle::ALL {
            assert_eq!(phone_digits(&format_phone("600112233", style)), "600112233");
        }
        assert_eq!(
            format_phone("600112233", PhoneStyle::RoApp),
            "+34 (600) 11-22-33"
        );
        assert_eq!(format_phone("", PhoneStyle::E164), "");
    }

    #[test]
    fn generated_phones_are_unique_and_apart_from_the_cast() {
        let mut rng = rand::rngs::mock::StepRng::new(0, 1);
        let phones: std::collections::HashSet<String> =
            (0..5000).map(|n| generated_person(&mut rng, n).3).collect();
        assert_eq!(phones.len(), 5000);
        assert!(phones.iter().all(|p| p.len() == 9 && p.starts_with('7')));
    }
}
