//! The words `--help` and the man pages share beyond the options themselves: examples per
//! command, the environment, the exit statuses and the files. Both are built from these
//! tables (see `cli::command` and `cmd::man`), so they cannot drift apart.

/// The commands that open (or create) a vault and so take a passphrase or an identity.
const OPENS: &[&str] = &[
    "init", "rotate", "import", "passwd", "show", "unlock", "exec", "export", "token", "api",
    "audit",
];
/// The commands that find a vault file (all but `completions` and `man`).
const FINDS: &[&str] = &[
    "init", "rotate", "import", "passwd", "show", "unlock", "lock", "status", "exec", "export",
    "token", "api", "audit",
];
/// The commands that make a grant.
const GRANTS: &[&str] = &["init", "rotate"];

/// The commands that talk to Tastytrade (or start the agent that does).
const NETWORK: &[&str] = &[
    "init", "rotate", "import", "exec", "export", "token", "api", "audit", "unlock",
];

/// One environment variable ttvault reads (or sets), and the commands it matters to.
pub struct EnvVar {
    pub name: &'static str,
    pub what: &'static str,
    /// The commands it matters to; empty: every command.
    pub used_by: &'static [&'static str],
}

pub const ENVIRONMENT: &[EnvVar] = &[
    EnvVar {
        name: "TTVAULT_VAULT",
        what: "The vault file, as --vault.",
        used_by: FINDS,
    },
    EnvVar {
        name: "TTVAULT_PASSPHRASE",
        what: "The passphrase (with a warning: your other programs can read it).",
        used_by: OPENS,
    },
    EnvVar {
        name: "TTVAULT_NEW_PASSPHRASE",
        what: "passwd: the new passphrase, as --new-passphrase-file.",
        used_by: &["passwd"],
    },
    EnvVar {
        name: "TTVAULT_IDENTITY",
        what: "An age identity file that opens a recipient slot, as --identity.",
        used_by: OPENS,
    },
    EnvVar {
        name: "TTVAULT_CLIENT_SECRET",
        what: "The OAuth client secret (never taken on the command line).",
        used_by: GRANTS,
    },
    EnvVar {
        name: "TTVAULT_REFRESH_TOKEN",
        what: "--paste: the refresh token, instead of the hidden prompt.",
        used_by: GRANTS,
    },
    EnvVar {
        name: "TTVAULT_API_URL",
        what: "A new grant's API base (token: $TTVAULT_API_URL/oauth/token), for tests; a saved \
               vault uses its own.",
        used_by: GRANTS,
    },
    EnvVar {
        name: "TTVAULT_AUTHORIZE_URL",
        what: "A new grant's authorize page, for the stand-in and tests.",
        used_by: GRANTS,
    },
    EnvVar {
        name: "TTVAULT_HTTP_TIMEOUT_SECS",
        what: "Lowers every request's whole-exchange deadline (30 s for token calls, 120 s for \
               api) to this many seconds; never raises it.",
        used_by: NETWORK,
    },
    EnvVar {
        name: "BROWSER",
        what: "The browser for the sign-in page (else the platform's default).",
        used_by: GRANTS,
    },
    EnvVar {
        name: "SHELL",
        what: "exec without a program starts this shell.",
        used_by: &["exec"],
    },
    EnvVar {
        name: "TTVAULT_SHELL",
        what: "Set to the vault's path in the shell exec starts; exec refuses to nest.",
        used_by: &["exec"],
    },
    EnvVar {
        name: "NO_COLOR",
        what: "Set: no colour in any output.",
        used_by: &[],
    },
];

/// The environment variables that matter to `command` (`None`: ttvault itself, all).
pub fn environment_of(command: Option<&str>) -> impl Iterator<Item = &'static EnvVar> {
    let command = command.map(str::to_string);
    ENVIRONMENT.iter().filter(move |v| match &command {
        None => true,
        Some(c) => v.used_by.is_empty() || v.used_by.contains(&c.as_str()),
    })
}

pub const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success (exec: the program's own status; a program killed by signal N gives 128+N)."),
    ("1", "Any other failure."),
    ("2", "Bad usage: an unknown option, a missing argument, an option this command refuses."),
    ("3", "The vault could not be opened: wrong passphrase or identity, damaged or unsupported file, unsafe permissions."),
    ("4", "Tastytrade refused the grant (invalid_grant: revoked, deleted, or a wrong token)."),
    ("5", "Tastytrade (or the configured endpoint) could not be reached or answered nonsense."),
    ("6", "audit --strict found a warning."),
    ("126, 127", "exec: the program cannot run, or there is no such program."),
];

pub const FILES: &[(&str, &str)] = &[
    (
        ".secrets",
        "The vault: age-encrypted, mode 0600. Found in the current folder (or as --vault says).",
    ),
    (
        ".secrets.bak-<time>",
        "The copy init --force keeps of the vault it replaces.",
    ),
    (".secrets.lock", "Held while the vault is rewritten."),
    (
        "$XDG_RUNTIME_DIR/ttvault/",
        "The agents' sockets and the browser's one-time start page (else ~/.ttvault-agent/), a private folder.",
    ),
];

/// Examples per command: (what it does, the command line).
pub fn examples_of(command: Option<&str>) -> &'static [(&'static str, &'static str)] {
    match command {
        None => &[
            ("Make a vault: sign in in the browser, once", "ttvault init"),
            ("Run a program with a fresh access token", "ttvault exec -- python3 fetch_spx.py"),
            ("Keep the vault open for an hour", "ttvault unlock --ttl 1h"),
            ("A read-only API call", "ttvault api /customers/me/accounts"),
        ],
        Some("init") => &[
            ("Sign in in the browser; asks the client id, secret and a new passphrase", "ttvault init"),
            ("Paste a refresh token from tastytrade.com instead", "ttvault init --paste --client-id ID"),
            ("A sandbox grant, the URL printed rather than opened", "ttvault init --sandbox --no-browser"),
            ("Also open the vault with an age key", "ttvault init -r age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"),
        ],
        Some("rotate") => &[
            ("After re-creating the grant on tastytrade.com", "ttvault rotate"),
            ("With a refresh token pasted from the page", "ttvault rotate --paste"),
        ],
        Some("import") => &[
            ("Encrypt the old plaintext .secrets in place", "ttvault import"),
            ("Encrypt another file into ./.secrets and keep the file", "ttvault import old.env --keep-plaintext"),
        ],
        Some("passwd") => &[
            ("Change the passphrase (asked twice)", "ttvault passwd"),
            ("Let an age key open the vault too", "ttvault passwd --add-recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"),
            ("In a script", "ttvault passwd --passphrase-file old.txt --new-passphrase-file new.txt"),
        ],
        Some("show") => &[
            ("What the vault holds, without the secrets", "ttvault show"),
            ("The same as JSON", "ttvault show --json"),
        ],
        Some("unlock") => &[
            ("Open the vault for 15 minutes", "ttvault unlock"),
            ("For a trading day, locking after 30 idle minutes", "ttvault unlock --ttl 8h --idle 30m"),
        ],
        Some("lock") => &[("End the agent now", "ttvault lock")],
        Some("set") => &[
            ("SDK programs run through ttvault's broker, never holding a secret (recommended)", "ttvault set handout broker"),
            ("An access token only", "ttvault set handout tokens"),
            ("The client secret and refresh token too (as the old plaintext file did)", "ttvault set handout long-lived"),
        ],
        Some("status") => &[
            ("Is the vault unlocked, and until when?", "ttvault status"),
            ("The same as JSON", "ttvault status --json"),
        ],
        Some("exec") => &[
            ("Run a program with TT_ACCESS_TOKEN in its environment", "ttvault exec -- python3 fetch_spx.py"),
            ("An SDK program that refreshes tokens itself, through ttvault's broker", "ttvault exec --broker -- python3 fetch_spx.py"),
            ("The same, letting its orders through (a grant with trade)", "ttvault exec --broker --allow-trade -- python3 trade.py"),
            ("A shell with the credentials (exit it to drop them)", "ttvault exec"),
        ],
        Some("export") => &[
            ("Into the current sh/bash/zsh shell", "eval \"$(ttvault export)\""),
            ("In fish", "ttvault export --format fish | source"),
            ("As JSON", "ttvault export --json"),
        ],
        Some("token") => &[
            ("An Authorization header for curl", "curl -H \"Authorization: Bearer $(ttvault token)\" https://api.tastyworks.com/customers/me"),
            ("The token and its expiry as JSON", "ttvault token --json"),
        ],
        Some("api") => &[
            ("Your accounts", "ttvault api /customers/me/accounts"),
            ("One field of an option chain", "ttvault api /option-chains/SPX/nested --jq '.data.items[].\"root-symbol\"'"),
            ("Every page of an account's transactions", "ttvault api /accounts/5WT00001/transactions --paginate -F per-page=250"),
        ],
        Some("audit") => &[
            ("Every check, the grant's scopes included", "ttvault audit"),
            ("Only what can be seen without the network; exit 6 on a warning", "ttvault audit --offline --strict"),
        ],
        Some("completions") => &[
            ("bash", "ttvault completions bash > ~/.local/share/bash-completion/completions/ttvault"),
            ("zsh (a folder on $fpath)", "ttvault completions zsh > ~/.zfunc/_ttvault"),
            ("fish", "ttvault completions fish > ~/.config/fish/completions/ttvault.fish"),
        ],
        Some("man") => &[
            ("Read the manual", "ttvault man | man -l -"),
            ("Install the page of exec", "ttvault man exec > ~/.local/share/man/man1/ttvault-exec.1"),
        ],
        Some(_) => &[],
    }
}

/// A word that the notes under a command's `--help` add to the examples.
pub fn note_of(command: Option<&str>) -> Option<&'static str> {
    match command {
        Some("api") => Some(
            "Only GET and HEAD are sent: anything that would change something at Tastytrade is \
             refused (exit 2) before it is sent. Exit status 4: the grant was refused; 5: \
             Tastytrade could not be reached or answered nonsense; 1: the API's own error (its \
             message is shown).",
        ),
        Some("exec") => Some(
            "Without a program, exec starts $SHELL with the credentials and TTVAULT_SHELL set to \
             the vault's path; exit the shell to drop them. The program's exit status is \
             ttvault's.",
        ),
        None => Some(
            "`ttvault man [COMMAND]` prints the manual page; `ttvault COMMAND --help` the options.",
        ),
        _ => None,
    }
}

/// The text under a command's `--help` options: its examples, notes and environment.
pub fn after_help(command: Option<&str>, header: clap::builder::styling::Style) -> String {
    let heading = |s: &str| format!("{header}{s}:{header:#}\n");
    let mut out = String::new();
    let examples = examples_of(command);
    if !examples.is_empty() {
        out.push_str(&heading("Examples"));
        for (what, line) in examples {
            out.push_str(&format!("  # {what}\n  {line}\n"));
        }
    }
    let vars: Vec<_> = environment_of(command).collect();
    if !vars.is_empty() {
        out.push('\n');
        out.push_str(&heading("Environment"));
        let width = vars.iter().map(|v| v.name.len()).max().unwrap_or(0);
        for v in vars {
            out.push_str(&format!("  {:width$}  {}\n", v.name, v.what));
        }
    }
    if let Some(note) = note_of(command) {
        out.push('\n');
        out.push_str(note);
        out.push('\n');
    }
    out.trim_end().to_string()
}
