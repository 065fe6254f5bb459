//! Parse throughput and memory on a large input built from real configurations.
//!
//! `cargo bench --bench parse` builds about 10 MB of main.cf text and of master.cf text
//! from the corpus beside the repository (`../shared/corpus`, real sets only; the bundled
//! examples when it is absent), parses each many times on one thread and prints the best
//! and median throughput, plus the peak heap the tree needs, as a multiple of the input.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pflint::check;
use pflint::source::SourceFile;
use pflint::syntax::{self, FileKind};

/// Counts live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                + (new_size - layout.size());
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TARGET_BYTES: usize = 10 * 1024 * 1024;

fn sources(name: &str) -> (String, Vec<Vec<u8>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus");
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&corpus) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                !p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("synthetic-")
            })
            .collect(),
        Err(_) => vec![],
    };
    let origin = if dirs.is_empty() {
        dirs = vec![root.join("examples/mail")];
        "examples/mail".to_owned()
    } else {
        format!("{} real corpus sets", dirs.len())
    };
    dirs.sort();
    let files = dirs
        .iter()
        .filter_map(|d| std::fs::read(d.join(name)).ok())
        .collect();
    (origin, files)
}

/// Concatenates whole files (each ending in a newline) until about 10 MB.
fn large_input(files: &[Vec<u8>]) -> Vec<u8> {
    let mut input = Vec::with_capacity(TARGET_BYTES + 1024 * 1024);
    while input.len() < TARGET_BYTES {
        for file in files {
            input.extend_from_slice(file);
            if !input.ends_with(b"\n") {
                input.push(b'\n');
            }
        }
    }
    input
}

fn measure(label: &str, bytes: usize, runs: usize, mut work: impl FnMut()) {
    work(); // warm up
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    let mb = bytes as f64 / 1e6;
    println!(
        "{label:<34} {:>8.1} MB/s best, {:>8.1} MB/s median ({runs} runs of {mb:.1} MB)",
        mb / times[0].as_secs_f64(),
        mb / times[runs / 2].as_secs_f64()
    );
}

fn peak_ratio(input_len: usize, work: impl FnOnce()) -> f64 {
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    work();
    (PEAK.load(Ordering::Relaxed) - baseline) as f64 / input_len as f64
}

fn main() {
    // `cargo bench` passes --bench; nothing else is accepted.
    for (name, kind) in [("main.cf", FileKind::Main), ("master.cf", FileKind::Master)] {
        let (origin, files) = sources(name);
        let input = large_input(&files);
        println!("{name}: {:.1} MB from {origin}", input.len() as f64 / 1e6);

        measure(&format!("  parse {name}"), input.len(), 15, || {
            std::hint::black_box(syntax::parse(kind, std::hint::black_box(&input)));
        });
        let file_bytes = input.clone();
        measure(
            &format!("  check {name} (parse, model, findings)"),
            input.len(),
            7,
            || {
                let file = Some(SourceFile::new(name, file_bytes.clone()).unwrap());
                let (main, master) = match kind {
                    FileKind::Main => (file, None),
                    FileKind::Master => (None, file),
                };
                let options = check::Options::default();
                std::hint::black_box(check::check_files(main, master, &options));
            },
        );

        let tree_peak = peak_ratio(input.len(), || {
            let parsed = syntax::parse(kind, &input);
            std::hint::black_box(&parsed);
        });
        println!(
            "  peak heap while parsing: tree {tree_peak:.2}x input; with the input {:.2}x",
            tree_peak + 1.0
        );
    }
}
