//! The page's whole state and every change to it: a pure reducer, tested
//! natively. Components only dispatch [`Action`]s and render [`State`].

use std::collections::BTreeSet;
use std::rc::Rc;

use marshal_shared::InputFormat;
use marshal_shared::api::{
    CertificateInput, CreateRegistrationRequest, CreateRegistrationResponse, ErrorCode,
    GetConfigResponse,
};
use marshal_shared::preflight::Finding;
use marshal_shared::{
    Certificate, CertificateInfo, KeyType, MAX_VALIDITY_DAYS, OffsetDateTime, PrivateKey,
};
use zeroize::Zeroizing;

use crate::auth::SignInNeed;
use crate::batch::{BatchJob, BatchProblem, parse_names};
use crate::device_kit::KitEndpoint;
use crate::generation::GenerateJob;
use crate::i18n::{Lang, Text};
use crate::importing::{ImportProblem, PickedFile, import_files};

pub mod inventory;
pub mod job;
pub mod manage;

/// Everything the page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub lang: Lang,
    pub form: CredentialForm,
    /// Set by the first press of "generate": from then on an empty common
    /// name is shown as an error, not before the user had a chance to type.
    pub form_attempted: bool,
    pub generation: Generation,
    /// Id of the last job sent to the worker; older answers are ignored.
    pub last_job: u64,
    pub config: Remote<GetConfigResponse>,
    pub register: RegisterForm,
    pub registration: Remote<CreateRegistrationResponse>,
    pub manage: manage::Manage,
    pub import: ImportForm,
    /// Which way the credentials come: made here or imported.
    pub source: Source,
    pub batch: BatchForm,
    pub inventory: inventory::Inventory,
}

/// The batch section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchForm {
    /// The names as typed or loaded.
    pub names: String,
    pub status: BatchStatus,
    /// Id of the last batch started; answers for older ones are dropped.
    pub run: u64,
    /// The finished batch registered as a job.
    pub job: job::JobWatch,
}

/// Where the batch is.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum BatchStatus {
    #[default]
    Idle,
    /// The list or the form has a problem; nothing was started.
    Refused(BatchProblem),
    Running {
        done: usize,
        total: usize,
    },
    Done(Rc<BatchResult>),
    Failed(String),
    Cancelled,
}

/// A finished batch: its zip, ready to download.
#[derive(Debug)]
pub struct BatchResult {
    pub file_name: String,
    pub count: usize,
    /// Milliseconds the worker took, keys and zip together.
    pub ms: f64,
    /// Holds private keys: wiped when dropped.
    pub zip: Zeroizing<Vec<u8>>,
    /// The certificates as an NDJSON job file: public parts only.
    pub job_file: Rc<str>,
}

/// Batches are the same when they are the same run's zip.
impl PartialEq for BatchResult {
    fn eq(&self, other: &BatchResult) -> bool {
        self.file_name == other.file_name
            && self.count == other.count
            && self.ms.to_bits() == other.ms.to_bits()
    }
}

/// The two ways to get credentials onto the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Source {
    #[default]
    Make,
    Import,
}

/// The "import credentials" form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportForm {
    /// The last files picked or dropped, kept so a password can be tried
    /// again without picking them anew. Dropped once imported.
    pub files: Rc<Vec<PickedFile>>,
    pub password: Secret,
    pub problem: Option<ImportProblem>,
}

/// A password as typed: wiped when dropped, never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub Zeroizing<String>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The "make credentials" form, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialForm {
    pub key_type: KeyType,
    pub common_name: String,
    pub validity_days: String,
    pub organization: String,
    pub organizational_unit: String,
    pub country: String,
}

impl Default for CredentialForm {
    fn default() -> Self {
        CredentialForm {
            key_type: KeyType::EcP256,
            common_name: String::new(),
            validity_days: marshal_shared::DEFAULT_VALIDITY_DAYS.to_string(),
            organization: String::new(),
            organizational_unit: String::new(),
            country: String::new(),
        }
    }
}

/// A form field, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    CommonName,
    ValidityDays,
    Organization,
    OrganizationalUnit,
    Country,
}

/// What is wrong with one field, as a translatable text.
pub type FieldErrors = Vec<(Field, Text)>;

impl CredentialForm {
    /// The problems with the form (empty when it can be submitted); the
    /// same rules as `CertificateRequest::validate`, which the worker
    /// applies again.
    pub fn errors(&self) -> FieldErrors {
        let mut errors = Vec::new();
        let cn = self.common_name.trim();
        if cn.is_empty() {
            errors.push((Field::CommonName, Text::ErrorCommonNameEmpty));
        }
        for (field, value) in [
            (Field::CommonName, cn),
            (Field::Organization, self.organization.trim()),
            (Field::OrganizationalUnit, self.organizational_unit.trim()),
        ] {
            if value.chars().count() > 64 {
                errors.push((field, Text::ErrorTooLong));
            } else if value.chars().any(char::is_control) {
                errors.push((field, Text::ErrorControl));
            }
        }
        if self.validity().is_none() {
            errors.push((Field::ValidityDays, Text::ErrorValidity));
        }
        let c = self.country.trim();
        if !c.is_empty() && (c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
            errors.push((Field::Country, Text::ErrorCountry));
        }
        errors
    }

    fn validity(&self) -> Option<u32> {
        self.validity_days
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_VALIDITY_DAYS).contains(d))
    }

    /// The job for the worker, or the form's errors.
    pub fn job(&self, id: u64, now_unix_ms: f64) -> Result<GenerateJob, FieldErrors> {
        let errors = self.errors();
        let validity_days = match self.validity() {
            Some(days) if errors.is_empty() => days,
            _ => return Err(errors),
        };
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(GenerateJob {
            id,
            key_type: self.key_type.as_str().to_owned(),
            common_name: self.common_name.trim().to_owned(),
            organization: optional(&self.organization),
            organizational_unit: optional(&self.organizational_unit),
            country: optional(&self.country),
            validity_days,
            now_unix_ms,
        })
    }
}

/// Where the worker is with the credentials.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Generation {
    #[default]
    Idle,
    Running,
    Made(Rc<Made>),
    Failed(String),
}

/// The credentials the page holds (made by the worker or imported), with
/// what the page shows about them.
#[derive(Debug)]
pub struct Made {
    pub certificate: Certificate,
    pub info: CertificateInfo,
    pub findings: Vec<Finding>,
    /// Wiped when dropped; only ever handed to a download. `None` for an
    /// imported certificate without (or with a mismatched) key.
    pub private_key: Option<PrivateKey>,
    pub origin: Origin,
}

/// Where the credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Generated,
    Imported {
        /// The file names, as picked.
        files: Vec<String>,
        /// How the first file was encoded.
        format: InputFormat,
        key_check: KeyCheck,
        /// Certificates read besides the device's (a chain, say); not used.
        other_certificates: usize,
    },
}

/// Whether an imported key belongs to the imported certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// No key among the files: registering and downloading the
    /// certificate work, the key downloads do not.
    NoKey,
    Matches,
    /// A key that belongs to another certificate; not kept.
    Mismatch,
}

/// Credentials are the same when their certificates, origins and keys
/// are (the same certificate imported from another file, or now with its
/// key, is news for the page).
impl PartialEq for Made {
    fn eq(&self, other: &Made) -> bool {
        self.certificate == other.certificate
            && self.origin == other.origin
            && self.private_key.as_ref().map(PrivateKey::pkcs8_der)
                == other.private_key.as_ref().map(PrivateKey::pkcs8_der)
    }
}

impl Made {
    /// Reads what the worker sent. `now` is for the preflight's validity checks.
    pub fn from_worker(
        certificate_pem: &str,
        private_key_pem: String,
        now: OffsetDateTime,
    ) -> marshal_shared::Result<Made> {
        let private_key_pem = Zeroizing::new(private_key_pem);
        let certificate = Certificate::from_pem(certificate_pem)?;
        let key = PrivateKey::from_pem(&private_key_pem, "")?;
        Made::new(certificate, Some(key), Origin::Generated, now)
    }

    /// Details and preflight findings of `certificate`.
    pub fn new(
        certificate: Certificate,
        private_key: Option<PrivateKey>,
        origin: Origin,
        now: OffsetDateTime,
    ) -> marshal_shared::Result<Made> {
        let info = certificate.info()?;
        let findings = marshal_shared::preflight::check_certificate(&certificate, now);
        Ok(Made {
            certificate,
            info,
            findings,
            private_key,
            origin,
        })
    }

    /// A name for files: the common name, else the start of the ID.
    pub fn file_stem(&self) -> String {
        let raw = self
            .info
            .common_name
            .clone()
            .unwrap_or_else(|| self.info.certificate_id.chars().take(12).collect());
        let safe: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        match safe.trim_matches('.') {
            "" => "device".to_owned(),
            stem => stem.to_owned(),
        }
    }
}

/// A value fetched from the API.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Remote<T> {
    #[default]
    NotAsked,
    Loading,
    Loaded(Rc<T>),
    Failed(ApiFailure),
}

/// Why an API call failed, ready to be shown (never raw JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
    /// The API answered with its error body.
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
        request_id: String,
    },
    /// No usable answer: network down, or a body that is not the API's.
    Unreachable { detail: String },
    /// The API needs a signed-in user: the call was not sent (nobody
    /// signed in, or the session expired), or the API answered 401.
    SignIn(SignInNeed),
    /// The page's `config.json` is unusable: the call was not sent.
    PageConfig,
}

/// The "register" form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterForm {
    pub targets: BTreeSet<String>,
    /// `None` until the config arrives or the user picks one.
    pub policy: Option<String>,
    /// `None`: follow the common name.
    pub thing_name: Option<String>,
    /// One of the caller's groups (`GET /v1/config`), whose members may
    /// then manage the certificate too. `None`: only the caller.
    pub owner_group: Option<String>,
}

/// Every change to the state.
#[derive(Debug, Clone)]
pub enum Action {
    SetLang(Lang),
    SetKeyType(KeyType),
    SetCommonName(String),
    SetValidityDays(String),
    SetOrganization(String),
    SetOrganizationalUnit(String),
    SetCountry(String),
    /// "Generate" was pressed while the form had errors.
    GenerationRefused,
    /// A job went to the worker.
    GenerationStarted {
        job: u64,
    },
    /// The worker answered (possibly for an older job).
    Generated {
        job: u64,
        made: Rc<Made>,
    },
    GenerationFailed {
        job: u64,
        message: String,
    },
    /// The worker itself broke (did not load, crashed): whatever runs fails.
    WorkerFailed(String),
    ConfigLoading,
    ConfigLoaded(Rc<GetConfigResponse>),
    ConfigFailed(ApiFailure),
    ToggleTarget(String),
    SetPolicy(String),
    SetThingName(String),
    /// `None`: "only me". A group the config does not list is ignored.
    SetOwnerGroup(Option<String>),
    RegistrationSent,
    RegistrationDone(Rc<CreateRegistrationResponse>),
    RegistrationFailed(ApiFailure),
    Manage(manage::ManageAction),
    Inventory(inventory::InventoryAction),
    /// Files were picked or dropped (and read): import them with the
    /// password as typed. `now` is for the preflight.
    ImportFiles {
        files: Rc<Vec<PickedFile>>,
        now: OffsetDateTime,
    },
    SetImportPassword(String),
    SetSource(Source),
    SetBatchNames(String),
    BatchRefused(BatchProblem),
    BatchStarted {
        run: u64,
        total: usize,
    },
    BatchProgress {
        run: u64,
        done: usize,
    },
    BatchDone {
        run: u64,
        result: Rc<BatchResult>,
    },
    BatchFailed {
        run: u64,
        message: String,
    },
    /// The user stopped the running batch (its worker is gone).
    BatchCancelled,
    /// The batch `run`'s job.
    BatchJob {
        run: u64,
        action: job::JobAction,
    },
    /// Try the same files again (after typing a password).
    RetryImport {
        now: OffsetDateTime,
    },
    /// The user signed out: what the API told them leaves the page (their
    /// targets, registration results, look-ups, inventory). Credentials stay: they
    /// were made or imported here without signing in, and may not be saved
    /// yet.
    SignedOut,
}

impl State {
    /// A fresh page in `lang`.
    pub fn new(lang: Lang) -> State {
        State {
            lang,
            ..State::default()
        }
    }

    /// The form errors worth showing now: all of them once "generate" was
    /// pressed; before that, not the one for a still empty common name.
    pub fn visible_form_errors(&self) -> FieldErrors {
        let mut errors = self.form.errors();
        if !self.form_attempted {
            errors.retain(|(_, text)| *text != Text::ErrorCommonNameEmpty);
        }
        errors
    }

    /// The thing name the registration will use: typed, else the
    /// certificate's CN, else the CN typed in the form.
    pub fn thing_name(&self) -> String {
        if let Some(name) = &self.register.thing_name {
            return name.clone();
        }
        self.made()
            .and_then(|made| made.info.common_name.clone())
            .unwrap_or_else(|| self.form.common_name.trim().to_owned())
    }

    /// The credentials, when made.
    pub fn made(&self) -> Option<&Rc<Made>> {
        match &self.generation {
            Generation::Made(made) => Some(made),
            _ => None,
        }
    }

    /// Whether a batch is being made.
    pub fn batch_running(&self) -> bool {
        matches!(self.batch.status, BatchStatus::Running { .. })
    }

    /// The batch the names and the form describe: the form's key type,
    /// validity and organisation, one common name per listed name.
    pub fn batch_job(&self, now_unix_ms: f64) -> Result<BatchJob, BatchProblem> {
        let names = parse_names(&self.batch.names)?;
        let mut form = self.form.clone();
        form.common_name = names[0].clone();
        let settings = form.job(0, now_unix_ms).map_err(|_| BatchProblem {
            line: None,
            name: None,
            reason: Text::BatchFormErrors,
        })?;
        Ok(BatchJob { names, settings })
    }

    /// Where the current certificate was registered by the last request,
    /// for the device kit: target details from the config, endpoint and
    /// thing from the answer.
    pub fn kit_endpoints(&self) -> Vec<KitEndpoint> {
        let (Some(made), Remote::Loaded(response)) = (self.made(), &self.registration) else {
            return Vec::new();
        };
        kit_endpoints_of(&response.results, &made.info.certificate_id, &self.config)
    }

    /// Why the register button cannot be pressed yet (None: it can).
    pub fn register_blocker(&self) -> Option<Text> {
        let Remote::Loaded(config) = &self.config else {
            return Some(Text::LoadingTargets);
        };
        if self.made().is_none() {
            return Some(Text::RegisterNeedsCredentials);
        }
        if self.register.targets.is_empty() {
            return Some(Text::ChooseTarget);
        }
        if self.register.targets.len() > config.limits.max_targets_per_request {
            return Some(Text::TooManyTargets);
        }
        if marshal_shared::validate::thing_name(&self.thing_name()).is_err() {
            return Some(Text::ThingNameRule);
        }
        if matches!(self.registration, Remote::Loading) {
            return Some(Text::Registering);
        }
        None
    }

    /// The request the register button sends: the certificate PEM, never the key.
    pub fn registration_request(&self) -> Option<CreateRegistrationRequest> {
        if self.register_blocker().is_some() {
            return None;
        }
        let made = self.made()?;
        Some(CreateRegistrationRequest {
            certificates: vec![CertificateInput {
                certificate_pem: made.certificate.to_pem(),
                thing_name: Some(self.thing_name()),
            }],
            targets: self.register.targets.iter().cloned().collect(),
            policy: self.register.policy.clone()?,
            activate: true,
            owner_group: self.register.owner_group.clone(),
        })
    }
}

impl State {
    fn apply(&mut self, action: Action) {
        match action {
            Action::SetLang(lang) => self.lang = lang,
            Action::SetKeyType(key_type) => self.form.key_type = key_type,
            Action::SetCommonName(cn) => self.form.common_name = cn,
            Action::SetValidityDays(days) => self.form.validity_days = days,
            Action::SetOrganization(o) => self.form.organization = o,
            Action::SetOrganizationalUnit(ou) => self.form.organizational_unit = ou,
            Action::SetCountry(c) => self.form.country = c,
            Action::GenerationRefused => self.form_attempted = true,
            Action::GenerationStarted { job } => {
                self.last_job = job;
                self.generation = Generation::Running;
                // New credentials: results for the old certificate no longer apply.
                self.registration = Remote::NotAsked;
            }
            Action::Generated { job, made } => {
                if job == self.last_job {
                    self.generation = Generation::Made(made);
                }
            }
            Action::GenerationFailed { job, message } => {
                if job == self.last_job {
                    self.generation = Generation::Failed(message);
                }
            }
            Action::WorkerFailed(message) => {
                if matches!(self.generation, Generation::Running) {
                    self.generation = Generation::Failed(message);
                }
            }
            Action::SignedOut => {
                self.config = Remote::NotAsked;
                self.register = RegisterForm::default();
                self.registration = Remote::NotAsked;
                self.manage = manage::Manage::default();
                self.inventory = inventory::Inventory::default();
            }
            Action::ConfigLoading => self.config = Remote::Loading,
            Action::ConfigLoaded(config) => {
                // Keep a chosen policy that is still allowed; else the first.
                let still_allowed = self
                    .register
                    .policy
                    .as_ref()
                    .is_some_and(|p| config.policies.iter().any(|q| &q.name == p));
                if !still_allowed {
                    self.register.policy = config.policies.first().map(|p| p.name.clone());
                }
                self.register
                    .targets
                    .retain(|id| config.targets.iter().any(|t| &t.id == id));
                // A group the caller left is no longer theirs to name.
                if let Some(group) = &self.register.owner_group
                    && !config.groups.contains(group)
                {
                    self.register.owner_group = None;
                }
                self.config = Remote::Loaded(config);
            }
            Action::ConfigFailed(failure) => self.config = Remote::Failed(failure),
            Action::ToggleTarget(id) => {
                if !self.register.targets.remove(&id) {
                    self.register.targets.insert(id);
                }
            }
            Action::SetPolicy(policy) => self.register.policy = Some(policy),
            Action::SetThingName(name) => self.register.thing_name = Some(name),
            Action::SetOwnerGroup(group) => {
                if group.as_ref().is_none_or(|g| is_own_group(&self.config, g)) {
                    self.register.owner_group = group;
                }
            }
            Action::RegistrationSent => self.registration = Remote::Loading,
            Action::RegistrationDone(response) => self.registration = Remote::Loaded(response),
            Action::RegistrationFailed(failure) => self.registration = Remote::Failed(failure),
            Action::Manage(action) => self.manage.apply(action, &self.config),
            Action::Inventory(action) => self.inventory.apply(action),
            Action::ImportFiles { files, now } => {
                self.import.files = files;
                self.run_import(now);
            }
            Action::SetImportPassword(password) => {
                self.import.password = Secret(Zeroizing::new(password));
            }
            Action::RetryImport { now } => self.run_import(now),
            Action::SetSource(source) => self.source = source,
            Action::SetBatchNames(names) => {
                self.batch.names = names;
                if matches!(self.batch.status, BatchStatus::Refused(_)) {
                    self.batch.status = BatchStatus::Idle;
                }
            }
            Action::BatchRefused(problem) => self.batch.status = BatchStatus::Refused(problem),
            Action::BatchStarted { run, total } => {
                self.batch.run = run;
                self.batch.status = BatchStatus::Running { done: 0, total };
                self.batch.job = job::JobWatch::Idle;
            }
            Action::BatchProgress { run, done } => {
                if let BatchStatus::Running { done: d, .. } = &mut self.batch.status
                    && run == self.batch.run
                {
                    *d = done;
                }
            }
            Action::BatchDone { run, result } => {
                if run == self.batch.run && self.batch_running() {
                    self.batch.status = BatchStatus::Done(result);
                }
            }
            Action::BatchFailed { run, message } => {
                if run == self.batch.run && self.batch_running() {
                    self.batch.status = BatchStatus::Failed(message);
                }
            }
            Action::BatchCancelled => {
                if self.batch_running() {
                    self.batch.status = BatchStatus::Cancelled;
                }
            }
            Action::BatchJob { run, action } => {
                if run == self.batch.run && matches!(self.batch.status, BatchStatus::Done(_)) {
                    self.batch.job.apply(action);
                }
            }
        }
    }
}

impl State {
    fn run_import(&mut self, now: OffsetDateTime) {
        match import_files(&self.import.files, &self.import.password.0, now) {
            Ok(made) => {
                self.import = ImportForm::default();
                // A job still running in the worker must not replace these.
                self.last_job += 1;
                self.generation = Generation::Made(Rc::new(made));
                self.registration = Remote::NotAsked;
                self.register.thing_name = None;
            }
            Err(problem) => self.import.problem = Some(problem),
        }
    }
}

#[cfg(target_arch = "wasm32")]
impl yew::Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        next.apply(action);
        Rc::new(next)
    }
}

/// The reducer without Yew, for native tests.
pub fn reduce(state: State, action: Action) -> State {
    let mut next = state;
    next.apply(action);
    next
}

/// Where `certificate_id` was registered according to `results` (of a
/// registration or a rotation), for the device kit: target details from
/// the config, endpoint and thing from the answer.
pub fn kit_endpoints_of(
    results: &[marshal_shared::api::RegistrationResult],
    certificate_id: &str,
    config: &Remote<GetConfigResponse>,
) -> Vec<KitEndpoint> {
    let targets = match config {
        Remote::Loaded(config) => config.targets.as_slice(),
        _ => &[],
    };
    results
        .iter()
        .filter(|r| r.certificate_id == certificate_id)
        .filter_map(|r| {
            let registration = r.registration.as_ref()?;
            let target = targets.iter().find(|t| t.id == r.target);
            Some(KitEndpoint {
                target: r.target.clone(),
                name: target.map_or_else(|| r.target.clone(), |t| t.name.clone()),
                account_id: target.map(|t| t.account_id.clone()).unwrap_or_default(),
                region: target.map(|t| t.region.clone()).unwrap_or_default(),
                endpoint: registration.endpoint.clone(),
                thing_name: Some(registration.thing.clone()),
            })
        })
        .collect()
}

/// Whether `group` is one of the caller's groups as the config lists them:
/// the only groups a registration or an adoption may name as owner.
pub fn is_own_group(config: &Remote<GetConfigResponse>, group: &str) -> bool {
    match config {
        Remote::Loaded(config) => config.groups.iter().any(|g| g == group),
        _ => false,
    }
}

/// Targets grouped for display: by account, then region, in config order.
pub fn targets_by_account(
    config: &GetConfigResponse,
) -> Vec<(String, Vec<&marshal_shared::api::TargetInfo>)> {
    let mut groups: Vec<(String, Vec<&marshal_shared::api::TargetInfo>)> = Vec::new();
    for target in &config.targets {
        match groups.iter_mut().find(|(a, _)| a == &target.account_id) {
            Some((_, list)) => list.push(target),
            None => groups.push((target.account_id.clone(), vec![target])),
        }
    }
    for (_, list) in &mut groups {
        list.sort_by(|a, b| a.region.cmp(&b.region).then(a.id.cmp(&b.id)));
    }
    groups
}

// Native only: the browser tests are in `browser_tests`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
