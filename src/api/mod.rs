//! `ttvault api`: read-only calls to the Tastytrade API with the vault's access token,
//! like `gh api`.
//!
//! - `request`: the method (GET or HEAD only), the path under the vault's API base, `-F`
//!   query fields; all checked before anything is sent.
//! - `call`: retries, one fresh token after a 401, errors with the API's own message.
//! - `pagination`: following `page-offset` through Tastytrade's `pagination` object.
//! - `jq`: `--jq` filters (the jaq crates).
//! - `output`: pretty or as received, raw strings, `-i` headers.

pub mod call;
pub mod errors;
pub mod jq;
pub mod output;
pub mod pagination;
pub mod request;

/// The one HTTP client ([`crate::http`]); `api` sends with its own cap and deadline.
pub use crate::http::Client;
pub use call::{Api, Tokens};
pub use output::{Sink, Style};
pub use request::Method;

use crate::error::{Error, Result};
use jaq_json::Val;
use pagination::Next;
use std::io::Write;

/// One `ttvault api` invocation, checked: nothing in it can be refused later except by
/// the server.
#[derive(Debug)]
pub struct Plan {
    pub method: Method,
    path: String,
    fields: Vec<(String, String)>,
    filter: Option<jq::Filter>,
    paginate: bool,
    include: bool,
}

/// The command line's words for a plan.
pub struct Words<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub fields: &'a [String],
    pub jq: Option<&'a str>,
    pub paginate: bool,
    pub include: bool,
}

impl Plan {
    /// Checks every word: a refused method, a bad path or field, a filter that does not
    /// parse, or flags that make no sense together are usage errors (exit 2), before the
    /// vault is opened and before anything is sent.
    pub fn new(words: &Words<'_>) -> Result<Plan> {
        let method = Method::parse(words.method)?;
        // The path is checked against a stand-in base; the real one is the vault's.
        request::url("https://api.invalid", words.path, &[])?;
        let fields = words
            .fields
            .iter()
            .map(|f| request::parse_field(f))
            .collect::<Result<Vec<_>>>()?;
        if method == Method::Head && (words.jq.is_some() || words.paginate) {
            return Err(
                Error::usage("HEAD answers have no body for --jq or --paginate")
                    .hint("drop -X HEAD, or drop --jq and --paginate"),
            );
        }
        let filter = words.jq.map(jq::Filter::compile).transpose()?;
        Ok(Plan {
            method,
            path: words.path.to_string(),
            fields,
            filter,
            paginate: words.paginate,
            include: words.include,
        })
    }
}

/// Runs the plan against `api_base` and prints the result to `out`.
pub fn run<W: Write>(
    plan: &Plan,
    api_base: &str,
    api: &mut Api<'_>,
    out: &mut Sink<W>,
    style: Style,
) -> Result<()> {
    let url = request::url(api_base, &plan.path, &plan.fields)?;
    if plan.paginate {
        return paginate(plan, &url, api, out, style);
    }
    let response = api.call(plan.method, &url)?;
    if plan.include {
        output::head(out, style, &response).map_err(write_error)?;
    }
    if plan.method == Method::Head {
        return flush(out);
    }
    match &plan.filter {
        Some(filter) => filter_body(filter, &response.body, out, style)?,
        None => output::body(out, style, &response.body).map_err(write_error)?,
    }
    flush(out)
}

/// `--paginate`: every page from the asked (or first) `page-offset` on. Without `--jq`
/// the pages' `data.items` form one array (with `-i`, one array per page after its
/// headers); with `--jq` the filter runs on each page's whole answer, so the same filter
/// works with and without `--paginate`.
fn paginate<W: Write>(
    plan: &Plan,
    url: &url::Url,
    api: &mut Api<'_>,
    out: &mut Sink<W>,
    style: Style,
) -> Result<()> {
    let mut offset = request::page_offset(url);
    let mut items = output::Items::new();
    loop {
        let page_url = request::with_page_offset(url, offset);
        let response = api.call(plan.method, &page_url)?;
        // The call checked it is JSON; serde_json's Value still refuses numbers past f64.
        let value: serde_json::Value = serde_json::from_slice(&response.body).map_err(|e| {
            Error::network(format!("a page's JSON cannot be read: {e}"))
                .hint("run without --paginate to see the answer as it is")
        })?;
        if plan.include {
            output::head(out, style, &response).map_err(write_error)?;
        }
        match &plan.filter {
            Some(filter) => filter_body(filter, &response.body, out, style)?,
            None => {
                if pagination::items(&value).is_none() {
                    return Err(not_a_list(&page_url, "has no data.items list"));
                }
                let page = parse(&response.body)?;
                for item in page_items(&page) {
                    items.item(out, style, item).map_err(write_error)?;
                }
                if plan.include {
                    items.end(out, style).map_err(write_error)?;
                }
            }
        }
        if out.closed() {
            return Ok(());
        }
        match pagination::next(offset, &value) {
            Ok(Next::Page(next)) => offset = next,
            Ok(Next::Done) => break,
            Err(problem) => {
                return Err(Error::network(format!(
                    "{} answered a page that cannot be followed: {problem}",
                    crate::endpoints::hosts::origin_of(page_url.as_str())
                ))
                .hint("run without --paginate and walk the pages with -F page-offset=N"))
            }
        }
    }
    if plan.filter.is_none() && !plan.include {
        items.end(out, style).map_err(write_error)?;
    }
    flush(out)
}

fn not_a_list(url: &url::Url, what: &str) -> Error {
    let accounts = errors::accounts_in_path(url.path());
    let path = errors::mask_accounts(&errors::shown_path(url.path(), 120), &accounts);
    Error::failure(format!("--paginate: the answer to {path} {what}"))
        .hint("--paginate follows list answers (data.items with a pagination object); drop it for other paths")
}

fn parse(body: &[u8]) -> Result<Val> {
    jaq_json::read::parse_single(body)
        .map_err(|_| Error::network("the API's answer is not JSON").hint("try again later"))
}

/// `data.items` of a parsed page.
fn page_items(page: &Val) -> Vec<&Val> {
    match get(page, "data").and_then(|d| get(d, "items")) {
        Some(Val::Arr(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

fn get<'v>(value: &'v Val, key: &str) -> Option<&'v Val> {
    match value {
        Val::Obj(map) => map.get(&Val::from(key.to_string())),
        _ => None,
    }
}

fn filter_body<W: Write>(
    filter: &jq::Filter,
    body: &[u8],
    out: &mut Sink<W>,
    style: Style,
) -> Result<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let input = parse(body)?;
    let stop = filter.run(input, &mut |v| {
        output::jq_result(out, style, &v).map_err(write_error)
    })?;
    match stop {
        None | Some(jq::Stop::Halt(0)) => Ok(()),
        Some(jq::Stop::Halt(code)) => Err(Error::failure(format!(
            "--jq: the filter halted with status {code}"
        ))),
        Some(jq::Stop::Error(message)) => Err(Error::failure(format!(
            "--jq: {}",
            errors::mask_accounts(&crate::oauth::sanitize::sanitize(&message, 200), &[])
        ))
        .hint("the filter failed on this answer; `ttvault api PATH` without --jq shows it whole")),
    }
}

fn flush<W: Write>(out: &mut Sink<W>) -> Result<()> {
    out.flush().map_err(write_error)
}

fn write_error(e: std::io::Error) -> Error {
    Error::failure(format!("could not write the output: {e}"))
}
