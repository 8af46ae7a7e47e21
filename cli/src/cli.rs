//! Command-line syntax: every command, flag and default, in one place.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use marshal_shared::{DEFAULT_VALIDITY_DAYS, KeyType, policy::DEFAULT_TOPIC_PREFIX};

/// Self-service onboarding of AWS IoT Core device certificates (Multi-Account
/// Registration: certificates registered without a CA).
///
/// Exit status: 0 success, 1 a check failed, 2 an input could not be read or parsed,
/// 3 `reconcile` found drift.
#[derive(Debug, Parser)]
#[command(name = "marshal", version, about, long_about)]
pub(crate) struct Cli {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make a private key and a self-signed device certificate; print its certificate ID.
    Keygen(KeygenArgs),
    /// Print the AWS IoT certificate ID (SHA-256 of the DER) of a certificate.
    Fingerprint(InputArgs),
    /// Show what a certificate, key or PKCS#12 file holds.
    Inspect(InputArgs),
    /// Check whether AWS IoT will accept certificates, before registering them.
    Preflight(PreflightArgs),
    /// Convert between DER, PEM, PKCS#12 and the private key forms (to PKCS#8).
    Convert(ConvertArgs),
    /// Print a least-privilege AWS IoT policy document for devices.
    Policy(PolicyArgs),
    /// List the targets (account × region) and policies the Marshal API lets you use.
    Targets(TargetsArgs),
    /// Register certificates without a CA into targets through the Marshal API
    /// (one file, several, or a factory batch; `--job` for large batches).
    Register(RegisterArgs),
    /// Show a factory job (`marshal register --job`), follow it to its end,
    /// cancel it, and download its results CSV.
    Job(JobArgs),
    /// Show a certificate in every target you may see: registered or not,
    /// status, attached policies and things.
    Status(StatusArgs),
    /// Set a registered certificate ACTIVE in targets.
    Activate(ChangeArgs),
    /// Set a registered certificate INACTIVE in targets (devices can no longer connect).
    Deactivate(ChangeArgs),
    /// Deactivate, detach and delete a certificate in targets; absent is not an error.
    Delete(DeleteArgs),
    /// Copy or move a registered certificate to other targets (make before break).
    Transfer(TransferArgs),
    /// List the certificates Marshal registered that you may see, soonest expiry first.
    Inventory(InventoryArgs),
    /// Show what Marshal did to a certificate, oldest first: who, when, where, how it ended.
    History(HistoryArgs),
    /// Register a successor certificate wherever an old one is, with its thing and
    /// policy; the old one stays ACTIVE until `marshal retire`.
    Rotate(RotateArgs),
    /// Deactivate and delete a rotated certificate where its successor is ACTIVE.
    Retire(RetireArgs),
    /// Compare Marshal's inventory with what AWS holds (target admins); optionally
    /// bring the inventory in line. AWS itself is never changed.
    Reconcile(ReconcileArgs),
    /// Connect as the device (MQTT over mutual TLS with SNI), subscribe, publish
    /// messages and wait for them to come back; on failure, say which stage failed and why.
    ConnectTest(ConnectTestArgs),
}

/// Key types as command-line values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyArg {
    /// ECDSA P-256 (default).
    #[value(name = "ec-p256")]
    EcP256,
    /// ECDSA P-384.
    #[value(name = "ec-p384")]
    EcP384,
    /// RSA 2048.
    #[value(name = "rsa-2048")]
    Rsa2048,
    /// RSA 3072.
    #[value(name = "rsa-3072")]
    Rsa3072,
    /// RSA 4096.
    #[value(name = "rsa-4096")]
    Rsa4096,
}

impl From<KeyArg> for KeyType {
    fn from(k: KeyArg) -> KeyType {
        match k {
            KeyArg::EcP256 => KeyType::EcP256,
            KeyArg::EcP384 => KeyType::EcP384,
            KeyArg::Rsa2048 => KeyType::Rsa2048,
            KeyArg::Rsa3072 => KeyType::Rsa3072,
            KeyArg::Rsa4096 => KeyType::Rsa4096,
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct KeygenArgs {
    /// Key type.
    #[arg(long, value_enum, default_value = "ec-p256")]
    pub(crate) key: KeyArg,
    /// Subject common name; by convention the thing name. Also names the files.
    #[arg(long, value_name = "NAME")]
    pub(crate) cn: String,
    /// Days of validity, starting now.
    #[arg(long, default_value_t = DEFAULT_VALIDITY_DAYS)]
    pub(crate) days: u32,
    /// Subject organisation (O).
    #[arg(long, value_name = "O")]
    pub(crate) org: Option<String>,
    /// Subject organisational unit (OU).
    #[arg(long, value_name = "OU")]
    pub(crate) org_unit: Option<String>,
    /// Subject country (C), two capital letters.
    #[arg(long, value_name = "C")]
    pub(crate) country: Option<String>,
    /// Directory to write NAME.cert.pem and NAME.private.key into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) out: PathBuf,
    /// Also write a PKCS#10 certificate signing request, NAME.csr.pem.
    #[arg(long)]
    pub(crate) csr: bool,
    /// Overwrite existing files.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct InputArgs {
    /// A certificate (PEM or DER), private key, or PKCS#12 file.
    pub(crate) file: PathBuf,
    /// Read the PKCS#12 or key password from the first line of standard input
    /// (without it the password is empty).
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PreflightArgs {
    /// Certificates (PEM, DER or PKCS#12). Several files are also checked as one batch.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// Read the PKCS#12 password from the first line of standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ConvertArgs {
    /// The input: certificate (PEM or DER), PKCS#12, or a private key in any form.
    pub(crate) file: PathBuf,
    /// A separate private key file to pair with the input certificate.
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) key: Option<PathBuf>,
    /// Write the certificate(s) here: PEM, or DER when the name ends in .der or .cer.
    #[arg(long, value_name = "PATH")]
    pub(crate) out_cert: Option<PathBuf>,
    /// Write the private key here as PKCS#8 PEM (mode 0600).
    #[arg(long, value_name = "PATH")]
    pub(crate) out_key: Option<PathBuf>,
    /// Write certificate and key as a modern PKCS#12 (AES-256, SHA-256 MAC), encrypted
    /// with a password: give one with --password-stdin, or pass --empty-password.
    #[arg(long, value_name = "PATH")]
    pub(crate) out_p12: Option<PathBuf>,
    /// Read the password (for the input and for --out-p12) from the first line of standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// Write --out-p12 with the empty password, for tools that cannot take one: the
    /// file's key is then effectively unencrypted, so guard the file like a bare key.
    #[arg(long, requires = "out_p12", conflicts_with = "password_stdin")]
    pub(crate) empty_password: bool,
    /// Overwrite existing files.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PolicyArgs {
    /// Devices may use topics under PREFIX/<thing name>/.
    #[arg(long, default_value = DEFAULT_TOPIC_PREFIX)]
    pub(crate) prefix: String,
    /// Region for the resource ARNs (default: any).
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// Account ID for the resource ARNs (default: any).
    #[arg(long)]
    pub(crate) account: Option<String>,
    /// Also allow the thing's own device shadow topics.
    #[arg(long)]
    pub(crate) shadow: bool,
}

/// How to reach the Marshal API.
#[derive(Debug, clap::Args)]
pub(crate) struct ApiArgs {
    /// The Marshal API's base URL (API Gateway's, or http://127.0.0.1:8080 from
    /// `cargo xtask dev`). A token is sent over plain http:// only to loopback.
    #[arg(long, env = "MARSHAL_API", value_name = "URL")]
    pub(crate) api: String,
    /// Read the bearer token from the first line of standard input (default:
    /// the MARSHAL_TOKEN environment variable; none when unset).
    #[arg(long)]
    pub(crate) token_stdin: bool,
    /// Seconds to wait for one API request.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub(crate) api_timeout: u64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TargetsArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
}

/// Targets by id; `all` means every target the API lets you use.
#[derive(Debug, clap::Args)]
pub(crate) struct TargetSelection {
    /// Target ids from `marshal targets` (repeat, or separate with commas), or `all`.
    #[arg(
        long = "target",
        visible_alias = "targets",
        value_name = "ID",
        value_delimiter = ',',
        required = true
    )]
    pub(crate) targets: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RegisterArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) targets: TargetSelection,
    /// Certificate files (PEM, DER or PKCS#12 without a password); only the
    /// certificate is ever sent, never a key.
    #[arg(
        value_name = "FILE",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    pub(crate) files: Vec<PathBuf>,
    /// A factory batch: a directory of certificates (*.pem, *.crt, *.cer, *.der),
    /// a PEM bundle, or a CSV of `thing_name,certificate_path`.
    #[arg(long, value_name = "DIR|FILE")]
    pub(crate) batch: Option<PathBuf>,
    /// The IoT policy to attach; may be left out when the API allows only one.
    #[arg(long)]
    pub(crate) policy: Option<String>,
    /// The thing to create and attach (one certificate only); default: the
    /// certificate's common name.
    #[arg(long, value_name = "NAME", conflicts_with = "batch")]
    pub(crate) thing: Option<String>,
    /// Register but leave the certificate INACTIVE.
    #[arg(long)]
    pub(crate) inactive: bool,
    /// One of your groups that owns what is registered alongside you: its
    /// members may then change it too. Default: you alone.
    #[arg(long, value_name = "GROUP")]
    pub(crate) owner_group: Option<String>,
    /// Leave out certificates that fail preflight instead of sending nothing.
    #[arg(long)]
    pub(crate) skip_invalid: bool,
    /// Write a results CSV here (thing, certificate ID, status and endpoint per
    /// target); default with --batch: marshal-results.csv, with --job:
    /// marshal-job-<ID>-results.csv (the job's own CSV: one row per certificate
    /// and target). Replaced if it exists: it is this run's output.
    #[arg(long, value_name = "PATH")]
    pub(crate) results: Option<PathBuf>,
    /// Register as one job on the server, for large batches: the certificates
    /// (never a key) are uploaded as one file, workers register them at each
    /// target's pace, and this command follows the job to its end. It prints
    /// the job's id first: Ctrl-C stops following, not the job; `marshal job
    /// ID` follows it again. Exit status as for `marshal job`.
    #[arg(long)]
    pub(crate) job: bool,
    /// With --job: start the job, print its id and state, and return without
    /// following it.
    #[arg(long, requires = "job")]
    pub(crate) no_wait: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  marshal register --batch factory/ --target a-tokyo,b-virginia --job
  marshal job 0123456789abcdef0123456789abcdef            # follow it again
  marshal job 0123456789abcdef0123456789abcdef --no-wait  # where it is now
  marshal job 0123456789abcdef0123456789abcdef --cancel

Following shows progress on stderr (a bar in a terminal, a line per tenth in
logs): registrations done of certificates x targets, the pace, the time left,
how often AWS throttled (throttling slows a job down; it never fails a
registration) and each target's counts. Ctrl-C stops following; the job goes
on. Once the job has ended, its results CSV is downloaded: one row per
certificate and target (index, thing_name, certificate_id, target, outcome,
status, certificate_arn, endpoint, error_code, error_message). A cancelled
job finishes the chunks under way and skips the rest (outcome `skipped`).
Only the job's creator sees it.

Exit status: 0 the job finished and every registration succeeded (with
--no-wait: it is under way and nothing has failed so far); 1 a registration
failed, the job failed (its error and findings are shown), was cancelled or
never got its file, or the API or the job's storage refused or cannot be
reached; 2 bad usage, an id that is not a job id, or a results file that
exists with other contents (--force).")]
pub(crate) struct JobArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    /// The job's id (32 hex digits), as `marshal register --job` printed it.
    #[arg(value_name = "ID")]
    pub(crate) id: String,
    /// Cancel the job first: no chunk starts any more (those under way
    /// finish), the rest is skipped. Then show it as by default.
    #[arg(long)]
    pub(crate) cancel: bool,
    /// Show the job as it is now and return, without following it.
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// Write the results CSV here [default: marshal-job-<ID>-results.csv, once
    /// the job has ended]. With --no-wait, the rows so far.
    #[arg(long, value_name = "PATH")]
    pub(crate) results: Option<PathBuf>,
    /// Replace a results file that exists with other contents.
    #[arg(long)]
    pub(crate) force: bool,
}

/// A certificate by ID, or by a file holding it.
#[derive(Debug, clap::Args)]
pub(crate) struct CertificateArg {
    /// The certificate ID (64 hex characters) or a certificate file.
    #[arg(value_name = "ID|FILE")]
    pub(crate) certificate: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) certificate: CertificateArg,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ChangeArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) certificate: CertificateArg,
    #[command(flatten)]
    pub(crate) targets: TargetSelection,
}

#[derive(Debug, clap::Args)]
pub(crate) struct DeleteArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) targets: TargetSelection,
    /// The certificate ID (64 hex characters) or a certificate file.
    #[arg(
        value_name = "ID|FILE",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    pub(crate) certificate: Option<String>,
    /// Delete every certificate of a factory batch (as for `register --batch`).
    #[arg(long, value_name = "DIR|FILE")]
    pub(crate) batch: Option<PathBuf>,
}

/// What happens at the source of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TransferModeArg {
    /// Leave the source as it is.
    Copy,
    /// Deactivate at the source once every destination is ACTIVE.
    MoveDeactivate,
    /// Delete at the source once every destination is ACTIVE.
    MoveDelete,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TransferArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) certificate: CertificateArg,
    /// The target it is registered in now (its PEM is read there).
    #[arg(long, value_name = "ID")]
    pub(crate) from: String,
    /// Destination target ids (repeat, or separate with commas).
    #[arg(long, value_name = "ID", value_delimiter = ',', required = true)]
    pub(crate) to: Vec<String>,
    /// The IoT policy to attach at the destinations; may be left out when the API allows only one.
    #[arg(long)]
    pub(crate) policy: Option<String>,
    /// The thing at the destinations; default: the certificate's common name.
    #[arg(long, value_name = "NAME")]
    pub(crate) thing: Option<String>,
    /// copy, move-deactivate or move-delete.
    #[arg(long, value_enum, default_value = "copy")]
    pub(crate) mode: TransferModeArg,
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Example:
  marshal connect-test --endpoint xxxxxxxxxxxxxx-ats.iot.ap-northeast-1.amazonaws.com \\
      --cert sensor-01.cert.pem --key sensor-01.private.key

Port 443: AWS IoT also takes MQTT with a client certificate on port 443 when
the TLS handshake offers the ALPN protocol x-amzn-mqtt-ca; with
--endpoint HOST:443 this test offers it (and nothing on other ports).

The private key is used only for the TLS handshake; it is never sent or printed.

Exit status: 0 when every message came back; 1 when the test failed (the
report names the stage: dns, tcp, tls, mqtt_connect, subscribe, messages, a
code and the usual causes); 2 when an input cannot be read or used.")]
pub(crate) struct ConnectTestArgs {
    /// The MQTT endpoint, HOST or HOST:PORT (port 8883 by default). For AWS IoT, the
    /// account's iot:Data-ATS endpoint of the region, xxxxxxxxxxxxxx-ats.iot.REGION.amazonaws.com.
    /// HOST is also the TLS SNI name, which AWS IoT needs for certificates registered without a CA.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub(crate) endpoint: String,
    /// The device certificate (PEM, DER or PKCS#12).
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: PathBuf,
    /// The device private key (PKCS#8, SEC1 or PKCS#1, PEM or DER, or PKCS#12).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// CA certificates to trust for the server (PEM or DER) [default: Amazon Root CA 1, built in].
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// MQTT client id [default: the certificate's common name; AWS IoT policies usually
    /// require the client id to be the thing name].
    #[arg(long, value_name = "ID")]
    pub(crate) client_id: Option<String>,
    /// Topic to subscribe and publish to [default: devices/<client id>/connect-test, which
    /// `marshal policy` allows].
    #[arg(long, value_name = "TOPIC")]
    pub(crate) topic: Option<String>,
    /// Messages to publish and wait for, one at a time: {"counter": i, "message": "TEST"}.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) count: u32,
    /// Seconds to wait for each stage (DNS, TCP, TLS, CONNACK, SUBACK, each message).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub(crate) timeout: u64,
    /// Read the password of an encrypted key or PKCS#12 file from the first line of standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  marshal inventory --expires-within 30            # what expires in the next 30 days
  marshal inventory --target a-tokyo --all --json  # every entry of one target, for scripts

Entries come soonest notAfter first. Without --all only the first page is
shown, and a note on stderr says how to get the next (--cursor or --all).
With --json the output is a JSON array of the API's entries (every page with
--all).

Exit status: 0 listed; 1 the API refused or cannot be reached; 2 bad usage.")]
pub(crate) struct InventoryArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    /// Only this target.
    #[arg(long, value_name = "ID")]
    pub(crate) target: Option<String>,
    /// Only the certificates of this thing.
    #[arg(long, value_name = "NAME")]
    pub(crate) thing: Option<String>,
    /// Only those that expire within DAYS days from now (0: already expired).
    #[arg(long, value_name = "DAYS", conflicts_with = "expires_before",
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub(crate) expires_within: Option<u32>,
    /// Only those whose notAfter is before this RFC 3339 time, e.g. 2027-03-31T00:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub(crate) expires_before: Option<String>,
    /// Only those registered by this user name (or JWT subject).
    #[arg(long, value_name = "WHO")]
    pub(crate) registered_by: Option<String>,
    /// Follow the pages to the end.
    #[arg(long)]
    pub(crate) all: bool,
    /// Entries per page, 1 to 100 [default: the API's, 100].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub(crate) limit: Option<u8>,
    /// Start where a previous page ended (the cursor its note named).
    #[arg(long, value_name = "CURSOR")]
    pub(crate) cursor: Option<String>,
    /// Show certificate IDs in full (default: their first 12 characters).
    #[arg(long)]
    pub(crate) wide: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct HistoryArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) certificate: CertificateArg,
}

/// Targets by id, optional: without them the API chooses (see each command).
#[derive(Debug, clap::Args)]
pub(crate) struct OptionalTargets {
    /// Target ids (repeat, or separate with commas), or `all` for every target you may use.
    #[arg(
        long = "target",
        visible_alias = "targets",
        value_name = "ID",
        value_delimiter = ','
    )]
    pub(crate) targets: Vec<String>,
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Example:
  marshal keygen --cn sensor-01 --out new/
  marshal rotate sensor-01.cert.pem --cert new/sensor-01.cert.pem
  # ... once the devices use the new certificate:
  marshal retire sensor-01.cert.pem

In each target the new certificate is registered ACTIVE with the old one's
thing and policy; the old one is left ACTIVE, so devices keep connecting
until they switch. Without --target: every target where Marshal registered
the old certificate for you.

--cert must hold only the new certificate: a file with a private key in it
(PEM, PKCS#12) is refused before anything is sent. Take the certificate out
with `marshal convert FILE --out-cert NEW.cert.pem`.

Exit status: 0 rotated in every target; 1 a target failed (it was rolled
back there), or the API refused; 2 an input cannot be read or used.")]
pub(crate) struct RotateArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    /// The certificate to replace: its ID (64 hex characters) or a file holding it.
    #[arg(value_name = "OLD")]
    pub(crate) certificate: String,
    /// The new certificate (PEM or DER), without its private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: PathBuf,
    #[command(flatten)]
    pub(crate) targets: OptionalTargets,
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
The API retires a certificate only in targets where its successor (from
`marshal rotate`) is registered, ACTIVE and yours; elsewhere it refuses that
target (not_rotated) and changes nothing. Devices still using the old
certificate can no longer connect once it is retired. Like `marshal delete`,
this asks no question: check `marshal inventory` or `marshal history` first.

Without --target: every target where Marshal rotated it and it is still
there; nothing left is not an error.

Exit status: 0 retired (or nothing left to retire); 1 a target failed or the
API refused; 2 an input cannot be read or used.")]
pub(crate) struct RetireArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) certificate: CertificateArg,
    #[command(flatten)]
    pub(crate) targets: OptionalTargets,
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
For target admins. Per target, the certificates Marshal's inventory holds are
compared with those AWS holds: deleted outside Marshal, status changed,
policies or things attached or detached outside Marshal, registered outside
Marshal. With --apply the inventory's record of certificates deleted or
re-statused outside Marshal is brought in line (and the ledger records it);
the other kinds need a person. AWS itself is never changed.

Exit status: 0 no drift in any target; 3 drift found (also with --apply,
whatever it mended); 1 a target could not be compared, or the API refused
(admin_only: you are not an admin of every target named) or cannot be
reached; 2 bad usage.")]
pub(crate) struct ReconcileArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) targets: TargetSelection,
    /// Bring Marshal's inventory in line with AWS (default: report only).
    #[arg(long)]
    pub(crate) apply: bool,
}

#[cfg(test)]
mod tests;
