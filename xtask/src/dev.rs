//! `cargo xtask dev`: a local Marshal to click through. The API and the page
//! do not exist yet, so for now this installs the tools and says what it
//! will start once they do.

use anyhow::Result;

use crate::{install::install, project::Project};

/// A process `dev` will run in the foreground until Ctrl-C, in start order.
/// Starting one becomes a `Command` from `Project` (cargo with the project's
/// environment, or `Project::python` for moto) spawned and killed on exit.
#[derive(Debug)]
struct Service {
    name: &'static str,
    role: &'static str,
}

const PLANNED: &[Service] = &[
    Service {
        name: "moto server",
        role: "fake AWS (IoT, STS) on loopback, from the Python virtualenv",
    },
    Service {
        name: "API",
        role: "the lambda crate's router served locally, talking to moto",
    },
    Service {
        name: "page",
        role: "the frontend served on loopback, talking to the API",
    },
];

pub(crate) fn dev(project: &Project) -> Result<()> {
    install(project)?;
    println!();
    println!("Nothing to start yet: the API and the page arrive in later issues.");
    println!("Once they exist, `cargo xtask dev` will start, until Ctrl-C:");
    for (number, service) in PLANNED.iter().enumerate() {
        println!("  {}. {}: {}", number + 1, service.name, service.role);
    }
    println!();
    println!("Today, the offline CLI works without any of them:");
    println!("  cargo run -p marshal-cli -- keygen --cn my-thing");
    Ok(())
}
