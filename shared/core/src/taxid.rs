//! Spanish tax identification numbers (NIF): DNI, NIE and CIF.
//!
//! Matching records across systems hinges on this key (ALG-2, ALG-6), and people type it in
//! many shapes: `12.345.678-z`, `ES 12345678Z`, `b-1234567-4`. Parsing once into [`TaxId`]
//! means every comparison, hash and index downstream sees the same canonical string, and an
//! invalid value is rejected with a reason a person can act on (ALG-3 logs it).

use serde::{Deserialize, Serialize};
use std::fmt;

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
const CIF_ORG_LETTERS: &str = "ABCDEFGHJNPQRSUVW";
const CIF_CONTROL_LETTERS: &[u8; 10] = b"JABCDEFGHI";

/// Which of the three Spanish identification kinds a [`TaxId`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaxIdKind {
    /// Documento Nacional de Identidad: 8 digits and a check letter (persons).
    Dni,
    /// Número de Identidad de Extranjero: X/Y/Z, 7 digits and a check letter (foreign persons).
    Nie,
    /// Código de Identificación Fiscal: organisation letter, 7 digits, check digit or letter.
    Cif,
}

/// Why a value is not a valid Spanish tax id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaxIdError {
    #[error("empty identification")]
    Empty,
    #[error("'{0}' has {1} characters once cleaned; a NIF, NIE or CIF has 9")]
    Length(String, usize),
    #[error("'{0}' is not shaped like a DNI (8 digits + letter), NIE (X/Y/Z + 7 digits + letter) or CIF (letter + 7 digits + control)")]
    Shape(String),
    #[error("'{value}' has check character '{got}', expected '{expected}'")]
    Check {
        value: String,
        got: char,
        expected: char,
    },
}

/// A normalised, validated Spanish tax id: upper case, no spaces, dots, dashes or `ES` prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaxId(String);

impl TaxId {
    /// Normalises and validates. Accepts case, spaces, dots, dashes, slashes and an `ES` prefix.
    pub fn parse(raw: &str) -> Result<TaxId, TaxIdError> {
        let mut s: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '/' | '_' | '\t'))
            .flat_map(char::to_uppercase)
            .collect();
        if s.is_empty() {
            return Err(TaxIdError::Empty);
        }
        // An intra-EU VAT form "ES" + NIF: strip the country prefix when what follows is 9 long.
        if s.len() == 11 && s.starts_with("ES") {
            s.drain(..2);
        }
        if s.len() != 9 || !s.is_ascii() {
            let n = s.chars().count();
            return Err(TaxIdError::Length(s, n));
        }
        let b = s.as_bytes();
        let first = b[0] as char;
        let last = b[8] as char;
        let digits7 = &s[1..8];
        if first.is_ascii_digit() {
            // DNI
            if !s[..8].bytes().all(|c| c.is_ascii_digit()) || !last.is_ascii_alphabetic() {
                return Err(TaxIdError::Shape(s));
            }
            let n: u32 = s[..8].parse().expect("8 digits");
            let expected = DNI_LETTERS[(n % 23) as usize] as char;
            return check(s, last, expected);
        }
        if matches!(first, 'X' | 'Y' | 'Z') {
            if !digits7.bytes().all(|c| c.is_ascii_digit()) || !last.is_ascii_alphabetic() {
                return Err(TaxIdError::Shape(s));
            }
            let prefix = match first {
                'X' => 0,
                'Y' => 1,
                _ => 2,
            };
            let n: u32 = prefix * 10_000_000 + digits7.parse::<u32>().expect("7 digits");
            let expected = DNI_LETTERS[(n % 23) as usize] as char;
            return check(s, last, expected);
        }
        if CIF_ORG_LETTERS.contains(first) {
            if !digits7.bytes().all(|c| c.is_ascii_digit()) || !last.is_ascii_alphanumeric() {
                return Err(TaxIdError::Shape(s));
            }
            let control = cif_control_digit(digits7);
            let as_digit = char::from(b'0' + control);
            let as_letter = CIF_CONTROL_LETTERS[control as usize] as char;
            let expected = match first {
                'A' | 'B' | 'E' | 'H' => as_digit,
                'N' | 'P' | 'Q' | 'R' | 'S' | 'W' => as_letter,
                _ if last == as_letter => as_letter,
                _ => as_digit,
            };
            return check(s, last, expected);
        }
        // K, L, M NIFs exist but are rare; treat them like NIE-shaped persons with a DNI letter.
        if matches!(first, 'K' | 'L' | 'M')
            && digits7.bytes().all(|c| c.is_ascii_digit())
            && last.is_ascii_alphabetic()
        {
            let n: u32 = digits7.parse().expect("7 digits");
            let expected = DNI_LETTERS[(n % 23) as usize] as char;
            return check(s, last, expected);
        }
        Err(TaxIdError::Shape(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Text that every usual way of typing this id contains — a DNI's eight digits (also
    /// with thousands dots, `12.345.678`), a NIE's or CIF's seven — for vendor searches that
    /// match raw text: an exact filter on the canonical form misses a record whose
    /// identification was typed `12.345.678-z` or `b-1234567-4`.
    pub fn search_fragments(&self) -> Vec<String> {
        let s = self.as_str();
        if s.as_bytes()[0].is_ascii_digit() {
            let d = &s[..8];
            vec![
                d.to_string(),
                format!("{}.{}.{}", &d[..2], &d[2..5], &d[5..]),
            ]
        } else {
            vec![s[1..8].to_string()]
        }
    }

    pub fn kind(&self) -> TaxIdKind {
        let first = self.0.as_bytes()[0];
        match first {
            b'0'..=b'9' | b'K' | b'L' | b'M' => TaxIdKind::Dni,
            b'X' | b'Y' | b'Z' => TaxIdKind::Nie,
            _ => TaxIdKind::Cif,
        }
    }
}

fn check(s: String, got: char, expected: char) -> Result<TaxId, TaxIdError> {
    if got == expected {
        Ok(TaxId(s))
    } else {
        Err(TaxIdError::Check {
            value: s,
            got,
            expected,
        })
    }
}

/// The CIF control digit over the 7 central digits (standard AEAT algorithm).
fn cif_control_digit(digits7: &str) -> u8 {
    let mut sum = 0u32;
    for (i, c) in digits7.bytes().enumerate() {
        let d = (c - b'0') as u32;
        if i % 2 == 0 {
            // odd positions (1st, 3rd, ...): double and add the digits
            let x = d * 2;
            sum += x / 10 + x % 10;
        } else {
            sum += d;
        }
    }
    ((10 - (sum % 10)) % 10) as u8
}

impl fmt::Display for TaxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TaxId {
    type Error = TaxIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TaxId::parse(&value)
    }
}

impl From<TaxId> for String {
    fn from(value: TaxId) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alg2_search_fragments_are_contained_in_every_usual_spelling() {
        let dni = TaxId::parse("12345678Z").unwrap();
        let f = dni.search_fragments();
        for typed in ["12.345.678-z", "12345678-Z", "12345678 z", "es 12345678Z"] {
            assert!(f.iter().any(|x| typed.contains(x.as_str())), "{typed}");
            assert_eq!(TaxId::parse(typed).unwrap(), dni);
        }
        let cif = TaxId::parse("B12345674").unwrap();
        assert_eq!(cif.search_fragments(), vec!["1234567"]);
        for typed in ["b-1234567-4", "B 1234567 4", "B-12345674", "es b12345674"] {
            assert!(typed.contains("1234567"), "{typed}");
            assert_eq!(TaxId::parse(typed).unwrap(), cif);
        }
        assert_eq!(
            TaxId::parse("X1234567L").unwrap().search_fragments(),
            vec!["1234567"]
        );
    }

    #[test]
    fn alg2_dni_normalises_case_dots_dashes_spaces_and_es_prefix() {
        for raw in [
            "12345678Z",
            "12345678z",
            "12.345.678-Z",
            " 12 345 678 z ",
            "ES12345678Z",
            "es 12.345.678-z",
        ] {
            let t = TaxId::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(t.as_str(), "12345678Z", "{raw}");
            assert_eq!(t.kind(), TaxIdKind::Dni);
        }
    }

    #[test]
    fn alg2_nie_and_cif_are_accepted() {
        let nie = TaxId::parse("x-1234567-l").unwrap();
        assert_eq!(nie.as_str(), "X1234567L");
        assert_eq!(nie.kind(), TaxIdKind::Nie);
        // B + 1234567: control digit computed by the AEAT rule is 4.
        let cif = TaxId::parse("b-12345674").unwrap();
        assert_eq!(cif.as_str(), "B12345674");
        assert_eq!(cif.kind(), TaxIdKind::Cif);
        // P/Q/S take a letter: Q2826000H is the AEAT's own CIF.
        assert_eq!(TaxId::parse("Q2826000H").unwrap().kind(), TaxIdKind::Cif);
    }

    #[test]
    fn alg3_invalid_values_say_why() {
        assert_eq!(TaxId::parse("  "), Err(TaxIdError::Empty));
        assert!(matches!(
            TaxId::parse("1234"),
            Err(TaxIdError::Length(_, 4))
        ));
        let err = TaxId::parse("12345678A").unwrap_err();
        assert_eq!(
            err,
            TaxIdError::Check {
                value: "12345678A".into(),
                got: 'A',
                expected: 'Z'
            }
        );
        assert!(err.to_string().contains("expected 'Z'"));
        assert!(matches!(
            TaxId::parse("ÑÑÑÑÑÑÑÑÑ"),
            Err(TaxIdError::Length(..))
        ));
        assert!(matches!(
            TaxId::parse("I12345678"),
            Err(TaxIdError::Shape(_))
        ));
        assert!(TaxId::parse("B12345675").is_err());
    }

    #[test]
    fn alg2_serde_roundtrip_parses() {
        let t: TaxId = serde_json::from_str("\"12.345.678-z\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"12345678Z\"");
        assert!(serde_json::from_str::<TaxId>("\"nope\"").is_err());
    }
}
