//! How much work one PKCS#12 import may do. Each key derivation is capped
//! (`pbes2::MAX_ITERATIONS`), but a file may ask for many: a 1 MiB file
//! holds thousands of shrouded bags, each up to the cap, which would keep
//! the page busy for hours (security review 2026-12, L2). So one import has
//! a total, counted before each derivation, and what a file announces is
//! added up and refused before the first one runs.

use crate::error::{Error, Result};

/// The limits of one import.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Key-derivation work (iterations times hash blocks) summed over the
    /// MAC and every decryption, both password candidates included. Real
    /// files need at most a few million (600,000 iterations for a MAC, a
    /// safe and a legacy 3DES key is 4.2 million).
    pub(super) kdf_rounds: u64,
    /// Safes in the authenticated safe (real files: one to three).
    pub(super) safes: usize,
    /// Bags in all safes, nested ones and their containers included (real
    /// files: a key and its chain of certificates).
    pub(super) bags: usize,
}

impl Limits {
    /// What `pkcs12::import` allows: seconds of work natively at most.
    pub(super) const IMPORT: Limits = Limits {
        kdf_rounds: 10_000_000,
        safes: 16,
        bags: 16,
    };

    pub(super) fn check_safes(&self, count: usize) -> Result<()> {
        too_many("safes", count, self.safes)
    }

    pub(super) fn check_bags(&self, count: usize) -> Result<()> {
        too_many("bags", count, self.bags)
    }
}

fn too_many(what: &str, count: usize, limit: usize) -> Result<()> {
    if count > limit {
        return Err(Error::MalformedPkcs12(format!(
            "more than {limit} {what}, more than this tool reads in one file"
        )));
    }
    Ok(())
}

/// The key-derivation work an import has left.
#[derive(Debug)]
pub(super) struct Budget {
    limit: u64,
    left: u64,
}

impl Budget {
    pub(super) fn new(limits: &Limits) -> Budget {
        Budget {
            limit: limits.kdf_rounds,
            left: limits.kdf_rounds,
        }
    }

    /// Refuses work (announced, or about to run) that is more than what is left.
    pub(super) fn afford(&self, rounds: u64) -> Result<()> {
        if rounds > self.left {
            return Err(Error::MalformedPkcs12(format!(
                "key derivations of more than {} iterations in all, more than this tool runs for one file",
                self.limit
            )));
        }
        Ok(())
    }

    /// Takes `rounds` from what is left, before the derivation runs.
    pub(super) fn spend(&mut self, rounds: u64) -> Result<()> {
        self.afford(rounds)?;
        self.left -= rounds;
        Ok(())
    }
}
