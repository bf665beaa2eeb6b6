//! Files of the unlocked Safe open in other apps, and copies dragged out of the window: their
//! cleartext lives in this run's secure temporary storage (RAM only) and is wiped when the Safe
//! locks or the app quits, after every save has been taken back.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arca_safe::{Edit, Leftover, Safe, SecureArea, TakeBack, Watch};
use uuid::Uuid;

use crate::dto::{AppError, EditEvent, EditEventKind, OpenEdit};
use crate::events::Emit;

/// One file open in another app.
struct Open {
    edit: Arc<Mutex<Edit>>,
    parent: Option<Uuid>,
    _watch: Watch,
}

pub struct Editing {
    /// Where runs' folders go (`$XDG_RUNTIME_DIR/arca`), or why there is none.
    base: Result<PathBuf, String>,
    /// Where the desktop's application entries are.
    app_dirs: Vec<PathBuf>,
    /// Made at the first edit or drag of this run; dropping it wipes it.
    area: Mutex<Option<SecureArea>>,
    open: Mutex<BTreeMap<String, Open>>,
    /// Changed copies an earlier run left, found at start.
    leftovers: Mutex<Vec<Leftover>>,
}

fn guard<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Editing {
    /// For this desktop session: `$XDG_RUNTIME_DIR/arca` and the XDG data folders.
    pub fn for_session() -> Self {
        Self::with(
            arca_safe::default_base().map_err(|error| error.to_string()),
            crate::desktop_apps::data_dirs(),
        )
    }

    /// With the runs' folder `base` and the application entries in `app_dirs`.
    pub fn with(base: Result<PathBuf, String>, app_dirs: Vec<PathBuf>) -> Self {
        Self {
            base,
            app_dirs,
            area: Mutex::default(),
            open: Mutex::default(),
            leftovers: Mutex::default(),
        }
    }

    /// Wipes what earlier runs left in the secure storage, keeping the copies changed after
    /// their last save into a Safe (offered after that Safe is unlocked).
    pub fn sweep_leftovers(&self) {
        let found = match &self.base {
            Ok(base) => arca_safe::sweep_leftovers(base).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        *guard(&self.leftovers) = found;
    }

    /// The apps the desktop offers for a file named `name`.
    pub fn apps_for(&self, name: &str) -> Vec<crate::desktop_apps::DesktopApp> {
        crate::desktop_apps::for_file(&self.app_dirs, name)
    }

    /// This run's area, made when first needed.
    fn with_area<T>(
        &self,
        work: impl FnOnce(&SecureArea) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut area = guard(&self.area);
        if area.is_none() {
            let base = self
                .base
                .as_ref()
                .map_err(|reason| AppError::from(arca_safe::Error::NoSecureArea(reason.clone())))?;
            *area = Some(SecureArea::create_under(base)?);
        }
        match area.as_ref() {
            Some(area) => work(area),
            None => Err(AppError::locked()),
        }
    }

    /// Puts a copy of `item` in RAM and watches it: each save is taken back into `safe` and
    /// announced (event `edit`). Returns the edit and the copy's path.
    pub fn open(
        &self,
        safe: &Safe,
        item: Uuid,
        emit: &Emit,
    ) -> Result<(OpenEdit, PathBuf), AppError> {
        let edit = self.with_area(|area| Ok(area.open_copy(safe, item)?))?;
        let parent = safe.item(item)?.parent;
        let id = Uuid::new_v4().simple().to_string();
        let file = edit.file().to_path_buf();
        let edit = Arc::new(Mutex::new(edit));
        let watch = {
            let (safe, shared, emit, id) = (safe.clone(), edit.clone(), emit.clone(), id.clone());
            arca_safe::watch(&guard(&edit), arca_safe::QUIET, move || {
                let mut edit = guard(&shared);
                let outcome = safe.take_back(&mut edit);
                announce(&emit, &id, &edit, parent, outcome);
            })?
        };
        let info = describe(&id, &guard(&edit));
        guard(&self.open).insert(
            id,
            Open {
                edit,
                parent,
                _watch: watch,
            },
        );
        Ok((info, file))
    }

    /// The files open in other apps.
    pub fn list(&self) -> Vec<OpenEdit> {
        guard(&self.open)
            .iter()
            .map(|(id, open)| describe(id, &guard(&open.edit)))
            .collect()
    }

    /// Ends an edit: its last save is taken back, then the copy is wiped. A save that cannot be
    /// taken back keeps the copy open (the error says why).
    pub fn finish(&self, safe: &Safe, id: &str, emit: &Emit) -> Result<(), AppError> {
        let Some(open) = guard(&self.open).remove(id) else {
            return Err(AppError::new(
                crate::dto::ErrorKind::NotFound,
                "that file is no longer open in another app",
            ));
        };
        let mut edit = guard(&open.edit);
        let outcome = safe.take_back_settled(&mut edit);
        let failed = outcome.as_ref().err().map(ToString::to_string);
        announce(emit, id, &edit, open.parent, outcome);
        if let Some(message) = failed {
            drop(edit);
            guard(&self.open).insert(id.to_owned(), open);
            return Err(AppError::new(crate::dto::ErrorKind::Io, message));
        }
        edit.close()?;
        crate::events::send(
            emit,
            "edit",
            event(EditEventKind::Ended, id, &edit, None, None),
        );
        Ok(())
    }

    /// The names of the files another program still has open.
    pub fn open_elsewhere(&self) -> Vec<String> {
        self.list()
            .into_iter()
            .filter(|edit| edit.open_elsewhere)
            .map(|edit| edit.name)
            .collect()
    }

    /// Takes back every open file's last save into `safe` and wipes the whole area: the Safe
    /// is locking or the app quitting. A save that cannot be taken back is kept in RAM for the
    /// next start, as after a crash.
    pub fn end_all(&self, safe: Option<&Safe>, emit: &Emit) {
        let open = std::mem::take(&mut *guard(&self.open));
        let mut kept = false;
        for (id, open) in open {
            let mut edit = guard(&open.edit);
            let outcome = match safe {
                Some(safe) => safe.take_back_settled(&mut edit),
                None => Ok(TakeBack::Unchanged),
            };
            kept |= outcome.is_err() || (safe.is_none() && edit.has_changes());
            announce(emit, &id, &edit, open.parent, outcome);
            if !kept {
                let _ = edit.close();
            }
        }
        if let Some(area) = guard(&self.area).take()
            && kept
        {
            area.keep();
        }
    }

    /// The changed copies an earlier run left of the Safe `safe_id`.
    pub fn leftovers(&self, safe_id: Uuid) -> Vec<Leftover> {
        guard(&self.leftovers)
            .iter()
            .filter(|left| left.record.safe_id == safe_id)
            .cloned()
            .collect()
    }

    /// Takes a leftover copy back into `safe` (`keep`) or deletes it.
    pub fn settle_leftover(&self, safe: &Safe, id: &str, keep: bool) -> Result<(), AppError> {
        let mut leftovers = guard(&self.leftovers);
        let Some(index) = leftovers
            .iter()
            .position(|left| left.id() == id && left.record.safe_id == safe.id())
        else {
            return Err(AppError::new(
                crate::dto::ErrorKind::NotFound,
                "that copy is gone",
            ));
        };
        if keep {
            safe.take_back_leftover(&leftovers[index])?;
        } else {
            leftovers[index].discard()?;
        }
        leftovers.remove(index);
        Ok(())
    }

    /// Where copies dragged out of the window go: `<area>/out`, made when first needed.
    pub fn drag_out_folder(&self) -> Result<PathBuf, AppError> {
        self.with_area(|area| {
            let folder = area.root().join("out");
            match std::fs::create_dir(&folder) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(AppError::from(arca_safe::Error::Io {
                        path: folder,
                        error,
                    }));
                }
            }
            Ok(folder)
        })
    }
}

impl Editing {
    /// Exports the `i`-th of `items` for a drag out of the window into `<out>/<drag>/<i>/`
    /// (a folder each: two dragged items may have one name). Each appears there only once it
    /// is complete (exported under `.staging`, then renamed): the app it is dropped on may copy
    /// it as soon as it is there. Copies of drags over ten minutes old go first: whatever they
    /// were dropped on has long copied them.
    pub fn drag_out(&self, safe: &Safe, items: &[Uuid], drag: &str) -> Result<(), AppError> {
        if !is_drag_id(drag) {
            return Err(AppError::invalid("a drag is named by letters and digits"));
        }
        let out = self.drag_out_folder()?;
        remove_old_drags(&out, drag);
        let folder = out.join(drag);
        let io = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |error| AppError::from(arca_safe::Error::Io { path, error })
        };
        for (index, item) in items.iter().enumerate() {
            let staging = folder.join(".staging").join(index.to_string());
            std::fs::create_dir_all(&staging).map_err(io(&staging))?;
            let report = safe.export(
                &[*item],
                &staging,
                arca_safe::OnClash::Skip,
                &arca_safe::JobControl::new(),
                &mut |_| {},
            );
            let failed = match &report {
                Ok(report) => report.failed.first().map(|problem| problem.problem.clone()),
                Err(error) => Some(error.to_string()),
            };
            if let Some(problem) = failed {
                let _ = std::fs::remove_dir_all(&folder);
                return Err(AppError::new(crate::dto::ErrorKind::Io, problem));
            }
            let target = folder.join(index.to_string());
            std::fs::rename(&staging, &target).map_err(io(&target))?;
        }
        let _ = std::fs::remove_dir_all(folder.join(".staging"));
        Ok(())
    }

    /// Removes the copies of a drag that was dropped nowhere (or back in the window).
    pub fn drag_out_done(&self, drag: &str) {
        if let Ok(folder) = self.drag_out_folder()
            && is_drag_id(drag)
        {
            let _ = std::fs::remove_dir_all(folder.join(drag));
        }
    }
}

/// A drag's name: letters and digits, so that it is one folder name and nothing else.
fn is_drag_id(drag: &str) -> bool {
    !drag.is_empty() && drag.len() <= 64 && drag.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// Removes the copies of drags (other than `current`) made over ten minutes ago.
fn remove_old_drags(out: &std::path::Path, current: &str) {
    for entry in std::fs::read_dir(out).into_iter().flatten().flatten() {
        let old = entry.file_name() != current
            && entry
                .metadata()
                .and_then(|metadata| metadata.modified())
                .is_ok_and(|modified| {
                    modified
                        .elapsed()
                        .is_ok_and(|age| age > std::time::Duration::from_secs(600))
                });
        if old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn describe(id: &str, edit: &Edit) -> OpenEdit {
    OpenEdit {
        edit: id.to_owned(),
        item: edit.item().to_string(),
        name: edit.name().to_owned(),
        path: edit.path_in_safe().to_owned(),
        unsaved: edit.has_changes(),
        open_elsewhere: !arca_safe::open_elsewhere(&[edit]).is_empty(),
    }
}

fn event(
    kind: EditEventKind,
    id: &str,
    edit: &Edit,
    size: Option<u64>,
    message: Option<String>,
) -> EditEvent {
    EditEvent {
        kind,
        edit: id.to_owned(),
        item: edit.item().to_string(),
        name: edit.name().to_owned(),
        size,
        message,
    }
}

/// Tells the window what taking back a save did; a saved content changes its folder's listing.
fn announce(
    emit: &Emit,
    id: &str,
    edit: &Edit,
    parent: Option<Uuid>,
    outcome: arca_safe::Result<TakeBack>,
) {
    match outcome {
        Ok(TakeBack::Saved { size }) => {
            crate::events::send(
                emit,
                "edit",
                event(EditEventKind::Saved, id, edit, Some(size), None),
            );
            crate::events::changed(emit, vec![parent]);
        }
        Ok(_) => {}
        Err(error) => crate::events::send(
            emit,
            "edit",
            event(
                EditEventKind::Problem,
                id,
                edit,
                None,
                Some(error.to_string()),
            ),
        ),
    }
}
