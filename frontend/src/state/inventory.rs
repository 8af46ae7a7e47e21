//! The inventory section's state: filters as typed, the rows loaded page by
//! page (following `nextCursor`), and the history of one certificate.
//! Pure: the component sends the requests these methods describe and
//! dispatches the answers back, tagged with tickets so stale ones are dropped.

use std::rc::Rc;

use marshal_shared::api::{
    CertificateHistoryResponse, GetConfigResponse, InventoryEntry, InventoryResponse,
};

use super::{ApiFailure, Remote};

mod csv;
mod expiry;
mod query;

pub use csv::{COLUMNS, csv_cell, inventory_csv};
pub use expiry::{Expiry, is_date, parse_rfc3339};
pub use query::{InventoryQuery, PAGE_SIZE, percent_encode};

/// The filters as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryFilters {
    /// A target id; empty: every target.
    pub target: String,
    pub thing: String,
    /// `YYYY-MM-DD` (a date input's value); empty: any.
    pub expires_before: String,
    pub registered_by: String,
}

/// Why a search cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterProblem {
    /// The expiry date is not a date.
    BadDate,
}

impl InventoryFilters {
    /// The query these filters ask, or why not. A target the config does
    /// not list is searched as "every target" (the config may have changed).
    pub fn query(
        &self,
        config: Option<&GetConfigResponse>,
    ) -> Result<InventoryQuery, FilterProblem> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let expires_before = match self.expires_before.trim() {
            "" => None,
            date if is_date(date) => Some(format!("{date}T00:00:00Z")),
            _ => return Err(FilterProblem::BadDate),
        };
        let target = text(&self.target)
            .filter(|t| config.is_none_or(|c| c.targets.iter().any(|known| &known.id == t)));
        Ok(InventoryQuery {
            target,
            thing: text(&self.thing),
            expires_before,
            registered_by: text(&self.registered_by),
        })
    }
}

/// What the rows are doing.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Loading {
    /// Nothing in flight.
    #[default]
    Idle,
    /// A new search: the rows will be replaced.
    Search,
    /// The next page: rows will be added.
    More,
    /// The last call failed; `more` says whether it was for the next page
    /// (the rows loaded so far stay).
    Failed { failure: ApiFailure, more: bool },
}

/// One certificate's ledger events.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub certificate_id: String,
    /// The row whose button asked (focus goes back there on close).
    pub row: usize,
    ticket: u64,
    pub events: Remote<CertificateHistoryResponse>,
}

/// Everything the inventory section shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub filters: InventoryFilters,
    /// Set when "search" was pressed with a bad filter: its problem shows from then on.
    pub attempted: bool,
    /// The search the rows answer; `None` before the first.
    pub query: Option<InventoryQuery>,
    /// Rows loaded so far, soonest `notAfter` first (the server's order).
    pub rows: Rc<Vec<InventoryEntry>>,
    /// Where the next page starts; `None` on the last.
    pub next_cursor: Option<String>,
    pub loading: Loading,
    ticket: Option<u64>,
    pub history: Option<History>,
}

/// Every change to [`Inventory`].
#[derive(Debug, Clone)]
pub enum InventoryAction {
    SetTarget(String),
    SetThing(String),
    SetExpiresBefore(String),
    SetRegisteredBy(String),
    /// "Search" was pressed with a bad filter.
    SearchRefused,
    /// A first page was asked for `query`.
    SearchStarted {
        query: InventoryQuery,
        ticket: u64,
    },
    /// The page after `next_cursor` was asked for.
    MoreStarted {
        ticket: u64,
    },
    PageLoaded {
        ticket: u64,
        result: Result<InventoryResponse, ApiFailure>,
    },
    HistoryStarted {
        certificate_id: String,
        row: usize,
        ticket: u64,
    },
    HistoryLoaded {
        ticket: u64,
        result: Result<Rc<CertificateHistoryResponse>, ApiFailure>,
    },
    HistoryClosed,
}

impl Inventory {
    /// The filter problem worth showing now: only once "search" was pressed.
    pub fn visible_problem(&self, config: &Remote<GetConfigResponse>) -> Option<FilterProblem> {
        self.filters
            .query(loaded(config))
            .err()
            .filter(|_| self.attempted)
    }

    /// Whether a call for rows is in flight.
    pub fn busy(&self) -> bool {
        matches!(self.loading, Loading::Search | Loading::More)
    }

    /// The path of the next page, when there is one and nothing is in flight.
    pub fn more_path(&self) -> Option<String> {
        if self.busy() {
            return None;
        }
        let query = self.query.as_ref()?;
        let cursor = self.next_cursor.as_deref()?;
        Some(query.path(Some(cursor)))
    }

    pub(super) fn apply(&mut self, action: InventoryAction) {
        match action {
            InventoryAction::SetTarget(t) => self.filters.target = t,
            InventoryAction::SetThing(t) => self.filters.thing = t,
            InventoryAction::SetExpiresBefore(d) => self.filters.expires_before = d,
            InventoryAction::SetRegisteredBy(r) => self.filters.registered_by = r,
            InventoryAction::SearchRefused => self.attempted = true,
            InventoryAction::SearchStarted { query, ticket } => {
                self.attempted = false;
                self.query = Some(query);
                self.rows = Rc::default();
                self.next_cursor = None;
                self.loading = Loading::Search;
                self.ticket = Some(ticket);
                self.history = None;
            }
            InventoryAction::MoreStarted { ticket } => {
                if self.query.is_some() && self.next_cursor.is_some() {
                    self.loading = Loading::More;
                    self.ticket = Some(ticket);
                }
            }
            InventoryAction::PageLoaded { ticket, result } => {
                if self.ticket != Some(ticket) {
                    return; // overtaken by a newer search
                }
                self.ticket = None;
                let more = self.loading == Loading::More;
                match result {
                    Ok(page) => {
                        if more {
                            Rc::make_mut(&mut self.rows).extend(page.entries);
                        } else {
                            self.rows = Rc::new(page.entries);
                        }
                        self.next_cursor = page.next_cursor;
                        self.loading = Loading::Idle;
                    }
                    Err(failure) => self.loading = Loading::Failed { failure, more },
                }
            }
            InventoryAction::HistoryStarted {
                certificate_id,
                row,
                ticket,
            } => {
                self.history = Some(History {
                    certificate_id,
                    row,
                    ticket,
                    events: Remote::Loading,
                });
            }
            InventoryAction::HistoryLoaded { ticket, result } => {
                if let Some(history) = &mut self.history
                    && history.ticket == ticket
                {
                    history.events = match result {
                        Ok(events) => Remote::Loaded(events),
                        Err(failure) => Remote::Failed(failure),
                    };
                }
            }
            InventoryAction::HistoryClosed => self.history = None,
        }
    }
}

fn loaded(config: &Remote<GetConfigResponse>) -> Option<&GetConfigResponse> {
    match config {
        Remote::Loaded(config) => Some(config),
        _ => None,
    }
}

// Native only, like the page's other reducer tests.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
