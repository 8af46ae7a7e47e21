//! The `marshal` command: make, inspect, check and convert AWS IoT device
//! credentials from a terminal, and onboard them through the Marshal API.
//! A thin shell over `marshal-shared` and the API's wire types.

mod api;
mod batch;
mod cli;
mod commands;
mod files;
mod outcome;
mod progress;
mod table;
mod tls_failure;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let json = args.json;
    let result = commands::run(args.command);
    outcome::finish(result, json)
}
