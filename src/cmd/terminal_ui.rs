//! The [`Ui`] of a person at a terminal: every question is written to and answered on the
//! controlling terminal (`tty`), one question at a time per user (`prompt_lock`), hidden
//! answers with echo off and the mode restored on every way out. Mistakes a person makes
//! while typing are handled here (an empty passphrase, a repeat that differs, an answer
//! that is none of the choices); whether a passphrase is wrong is the library's call.

use super::prompt_lock;
use super::tty::Tty;
use crate::error::{Error, Result};
use crate::output;
use crate::passphrase::TRIES;
use crate::secret::Passphrase;
use crate::ui::{Choice, NoTerminal, PassphraseAsk, Ui};
use std::path::Path;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The Ui for this process: the terminal when there is a controlling one, else nobody.
pub fn detect() -> Arc<dyn Ui> {
    if Tty::open().is_ok() {
        Arc::new(TerminalUi)
    } else {
        Arc::new(NoTerminal)
    }
}

/// A person at the controlling terminal.
pub struct TerminalUi;

impl TerminalUi {
    /// Asks one question on the terminal under the prompt lock; `ask` does the asking.
    fn ask<T>(&self, ask: impl FnOnce(&mut Tty) -> std::io::Result<T>) -> Result<T> {
        let mut tty = Tty::open().map_err(|_| crate::ui::no_terminal())?;
        let _lock = prompt_lock::take(&mut tty);
        output::clear_activity();
        ask(&mut tty).map_err(|e| Error::failure(format!("could not read from the terminal: {e}")))
    }

    fn hidden(&self, prompt: &str) -> Result<Zeroizing<String>> {
        self.ask(|tty| tty.hidden(prompt))
    }
}

/// A passphrase, asked until it is not empty ([`TRIES`] times at most; `None` after).
fn non_empty(tty: &mut Tty, label: &str) -> std::io::Result<Option<Passphrase>> {
    for round in 1..=TRIES {
        let value = tty.hidden(label)?;
        if !value.is_empty() {
            return Ok(Some(Passphrase::new(value.as_str())));
        }
        if round < TRIES {
            output::warning("the passphrase is empty; type it again", None);
        }
    }
    Ok(None)
}

fn empty() -> Error {
    Error::usage("the passphrase from the prompt is empty")
}

impl Ui for TerminalUi {
    fn can_ask(&self) -> bool {
        true
    }

    fn passphrase(&self, what: &PassphraseAsk<'_>) -> Result<Passphrase> {
        if what.attempt > 1 {
            output::warning(
                &format!(
                    "wrong passphrase; try again ({}/{})",
                    what.attempt, what.tries
                ),
                None,
            );
        }
        let label = format!("Passphrase for {}: ", what.vault.display());
        self.ask(|tty| non_empty(tty, &label))?.ok_or_else(empty)
    }

    /// Typed twice, under one hold of the prompt lock (no other prompt between the two);
    /// a repeat that differs asks both again ([`TRIES`] rounds).
    fn new_passphrase(&self, vault: &Path) -> Result<Passphrase> {
        let label = format!("New passphrase for {}: ", vault.display());
        let typed = self.ask(|tty| {
            for round in 1..=TRIES {
                let Some(first) = non_empty(tty, &label)? else {
                    return Ok(Err(empty()));
                };
                let Some(second) = non_empty(tty, "Repeat it: ")? else {
                    return Ok(Err(empty()));
                };
                if first.ct_eq(&second) {
                    return Ok(Ok(first));
                }
                if round < TRIES {
                    output::warning("the two passphrases differ; type them again", None);
                }
            }
            Ok(Err(Error::usage(format!(
                "the two passphrases differed {TRIES} times; nothing was written"
            ))
            .hint("run the command again")))
        })??;
        if typed.expose().chars().count() < 8 {
            output::warning(
                "a passphrase under 8 characters is weak; the KDF slows guessing, it cannot make a short passphrase strong",
                None,
            );
        }
        Ok(typed)
    }

    fn confirm(&self, question: &str, default: bool) -> Result<bool> {
        let marks = if default { "[Y/n]" } else { "[y/N]" };
        let answer = self.ask(|tty| tty.line(&format!("{question} {marks} ")))?;
        Ok(match answer.trim().to_ascii_lowercase().as_str() {
            "" => default,
            "y" | "yes" => true,
            _ => false,
        })
    }

    fn choose(&self, question: &str, options: &[Choice], default: usize) -> Result<usize> {
        let mut text = format!("{question}\n");
        for (i, option) in options.iter().enumerate() {
            let mark = if i == default { " (default)" } else { "" };
            text.push_str(&format!(
                "  {}) {}{mark}: {}\n",
                i + 1,
                option.name,
                option.help
            ));
        }
        let names: Vec<&str> = options.iter().map(|o| o.name.as_str()).collect();
        let prompt = format!("Answer [{}]: ", names.join("/"));
        self.ask(|tty| {
            tty.say(&text)?;
            loop {
                let answer = tty.line(&prompt)?;
                if let Some(i) = pick(answer.trim(), options, default) {
                    return Ok(i);
                }
                tty.say(&format!("Answer one of {}.\n", names.join(", ")))?;
            }
        })
    }

    fn line(&self, prompt: &str, hidden: bool) -> Result<Zeroizing<String>> {
        if hidden {
            self.hidden(prompt)
        } else {
            self.ask(|tty| tty.line(prompt))
        }
    }
}

/// The option an answer names: empty for the default, its number, or its name.
fn pick(answer: &str, options: &[Choice], default: usize) -> Option<usize> {
    if answer.is_empty() {
        return Some(default);
    }
    if let Ok(n) = answer.parse::<usize>() {
        return (1..=options.len()).contains(&n).then(|| n - 1);
    }
    options
        .iter()
        .position(|o| o.name.eq_ignore_ascii_case(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_picks_by_number_name_or_default() {
        let options = [Choice::new("tokens", "a"), Choice::new("broker", "b")];
        assert_eq!(pick("", &options, 1), Some(1));
        assert_eq!(pick("1", &options, 1), Some(0));
        assert_eq!(pick("Broker", &options, 0), Some(1));
        assert_eq!(pick("3", &options, 0), None);
        assert_eq!(pick("maybe", &options, 0), None);
    }
}
