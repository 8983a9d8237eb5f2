//! `ttvault completions SHELL` and the help `ttvault` alone prints: generated from the clap
//! definitions (`cli::command`), so they cannot drift from the real options.

use crate::cli;
use crate::error::Result;
use crate::output;

pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cli::documented(), "ttvault", &mut out);
    out.extend_from_slice(exec_programs(shell).as_bytes());
    output::stdout(&out)?;
    Ok(0)
}

/// clap_complete offers program names after `exec --` in zsh only; bash and fish get
/// them here (the words after the program are its own, completed as files).
fn exec_programs(shell: clap_complete::Shell) -> &'static str {
    match shell {
        clap_complete::Shell::Bash => BASH_EXEC_PROGRAMS,
        clap_complete::Shell::Fish => FISH_EXEC_PROGRAMS,
        _ => "",
    }
}

const BASH_EXEC_PROGRAMS: &str = r#"
# `ttvault exec -- PROGRAM [ARGS…]`: a program name right after `--`, files after it.
_ttvault_exec_programs() {
    local i seen_exec=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} == exec ]] && seen_exec=1
        if [[ $seen_exec == 1 && ${COMP_WORDS[i]} == -- ]]; then
            if ((i + 1 == COMP_CWORD)); then
                mapfile -t COMPREPLY < <(compgen -c -- "${COMP_WORDS[COMP_CWORD]}")
            else
                mapfile -t COMPREPLY < <(compgen -f -- "${COMP_WORDS[COMP_CWORD]}")
            fi
            return 0
        fi
    done
    _ttvault "$@"
}
complete -F _ttvault_exec_programs -o bashdefault -o default ttvault
"#;

const FISH_EXEC_PROGRAMS: &str = r#"
# `ttvault exec -- PROGRAM [ARGS…]`: a program name right after `--`.
function __fish_ttvault_exec_wants_program
    set -l words (commandline -opc)
    contains -- exec $words; and test "$words[-1]" = "--"
end
complete -c ttvault -n __fish_ttvault_exec_wants_program -f -a '(__fish_complete_command)'
"#;

/// The top-level help, on stdout (styled at a terminal, as `--help` is).
pub fn print_help() {
    let _ = cli::command().print_help();
}
