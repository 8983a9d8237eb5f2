//! Tastytrade's pagination: list endpoints take `per-page` and `page-offset` (counted
//! from 0) and answer a `pagination` object (`per-page`, `page-offset`, `item-offset`,
//! `total-items`, `total-pages`, `current-item-count`, `previous-link`, `next-link`,
//! `paging-link-template`) beside `data.items`.
//!
//! The answer is untrusted: the walk moves strictly forward, one page at a time, so a
//! page that names another offset or an absurd page count cannot make it loop or run
//! without end.

use serde_json::Value;

pub const OFFSET_PARAM: &str = "page-offset";

/// A walk stops with an error past this many pages.
pub const MAX_PAGES: u64 = 10_000;

/// What a page's `pagination` object says about where the walk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub page_offset: u64,
    pub total_pages: u64,
}

/// What to do after a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Fetch this page offset.
    Page(u64),
    /// That was the last page (or the answer is not paginated).
    Done,
}

/// Why a page cannot be followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// `pagination` is there but is not an object with whole-number fields.
    Malformed(&'static str),
    /// The page says it is another page than the one asked for.
    WrongPage { asked: u64, answered: u64 },
    /// More pages than [`MAX_PAGES`].
    TooMany(u64),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Malformed(what) => write!(f, "its `pagination` object {what}"),
            Problem::WrongPage { asked, answered } => write!(
                f,
                "page-offset {asked} was asked for and page-offset {answered} came back"
            ),
            Problem::TooMany(n) => write!(
                f,
                "it has {n} pages, more than the {MAX_PAGES} ttvault follows"
            ),
        }
    }
}

/// Reads the `pagination` object of an answer; `Ok(None)` when there is none (`null`
/// counts as none).
pub fn position(body: &Value) -> Result<Option<Position>, Problem> {
    let p = match body.get("pagination") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(p)) => p,
        Some(_) => return Err(Problem::Malformed("is not an object")),
    };
    let whole = |key: &str| -> Result<u64, Problem> {
        match p.get(key) {
            Some(Value::Number(n)) => n.as_u64().ok_or(Problem::Malformed(
                "has a page-offset or total-pages that is not a whole number",
            )),
            Some(Value::String(s)) => s.trim().parse().map_err(|_| {
                Problem::Malformed("has a page-offset or total-pages that is not a whole number")
            }),
            _ => Err(Problem::Malformed("lacks page-offset or total-pages")),
        }
    };
    Ok(Some(Position {
        page_offset: whole("page-offset")?,
        total_pages: whole("total-pages")?,
    }))
}

/// The step after the page that was asked for at `asked`, given its answer.
pub fn next(asked: u64, body: &Value) -> Result<Next, Problem> {
    let Some(at) = position(body)? else {
        return Ok(Next::Done);
    };
    if at.page_offset != asked {
        return Err(Problem::WrongPage {
            asked,
            answered: at.page_offset,
        });
    }
    if at.total_pages > MAX_PAGES {
        return Err(Problem::TooMany(at.total_pages));
    }
    match asked.checked_add(1) {
        Some(following) if following < at.total_pages => Ok(Next::Page(following)),
        _ => Ok(Next::Done),
    }
}

/// `data.items` of an answer, when it is a list.
pub fn items(body: &Value) -> Option<&Vec<Value>> {
    body.get("data")?.get("items")?.as_array()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(offset: Value, total: Value) -> Value {
        json!({"data": {"items": []}, "pagination": {
            "per-page": 2, "page-offset": offset, "item-offset": 0, "total-items": 5,
            "total-pages": total, "current-item-count": 2, "previous-link": null,
            "next-link": null, "paging-link-template": null}})
    }

    #[test]
    fn walks_forward_to_the_last_page() {
        assert_eq!(next(0, &page(json!(0), json!(3))), Ok(Next::Page(1)));
        assert_eq!(next(1, &page(json!(1), json!(3))), Ok(Next::Page(2)));
        assert_eq!(next(2, &page(json!(2), json!(3))), Ok(Next::Done));
        assert_eq!(next(0, &page(json!(0), json!(0))), Ok(Next::Done));
        assert_eq!(next(0, &page(json!("0"), json!("2"))), Ok(Next::Page(1)));
    }

    #[test]
    fn unpaginated_answers_are_one_page() {
        assert_eq!(next(0, &json!({"data": {"items": []}})), Ok(Next::Done));
        assert_eq!(next(0, &json!({"pagination": null})), Ok(Next::Done));
    }

    #[test]
    fn hostile_pagination_cannot_loop_or_run_away() {
        assert_eq!(
            next(1, &page(json!(0), json!(3))),
            Err(Problem::WrongPage {
                asked: 1,
                answered: 0
            })
        );
        assert_eq!(
            next(0, &page(json!(0), json!(MAX_PAGES + 1))),
            Err(Problem::TooMany(MAX_PAGES + 1))
        );
        assert!(matches!(
            next(0, &page(json!(-1), json!(3))),
            Err(Problem::Malformed(_))
        ));
        assert!(matches!(
            next(0, &page(json!(0), json!(1.5))),
            Err(Problem::Malformed(_))
        ));
        assert!(matches!(
            next(0, &json!({"pagination": []})),
            Err(Problem::Malformed(_))
        ));
        // The last possible offset ends the walk instead of overflowing.
        assert_eq!(
            next(u64::MAX, &page(json!(u64::MAX), json!(5))),
            Ok(Next::Done)
        );
    }

    #[test]
    fn items_are_data_items() {
        let body = json!({"data": {"items": [1, 2]}});
        assert_eq!(items(&body).map(Vec::len), Some(2));
        assert_eq!(items(&json!({"data": {}})), None);
    }
}
