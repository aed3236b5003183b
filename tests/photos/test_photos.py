import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from crm.extensions import db
from crm.photos import services
from crm.photos.models import Photo
from crm.photos.services import PhotoError
from crm.visits.models import Visit
from tests import factories as f
from tests.visits.conftest import guide, visit_form  # noqa: F401  (fixture)

GPS_IFD = 0x8825


def jpeg_with_gps(size=(3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (10, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (25.0, 51.0, 0.0), 3: "E", 4: (114.0, 56.0, 0.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_exif_and_gps_are_gone_and_the_photo_is_upright_and_shrunk(app):
    original = jpeg_with_gps()
    assert GPS_IFD in Image.open(io.BytesIO(original)).getexif()  # the test photo has them
    with app.app_context():
        stored = services.store_upload(io.BytesIO(original), "IMG_0001.jpg")
        kept = Image.open(services.path_of(stored.stored_name))
        assert dict(kept.getexif()) == {}
        assert "exif" not in kept.info
        assert kept.size == (1067, 1600)  # 2000×3000 once turned upright, then fit in 1600 px
        assert (stored.width, stored.height, stored.content_type) == (1067, 1600, "image/jpeg")
        assert stored.stored_name.endswith(".jpg")
        assert "IMG_0001" not in stored.stored_name


@pytest.mark.parametrize(("fmt", "ending"), [("PNG", ".png"), ("WEBP", ".webp")])
def test_png_and_webp_are_taken(app, fmt, ending):
    with app.app_context():
        stored = services.store_upload(io.BytesIO(f.image_bytes(fmt)), "x")
        assert stored.stored_name.endswith(ending)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.4 this is a document", "photo.jpg"),
        (b"just some text", "photo.png"),
        (f.image_bytes("GIF"), "animation.jpg"),
        (f.image_bytes("PNG")[:60], "cut-short.png"),
    ],
)
def test_files_are_judged_by_their_bytes_not_their_names(app, content, name):
    with app.app_context(), pytest.raises(PhotoError, match=f"“{name}”不是 JPEG、PNG 或 WebP 图片"):
        services.store_upload(io.BytesIO(content), name)


def test_a_photo_over_ten_megabytes_gets_a_clear_message(app, client, guide):  # noqa: F811
    huge = (io.BytesIO(b"\xff" * (10 * 1024 * 1024 + 1)), "big.jpg")
    response = client.post(f"/branches/{guide.branch}/visits/new",
                           data=visit_form(photos=[huge]), content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert "“big.jpg”超过 10 MB" in response.text
    assert 'value="书记钟华、业主刘强"' in response.text


def test_a_renamed_document_in_the_form_is_refused_beside_the_photo_field(app, client, guide):  # noqa: F811
    fake = (io.BytesIO(b"MZ\x90\x00 not an image"), "photo.jpg")
    response = client.post(f"/branches/{guide.branch}/visits/new",
                           data=visit_form(photos=[fake]), content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert "“photo.jpg”不是 JPEG、PNG 或 WebP 图片" in response.text
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Visit)).scalar() == 0


def files_on_disk(app) -> int:
    with app.app_context():
        return sum(1 for path in services.photo_folder().iterdir() if path.is_file())


def test_too_many_photos_are_refused_before_any_is_opened(app, client, guide):  # noqa: F811
    """Issue 17.5: ten photos were all decoded, re-encoded and stored before the count refused
    them. The count comes first; a refused post leaves no file on disk."""
    before = files_on_disk(app)
    photos = [(io.BytesIO(f.image_bytes()), f"{n}.png") for n in range(10)]
    response = client.post(f"/branches/{guide.branch}/visits/new",
                           data=visit_form(photos=photos), content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert "每次最多 6 张照片，这次有 10 张" in response.text
    assert 'name="photo_token"' not in response.text
    assert files_on_disk(app) == before


def test_a_huge_picture_is_refused_by_its_header_and_leaves_no_file(app, client, guide):  # noqa: F811
    """A small PNG of 7700×7700 (a decompression bomb in all but name) is refused from its
    header, before it is decoded; a phone's big JPEG is decoded at a reduced scale."""
    before = files_on_disk(app)
    bomb = f.image_bytes("PNG", size=(7700, 7700))
    response = client.post(f"/branches/{guide.branch}/visits/new",
                           data=visit_form(photos=[(io.BytesIO(bomb), "bomb.png")]),
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert "7700×7700" in response.text
    assert files_on_disk(app) == before
    with app.app_context():
        stored = services.store_upload(
            io.BytesIO(f.image_bytes("JPEG", size=(8000, 6000))), "big.jpg"
        )
    assert max(stored.width, stored.height) == app.config["PHOTO_MAX_SIDE"]


def test_photos_are_stored_outside_static_under_random_names(app):
    with app.app_context():
        stored = services.store_upload(io.BytesIO(f.image_bytes()), "x.png")
        path = services.path_of(stored.stored_name)
        assert path.exists()
        assert "static" not in path.parts
        assert len(stored.stored_name) == 32 + len(".png")


def test_a_forged_or_foreign_token_is_refused(app):
    with app.app_context():
        token = services.pending_token(f.stored_photo(), account_id=1)
        with pytest.raises(PhotoError):
            services.redeem(token, account_id=2)
        payload, signature = token.rsplit(".", 1)
        forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        with pytest.raises(PhotoError):
            services.redeem(forged, account_id=1)
        assert services.redeem(token, account_id=1).content_type == "image/png"


def test_photos_are_served_only_to_those_who_may_see_the_visit(app, client, auth, world):
    auth.login("zdy-a")
    response = client.get(f"/photos/{world.photo_a}")
    assert (response.status_code, response.mimetype) == (200, "image/png")
    assert "private" in response.headers["Cache-Control"]
    auth.logout()
    for username in ("zdy-b", "auditor"):
        auth.login(username)
        assert client.get(f"/photos/{world.photo_a}").status_code in (403, 404)
        assert client.get(f"/visits/{world.visit_a}").status_code in (403, 404)
        auth.logout()
    auth.login("zdy-b")
    assert client.get(f"/photos/{world.photo_a}").status_code == 404
    assert client.get(f"/visits/{world.visit_a}").status_code == 404
    assert client.get(f"/problems/{world.problem_a}").status_code == 404
    assert client.get(f"/photos/pending/{world.pending_token}").status_code == 404


def test_a_request_over_the_size_limit_gets_a_chinese_page(app, client, guide):  # noqa: F811
    app.config["MAX_CONTENT_LENGTH"] = 1024
    big = (io.BytesIO(b"\0" * 4096), "a.png")
    response = client.post(f"/branches/{guide.branch}/visits/new",
                           data=visit_form(photos=[big]), content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 413
    assert "文件太大" in response.text


def test_photo_rows_are_written_with_their_visit_only(app, client, guide):  # noqa: F811
    photo = (io.BytesIO(f.image_bytes()), "a.png")
    client.post(f"/branches/{guide.branch}/visits/new", data=visit_form(photos=[photo]),
                content_type="multipart/form-data")  # fmt: skip
    with app.app_context():
        rows = db.session.execute(sa.select(Photo)).scalars().all()
        assert [row.uploaded_by_id for row in rows] == [guide.account]


def test_a_thumbnail_is_made_at_upload_small_upright_and_without_metadata(app):
    with app.app_context():
        stored = services.store_upload(io.BytesIO(jpeg_with_gps()), "IMG_0002.jpg")
        thumb = services.path_of(stored.stored_name + services.THUMB_SUFFIX)
        assert thumb.exists()  # made with the photo, not on first view
        assert thumb.stat().st_size <= 30_000
        small = Image.open(thumb)
        assert (small.format, small.size) == ("JPEG", (213, 320))  # upright, 320 px the long side
        assert dict(small.getexif()) == {}
        detailed = services.store_upload(io.BytesIO(f.noisy_jpeg((4000, 3000))), "yard.jpg")
        assert services.path_of(detailed.stored_name).stat().st_size > 200_000
        assert services.thumbnail_path(detailed.stored_name).stat().st_size <= 30_000


def test_a_thumbnail_is_served_like_its_photo(app, client, auth, world):
    auth.login("zdy-a")
    whole = client.get(f"/photos/{world.photo_a}")
    small = client.get(f"/photos/{world.photo_a}?size=thumb")
    assert (small.status_code, small.mimetype) == (200, "image/jpeg")
    assert "private" in small.headers["Cache-Control"]
    assert Image.open(io.BytesIO(small.data)).size[0] <= 320
    assert whole.data != small.data
    pending = client.get(f"/photos/pending/{world.pending_token}?size=thumb")
    assert (pending.status_code, pending.mimetype) == (200, "image/jpeg")
    auth.logout()
    auth.login("zdy-b")
    assert client.get(f"/photos/{world.photo_a}?size=thumb").status_code == 404
    assert client.get(f"/photos/pending/{world.pending_token}?size=thumb").status_code == 404


def test_a_photo_stored_before_thumbnails_gets_one_when_first_shown(app):
    with app.app_context():
        stored = services.store_upload(io.BytesIO(f.image_bytes("PNG", (900, 600))), "old.png")
        thumb = services.path_of(stored.stored_name + services.THUMB_SUFFIX)
        thumb.unlink()
        assert services.thumbnail_path(stored.stored_name) == thumb
        assert Image.open(thumb).size == (320, 213)


def test_the_sweep_keeps_a_claimed_photos_thumbnail_and_drops_an_orphans(app):
    with app.app_context():
        kept = f.photo_row(f.AccountFactory().id).stored_name
        orphan = f.stored_photo().stored_name
        folder = services.photo_folder()
        before = sorted(p.name for p in folder.iterdir())
        assert len(before) == 4  # two photos, each with its thumbnail
        assert services.sweep(older_than=timedelta(0)) == 2
        assert sorted(p.name for p in folder.iterdir()) == [kept, kept + services.THUMB_SUFFIX]
        assert orphan in before
