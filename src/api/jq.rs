//! `--jq EXPR`: a jq filter run in-process by the jaq crates, so no external jq is needed.
//!
//! The filter is the user's own, but it runs inside a process that may hold secrets in its
//! environment (`TTVAULT_PASSPHRASE`): jq's `env` is left out, so a filter cannot print
//! the environment. Everything else of jaq's standard library is there.

use crate::error::{Error, Result};
use jaq_core::data::JustLut;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars};
use jaq_json::Val;

type Data = JustLut<Val>;

/// Natives of jaq's standard library that `--jq` does not offer.
const LEFT_OUT: &[&str] = &["env"];

/// A compiled filter.
pub struct Filter {
    inner: jaq_core::Filter<Data>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Filter")
    }
}

/// How a run ended early: an error raised by the filter, or `halt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `error(…)` or a type error: the message.
    Error(String),
    /// `halt` / `halt_error` with this exit status.
    Halt(i32),
}

impl Filter {
    /// Parses and compiles `expr`. A mistake in it is a usage error (exit 2), found
    /// before anything is sent.
    pub fn compile(expr: &str) -> Result<Filter> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs::<Data>()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs())
            .filter(|(name, _, _)| !LEFT_OUT.contains(name));
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(
                &arena,
                File {
                    code: expr,
                    path: (),
                },
            )
            .map_err(|errors| {
                let what: Vec<String> = errors.iter().map(|(_, e)| load_error(e)).collect();
                bad_filter(&what.join("; "))
            })?;
        let inner = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let what: Vec<String> = errors
                    .iter()
                    .flat_map(|(_, list)| list.iter())
                    .map(|(name, undefined)| {
                        format!("undefined {} {}", undefined.as_str(), clip(name))
                    })
                    .collect();
                bad_filter(&what.join("; "))
            })?;
        Ok(Filter { inner })
    }

    /// Runs the filter on one input and hands each output to `emit` as it comes.
    /// `emit` returning an error stops the run with that error.
    pub fn run(&self, input: Val, emit: &mut dyn FnMut(Val) -> Result<()>) -> Result<Option<Stop>> {
        let ctx = Ctx::<Data>::new(&self.inner.lut, Vars::new([]));
        for out in self.inner.id.run((ctx, input)) {
            match out {
                Ok(v) => emit(v)?,
                Err(exn) => {
                    return Ok(Some(match exn.get_err() {
                        // `error("text")` reads as the text, as jq prints it.
                        Ok(err) => Stop::Error(match err.into_val() {
                            Val::TStr(text) => String::from_utf8_lossy(&text).into_owned(),
                            other => other.to_string(),
                        }),
                        Err(exn) => Stop::Halt(exn.get_halt().unwrap_or(5)),
                    }));
                }
            }
        }
        Ok(None)
    }
}

fn bad_filter(what: &str) -> Error {
    Error::usage(format!("--jq: the filter does not parse: {what}"))
        .hint("jq syntax, e.g. --jq '.data.items[].\"root-symbol\"' (keys with dashes need quotes)")
}

fn load_error(e: &jaq_core::load::Error<&str>) -> String {
    use jaq_core::load::Error as E;
    match e {
        E::Io(list) => list
            .iter()
            .map(|(path, why)| format!("cannot load module {}: {why}", clip(path)))
            .collect::<Vec<_>>()
            .join("; "),
        E::Lex(list) => list
            .iter()
            .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), at(rest)))
            .collect::<Vec<_>>()
            .join("; "),
        E::Parse(list) => list
            .iter()
            .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), at(rest)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Where in the expression: the start of what is left of it.
fn at(rest: &str) -> String {
    if rest.trim().is_empty() {
        "at the end".to_string()
    } else {
        format!("at {}", clip(rest))
    }
}

/// A piece of the expression, quoted and cut short enough for one line.
fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(24).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    format!("`{out}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expr: &str, input: &str) -> (Vec<String>, Option<Stop>) {
        let filter = Filter::compile(expr).unwrap();
        let mut outs = Vec::new();
        let value = jaq_json::read::parse_single(input.as_bytes()).unwrap();
        let stop = filter
            .run(value, &mut |v| {
                outs.push(v.to_string());
                Ok(())
            })
            .unwrap();
        (outs, stop)
    }

    #[test]
    fn runs_jq_on_dasherized_keys() {
        let body = r#"{"data":{"items":[{"root-symbol":"SPX"},{"root-symbol":"SPXW"}]}}"#;
        let (outs, stop) = run(r#".data.items[]."root-symbol""#, body);
        assert_eq!(outs, [r#""SPX""#, r#""SPXW""#]);
        assert_eq!(stop, None);
        let (outs, _) = run(".data.items | map(.\"root-symbol\") | length", body);
        assert_eq!(outs, ["2"]);
    }

    #[test]
    fn the_standard_library_is_there_but_not_env() {
        let (outs, _) = run("[.[] | select(. > 1)] | add", "[1,2,3]");
        assert_eq!(outs, ["5"]);
        let e = Filter::compile("env").unwrap_err();
        assert_eq!(e.code, crate::Code::Usage);
        assert!(e.message.contains("env"), "{}", e.message);
        assert!(Filter::compile("$ENV").is_err());
    }

    #[test]
    fn errors_and_halt_stop_the_run() {
        let (outs, stop) = run(r#"1, error("boom"), 2"#, "null");
        assert_eq!(outs, ["1"]);
        assert_eq!(stop, Some(Stop::Error("boom".into())));
        let (_, stop) = run("halt(3)", "null");
        assert_eq!(stop, Some(Stop::Halt(3)));
    }

    #[test]
    fn syntax_errors_are_usage_errors_that_point_at_the_place() {
        let e = Filter::compile(".data | (").unwrap_err();
        assert_eq!(e.code, crate::Code::Usage);
        assert!(e.message.starts_with("--jq:"), "{}", e.message);
        let e = Filter::compile(".a.b-c").map(|_| ()).unwrap_err();
        assert!(e.message.contains("undefined"), "{}", e.message);
    }
}
