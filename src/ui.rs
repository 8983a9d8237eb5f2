//! How the library asks a person something (design.md "Asking a person"): the one seam
//! between ttvault's logic and a terminal. The library never opens `/dev/tty`, reads stdin
//! or decides whether a terminal exists; it asks a [`Ui`] the command layer hands it (age's
//! `Callbacks` and gh's `IOStreams.CanPrompt()` are the models). The terminal implementation
//! lives in the command layer; [`NoTerminal`] is what a process without one gets, and
//! [`ScriptedUi`] answers tests from a queue.

use crate::error::{Error, Result};
use crate::secret::Passphrase;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Asking for the passphrase of an existing vault. The retry loop stays with the caller
/// (it alone knows whether the passphrase was wrong); it says which try this is so the
/// person can be told.
#[derive(Clone, Debug)]
pub struct PassphraseAsk<'a> {
    /// The vault the passphrase opens.
    pub vault: &'a Path,
    /// This try, from 1.
    pub attempt: usize,
    /// How many tries there are in all.
    pub tries: usize,
}

/// One answer among several (`choose`): a short name and one line saying what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    pub help: String,
}

impl Choice {
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Self {
        Choice {
            name: name.into(),
            help: help.into(),
        }
    }
}

/// Everything the library may ask a person. Every method but `can_ask` may fail with the
/// "no terminal" usage error when nobody can be asked, or with a failure when reading the
/// answer fails; none of them hangs without a person to answer.
pub trait Ui: Send + Sync {
    /// Whether a person can be asked at all (gh's `CanPrompt`).
    fn can_ask(&self) -> bool;
    /// The passphrase of an existing vault, not empty.
    fn passphrase(&self, what: &PassphraseAsk<'_>) -> Result<Passphrase>;
    /// A new passphrase for the vault at `vault`: asked twice, asked again when the two
    /// differ or it is empty.
    fn new_passphrase(&self, vault: &Path) -> Result<Passphrase>;
    /// A yes/no question; `default` is the answer to an empty line.
    fn confirm(&self, question: &str, default: bool) -> Result<bool>;
    /// One of `options` (by index); `default` is the answer to an empty line.
    fn choose(&self, question: &str, options: &[Choice], default: usize) -> Result<usize>;
    /// One line of text (a client id; `hidden` for a client secret or a token).
    fn line(&self, prompt: &str, hidden: bool) -> Result<Zeroizing<String>>;
}

/// The error for a question that cannot be asked: there is no terminal. It names the
/// sources that need none, since the passphrase is what is asked most.
pub fn no_terminal() -> Error {
    Error::usage("a passphrase is needed, but there is no terminal to ask it on").hint(
        "pass --passphrase-file PATH or --passphrase-fd N, set TTVAULT_PASSPHRASE, or use -i KEY for a recipient slot",
    )
}

/// A process nobody can be asked in (no controlling terminal, the agent, library callers
/// that must never ask): `can_ask` is false and every question is [`no_terminal`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTerminal;

impl Ui for NoTerminal {
    fn can_ask(&self) -> bool {
        false
    }
    fn passphrase(&self, _: &PassphraseAsk<'_>) -> Result<Passphrase> {
        Err(no_terminal())
    }
    fn new_passphrase(&self, _: &Path) -> Result<Passphrase> {
        Err(no_terminal())
    }
    fn confirm(&self, _: &str, _: bool) -> Result<bool> {
        Err(no_terminal())
    }
    fn choose(&self, _: &str, _: &[Choice], _: usize) -> Result<usize> {
        Err(no_terminal())
    }
    fn line(&self, _: &str, _: bool) -> Result<Zeroizing<String>> {
        Err(no_terminal())
    }
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Answer {
    Passphrase(String),
    NewPassphrase(String),
    Confirm(bool),
    Choose(usize),
    Line(String),
}

/// One question asked, as a test reads it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asked {
    Passphrase { vault: PathBuf, attempt: usize },
    NewPassphrase { vault: PathBuf },
    Confirm { question: String, default: bool },
    Choose { question: String, default: usize },
    Line { prompt: String, hidden: bool },
}

/// Answers from a queue and records every question, for tests. A question whose next
/// answer is of another kind, or with the queue empty, fails: a test then says what was
/// asked that it did not expect.
#[derive(Debug, Default)]
pub struct ScriptedUi {
    answers: Mutex<VecDeque<Answer>>,
    asked: Mutex<Vec<Asked>>,
}

impl ScriptedUi {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        ScriptedUi {
            answers: Mutex::new(answers.into_iter().collect()),
            asked: Mutex::new(Vec::new()),
        }
    }

    /// The questions asked so far, in order.
    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The answers not used yet.
    pub fn left(&self) -> usize {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn next(&self, asked: Asked) -> Result<Answer> {
        let what = format!("{asked:?}");
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(asked);
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
            .ok_or_else(|| Error::usage(format!("scripted Ui: no answer left for {what}")))
    }
}

fn unexpected(answer: Answer, wanted: &str) -> Error {
    Error::usage(format!(
        "scripted Ui: {wanted} asked, but the next answer is {answer:?}"
    ))
}

impl Ui for ScriptedUi {
    fn can_ask(&self) -> bool {
        true
    }
    fn passphrase(&self, what: &PassphraseAsk<'_>) -> Result<Passphrase> {
        match self.next(Asked::Passphrase {
            vault: what.vault.to_path_buf(),
            attempt: what.attempt,
        })? {
            Answer::Passphrase(p) => Ok(Passphrase::new(p)),
            other => Err(unexpected(other, "a passphrase")),
        }
    }
    fn new_passphrase(&self, vault: &Path) -> Result<Passphrase> {
        match self.next(Asked::NewPassphrase {
            vault: vault.to_path_buf(),
        })? {
            Answer::NewPassphrase(p) => Ok(Passphrase::new(p)),
            other => Err(unexpected(other, "a new passphrase")),
        }
    }
    fn confirm(&self, question: &str, default: bool) -> Result<bool> {
        match self.next(Asked::Confirm {
            question: question.to_owned(),
            default,
        })? {
            Answer::Confirm(yes) => Ok(yes),
            other => Err(unexpected(other, "a confirmation")),
        }
    }
    fn choose(&self, question: &str, options: &[Choice], default: usize) -> Result<usize> {
        match self.next(Asked::Choose {
            question: question.to_owned(),
            default,
        })? {
            Answer::Choose(i) if i < options.len() => Ok(i),
            other => Err(unexpected(other, "a choice")),
        }
    }
    fn line(&self, prompt: &str, hidden: bool) -> Result<Zeroizing<String>> {
        match self.next(Asked::Line {
            prompt: prompt.to_owned(),
            hidden,
        })? {
            Answer::Line(s) => Ok(Zeroizing::new(s)),
            other => Err(unexpected(other, "a line")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_terminal_refuses_every_question_naming_the_passphrase_options() {
        let ui = NoTerminal;
        assert!(!ui.can_ask());
        let err = ui.confirm("go?", true).unwrap_err();
        assert_eq!(err.code, crate::Code::Usage);
        assert!(err.hint.unwrap().contains("--passphrase-file"));
        assert!(ui.line("Client id: ", false).is_err());
    }

    #[test]
    fn scripted_ui_answers_in_order_and_records_the_questions() {
        let ui = ScriptedUi::new([Answer::Confirm(false), Answer::Line("id".into())]);
        assert!(!ui.confirm("go?", true).unwrap());
        assert_eq!(ui.line("Client id: ", false).unwrap().as_str(), "id");
        assert!(ui.line("more?", false).is_err());
        assert_eq!(
            ui.asked()[0],
            Asked::Confirm {
                question: "go?".into(),
                default: true
            }
        );
        assert_eq!(ui.asked().len(), 3);
    }

    #[test]
    fn scripted_ui_refuses_an_answer_of_another_kind() {
        let ui = ScriptedUi::new([Answer::Choose(0)]);
        let ask = PassphraseAsk {
            vault: Path::new(".secrets"),
            attempt: 1,
            tries: 3,
        };
        assert!(ui.passphrase(&ask).is_err());
    }
}
