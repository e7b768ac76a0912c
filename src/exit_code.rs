//! peta's exit codes: the one table, also printed in the README.
//!
//! | code   | meaning                                                                 |
//! |--------|-------------------------------------------------------------------------|
//! | 0      | success; for `peta run`, the server exited with 0                       |
//! | 1      | a command that checks something found a problem; `peta policy test`:    |
//! |        | the call would be asked about or denied; `peta approve ID --answer`:    |
//! |        | no running session has that request waiting, or it was decided already  |
//! |        | `peta tools diff/approve/reset`: no such change, tool or server         |
//! |        | `peta install` / `uninstall`: an entry was left as it is                |
//! | 2      | the command line is wrong (clap's usage errors)                         |
//! | 78     | the configuration is wrong (sysexits' EX_CONFIG)                        |
//! | 125    | peta itself failed (I/O, the demo failed, an internal error)            |
//! | 126    | `peta run`: the server's command exists but could not be executed       |
//! | 127    | `peta run`: the server's command was not found                          |
//! | 128+N  | `peta run`: peta was stopped by signal N, or the server died of it      |
//! | other  | `peta run`: the server's own exit code, passed through                  |

/// Success.
pub const OK: u8 = 0;
/// A check found a problem (`peta policy test`: the call would be asked about or denied;
/// `peta approve ID --answer`: no session has that request waiting; `peta tools`: nothing to
/// show or change).
pub const CHECK_FAILED: u8 = 1;
/// A usage error.
pub const USAGE: u8 = 2;
/// The configuration is wrong.
pub const CONFIG: u8 = 78;
/// peta itself failed.
pub const FAILED: u8 = 125;
/// The server's command could not be executed.
pub const NOT_EXECUTABLE: u8 = 126;
/// The server's command was not found.
pub const NOT_FOUND: u8 = 127;
