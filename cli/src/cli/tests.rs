//! The online commands' syntax (ledger, jobs): what clap accepts and refuses before any
//! request is made.

use clap::{Parser, error::ErrorKind};

use super::{Cli, Command};

fn parse(args: &[&str]) -> Result<Command, clap::Error> {
    Cli::try_parse_from(
        ["marshal"]
            .iter()
            .chain(args)
            .chain(&["--api", "http://127.0.0.1:1"]),
    )
    .map(|cli| cli.command)
}

#[track_caller]
fn refused(args: &[&str]) -> ErrorKind {
    match parse(args) {
        Ok(command) => panic!("{args:?} was accepted: {command:?}"),
        Err(e) => e.kind(),
    }
}

#[test]
fn inventory_takes_its_filters_and_paging() {
    let Ok(Command::Inventory(args)) = parse(&[
        "inventory",
        "--target",
        "a-tokyo",
        "--thing",
        "sensor-01",
        "--expires-within",
        "30",
        "--registered-by",
        "alice",
        "--all",
        "--limit",
        "5",
        "--wide",
    ]) else {
        panic!("inventory with every flag was refused");
    };
    assert_eq!(args.target.as_deref(), Some("a-tokyo"));
    assert_eq!(args.thing.as_deref(), Some("sensor-01"));
    assert_eq!(args.expires_within, Some(30));
    assert_eq!(args.registered_by.as_deref(), Some("alice"));
    assert!(args.all && args.wide);
    assert_eq!(args.limit, Some(5));
}

#[test]
fn inventory_refuses_two_expiry_filters_and_pages_out_of_range() {
    assert_eq!(
        refused(&[
            "inventory",
            "--expires-within",
            "30",
            "--expires-before",
            "2027-01-01T00:00:00Z"
        ]),
        ErrorKind::ArgumentConflict
    );
    for limit in ["0", "101", "256", "ten"] {
        assert_eq!(
            refused(&["inventory", "--limit", limit]),
            ErrorKind::ValueValidation,
            "--limit {limit}"
        );
    }
    assert_eq!(
        refused(&["inventory", "--expires-within", "-3"]),
        ErrorKind::UnknownArgument
    );
}

#[test]
fn rotate_needs_the_new_certificate_and_takes_targets_either_way() {
    assert_eq!(
        refused(&["rotate", &"a".repeat(64)]),
        ErrorKind::MissingRequiredArgument
    );
    for flag in ["--target", "--targets"] {
        let Ok(Command::Rotate(args)) = parse(&[
            "rotate",
            "old.pem",
            "--cert",
            "new.pem",
            flag,
            "a-tokyo,b-virginia",
        ]) else {
            panic!("rotate {flag} was refused");
        };
        assert_eq!(args.certificate, "old.pem");
        assert_eq!(args.cert.to_str(), Some("new.pem"));
        assert_eq!(args.targets.targets, ["a-tokyo", "b-virginia"]);
    }
}

#[test]
fn retire_targets_are_optional() {
    let Ok(Command::Retire(args)) = parse(&["retire", "old.pem"]) else {
        panic!("retire without targets was refused");
    };
    assert!(args.targets.targets.is_empty());
    assert_eq!(refused(&["retire"]), ErrorKind::MissingRequiredArgument);
}

#[test]
fn reconcile_needs_targets_and_reports_unless_applying() {
    assert_eq!(refused(&["reconcile"]), ErrorKind::MissingRequiredArgument);
    let Ok(Command::Reconcile(args)) = parse(&["reconcile", "--targets", "a-tokyo,b-tokyo"]) else {
        panic!("reconcile --targets was refused");
    };
    assert_eq!(args.targets.targets, ["a-tokyo", "b-tokyo"]);
    assert!(!args.apply);
    let Ok(Command::Reconcile(args)) = parse(&["reconcile", "--target", "all", "--apply"]) else {
        panic!("reconcile --apply was refused");
    };
    assert!(args.apply);
}

#[test]
fn history_takes_one_certificate() {
    assert!(matches!(
        parse(&["history", "cert.pem"]),
        Ok(Command::History(_))
    ));
    assert_eq!(
        refused(&["history", "a.pem", "b.pem"]),
        ErrorKind::UnknownArgument
    );
}

#[test]
fn the_syntax_is_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}

#[test]
fn jobs_are_followed_cancelled_or_shown_and_no_wait_needs_a_job() {
    let Ok(Command::Job(args)) = parse(&[
        "job",
        "0123456789abcdef0123456789abcdef",
        "--cancel",
        "--no-wait",
        "--results",
        "out.csv",
        "--force",
    ]) else {
        panic!("job with every flag was refused");
    };
    assert_eq!(args.id, "0123456789abcdef0123456789abcdef");
    assert!(args.cancel && args.no_wait && args.force);
    assert_eq!(
        args.results.as_deref(),
        Some(std::path::Path::new("out.csv"))
    );

    let Ok(Command::Register(args)) = parse(&[
        "register",
        "--target",
        "a",
        "--batch",
        "dir",
        "--job",
        "--no-wait",
    ]) else {
        panic!("register --job --no-wait was refused");
    };
    assert!(args.job && args.no_wait);
    assert_eq!(
        refused(&["register", "--target", "a", "--batch", "dir", "--no-wait"]),
        ErrorKind::MissingRequiredArgument
    );
    assert_eq!(refused(&["job"]), ErrorKind::MissingRequiredArgument);
}
