//! `aurora-sim`: parse arguments, dispatch, map errors to exit codes
//! (0 ok or broken pipe, 1 internal failure, 2 bad input or usage).

use aurora_sim::{cli, commands};
use std::io::Write;

fn main() {
    let cli = match cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(u) if u.code == 0 => {
            print!("{}", u.text);
            std::process::exit(0);
        }
        Err(u) => {
            eprint!("{}", u.text);
            std::process::exit(u.code);
        }
    };
    // Without the handler an interrupt would leave temporary files behind;
    // the command itself still works, so a failure to install is not fatal.
    let _ = aurora_sim::output::file::remove_temp_files_on_signal();
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: internal failure (a bug; please report it with the command line): {info}"
        );
    }));
    let code = match std::panic::catch_unwind(|| commands::dispatch(cli.command)) {
        Ok(Ok(text)) => match std::io::stdout().lock().write_all(text.as_bytes()) {
            Ok(()) => 0,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(e) => {
                eprintln!("error: cannot write to stdout: {e}");
                1
            }
        },
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
        Err(_) => 1,
    };
    std::process::exit(code);
}
