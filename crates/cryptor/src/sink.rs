//! Where decrypted cleartext goes: a sink that holds it back until the HMAC has matched.
//!
//! A [`Decryptor`](crate::Decryptor) writes cleartext into its sink as it streams, but only calls
//! [`Sink::commit`] after the whole message has been authenticated. A sink must therefore not
//! let anything it was given be seen before `commit`, and must discard it when dropped
//! uncommitted. That is how the API makes unauthenticated cleartext unusable.

use std::io::{self, Write};

use zeroize::Zeroizing;

/// Receives cleartext before it is authenticated; releases it only on [`Sink::commit`].
pub trait Sink: Write {
    /// What the caller gets once the message is authenticated.
    type Output;

    /// Releases the cleartext. Called only after the HMAC has matched.
    ///
    /// # Errors
    /// Whatever making the cleartext durable or visible fails with.
    fn commit(self) -> io::Result<Self::Output>;
}

/// An in-memory sink. The buffer is zeroized if the message fails authentication; once
/// committed, the cleartext is the caller's, in a buffer that is zeroized when dropped.
///
/// It grows by moving into a new, larger buffer and zeroizing the old one, so no copy of the
/// cleartext is left behind in freed memory (a plain `Vec` leaves one at every reallocation).
#[derive(Default)]
pub struct CleartextBuffer(Zeroizing<Vec<u8>>);

impl CleartextBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer with room for `capacity` bytes (the expected length, when known).
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }
}

/// Appends to a secret buffer without leaving a copy in freed memory.
pub(crate) fn extend_zeroizing(buffer: &mut Zeroizing<Vec<u8>>, data: &[u8]) {
    let needed = buffer.len() + data.len();
    if needed > buffer.capacity() {
        let mut grown = Zeroizing::new(Vec::with_capacity(needed.max(2 * buffer.capacity())));
        grown.extend_from_slice(buffer);
        // The old buffer is zeroized (its whole capacity) when it is dropped here.
        *buffer = grown;
    }
    buffer.extend_from_slice(data);
}

impl Write for CleartextBuffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        extend_zeroizing(&mut self.0, data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for CleartextBuffer {
    type Output = Zeroizing<Vec<u8>>;

    fn commit(self) -> io::Result<Self::Output> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_keeps_every_byte_in_order() {
        let mut buffer = Zeroizing::new(Vec::new());
        for round in 0..200u8 {
            extend_zeroizing(&mut buffer, &[round; 37]);
        }
        assert_eq!(buffer.len(), 200 * 37);
        assert!(
            buffer
                .chunks(37)
                .enumerate()
                .all(|(i, c)| c == [i as u8; 37])
        );
    }
}
