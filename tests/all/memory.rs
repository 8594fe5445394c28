//! Memory does not grow with the list: `check` of a members file ten times
//! longer takes hardly more memory, measured as the peak resident size of
//! the process (its parent reads it with `getrusage`, so that nothing else
//! of the test run counts).

use crate::common;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

/// A list whose members file has `rows` members.
fn list(dir: &Path, rows: usize) -> std::path::PathBuf {
    let mut csv = String::from("email,name,interests\n");
    for i in 0..rows {
        let _ = writeln!(csv, "abonne{i}@example.org,Abonné {i},spatial");
    }
    fs::write(dir.join(format!("membres-{rows}.csv")), csv).expect("members");
    let path = dir.join(format!("liste-{rows}.toml"));
    fs::write(
        &path,
        format!(
            "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\nmembers = \"membres-{rows}.csv\"\ntopics = {{ spatial = \"Spatial\", economie-numerique = \"E\" }}\n"
        ),
    )
    .expect("list");
    path
}

/// The peak resident size, in kB, of `breves check` of the small issue
/// with `list`.
fn peak(list: &Path) -> u64 {
    let python = std::env::var("BREVES_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import resource, subprocess, sys\n\
                  done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
                  print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(env!("CARGO_BIN_EXE_breves"))
        .arg("check")
        .arg(common::root().join(common::SMALL_ISSUE))
        .arg("--subscribers")
        .arg(list)
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    assert_eq!(words.next(), Some("0"), "check passes: {text}");
    words
        .next()
        .and_then(|kb| kb.parse().ok())
        .unwrap_or_else(|| panic!("a peak size: {text}"))
}

#[test]
fn checking_a_list_ten_times_longer_takes_hardly_more_memory() {
    let dir = common::tempdir();
    let (small, large) = (list(dir.path(), 20_000), list(dir.path(), 200_000));
    let (small, large) = (peak(&small), peak(&large));
    // A key of 8 bytes a member is kept to find those written twice: 2 MB
    // for 180,000 members more. Every row kept would be tens of MB.
    assert!(
        large < small + 12 * 1024,
        "20,000 members: {small} kB at the peak; 200,000: {large} kB"
    );
    println!("peak memory: {small} kB for 20,000 members, {large} kB for 200,000");
}
