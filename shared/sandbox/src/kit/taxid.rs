//! Spanish tax identifiers (DNI, NIE, CIF): generators with their real
//! check characters, a normaliser and a validator.
//!
//! Used by the world generator and by tests that want to check generated
//! data. The algorithms are the public AEAT/Interior ones:
//! - DNI: 8 digits + `"TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]`.
//! - NIE: X/Y/Z (→ 0/1/2 prefixed to the 7 digits), then the DNI rule.
//! - CIF: organisation letter + 7 digits + control; control is a digit for
//!   A, B, E, H, a letter from `"JABCDEFGHI"` for N, P, Q, R, S, W and either
//!   for the other letters.

/// Check letters for DNI/NIE, indexed by `number % 23`.
pub const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
/// Letters a CIF may start with.
pub const CIF_ORG_LETTERS: &str = "ABCDEFGHJNPQRSUVW";
const CIF_CONTROL_LETTERS: &[u8; 10] = b"JABCDEFGHI";

/// Kind of a valid identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaxIdKind {
    /// Spanish national (8 digits + letter).
    Dni,
    /// Foreigner id (X/Y/Z + 7 digits + letter).
    Nie,
    /// Legal entity (letter + 7 digits + control).
    Cif,
}

/// The DNI check letter of a number.
pub fn dni_letter(n: u32) -> char {
    DNI_LETTERS[(n % 23) as usize] as char
}

/// A DNI from its number (taken modulo 10^8).
pub fn dni(n: u32) -> String {
    let n = n % 100_000_000;
    format!("{n:08}{}", dni_letter(n))
}

/// A NIE from its prefix (`X`, `Y` or `Z`) and 7-digit number.
pub fn nie(prefix: char, n: u32) -> String {
    let n = n % 10_000_000;
    let lead = match prefix {
        'Y' => 1,
        'Z' => 2,
        _ => 0,
    };
    let prefix = ['X', 'Y', 'Z'][lead as usize];
    format!("{prefix}{n:07}{}", dni_letter(lead * 10_000_000 + n))
}

/// The CIF control value (0..=9) of the 7 central digits.
pub fn cif_control(digits: &str) -> u32 {
    let mut sum = 0;
    for (i, c) in digits.chars().enumerate() {
        let d = c.to_digit(10).unwrap_or(0);
        if i % 2 == 0 {
            // 1st, 3rd, 5th, 7th: double and add the digits.
            let x = d * 2;
            sum += x / 10 + x % 10;
        } else {
            sum += d;
        }
    }
    (10 - sum % 10) % 10
}

/// A CIF from its organisation letter and 7-digit number, with the control
/// character the standard mandates for that letter (a digit when either is
/// allowed).
pub fn cif(org: char, n: u32) -> String {
    let digits = format!("{:07}", n % 10_000_000);
    let control = cif_control(&digits);
    let c = if "NPQRSW".contains(org) {
        CIF_CONTROL_LETTERS[control as usize] as char
    } else {
        char::from_digit(control, 10).unwrap_or('0')
    };
    format!("{org}{digits}{c}")
}

/// Upper-case and drop spaces, dots, dashes and slashes.
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '/' | '\t'))
        .flat_map(char::to_uppercase)
        .collect()
}

/// Like [`normalize`] and also drops a leading `ES` country prefix
/// (intra-EU VAT form) when what follows is 9 characters long.
pub fn canonical(s: &str) -> String {
    let n = normalize(s);
    if n.len() == 11 && n.starts_with("ES") {
        n[2..].to_string()
    } else {
        n
    }
}

/// Classifies a (possibly untidy) identifier whose check character is right.
pub fn classify(s: &str) -> Option<TaxIdKind> {
    let n = canonical(s);
    let b = n.as_bytes();
    if b.len() != 9 || !n.is_ascii() {
        return None;
    }
    let body = &n[1..8];
    let last = b[8] as char;
    match b[0] {
        b'0'..=b'9' => {
            let num: u32 = n[..8].parse().ok()?;
            (dni_letter(num) == last).then_some(TaxIdKind::Dni)
        }
        b'X' | b'Y' | b'Z' => {
            let lead = u32::from(b[0] - b'X');
            let num: u32 = body.parse().ok()?;
            (dni_letter(lead * 10_000_000 + num) == last).then_some(TaxIdKind::Nie)
        }
        org if CIF_ORG_LETTERS.as_bytes().contains(&org) => {
            if !body.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let control = cif_control(body);
            let digit = char::from_digit(control, 10)?;
            let letter = CIF_CONTROL_LETTERS[control as usize] as char;
            let ok = match org {
                b'A' | b'B' | b'E' | b'H' => last == digit,
                b'N' | b'P' | b'Q' | b'R' | b'S' | b'W' => last == letter,
                _ => last == digit || last == letter,
            };
            ok.then_some(TaxIdKind::Cif)
        }
        _ => None,
    }
}

/// True when the identifier (untidy forms allowed) has a correct check
/// character.
pub fn is_valid(s: &str) -> bool {
    classify(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_validate() {
        assert_eq!(dni(12_345_678), "12345678Z");
        assert!(is_valid("12345678Z"));
        assert!(is_valid("12.345.678-z"));
        assert!(is_valid("es 12345678Z"));
        assert!(!is_valid("12345678A"));
        assert_eq!(nie('X', 1_234_567), "X1234567L");
        assert_eq!(classify("x-1234567-l"), Some(TaxIdKind::Nie));
        // Published examples.
        assert_eq!(cif('A', 5_881_850), "A58818501");
        assert_eq!(cif('Q', 2_826_000), "Q2826000H");
        assert!(is_valid("A58818501"));
        assert!(is_valid("Q2826000H"));
        assert!(!is_valid("Q28260008"));
        assert_eq!(classify("a-58818501"), Some(TaxIdKind::Cif));
    }

    #[test]
    fn every_generated_form_validates() {
        for n in (0..10_000_000u32).step_by(99_991) {
            assert!(is_valid(&dni(n * 7 + 10_000_000)));
            for p in ['X', 'Y', 'Z'] {
                assert!(is_valid(&nie(p, n)));
            }
            for org in CIF_ORG_LETTERS.chars() {
                assert!(is_valid(&cif(org, n)), "{}", cif(org, n));
            }
        }
    }
}
