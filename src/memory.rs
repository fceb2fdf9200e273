//! Keeping memory bounded on big albums.
//!
//! Photos of up to 100 MP pass through each worker as buffers of tens of megabytes. With glibc's
//! defaults, buffers under its (self-raising) mmap threshold are carved from per-thread heaps and
//! fragment them, so resident memory creeps up photo after photo. Serving every allocation over
//! 1 MiB straight from mmap returns it to the system as soon as it is freed.

/// Call once at start-up, before any worker starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}
