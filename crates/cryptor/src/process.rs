//! Keeping the keys of a running process out of core dumps.

/// Makes this process never write a core dump, and not dumpable (which also keeps other
/// processes of the same user from reading its memory through ptrace or `/proc/PID/mem`):
/// a crash of Arca must not leave its keys or passwords on disk. The binaries call it first.
///
/// # Errors
/// If the operating system refuses; the caller decides whether to go on.
pub fn keep_secrets_out_of_core_dumps() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{
            DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit,
        };
        setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )?;
        set_dumpable_behavior(DumpableBehavior::NotDumpable)?;
    }
    Ok(())
}
