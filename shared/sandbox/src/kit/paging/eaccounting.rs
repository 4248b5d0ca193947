//! Visma eAccounting: `$page` (1-based) and `$pagesize`; the envelope `{Meta, Data}` with the
//! page counts and the server's UTC time in `Meta`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::{numbered, page_count};

/// eAccounting's `Meta` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Meta {
    pub(crate) current_page: usize,
    pub(crate) page_size: usize,
    pub(crate) total_number_of_pages: usize,
    pub(crate) total_number_of_results: usize,
    /// ISO 8601 with milliseconds and `Z` (.NET's round-trip format is longer; clients
    /// parse either) [I].
    pub(crate) server_time_utc: String,
}

impl Meta {
    /// `{"Meta": {…}, "Data": [...]}`.
    pub(crate) fn envelope(&self, data: Vec<Value>) -> Value {
        json!({"Meta": self, "Data": data})
    }
}

/// Page `page` (1-based; 0 is taken as 1) of `page_size` (at least 1); `now` is the sandbox
/// clock. A page past the end is empty.
pub(crate) fn page<T>(
    items: &[T],
    page: usize,
    page_size: usize,
    now: DateTime<Utc>,
) -> (&[T], Meta) {
    let size = page_size.max(1);
    let current = page.max(1);
    (
        numbered(items, current, size),
        Meta {
            current_page: current,
            page_size: size,
            total_number_of_pages: page_count(items.len(), size),
            total_number_of_results: items.len(),
            server_time_utc: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_item_once_and_meta_counts_them() {
        let now = DateTime::parse_from_rfc3339("2026-02-03T04:05:06.789Z")
            .unwrap()
            .with_timezone(&Utc);
        let items: Vec<u32> = (0..120).collect();
        let mut seen = Vec::new();
        let mut p = 1;
        loop {
            let (data, meta) = page(&items, p, 50, now);
            seen.extend_from_slice(data);
            if meta.current_page >= meta.total_number_of_pages {
                break;
            }
            p += 1;
        }
        assert_eq!(seen, items);
        let (data, meta) = page(&items, 3, 50, now);
        assert_eq!(data, &items[100..]);
        assert_eq!(
            meta.envelope(vec![]),
            json!({"Meta": {"CurrentPage": 3, "PageSize": 50, "TotalNumberOfPages": 3,
                            "TotalNumberOfResults": 120,
                            "ServerTimeUtc": "2026-02-03T04:05:06.789Z"},
                   "Data": []})
        );
        let (past, meta) = page(&items, 4, 50, now);
        assert!(past.is_empty());
        assert_eq!(meta.current_page, 4);
    }
}
