//! Fake-data pieces the seed generators share: Spanish cities with their province, postal
//! and phone prefixes, slugs for email addresses and web domains, phone numbers, EAN-13
//! barcodes.
//!
//! Everything random draws from the generator's own seeded RNG, in a fixed order, so a seed
//! always yields the same data; changing a table here changes every vendor's seeded data.

use rand::Rng;

/// A Spanish city as the generators use it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct City {
    pub(crate) name: &'static str,
    /// Province name, as Clientify `state` and Alegra `department` carry it.
    pub(crate) province: &'static str,
    /// Odoo's `res.country.state` code of the province.
    pub(crate) state: &'static str,
    /// First two digits of the city's postal codes (the province number).
    pub(crate) postal: &'static str,
    /// Landline prefix (area code).
    pub(crate) phone: &'static str,
}

const fn city(
    name: &'static str,
    province: &'static str,
    state: &'static str,
    postal: &'static str,
    phone: &'static str,
) -> City {
    City {
        name,
        province,
        state,
        postal,
        phone,
    }
}

/// The cities records are spread over.
pub(crate) const CITIES: [City; 17] = [
    city("Madrid", "Madrid", "M", "28", "91"),
    city("Barcelona", "Barcelona", "B", "08", "93"),
    city("Valencia", "Valencia", "V", "46", "96"),
    city("Sevilla", "Sevilla", "SE", "41", "954"),
    city("Bilbao", "Bizkaia", "BI", "48", "944"),
    city("Zaragoza", "Zaragoza", "Z", "50", "976"),
    city("Lugo", "Lugo", "LU", "27", "982"),
    city("Málaga", "Málaga", "MA", "29", "952"),
    city("Murcia", "Murcia", "MU", "30", "968"),
    city("Valladolid", "Valladolid", "VA", "47", "983"),
    city("A Coruña", "A Coruña", "C", "15", "981"),
    city("Granada", "Granada", "GR", "18", "958"),
    city("Alicante", "Alicante", "A", "03", "965"),
    city("Palma", "Illes Balears", "PM", "07", "971"),
    city("Santander", "Cantabria", "S", "39", "942"),
    city("Pamplona", "Navarra", "NA", "31", "948"),
    city("Oviedo", "Asturias", "O", "33", "985"),
];

/// Lower-case ASCII slug: accents stripped, only letters and digits
/// (`"Ferretería Núñez"` → `"ferreterianunez"`), for email addresses and domains.
pub(crate) fn slug(s: &str) -> String {
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

/// A Spanish phone number, `+34 612 345 678`: `prefix` (`"6"` for a mobile, an area code for
/// a landline) then random digits up to nine. Uniqueness is the caller's business.
pub(crate) fn phone_es(rng: &mut impl Rng, prefix: &str) -> String {
    let mut digits = prefix.to_string();
    while digits.len() < 9 {
        digits.push(char::from(b'0' + rng.gen_range(0..10u8)));
    }
    format!("+34 {} {} {}", &digits[..3], &digits[3..6], &digits[6..])
}

/// EAN-13 with a Spanish (84) prefix and a correct check digit.
pub(crate) fn ean13(n: u64) -> String {
    ean13_prefixed("84", n)
}

/// EAN-13 under a two-digit GS1 country `prefix` (`"87"` the Netherlands, `"57"` Denmark,
/// `"73"` Sweden) with a correct check digit.
pub(crate) fn ean13_prefixed(prefix: &str, n: u64) -> String {
    let body = format!("{prefix}{:010}", n % 10_000_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn generated_barcodes_are_valid_ean13() {
        let code = ean13(1234567890);
        assert_eq!(code.len(), 13);
        let sum: u32 = code
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
            .sum();
        assert_eq!(sum % 10, 0);
    }

    #[test]
    fn slugs_fold_accents_and_drop_the_rest() {
        assert_eq!(slug("Ferretería Núñez S.L."), "ferreterianunezsl");
        assert_eq!(slug("Àlex Güell-Çelik"), "alexguellcelik");
        assert_eq!(slug("Åsa"), "sa");
    }

    #[test]
    fn phones_have_nine_digits_after_the_prefix_and_follow_the_seed() {
        let mut a = StdRng::seed_from_u64(1);
        let mut b = StdRng::seed_from_u64(1);
        let p = phone_es(&mut a, "954");
        assert_eq!(p, phone_es(&mut b, "954"));
        assert!(p.starts_with("+34 954 "), "{p}");
        assert_eq!(p.chars().filter(char::is_ascii_digit).count(), 2 + 9);
        assert_eq!(p.len(), "+34 954 123 456".len());
    }

    #[test]
    fn every_city_has_a_two_digit_postal_prefix() {
        for c in CITIES {
            assert_eq!(c.postal.len(), 2, "{}", c.name);
            assert!(c.postal.bytes().all(|b| b.is_ascii_digit()), "{}", c.name);
            assert!(c.phone.starts_with('9'), "{}", c.name);
        }
    }
}
