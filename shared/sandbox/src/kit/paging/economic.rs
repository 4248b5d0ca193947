//! Visma e-conomic: `skippages` and `pagesize` (default 20, at most 1000); the collection
//! comes with a `pagination` object whose `nextPage` is present only while more pages remain.

use serde::Serialize;

use super::{link, numbered, page_count};

/// e-conomic's `pagination` object, fields in the vendor's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pagination {
    pub(crate) max_page_size_allowed: usize,
    pub(crate) skip_pages: usize,
    pub(crate) page_size: usize,
    /// Items matching the filter.
    pub(crate) results: usize,
    /// Items in the collection before the filter.
    pub(crate) results_without_filter: usize,
    pub(crate) first_page: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_page: Option<String>,
    pub(crate) last_page: String,
}

/// Page `skip_pages` (0-based) of `page_size` (taken as at least 1) out of the filtered
/// `items`; `unfiltered` is the collection's size before the filter. Links are `base` with
/// the other query parameters kept and `skippages`/`pagesize` set. Refusing a `pagesize`
/// over `max_page_size` is the vendor module's call; it is only reported here.
pub(crate) fn page<'a, T>(
    items: &'a [T],
    skip_pages: usize,
    page_size: usize,
    max_page_size: usize,
    unfiltered: usize,
    base: &str,
    q: &[(String, String)],
) -> (&'a [T], Pagination) {
    let size = page_size.max(1);
    let at = |p: usize| {
        link(
            base,
            q,
            &[("skippages", p.to_string()), ("pagesize", size.to_string())],
        )
    };
    let pages = page_count(items.len(), size);
    let page = numbered(items, skip_pages.saturating_add(1), size);
    (
        page,
        Pagination {
            max_page_size_allowed: max_page_size,
            skip_pages,
            page_size: size,
            results: items.len(),
            results_without_filter: unfiltered,
            first_page: at(0),
            next_page: (skip_pages.saturating_add(1) < pages).then(|| at(skip_pages + 1)),
            last_page: at(pages.saturating_sub(1)),
        },
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn next_page_is_there_only_while_pages_remain() {
        let items: Vec<u32> = (0..32).collect();
        let base = "https://restapi.e-conomic.com/customers";
        let (first, p) = page(&items, 0, 20, 1000, 40, base, &[]);
        assert_eq!(first, &items[..20]);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"maxPageSizeAllowed": 1000, "skipPages": 0, "pageSize": 20, "results": 32,
                   "resultsWithoutFilter": 40,
                   "firstPage": format!("{base}?skippages=0&pagesize=20"),
                   "nextPage": format!("{base}?skippages=1&pagesize=20"),
                   "lastPage": format!("{base}?skippages=1&pagesize=20")})
        );
        let (last, p) = page(&items, 1, 20, 1000, 40, base, &[]);
        assert_eq!(last, &items[20..]);
        assert!(!serde_json::to_value(&p)
            .unwrap()
            .as_object()
            .unwrap()
            .contains_key("nextPage"));
    }

    #[test]
    fn skipping_page_by_page_covers_every_item_once() {
        let items: Vec<u32> = (0..45).collect();
        let q = vec![("filter".to_string(), "name$like:a".to_string())];
        let mut seen = Vec::new();
        let mut skip = 0;
        loop {
            let (page, p) = page(&items, skip, 7, 1000, 45, "u", &q);
            seen.extend_from_slice(page);
            assert_eq!(
                p.last_page,
                "u?filter=name%24like%3Aa&skippages=6&pagesize=7"
            );
            if p.next_page.is_none() {
                break;
            }
            skip += 1;
        }
        assert_eq!(seen, items);
        let empty: Vec<u32> = Vec::new();
        let (none, p) = page(&empty, 0, 20, 1000, 0, "u", &[]);
        assert!(none.is_empty() && p.next_page.is_none());
        assert_eq!(p.last_page, "u?skippages=0&pagesize=20");
    }
}
