//! Batches sent a few at a time on worker threads (the one HTTP client is shared), their
//! rows written in input order as they come back. At most [`IN_FLIGHT`] batches are
//! read, sent or waiting to be written at once, so memory does not grow with the input.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, PoisonError};

use super::request::Embedder;
use super::source::{Batcher, MAX_INPUTS};
use crate::error::{CliError, Result};
use crate::term::progress;

/// Requests in flight at once.
pub const IN_FLIGHT: usize = 4;
/// The first batch when the vector length is not known yet. Its reply tells the length;
/// later batches are sized so that no reply holds more than [`REPLY_VALUES`] numbers
/// (about 10 MB of JSON), whatever the model's dimensions.
pub const FIRST_BATCH: usize = 64;
pub const REPLY_VALUES: usize = 1 << 19;

type Job = (u64, Vec<String>);
/// Writes one finished batch: its inputs and their vectors.
pub type WriteBatch<'w> = dyn FnMut(&[String], &[Vec<f64>]) -> Result<()> + 'w;
type Done = (u64, Vec<String>, Result<Vec<Vec<f64>>>);

/// Embeds every input `batcher` gives, calling `write` with each batch in input order;
/// gives the number of inputs embedded. `dimensions` is the vector length when known.
pub fn embed_all(
    embedder: &Embedder,
    batcher: &mut Batcher,
    dimensions: Option<usize>,
    write: &mut WriteBatch,
) -> Result<usize> {
    let (jobs, job_queue) = mpsc::channel::<Job>();
    let job_queue = Mutex::new(job_queue);
    let (done, finished) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        for _ in 0..IN_FLIGHT {
            let done = done.clone();
            let job_queue = &job_queue;
            scope.spawn(move || worker(embedder, job_queue, &done));
        }
        drop(done);
        // Returning drops `jobs`: the workers end after the request they are in.
        dispatch(batcher, dimensions, jobs, &finished, write)
    })
}

fn worker(embedder: &Embedder, jobs: &Mutex<Receiver<Job>>, done: &Sender<Done>) {
    loop {
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((seq, inputs)) = job else { return };
        let result = embedder.embed(&inputs);
        if done.send((seq, inputs, result)).is_err() {
            return;
        }
    }
}

/// Keeps up to [`IN_FLIGHT`] batches out (one until the vector length is known) and
/// writes finished ones in order; the first failure ends it.
fn dispatch(
    batcher: &mut Batcher,
    mut dimensions: Option<usize>,
    jobs: Sender<Job>,
    finished: &Receiver<Done>,
    write: &mut WriteBatch,
) -> Result<usize> {
    let lost = || CliError::failure("the embedding workers stopped unexpectedly");
    let (mut sent, mut written, mut rows) = (0u64, 0u64, 0usize);
    let mut ready = BTreeMap::new();
    let mut more = true;
    loop {
        while more && sent - written < window(dimensions) {
            match batcher.next_batch(batch_size(dimensions))? {
                Some(batch) => {
                    jobs.send((sent, batch)).map_err(|_| lost())?;
                    sent += 1;
                }
                None => more = false,
            }
        }
        if written == sent {
            return Ok(rows);
        }
        let (seq, inputs, result) = finished.recv().map_err(|_| lost())?;
        let vectors = result?;
        dimensions = dimensions.or_else(|| vectors.first().map(Vec::len));
        ready.insert(seq, (inputs, vectors));
        while let Some((inputs, vectors)) = ready.remove(&written) {
            progress::hide();
            write(&inputs, &vectors)?;
            rows += inputs.len();
            written += 1;
        }
    }
}

fn window(dimensions: Option<usize>) -> u64 {
    if dimensions.is_some() {
        IN_FLIGHT as u64
    } else {
        1
    }
}

/// How many inputs the next request may carry.
pub fn batch_size(dimensions: Option<usize>) -> usize {
    match dimensions {
        None => FIRST_BATCH,
        Some(length) => (REPLY_VALUES / length.max(1)).clamp(1, MAX_INPUTS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_shrink_for_long_vectors() {
        assert_eq!(batch_size(None), FIRST_BATCH);
        assert_eq!(batch_size(Some(4)), MAX_INPUTS);
        assert_eq!(batch_size(Some(1536)), 341);
        assert_eq!(batch_size(Some(3072)), 170);
        assert_eq!(batch_size(Some(10_000_000)), 1);
    }
}
