//! One module per subcommand. Each is thin glue over the library modules.

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};

pub fn dispatch(cli: Cli) -> Result<i32> {
    let Some(command) = cli.command else {
        return Err(Error::usage("no command given").hint("run `ttvault --help`"));
    };
    match command {
        other => Err(Error::failure(format!(
            "`{other:?}` is not available in this build yet"
        ))),
    }
}
