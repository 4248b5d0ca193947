//! Django REST Framework's `PageNumberPagination` (Clientify): `page` (1-based, or `last`)
//! and `page_size`; the envelope `{count, next, previous, results}` with absolute links that
//! keep the other query parameters.

use serde_json::{json, Value};

use super::{numbered, page_count};
use crate::kit::http::{qget, quote_plus};

/// The envelope fields besides `results`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DrfPage {
    pub(crate) count: usize,
    pub(crate) next: Option<String>,
    pub(crate) previous: Option<String>,
}

impl DrfPage {
    /// `{"count", "next", "previous", "results"}`.
    pub(crate) fn envelope(&self, results: Vec<Value>) -> Value {
        json!({"count": self.count, "next": self.next, "previous": self.previous,
               "results": results})
    }
}

/// `page` is not a number, below 1 or past the last page: DRF answers 404 `Invalid page.`
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidPage;

/// The page the query asks for. `page_size` defaults to `default_size` when missing or not a
/// positive integer (DRF's `_positive_int`) and is capped at `max_size`; an empty list still
/// has a page 1. `next`/`previous` are `page_url` plus the query with `page` replaced, or
/// dropped for page 1 (`replace_query_param`/`remove_query_param`), keys sorted as DRF
/// re-encodes them.
pub(crate) fn page<'a, T>(
    items: &'a [T],
    q: &[(String, String)],
    page_url: &str,
    default_size: usize,
    max_size: usize,
) -> Result<(&'a [T], DrfPage), InvalidPage> {
    let count = items.len();
    let size = qget(q, "page_size")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(default_size, |n| n.min(max_size));
    let pages = page_count(count, size).max(1);
    let raw = qget(q, "page").unwrap_or("1");
    let page = if raw == "last" {
        pages
    } else {
        match raw.trim().parse::<i64>() {
            Ok(p) if p >= 1 && (p as usize) <= pages => p as usize,
            _ => return Err(InvalidPage),
        }
    };
    // DRF `replace_query_param` / `remove_query_param`: parse_qs, set or
    // drop `page`, `urlencode(sorted(items), doseq=True)`.
    let link = |p: Option<usize>| -> String {
        let page_str = p.map(|p| p.to_string());
        let mut keys: Vec<&str> = q
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != "page")
            .collect();
        if page_str.is_some() {
            keys.push("page");
        }
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        for k in keys {
            if k == "page" {
                if let Some(ps) = &page_str {
                    out.push(format!("page={ps}"));
                }
                continue;
            }
            for (_, v) in q.iter().filter(|(kk, _)| kk == k) {
                out.push(format!("{}={}", quote_plus(k), quote_plus(v)));
            }
        }
        if out.is_empty() {
            page_url.to_string()
        } else {
            format!("{page_url}?{}", out.join("&"))
        }
    };
    let next = (page < pages).then(|| link(Some(page + 1)));
    let previous = match page {
        1 => None,
        2 => Some(link(None)),
        p => Some(link(Some(p - 1))),
    };
    Ok((
        numbered(items, page, size),
        DrfPage {
            count,
            next,
            previous,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::super::query_of;
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn following_next_covers_every_item_once() {
        let items: Vec<u32> = (0..23).collect();
        let mut query = q(&[("page_size", "5"), ("ordering", "-id")]);
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let (page, meta) = page(&items, &query, "http://h/v1/contacts/", 50, 250).unwrap();
            assert_eq!(meta.count, 23);
            seen.extend_from_slice(page);
            pages += 1;
            match meta.next {
                Some(next) => {
                    assert!(next.starts_with("http://h/v1/contacts/?ordering=-id&page="));
                    query = query_of(&next);
                }
                None => break,
            }
        }
        assert_eq!((pages, seen), (5, items));
    }

    #[test]
    fn links_drop_page_for_the_first_page_and_sort_keys() {
        let items: Vec<u32> = (0..30).collect();
        let query = q(&[("z", "1"), ("page", "2"), ("page_size", "10"), ("a", "x y")]);
        let (page, meta) = page(&items, &query, "u", 50, 250).unwrap();
        assert_eq!(page, &items[10..20]);
        assert_eq!(meta.previous.as_deref(), Some("u?a=x+y&page_size=10&z=1"));
        assert_eq!(
            meta.next.as_deref(),
            Some("u?a=x+y&page=3&page_size=10&z=1")
        );
        let (_, last) = super::page(&items, &q(&[("page", "last")]), "u", 10, 250).unwrap();
        assert_eq!(
            (last.next, last.previous.as_deref()),
            (None, Some("u?page=2"))
        );
    }

    #[test]
    fn sizes_default_cap_and_bad_pages_are_invalid() {
        let items: Vec<u32> = (0..600).collect();
        let size = |qs: &[(&str, &str)]| page(&items, &q(qs), "u", 50, 250).unwrap().0.len();
        assert_eq!(size(&[]), 50);
        assert_eq!(size(&[("page_size", "abc")]), 50);
        assert_eq!(size(&[("page_size", "0")]), 50);
        assert_eq!(size(&[("page_size", "1000")]), 250);
        for bad in ["0", "-1", "x", "13"] {
            assert_eq!(
                page(&items, &q(&[("page", bad)]), "u", 50, 250).unwrap_err(),
                InvalidPage,
                "{bad}"
            );
        }
        let none: Vec<u32> = Vec::new();
        let (empty, meta) = page(&none, &[], "u", 50, 250).unwrap();
        assert!(empty.is_empty());
        assert_eq!(
            meta.envelope(vec![]),
            json!({"count": 0, "next": null,
            "previous": null, "results": []})
        );
    }
}
