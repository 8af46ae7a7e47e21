//! The job ports in memory: the table (jobs, chunks, paces, with the same
//! conditional rules as DynamoDB), a queue whose messages a test delivers
//! itself (as often as it likes), and the files.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use marshal_shared::api::JobState;

use crate::service::{
    jobs::{
        ChunkRecord, Done, FileError, FileReader, JobFiles, JobMessage, JobPorts, JobQueue,
        JobRecord, JobStore, Pace, Presigned, ResultRow, Transition,
    },
    ownership::StoreError,
};

#[derive(Debug, Default)]
struct State {
    jobs: HashMap<String, JobRecord>,
    chunks: HashMap<String, BTreeMap<u64, ChunkRecord>>,
    paces: HashMap<String, (Pace, u64)>,
    /// The jobs of each caller that have not ended.
    slots: HashMap<String, std::collections::BTreeSet<String>>,
    queue: Vec<JobMessage>,
    /// Sends left to refuse (a queue that is down).
    failing_sends: usize,
    /// Reads of registries' paces so far.
    pace_reads: u64,
    files: HashMap<String, Vec<u8>>,
}

/// Every job port in memory, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct InMemoryJobs {
    state: Arc<Mutex<State>>,
}

impl InMemoryJobs {
    /// Empty.
    pub fn new() -> InMemoryJobs {
        InMemoryJobs::default()
    }

    /// The ports, to give to `Service::with_jobs`.
    pub fn ports(&self) -> JobPorts {
        JobPorts {
            store: Arc::new(self.clone()),
            queue: Arc::new(self.clone()),
            files: Some(Arc::new(self.clone())),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes every queued message (as JSON bodies), in order.
    pub fn drain(&self) -> Vec<String> {
        std::mem::take(&mut self.state().queue)
            .iter()
            .filter_map(|m| serde_json::to_string(m).ok())
            .collect()
    }

    /// Refuses the next `count` sends, queueing nothing of them.
    pub fn fail_sends(&self, count: usize) {
        self.state().failing_sends = count;
    }

    /// How often a registry's pace was read.
    pub fn pace_reads(&self) -> u64 {
        self.state().pace_reads
    }

    /// Puts a file where an upload URL points (`uploads/<job id>`).
    pub fn upload(&self, job: &str, bytes: &[u8]) {
        self.state()
            .files
            .insert(format!("uploads/{job}"), bytes.to_vec());
    }

    /// A file's bytes.
    pub fn file(&self, key: &str) -> Option<Vec<u8>> {
        self.state().files.get(key).cloned()
    }
}

#[async_trait]
impl JobStore for InMemoryJobs {
    async fn create(&self, job: &JobRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.jobs.contains_key(&job.id) {
            return Err(StoreError::Conflict);
        }
        state.jobs.insert(job.id.clone(), job.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        Ok(self.state().jobs.get(id).cloned())
    }

    async fn open_slot(&self, subject: &str, job: &str, max: usize) -> Result<bool, StoreError> {
        let mut state = self.state();
        let slots = state.slots.entry(subject.to_owned()).or_default();
        if slots.len() >= max && !slots.contains(job) {
            return Ok(false);
        }
        slots.insert(job.to_owned());
        Ok(true)
    }

    async fn slots(&self, subject: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .state()
            .slots
            .get(subject)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn close_slot(&self, subject: &str, job: &str) -> Result<(), StoreError> {
        if let Some(slots) = self.state().slots.get_mut(subject) {
            slots.remove(job);
        }
        Ok(())
    }

    async fn transition(
        &self,
        id: &str,
        from: &[JobState],
        to: JobState,
        set: &Transition,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(job) = state.jobs.get_mut(id).filter(|j| from.contains(&j.state)) else {
            return Ok(false);
        };
        job.state = to;
        job.started_ms = set.started_ms.or(job.started_ms);
        job.ended_ms = set.ended_ms.or(job.ended_ms);
        job.certificates = set.certificates.unwrap_or(job.certificates);
        job.chunks = set.chunks.unwrap_or(job.chunks);
        job.window = set.window.unwrap_or(job.window);
        if set.error.is_some() {
            job.error.clone_from(&set.error);
        }
        Ok(true)
    }

    async fn claim_requeue(
        &self,
        id: &str,
        states: &[JobState],
        now_ms: i64,
        after_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(job) = state
            .jobs
            .get_mut(id)
            .filter(|j| states.contains(&j.state) && j.requeued_ms.is_none_or(|ms| ms <= after_ms))
        else {
            return Ok(false);
        };
        job.requeued_ms = Some(now_ms);
        Ok(true)
    }

    async fn put_chunks(&self, id: &str, chunks: &[ChunkRecord]) -> Result<(), StoreError> {
        let mut state = self.state();
        let stored = state.chunks.entry(id.to_owned()).or_default();
        for chunk in chunks {
            if stored.get(&chunk.index).is_none_or(|c| c.results.is_none()) {
                stored.insert(chunk.index, chunk.clone());
            }
        }
        Ok(())
    }

    async fn chunk(&self, id: &str, index: u64) -> Result<Option<ChunkRecord>, StoreError> {
        Ok(self
            .state()
            .chunks
            .get(id)
            .and_then(|c| c.get(&index))
            .cloned())
    }

    async fn finish_chunk(
        &self,
        id: &str,
        index: u64,
        results: &[ResultRow],
        done: &[Done],
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(chunk) = state.chunks.get_mut(id).and_then(|c| c.get_mut(&index)) else {
            return Ok(false);
        };
        if chunk.results.is_some() {
            return Ok(false);
        }
        chunk.results = Some(results.to_vec());
        if let Some(job) = state.jobs.get_mut(id) {
            job.chunks_done += 1;
            for (counts, add) in job.done.iter_mut().zip(done) {
                counts.succeeded += add.succeeded;
                counts.failed += add.failed;
                counts.skipped += add.skipped;
            }
        }
        Ok(true)
    }

    async fn chunks(&self, id: &str) -> Result<Vec<ChunkRecord>, StoreError> {
        Ok(self
            .state()
            .chunks
            .get(id)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn add_throttled(&self, id: &str, count: u64) -> Result<(), StoreError> {
        if let Some(job) = self.state().jobs.get_mut(id) {
            job.throttled += count;
        }
        Ok(())
    }

    async fn pace(&self, key: &str) -> Result<Option<(Pace, u64)>, StoreError> {
        let mut state = self.state();
        state.pace_reads += 1;
        Ok(state.paces.get(key).copied())
    }

    async fn set_pace(
        &self,
        key: &str,
        pace: &Pace,
        version: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let current = state.paces.get(key).map(|(_, v)| *v);
        if current != version {
            return Err(StoreError::Conflict);
        }
        state
            .paces
            .insert(key.to_owned(), (*pace, version.map_or(1, |v| v + 1)));
        Ok(())
    }
}

#[async_trait]
impl JobQueue for InMemoryJobs {
    async fn send(&self, messages: &[JobMessage]) -> Result<(), String> {
        let mut state = self.state();
        if state.failing_sends > 0 {
            state.failing_sends -= 1;
            return Err("SendMessageBatch: the queue is unavailable (test)".into());
        }
        state.queue.extend_from_slice(messages);
        Ok(())
    }
}

#[async_trait]
impl JobFiles for InMemoryJobs {
    async fn upload_url(
        &self,
        key: &str,
        content_type: &str,
        _seconds: u64,
    ) -> Result<Presigned, String> {
        Ok(Presigned {
            url: format!("memory://{key}"),
            headers: vec![("content-type".into(), content_type.into())],
        })
    }

    async fn open(&self, key: &str, max: u64) -> Result<Option<FileReader>, FileError> {
        match self.state().files.get(key) {
            Some(bytes) if bytes.len() as u64 > max => Err(FileError::TooLarge(bytes.len() as u64)),
            Some(bytes) => Ok(Some(Box::new(std::io::Cursor::new(bytes.clone())))),
            None => Ok(None),
        }
    }

    async fn write(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), String> {
        self.state().files.insert(key.to_owned(), bytes);
        Ok(())
    }

    async fn download_url(&self, key: &str, _seconds: u64) -> Result<String, String> {
        Ok(format!("memory://{key}"))
    }
}
