//! EU VAT numbers of the Dutch, Danish and Swedish parties in the shop and accounting
//! sandboxes: generated with valid check digits and checked by the same public rules, so
//! seeded data passes a connector's (or VIES-like) validation.
//!
//! - NL btw-nummer: `NL` + 9 digits + `B` + 2 digits; digits 1–8 weighted 9..2 sum, mod 11,
//!   to digit 9 (the "elfproef"). The 2020 btw-id for sole traders passes a mod-97 test
//!   instead (`NL…` letters as numbers, remainder 1); both are accepted.
//! - DK CVR (`DK` + 8 digits): weights 2,7,6,5,4,3,2,1, the sum divisible by 11.
//! - SE momsregistreringsnummer: `SE` + a 10-digit organisationsnummer with a Luhn check
//!   digit + `01`.

use rand::Rng;

/// Digits of `s` as numbers (caller made sure they are all digits).
fn digits(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

fn all_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// The elfproef check digit of 8 digits, `None` when it would be 10.
fn nl_check(d8: &[u32]) -> Option<u32> {
    let sum: u32 = d8.iter().zip((2..=9).rev()).map(|(d, w)| d * w).sum();
    Some(sum % 11).filter(|c| *c < 10)
}

/// `NL` + `number` mod 97 with letters as 10..35 (the 2020 btw-id rule).
fn nl_mod97(vat: &str) -> bool {
    let mut rem: u64 = 0;
    for c in vat.chars() {
        let v = match c {
            '0'..='9' => u64::from(c as u8 - b'0'),
            'A'..='Z' => u64::from(c as u8 - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// A valid Dutch VAT number (`NL123456782B01`) drawn from `rng`.
pub fn nl(rng: &mut impl Rng) -> String {
    loop {
        let d8: Vec<u32> = (0..8).map(|_| rng.gen_range(0..10)).collect();
        if let Some(c) = nl_check(&d8) {
            let body: String = d8.iter().map(|d| char::from(b'0' + *d as u8)).collect();
            return format!("NL{body}{c}B{:02}", rng.gen_range(1..4));
        }
    }
}

/// The CVR check: weighted sum divisible by 11.
fn dk_ok(d: &[u32]) -> bool {
    d[0] != 0
        && d.iter()
            .zip([2, 7, 6, 5, 4, 3, 2, 1])
            .map(|(d, w)| d * w)
            .sum::<u32>()
            % 11
            == 0
}

/// A valid Danish CVR number (8 digits, no prefix).
pub fn dk_cvr(rng: &mut impl Rng) -> String {
    loop {
        let mut d: Vec<u32> = (0..7).map(|_| rng.gen_range(0..10)).collect();
        d[0] = rng.gen_range(1..10);
        let sum: u32 = d
            .iter()
            .zip([2, 7, 6, 5, 4, 3, 2])
            .map(|(d, w)| d * w)
            .sum();
        let last = (11 - sum % 11) % 11;
        if last < 10 {
            d.push(last);
            return d.iter().map(|d| char::from(b'0' + *d as u8)).collect();
        }
    }
}

/// Luhn check digit of the first 9 digits of a Swedish organisationsnummer.
fn luhn_check(d9: &[u32]) -> u32 {
    let sum: u32 = d9
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = if i % 2 == 0 { d * 2 } else { *d };
            x / 10 + x % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A valid Swedish organisationsnummer of an aktiebolag (`556xxxxxxC`, no dash).
pub fn se_orgnr(rng: &mut impl Rng) -> String {
    let mut d: Vec<u32> = vec![5, 5, 6];
    d.extend((0..6).map(|_| rng.gen_range(0..10u32)));
    d.push(luhn_check(&d));
    d.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

/// Whether `vat` (country prefix included, spaces and dots ignored) is a valid NL, DK or SE
/// VAT number.
pub fn is_valid(vat: &str) -> bool {
    let v: String = vat
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .collect::<String>()
        .to_uppercase();
    if let Some(rest) = v.strip_prefix("NL") {
        let (num, suffix) = match rest.split_once('B') {
            Some(p) => p,
            None => return false,
        };
        if !all_digits(num, 9) || !all_digits(suffix, 2) {
            return false;
        }
        let d = digits(num);
        nl_check(&d[..8]) == Some(d[8]) || nl_mod97(&v)
    } else if let Some(rest) = v.strip_prefix("DK") {
        all_digits(rest, 8) && dk_ok(&digits(rest))
    } else if let Some(rest) = v.strip_prefix("SE") {
        all_digits(rest, 12) && &rest[10..] == "01" && {
            let d = digits(&rest[..10]);
            luhn_check(&d[..9]) == d[9]
        }
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    /// Published numbers: KLM's `NL004495445B01`, Carlsberg's CVR 61056416, Volvo's
    /// organisationsnummer 556012-5790 (`SE556012579001`).
    #[test]
    fn known_numbers_pass_and_altered_ones_fail() {
        assert!(is_valid("NL004495445B01"));
        assert!(is_valid("DK61056416"));
        assert!(is_valid("SE556012579001"));
        assert!(is_valid("DK 61 05 64 16"));
        assert!(!is_valid("NL004495446B01"));
        assert!(!is_valid("DK61056417"));
        assert!(!is_valid("SE556012579101"));
        assert!(!is_valid("SE556012579002"));
        assert!(!is_valid("DE123456789"));
        assert!(!is_valid("NL004495445"));
    }

    #[test]
    fn generated_numbers_are_valid_and_follow_the_seed() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let n = nl(&mut rng);
            assert!(is_valid(&n), "{n}");
            let d = format!("DK{}", dk_cvr(&mut rng));
            assert!(is_valid(&d), "{d}");
            let s = format!("SE{}01", se_orgnr(&mut rng));
            assert!(is_valid(&s), "{s}");
        }
        let a = nl(&mut StdRng::seed_from_u64(1));
        assert_eq!(a, nl(&mut StdRng::seed_from_u64(1)));
    }
}
