//! Countries as ISO 3166-1 alpha-2 codes, for flows whose systems name countries differently
//! (Clientify keeps free text such as `España`; Odoo a `res.country` record with `code` `ES`
//! and an English `name`). The canonical value of a recognised country is its code; text that
//! names no known country stays as it is.

/// (code, English name, Spanish name, other spellings, lower case).
const COUNTRIES: &[(&str, &str, &str, &[&str])] = &[
    ("ES", "Spain", "España", &["espana", "reino de españa"]),
    ("PT", "Portugal", "Portugal", &[]),
    ("FR", "France", "Francia", &[]),
    ("DE", "Germany", "Alemania", &["deutschland"]),
    ("IT", "Italy", "Italia", &[]),
    (
        "GB",
        "United Kingdom",
        "Reino Unido",
        &["uk", "great britain", "gran bretaña"],
    ),
    ("IE", "Ireland", "Irlanda", &[]),
    ("BE", "Belgium", "Bélgica", &["belgica"]),
    (
        "NL",
        "Netherlands",
        "Países Bajos",
        &["holanda", "paises bajos"],
    ),
    ("LU", "Luxembourg", "Luxemburgo", &[]),
    // The shop and accounting systems' countries (APC): e-conomic keeps English names.
    ("DK", "Denmark", "Dinamarca", &["danmark"]),
    ("SE", "Sweden", "Suecia", &["sverige"]),
    ("NO", "Norway", "Noruega", &["norge"]),
    ("FI", "Finland", "Finlandia", &["suomi"]),
    ("PL", "Poland", "Polonia", &["polska"]),
    ("CH", "Switzerland", "Suiza", &[]),
    ("AT", "Austria", "Austria", &[]),
    ("AD", "Andorra", "Andorra", &[]),
    ("MA", "Morocco", "Marruecos", &[]),
    (
        "US",
        "United States",
        "Estados Unidos",
        &["usa", "united states of america", "eeuu", "ee.uu."],
    ),
    ("MX", "Mexico", "México", &["mexico"]),
    ("CO", "Colombia", "Colombia", &[]),
    ("AR", "Argentina", "Argentina", &[]),
    ("CL", "Chile", "Chile", &[]),
    ("PE", "Peru", "Perú", &["peru"]),
    ("EC", "Ecuador", "Ecuador", &[]),
    ("UY", "Uruguay", "Uruguay", &[]),
    ("VE", "Venezuela", "Venezuela", &[]),
    ("BR", "Brazil", "Brasil", &[]),
    ("DO", "Dominican Republic", "República Dominicana", &[]),
    ("CR", "Costa Rica", "Costa Rica", &[]),
    ("PA", "Panama", "Panamá", &["panama"]),
    ("GT", "Guatemala", "Guatemala", &[]),
];

/// The ISO code of a country given by code or by (English or Spanish) name, case and accents
/// of the listed spellings tolerated; `None` for anything else.
pub fn country_code(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let lower = t.to_lowercase();
    COUNTRIES
        .iter()
        .find(|(code, en, es, other)| {
            code.eq_ignore_ascii_case(t)
                || en.to_lowercase() == lower
                || es.to_lowercase() == lower
                || other.contains(&lower.as_str())
        })
        .map(|(code, ..)| *code)
}

/// Canonical country value: the code when recognised, otherwise the trimmed text.
pub fn canonical_country(text: &str) -> String {
    country_code(text)
        .map(str::to_string)
        .unwrap_or_else(|| text.trim().to_string())
}

/// The English name of a known country code (what e-conomic's `country` holds), else `None`.
pub fn english_name(code: &str) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(c, ..)| c.eq_ignore_ascii_case(code.trim()))
        .map(|(_, en, ..)| *en)
}

/// The Spanish name of a known country code (what a Spanish CRM user types), else `None`.
pub fn spanish_name(code: &str) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(c, ..)| c.eq_ignore_ascii_case(code.trim()))
        .map(|(_, _, es, _)| *es)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odo1_countries_by_code_and_name() {
        assert_eq!(country_code("España"), Some("ES"));
        assert_eq!(country_code("spain"), Some("ES"));
        assert_eq!(country_code("es"), Some("ES"));
        assert_eq!(country_code("Reino Unido"), Some("GB"));
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(canonical_country(" Atlantis "), "Atlantis");
        assert_eq!(canonical_country("ESPAÑA"), "ES");
        assert_eq!(spanish_name("ES"), Some("España"));
    }
}
