//! `ttvault man [COMMAND]`: the manual page of ttvault, or of one command (ttvault-exec(1),
//! …), in roff. The synopsis, description and options come from the same clap definitions
//! as `--help` (clap_mangen); EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES from the tables
//! `--help` shows too (`cli::text`).

use crate::cli::{self, text};
use crate::error::{Error, Result};
use crate::output;
use roff::{bold, roman, Roff};

pub fn run(command: Option<&str>) -> Result<i32> {
    output::stdout(&page(command)?)?;
    Ok(0)
}

/// The page as roff bytes; an unknown command is a usage error naming the known ones.
pub fn page(command: Option<&str>) -> Result<Vec<u8>> {
    let mut root = cli::documented();
    // Building copies the global options into each command, as its `--help` shows them.
    root.build();
    let cmd =
        match command {
            None => root.clone(),
            Some(name) => match root.find_subcommand(name).filter(|c| !c.is_hide_set()) {
                Some(sub) => sub.clone(),
                None => {
                    let names: Vec<&str> = root
                        .get_subcommands()
                        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
                        .map(|c| c.get_name())
                        .collect();
                    return Err(Error::usage(format!("there is no command `{name}`")).hint(
                        format!("pages: ttvault man, or ttvault man {}", names.join("|")),
                    ));
                }
            },
        };
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let rendered = (|| -> std::io::Result<()> {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut out)?;
        }
        if command.is_none() {
            man.render_subcommands_section(&mut out)?;
        }
        sections(command, &root).to_writer(&mut out)?;
        if command.is_none() {
            man.render_version_section(&mut out)?;
        }
        Ok(())
    })();
    rendered.map_err(|e| Error::failure(format!("cannot render the man page: {e}")))?;
    Ok(out)
}

/// EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES and SEE ALSO.
fn sections(command: Option<&str>, root: &clap::Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, what) in text::EXIT_STATUS {
        roff.control("TP", [])
            .text([bold(*code)])
            .text([roman(*what)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for var in text::environment_of(command) {
        roff.control("TP", [])
            .text([bold(var.name)])
            .text([roman(var.what)]);
    }
    roff.control("SH", ["FILES"]);
    for (file, what) in text::FILES {
        roff.control("TP", [])
            .text([bold(*file)])
            .text([roman(*what)]);
    }
    let examples = text::examples_of(command);
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        for (what, line) in examples {
            roff.control("TP", [])
                .text([roman(*what)])
                .text([bold(*line)]);
        }
    }
    if let Some(note) = text::note_of(command) {
        roff.control("SH", ["NOTES"]).text([roman(note)]);
    }
    roff.control("SH", ["SEE ALSO"]);
    let pages: Vec<String> = match command {
        Some(_) => vec!["ttvault(1)".into()],
        None => root
            .get_subcommands()
            .filter(|c| !c.is_hide_set() && c.get_name() != "help")
            .map(|c| format!("ttvault-{}(1)", c.get_name()))
            .collect(),
    };
    roff.text([roman(pages.join(", "))]);
    roff
}
