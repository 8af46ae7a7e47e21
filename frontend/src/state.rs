//! The page's whole state and every change to it: a pure reducer, tested
//! natively. Components only dispatch [`Action`]s and render [`State`].

use std::collections::BTreeSet;
use std::rc::Rc;

use marshal_shared::api::{
    CertificateInput, CreateRegistrationRequest, CreateRegistrationResponse, ErrorCode,
    GetConfigResponse,
};
use marshal_shared::preflight::Finding;
use marshal_shared::{Certificate, CertificateInfo, KeyType, MAX_VALIDITY_DAYS, OffsetDateTime};
use zeroize::Zeroizing;

use crate::generation::GenerateJob;
use crate::i18n::{Lang, Text};

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

/// Credentials the worker made, with what the page shows about them.
#[derive(Debug)]
pub struct Made {
    pub certificate: Certificate,
    pub info: CertificateInfo,
    pub findings: Vec<Finding>,
    /// PKCS#8 PEM; wiped when dropped. Only ever handed to a download.
    pub private_key_pem: Zeroizing<String>,
}

/// Credentials are the same when their certificates are.
impl PartialEq for Made {
    fn eq(&self, other: &Made) -> bool {
        self.certificate == other.certificate
    }
}

impl Made {
    /// Reads what the worker sent. `now` is for the preflight's validity checks.
    pub fn new(
        certificate_pem: &str,
        private_key_pem: String,
        now: OffsetDateTime,
    ) -> marshal_shared::Result<Made> {
        let private_key_pem = Zeroizing::new(private_key_pem);
        let certificate = Certificate::from_pem(certificate_pem)?;
        let info = certificate.info()?;
        let findings = marshal_shared::preflight::check_certificate(&certificate, now);
        Ok(Made {
            certificate,
            info,
            findings,
            private_key_pem,
        })
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
}

/// The "register" form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterForm {
    pub targets: BTreeSet<String>,
    /// `None` until the config arrives or the user picks one.
    pub policy: Option<String>,
    /// `None`: follow the common name.
    pub thing_name: Option<String>,
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
    RegistrationSent,
    RegistrationDone(Rc<CreateRegistrationResponse>),
    RegistrationFailed(ApiFailure),
    Manage(manage::ManageAction),
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

    /// The thing name the registration will use: typed, else the CN.
    pub fn thing_name(&self) -> String {
        match &self.register.thing_name {
            Some(name) => name.clone(),
            None => self.form.common_name.trim().to_owned(),
        }
    }

    /// The credentials, when made.
    pub fn made(&self) -> Option<&Rc<Made>> {
        match &self.generation {
            Generation::Made(made) => Some(made),
            _ => None,
        }
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
            Action::RegistrationSent => self.registration = Remote::Loading,
            Action::RegistrationDone(response) => self.registration = Remote::Loaded(response),
            Action::RegistrationFailed(failure) => self.registration = Remote::Failed(failure),
            Action::Manage(action) => self.manage.apply(action),
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
