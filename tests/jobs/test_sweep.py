"""The nightly sweep deletes only old files that no record claims."""

import io
import os
import time

from crm.photos import services as photos
from crm.transfer import services as transfer
from tests import factories as f


def aged(path, hours: float):
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_the_sweep_deletes_old_unclaimed_files_and_nothing_else(app, runner):
    with app.app_context():
        account = f.AccountFactory()
        claimed = photos.path_of(f.photo_row(account.id).stored_name)
        unsaved_old = photos.path_of(photos.store_upload(
            io.BytesIO(f.image_bytes()), "a.png").stored_name)  # fmt: skip
        unsaved_new = photos.path_of(photos.store_upload(
            io.BytesIO(f.image_bytes()), "b.png").stored_name)  # fmt: skip
        preview_old = transfer.uploads_folder() / "old.xlsx"
        preview_new = transfer.uploads_folder() / "new.xlsx"
        for path in (preview_old, preview_new):
            path.write_bytes(b"PK")
    for path in (claimed, unsaved_old, preview_old):
        aged(path, hours=49)
    aged(unsaved_new, hours=47)
    result = runner.invoke(args=["jobs", "sweep"])
    assert result.exit_code == 0, result.output
    assert "未保存的照片 1 个，未确认的导入文件 1 个" in result.output
    assert [p.exists() for p in (claimed, unsaved_old, unsaved_new, preview_old, preview_new)] == [
        True, False, True, False, True,
    ]  # fmt: skip
