//! Leader certificate pins, per remote alias, kept in the data folder (`pins.tnd`, a durable
//! file), so a restarted follower still refuses a leader whose certificate changed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use parking_lot::Mutex;
use tandem_storage::durable_file::{self, DurableFileError};
use tandem_transport::{Fingerprint, PinStore};

/// The pin file under `path.data`.
pub const PINS_FILE_NAME: &str = "pins.tnd";
const PINS_MAGIC: [u8; 8] = *b"TNDPINS1";
const PINS_FORMAT_VERSION: u32 = 1;

/// Pins persisted in one file; every change rewrites it.
pub struct FilePinStore {
    path: PathBuf,
    pins: Mutex<BTreeMap<String, String>>,
}

impl FilePinStore {
    /// Loads the pins under `data` (none when the file does not exist).
    pub fn open(data: &std::path::Path) -> Result<FilePinStore, String> {
        let path = data.join(PINS_FILE_NAME);
        let pins = match durable_file::read(
            &path,
            PINS_MAGIC,
            PINS_FORMAT_VERSION..=PINS_FORMAT_VERSION,
        ) {
            Ok((_, payload)) => serde_json::from_slice(&payload)
                .map_err(|error| format!("{} is unreadable: {error}", path.display()))?,
            Err(DurableFileError::NotFound { .. }) => BTreeMap::new(),
            Err(error) => return Err(error.to_string()),
        };
        Ok(FilePinStore {
            path,
            pins: Mutex::new(pins),
        })
    }

    fn save(&self, pins: &BTreeMap<String, String>) {
        let payload = serde_json::to_vec(pins).unwrap_or_default();
        if let Err(error) =
            durable_file::write_atomic(&self.path, PINS_MAGIC, PINS_FORMAT_VERSION, &payload)
        {
            tracing::error!(%error, "certificate pins not saved");
        }
    }
}

impl PinStore for FilePinStore {
    fn pinned(&self, alias: &str) -> Option<Fingerprint> {
        self.pins
            .lock()
            .get(alias)
            .and_then(|text| Fingerprint::parse(text))
    }

    fn pin(&self, alias: &str, fingerprint: Fingerprint) {
        let mut pins = self.pins.lock();
        pins.insert(alias.to_string(), fingerprint.to_string());
        self.save(&pins);
    }

    fn unpin(&self, alias: &str) {
        let mut pins = self.pins.lock();
        if pins.remove(alias).is_some() {
            self.save(&pins);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_survive_a_reopen_and_corruption_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fingerprint = Fingerprint::of(b"leader certificate");
        let store = FilePinStore::open(dir.path()).expect("open");
        assert!(store.pinned("leader").is_none());
        store.pin("leader", fingerprint);
        let reopened = FilePinStore::open(dir.path()).expect("reopen");
        assert_eq!(reopened.pinned("leader"), Some(fingerprint));
        reopened.unpin("leader");
        assert!(FilePinStore::open(dir.path())
            .expect("open")
            .pinned("leader")
            .is_none());
        store.pin("leader", fingerprint);
        let path = dir.path().join(PINS_FILE_NAME);
        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).expect("write");
        assert!(FilePinStore::open(dir.path()).is_err());
    }
}
