//! The `marshal` command: make, inspect, check and convert AWS IoT device
//! credentials from a terminal. A thin shell over `marshal-shared`.

mod cli;
mod commands;
mod files;
mod outcome;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let json = args.json;
    let result = commands::run(args.command);
    outcome::finish(result, json)
}
