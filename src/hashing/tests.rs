//! The keyed string hash: every byte counts, and what a sender knows of one
//! process's keys tells it nothing of another's.

use super::*;

/// Keys a test knows, as a sender would if they were fixed.
static KEYS: std::sync::LazyLock<Keys> = std::sync::LazyLock::new(|| Keys::from_seed(7));

#[test]
fn every_byte_and_the_length_of_a_string_count() {
    let base: Vec<u8> = (0..80u8).map(|i| i.wrapping_mul(37) ^ 0x55).collect();
    let mut seen = std::collections::HashSet::new();
    for len in 0..=base.len() {
        let text = &base[..len];
        assert!(seen.insert(KEYS.string(text)), "length {len}");
        for at in 0..len {
            let mut changed = text.to_vec();
            changed[at] ^= 1;
            assert_ne!(KEYS.string(&changed), KEYS.string(text), "{len} {at}");
        }
    }
    // Shorter strings are not their zero-padded longer ones.
    assert_ne!(KEYS.string(b"ab"), KEYS.string(b"ab\0"));
    assert_ne!(KEYS.string(&[0; 17]), KEYS.string(&[0; 18]));
}

#[test]
fn strings_that_differ_in_length_and_last_byte_hash_apart() {
    // Seen on Prometheus 2.42's traffic: le="1000" and le="10000" hashed the
    // same while the length was xor-ed into the last word ('1' ^ 4 == '0' ^ 5).
    assert_ne!(KEYS.string(b"1000"), KEYS.string(b"10000"));
    // Every decimal number up to 10^6 and its neighbours in length, in
    // text forms senders use (le buckets, ports, ids, zero-padded): all apart.
    let mut seen = std::collections::HashMap::new();
    for n in 0..1_000_000u64 {
        for text in [
            n.to_string(),
            format!("{n}0"),
            format!("{n:08}"),
            format!("{n}.0"),
        ] {
            if let Some(other) = seen.insert(KEYS.string(text.as_bytes()), text.clone()) {
                assert_eq!(other, text, "collision");
            }
        }
    }
}

/// With keys it knows, a sender can make two label sets one series: a value
/// whose first word cancels the key it meets multiplies to 0, whatever its
/// other bytes. Under any other keys they are two.
#[test]
fn a_full_collision_made_for_known_keys_holds_under_those_keys_alone() {
    use crate::ingest::model::label_set_hash_with;
    // 12 bytes: the first 8 cancel the key, the last 4 are free.
    let value = |tail: &[u8; 4]| {
        let mut v = KEYS.short[0].rotate_right(12).to_le_bytes().to_vec();
        v.extend_from_slice(tail);
        v
    };
    let (a, b) = (value(b"0001"), value(b"0002"));
    assert_eq!(KEYS.string(&a), KEYS.string(&b));
    let set = |keys: &Keys, v: &[u8]| {
        label_set_hash_with(
            keys,
            [(&b"__name__"[..], &b"up"[..]), (b"id", v)].into_iter(),
        )
    };
    assert_eq!(set(&KEYS, &a), set(&KEYS, &b));
    for keys in [&Keys::from_seed(8), keys()] {
        assert_ne!(keys.string(&a), keys.string(&b));
        assert_ne!(set(keys, &a), set(keys, &b));
    }
}

/// Each process draws its own keys: this test runs itself again as a child
/// process, which prints a hash under its keys.
#[test]
fn each_process_draws_its_own_keys() {
    const PROBE: &str = "PROMSCOPE_TEST_PRINT_KEYED_HASH";
    let ours = keys().string(b"up");
    assert_eq!(ours, keys().string(b"up"));
    if std::env::var_os(PROBE).is_some() {
        println!("keyed-hash={ours}");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let child = std::process::Command::new(exe)
        .args(["--exact", "hashing::tests::each_process_draws_its_own_keys"])
        .args(["--nocapture", "--test-threads=1"])
        .env(PROBE, "1")
        .output()
        .expect("the test binary runs again");
    let out = String::from_utf8_lossy(&child.stdout);
    // The harness may print the test's name on the same line.
    let theirs: u64 = out
        .split("keyed-hash=")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("the child printed no hash: {out}"));
    assert_ne!(theirs, ours);
}
