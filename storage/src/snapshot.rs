//! Commit snapshots for bootstrapping followers: pinning on the leader, installing on the
//! follower.
//!
//! A pin hard-links the files of the current commit into `snapshots/<pin>/`, so tantivy's
//! garbage collection (after merges or later commits) cannot remove them while a follower
//! copies them chunk by chunk. The manifest lists every file with its size and crc32. Pins left
//! by a crash are removed when the shard opens. The installer writes received chunks into a
//! staging folder, verifies every file against the manifest, and turns them into a replica
//! shard whose local checkpoint is the commit's. This module never decides what to copy over
//! which network: callers move the bytes.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::engine::{
    random_id, CommitPayload, EngineConfig, EngineError, ShardEngine, ShardRole, INDEX_DIR_NAME,
    TRANSLOG_DIR_NAME,
};
use crate::mapping::Mapping;
use crate::translog::Translog;

/// Folder of a shard holding its pins.
pub const SNAPSHOTS_DIR_NAME: &str = "snapshots";
/// Largest chunk one read returns, in bytes.
pub const SNAPSHOT_CHUNK_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Most pins one shard holds at once (concurrent follower bootstraps).
pub const SNAPSHOT_PINS_MAX: usize = 64;
/// Most files one manifest lists.
pub const SNAPSHOT_FILES_MAX: usize = 100_000;
/// Times a pin is retried when a merge removes a file between listing and linking.
const PIN_ATTEMPTS_MAX: usize = 8;
const META_FILE_NAME: &str = "meta.json";
const SEGMENT_EXTENSIONS: &[&str] = &["idx", "pos", "term", "store", "fast", "fieldnorm"];

/// One file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// File name inside the index folder (no path separators).
    pub name: String,
    /// Length in bytes.
    pub size_bytes: u64,
    /// crc32 of the whole file.
    pub crc32: u32,
}

/// What a follower needs to copy a pinned commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotManifest {
    /// The pin to read chunks from and release.
    pub pin_id: u64,
    /// Every file of the commit.
    pub files: Vec<SnapshotFile>,
    /// The commit's local checkpoint: the follower continues from the next seq-no.
    pub local_checkpoint: i64,
    /// The commit's max seq-no.
    pub max_seq_no: i64,
    /// The leader shard's history id.
    pub history_uuid: String,
    /// The mapping version the commit was written under.
    pub mapping_version: u64,
}

impl SnapshotManifest {
    /// Total bytes to copy.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|file| file.size_bytes).sum()
    }
}

/// The pins of one shard.
#[derive(Debug)]
pub struct SnapshotPins {
    dir: PathBuf,
    pins: BTreeMap<u64, BTreeMap<String, SnapshotFile>>,
}

/// Pin ids are unique across every shard of the process and, thanks to a random base, across
/// restarts: a follower names a pin without naming its shard, and a pin id left over from a
/// previous run must never reach a new pin.
fn next_pin_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    let counter = NEXT.get_or_init(|| {
        let random = u64::from_str_radix(&random_id()[..12], 16).unwrap_or(1);
        // Keep ids below 2^62 so they stay positive wherever they are printed as signed.
        AtomicU64::new((random << 12) & ((1 << 62) - 1) | 1)
    });
    counter.fetch_add(1, Ordering::Relaxed)
}

impl SnapshotPins {
    pub(crate) fn new(shard_dir: &Path) -> SnapshotPins {
        SnapshotPins {
            dir: shard_dir.join(SNAPSHOTS_DIR_NAME),
            pins: BTreeMap::new(),
        }
    }

    /// Removes pins a previous process left behind.
    pub(crate) fn clear_leftovers(shard_dir: &Path) -> Result<(), EngineError> {
        let dir = shard_dir.join(SNAPSHOTS_DIR_NAME);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(EngineError::Io {
                path: dir,
                source: error,
            }),
        }
    }

    fn pin_dir(&self, pin_id: u64) -> PathBuf {
        self.dir.join(pin_id.to_string())
    }
}

impl ShardEngine {
    /// Commits, then pins the commit's files and returns their manifest. Blocking.
    pub fn pin_snapshot(&self) -> Result<SnapshotManifest, EngineError> {
        self.refresh(true)?;
        let mut pins = self.snapshots.lock();
        if pins.pins.len() >= SNAPSHOT_PINS_MAX {
            return Err(EngineError::IllegalState(format!(
                "a shard holds at most {SNAPSHOT_PINS_MAX} snapshot pins"
            )));
        }
        let pin_id = next_pin_id();
        let pin_dir = pins.pin_dir(pin_id);
        let index_dir = self.dir().join(INDEX_DIR_NAME);
        let mut last_error = None;
        for _ in 0..PIN_ATTEMPTS_MAX {
            let _ = fs::remove_dir_all(&pin_dir);
            fs::create_dir_all(&pin_dir).map_err(EngineError::io(&pin_dir))?;
            match link_commit(&index_dir, &pin_dir) {
                Ok((files, payload)) => {
                    let manifest = SnapshotManifest {
                        pin_id,
                        files: files.values().cloned().collect(),
                        local_checkpoint: payload.local_checkpoint,
                        max_seq_no: payload.max_seq_no,
                        history_uuid: payload.history_uuid,
                        mapping_version: payload.mapping_version,
                    };
                    pins.pins.insert(pin_id, files);
                    return Ok(manifest);
                }
                Err(LinkError::Raced(error)) => last_error = Some(error),
                Err(LinkError::Failed(error)) => {
                    let _ = fs::remove_dir_all(&pin_dir);
                    return Err(error);
                }
            }
        }
        let _ = fs::remove_dir_all(&pin_dir);
        Err(last_error
            .unwrap_or_else(|| EngineError::IllegalState("could not pin a stable commit".into())))
    }

    /// Reads up to `len_max` bytes of a pinned file from `offset`. Blocking (file read).
    pub fn read_snapshot_chunk(
        &self,
        pin_id: u64,
        name: &str,
        offset: u64,
        len_max: usize,
    ) -> Result<Bytes, EngineError> {
        let (path, size_bytes) = {
            let pins = self.snapshots.lock();
            let files = pins.pins.get(&pin_id).ok_or_else(|| {
                EngineError::SnapshotNotFound(format!("snapshot pin [{pin_id}] not found"))
            })?;
            let file = files.get(name).ok_or_else(|| {
                EngineError::SnapshotNotFound(format!(
                    "file [{name}] is not in snapshot pin [{pin_id}]"
                ))
            })?;
            (pins.pin_dir(pin_id).join(name), file.size_bytes)
        };
        if offset > size_bytes {
            return Err(EngineError::IllegalArgument(format!(
                "offset {offset} is past the end of [{name}] ({size_bytes} bytes)"
            )));
        }
        let len = usize::try_from(size_bytes - offset)
            .unwrap_or(usize::MAX)
            .min(len_max)
            .min(SNAPSHOT_CHUNK_BYTES_MAX);
        let mut file = File::open(&path).map_err(EngineError::io(&path))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(EngineError::io(&path))?;
        let mut buffer = vec![0u8; len];
        file.read_exact(&mut buffer)
            .map_err(EngineError::io(&path))?;
        Ok(Bytes::from(buffer))
    }

    /// Releases a pin and deletes its links.
    pub fn release_snapshot(&self, pin_id: u64) -> Result<(), EngineError> {
        let mut pins = self.snapshots.lock();
        if pins.pins.remove(&pin_id).is_none() {
            return Err(EngineError::SnapshotNotFound(format!(
                "snapshot pin [{pin_id}] not found"
            )));
        }
        let pin_dir = pins.pin_dir(pin_id);
        fs::remove_dir_all(&pin_dir).map_err(EngineError::io(&pin_dir))
    }

    /// Ids of the pins held now.
    pub fn snapshot_pins(&self) -> Vec<u64> {
        self.snapshots.lock().pins.keys().copied().collect()
    }
}

enum LinkError {
    /// A file vanished between listing and linking (a merge's garbage collection): retry.
    Raced(EngineError),
    Failed(EngineError),
}

fn link_commit(
    index_dir: &Path,
    pin_dir: &Path,
) -> Result<(BTreeMap<String, SnapshotFile>, CommitPayload), LinkError> {
    let failed = |error: EngineError| LinkError::Failed(error);
    let meta_path = index_dir.join(META_FILE_NAME);
    let meta_bytes = fs::read(&meta_path).map_err(|e| failed(EngineError::io(&meta_path)(e)))?;
    let (names, payload) = commit_files(&meta_bytes).map_err(|reason| {
        failed(EngineError::Corrupt {
            path: meta_path.clone(),
            reason,
        })
    })?;
    let mut files = BTreeMap::new();
    for name in names {
        let source = index_dir.join(&name);
        let target = pin_dir.join(&name);
        if let Err(error) = fs::hard_link(&source, &target) {
            let error_kind = error.kind();
            let wrapped = EngineError::io(&source)(error);
            return Err(if error_kind == std::io::ErrorKind::NotFound {
                LinkError::Raced(wrapped)
            } else {
                LinkError::Failed(wrapped)
            });
        }
        files.insert(name.clone(), describe(&target, &name).map_err(failed)?);
    }
    let meta_target = pin_dir.join(META_FILE_NAME);
    fs::write(&meta_target, &meta_bytes).map_err(|e| failed(EngineError::io(&meta_target)(e)))?;
    files.insert(
        META_FILE_NAME.to_string(),
        SnapshotFile {
            name: META_FILE_NAME.to_string(),
            size_bytes: meta_bytes.len() as u64,
            crc32: crc32fast::hash(&meta_bytes),
        },
    );
    Ok((files, payload))
}

/// The segment files a `meta.json` references, and its payload.
fn commit_files(meta_bytes: &[u8]) -> Result<(Vec<String>, CommitPayload), String> {
    let meta: serde_json::Value =
        serde_json::from_slice(meta_bytes).map_err(|error| error.to_string())?;
    let payload_text = meta["payload"]
        .as_str()
        .ok_or_else(|| "the commit has no payload".to_string())?;
    let payload = CommitPayload::decode(payload_text)?;
    let segments = meta["segments"]
        .as_array()
        .ok_or_else(|| "the commit lists no segments".to_string())?;
    let mut names = Vec::new();
    for segment in segments {
        let id = segment["segment_id"]
            .as_str()
            .ok_or_else(|| "a segment has no id".to_string())?
            .replace('-', "");
        for extension in SEGMENT_EXTENSIONS {
            names.push(format!("{id}.{extension}"));
        }
        if let Some(opstamp) = segment["deletes"]["opstamp"].as_u64() {
            names.push(format!("{id}.{opstamp}.del"));
        }
    }
    if names.len() > SNAPSHOT_FILES_MAX {
        return Err(format!(
            "the commit has more than {SNAPSHOT_FILES_MAX} files"
        ));
    }
    Ok((names, payload))
}

fn describe(path: &Path, name: &str) -> Result<SnapshotFile, EngineError> {
    let mut file = File::open(path).map_err(EngineError::io(path))?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size_bytes = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(EngineError::io(path))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size_bytes += read as u64;
    }
    Ok(SnapshotFile {
        name: name.to_string(),
        size_bytes,
        crc32: hasher.finalize(),
    })
}

/// Receives a pinned commit's files and turns them into a replica shard.
#[derive(Debug)]
pub struct SnapshotInstaller {
    shard_dir: PathBuf,
    staging: PathBuf,
    manifest: SnapshotManifest,
}

impl SnapshotInstaller {
    /// Starts installing `manifest` as the shard at `shard_dir`, which must not exist.
    pub fn begin(
        shard_dir: &Path,
        manifest: SnapshotManifest,
    ) -> Result<SnapshotInstaller, EngineError> {
        if shard_dir.exists() {
            return Err(EngineError::IllegalState(format!(
                "shard directory {} already exists",
                shard_dir.display()
            )));
        }
        if manifest.files.len() > SNAPSHOT_FILES_MAX {
            return Err(EngineError::IllegalArgument(
                "too many snapshot files".into(),
            ));
        }
        for file in &manifest.files {
            check_file_name(&file.name)?;
        }
        let mut staging_name = shard_dir
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        staging_name.push(".installing");
        let staging = shard_dir.with_file_name(staging_name);
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(staging.join(INDEX_DIR_NAME)).map_err(EngineError::io(&staging))?;
        Ok(SnapshotInstaller {
            shard_dir: shard_dir.to_path_buf(),
            staging,
            manifest,
        })
    }

    /// The manifest being installed.
    pub fn manifest(&self) -> &SnapshotManifest {
        &self.manifest
    }

    /// Bytes of `name` already written, to resume a copy after a pause or restart.
    pub fn written_bytes(&self, name: &str) -> u64 {
        fs::metadata(self.staging.join(INDEX_DIR_NAME).join(name)).map_or(0, |m| m.len())
    }

    /// Switches to the manifest of a newer pin (the copy was interrupted and the leader pinned
    /// again), keeping what can be kept: tantivy's segment files are immutable and uniquely
    /// named, so a file of the same name and size holds the same bytes and its written prefix
    /// stays; every other file, and `meta.json`, is removed and copied again. Returns the bytes
    /// already written per file of the new manifest. Blocking.
    pub fn replace_manifest(
        &mut self,
        manifest: SnapshotManifest,
    ) -> Result<BTreeMap<String, u64>, EngineError> {
        if manifest.files.len() > SNAPSHOT_FILES_MAX {
            return Err(EngineError::IllegalArgument(
                "too many snapshot files".into(),
            ));
        }
        for file in &manifest.files {
            check_file_name(&file.name)?;
        }
        let index_dir = self.staging.join(INDEX_DIR_NAME);
        let mut written = BTreeMap::new();
        let entries = fs::read_dir(&index_dir).map_err(EngineError::io(&index_dir))?;
        for entry in entries {
            let entry = entry.map_err(EngineError::io(&index_dir))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let on_disk = entry
                .metadata()
                .map_err(EngineError::io(entry.path()))?
                .len();
            let kept = name != META_FILE_NAME
                && self.size_of(&name) == manifest_size(&manifest, &name)
                && manifest_size(&manifest, &name).is_some_and(|size| on_disk <= size);
            if kept {
                written.insert(name, on_disk);
            } else {
                fs::remove_file(entry.path()).map_err(EngineError::io(entry.path()))?;
            }
        }
        self.manifest = manifest;
        Ok(written)
    }

    fn size_of(&self, name: &str) -> Option<u64> {
        manifest_size(&self.manifest, name)
    }

    /// Writes a received chunk. Chunks of one file may arrive in any order. Blocking.
    pub fn write_chunk(&self, name: &str, offset: u64, data: &[u8]) -> Result<(), EngineError> {
        check_file_name(name)?;
        let expected = self
            .manifest
            .files
            .iter()
            .find(|file| file.name == name)
            .ok_or_else(|| {
                EngineError::IllegalArgument(format!("file [{name}] is not in the manifest"))
            })?;
        let end = offset.checked_add(data.len() as u64);
        if end.is_none_or(|end| end > expected.size_bytes) {
            return Err(EngineError::IllegalArgument(format!(
                "chunk at {offset} of {} bytes runs past the end of [{name}] ({} bytes)",
                data.len(),
                expected.size_bytes
            )));
        }
        let path = self.staging.join(INDEX_DIR_NAME).join(name);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(EngineError::io(&path))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(EngineError::io(&path))?;
        file.write_all(data).map_err(EngineError::io(&path))?;
        Ok(())
    }

    /// Verifies every file against the manifest, creates a fresh translog starting after the
    /// commit's checkpoint, re-commits with this shard's own identity, moves the shard into
    /// place and opens it as a replica.
    pub fn finish(
        self,
        config: EngineConfig,
        mapping: Arc<Mapping>,
    ) -> Result<ShardEngine, EngineError> {
        let index_dir = self.staging.join(INDEX_DIR_NAME);
        for expected in &self.manifest.files {
            let path = index_dir.join(&expected.name);
            let actual = describe(&path, &expected.name)?;
            if actual.size_bytes != expected.size_bytes || actual.crc32 != expected.crc32 {
                return Err(EngineError::Corrupt {
                    path,
                    reason: format!(
                        "received {} bytes with crc32 {:08x}, expected {} bytes with crc32 {:08x}",
                        actual.size_bytes, actual.crc32, expected.size_bytes, expected.crc32
                    ),
                });
            }
            File::open(&path)
                .and_then(|file| file.sync_all())
                .map_err(EngineError::io(&path))?;
        }
        let translog = Translog::create(
            &self.staging.join(TRANSLOG_DIR_NAME),
            crate::engine::translog_config_for(&config),
            config.primary_term,
            self.manifest.local_checkpoint + 1,
        )?;
        let payload = CommitPayload {
            translog_uuid: crate::engine::hex_id(&translog.uuid()),
            history_uuid: random_id(),
            local_checkpoint: self.manifest.local_checkpoint,
            max_seq_no: self.manifest.max_seq_no,
            mapping_version: self.manifest.mapping_version,
        };
        translog.close()?;
        crate::engine::recommit(&index_dir, &config, &payload)?;
        crate::durable_file::fsync_dir(&self.staging).map_err(|error| EngineError::Corrupt {
            path: self.staging.clone(),
            reason: error.to_string(),
        })?;
        fs::rename(&self.staging, &self.shard_dir).map_err(EngineError::io(&self.shard_dir))?;
        if let Some(parent) = self.shard_dir.parent() {
            let _ = crate::durable_file::fsync_dir(parent);
        }
        let config = EngineConfig {
            role: ShardRole::Replica,
            ..config
        };
        ShardEngine::open(&self.shard_dir, config, mapping)
    }

    /// Abandons the install and removes what was written.
    pub fn abort(self) -> Result<(), EngineError> {
        fs::remove_dir_all(&self.staging).map_err(EngineError::io(&self.staging))
    }
}

fn manifest_size(manifest: &SnapshotManifest, name: &str) -> Option<u64> {
    manifest
        .files
        .iter()
        .find(|file| file.name == name)
        .map(|file| file.size_bytes)
}

fn check_file_name(name: &str) -> Result<(), EngineError> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0']);
    if valid {
        Ok(())
    } else {
        Err(EngineError::IllegalArgument(format!(
            "invalid snapshot file name [{name}]"
        )))
    }
}
