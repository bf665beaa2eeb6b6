//! Wiping the stack below the caller. Functions that have returned leave what they held in
//! the stack memory below: a key schedule built there before it was moved into its box, the
//! temporaries of AES key expansion. Threads keep their stacks after they end (glibc caches
//! them for the next thread), so key-handling code scrubs before it returns.

/// How deep below the caller to wipe: more than any key-handling call here uses.
const DEPTH: usize = 32 * 1024;

/// Overwrites `DEPTH` bytes of the stack below the caller's frame with zeros.
#[inline(never)]
pub fn scrub_stack() {
    let mut area = [0u8; DEPTH];
    // Volatile writes: zeroing memory that is never read again would otherwise be elided.
    zeroize::Zeroize::zeroize(&mut area[..]);
    std::hint::black_box(&area);
}
