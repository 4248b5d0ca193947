//! CCV Shop: `start` (an offset) and `size`; the envelope `{href, start, size, first,
//! previous, next, items}` with absolute links, `next` null on the last page (clients stop
//! there) and `previous` null on the first. The cap (250) and the default are the vendor
//! module's business.

use serde_json::{json, Value};

use super::{link, offset_limit};

/// The envelope fields besides `items`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CcvPage {
    /// This page's own URL.
    pub(crate) href: String,
    pub(crate) start: usize,
    pub(crate) size: usize,
    pub(crate) first: String,
    pub(crate) previous: Option<String>,
    pub(crate) next: Option<String>,
}

impl CcvPage {
    /// `{"href", "start", "size", "first", "previous", "next", "items"}`.
    pub(crate) fn envelope(&self, items: Vec<Value>) -> Value {
        json!({"href": self.href, "start": self.start, "size": self.size, "first": self.first,
               "previous": self.previous, "next": self.next, "items": items})
    }
}

/// `size` items from `start` (a `size` of 0 is taken as 1). Links are `base` with the
/// request's other query parameters kept and `start`/`size` set.
pub(crate) fn page<'a, T>(
    items: &'a [T],
    start: usize,
    size: usize,
    base: &str,
    q: &[(String, String)],
) -> (&'a [T], CcvPage) {
    let size = size.max(1);
    let at = |s: usize| {
        link(
            base,
            q,
            &[("start", s.to_string()), ("size", size.to_string())],
        )
    };
    let page = offset_limit(items, start, Some(size));
    let after = start.saturating_add(size);
    (
        page,
        CcvPage {
            href: at(start),
            start,
            size,
            first: at(0),
            previous: (start > 0).then(|| at(start.saturating_sub(size))),
            next: (after < items.len()).then(|| at(after)),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::query_of;
    use super::*;
    use crate::kit::http::qget;

    #[test]
    fn following_next_covers_every_item_once_and_stops_on_null() {
        let items: Vec<u32> = (0..101).collect();
        let base = "https://shop.example/api/rest/v1/orders";
        let mut url = format!("{base}?status=1");
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let q = query_of(&url);
            let start = qget(&q, "start").map_or(0, |s| s.parse().unwrap());
            let size = qget(&q, "size").map_or(25, |s| s.parse().unwrap());
            let (page, meta) = page(&items, start, size, base, &q);
            seen.extend_from_slice(page);
            pages += 1;
            assert_eq!(meta.first, format!("{base}?status=1&start=0&size=25"));
            match meta.next {
                Some(next) => url = next,
                None => break,
            }
        }
        assert_eq!((pages, seen), (5, items));
    }

    #[test]
    fn envelope_has_previous_only_after_the_first_page() {
        let items: Vec<u32> = (0..10).collect();
        let (p, meta) = page(&items, 4, 4, "u", &[]);
        assert_eq!(p, &[4, 5, 6, 7]);
        assert_eq!(
            meta.envelope(vec![json!(4)]),
            json!({"href": "u?start=4&size=4", "start": 4, "size": 4, "first": "u?start=0&size=4",
                   "previous": "u?start=0&size=4", "next": "u?start=8&size=4", "items": [4]})
        );
        let (first, meta) = page(&items, 0, 0, "u", &[]);
        assert_eq!((first, meta.previous, meta.size), (&items[..1], None, 1));
        let (last, meta) = page(&items, 8, 4, "u", &[]);
        assert_eq!((last, meta.next), (&items[8..], None));
        let (past, meta) = page(&items, 50, 4, "u", &[]);
        assert!(past.is_empty() && meta.next.is_none());
    }
}
