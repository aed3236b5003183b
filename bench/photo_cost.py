"""What one uploaded photo costs the server: wall time and peak memory of judging, decoding,
re-encoding and storing it (crm.photos.services.store_upload), each case in a fresh process.

Target (issue 17.5): a photo within the limits costs at most 1 s and 150 MB; one beyond them is
refused from its header at almost no cost.
Run: .venv/bin/python bench/photo_cost.py
"""

import io
import json
import subprocess
import sys
import tempfile
import time

from common import ROOT, use_project_path

use_project_path()

TARGET_SECONDS, TARGET_MB = 1.0, 150


def picture(kind: str, size: tuple[int, int], fmt: str) -> bytes:
    """A photo-like picture: smooth gradients with fine noise, as a camera makes (a flat colour
    would compress and decode unrealistically fast)."""
    from PIL import Image, ImageFilter

    width, height = size
    if kind == "flat":  # the 173 KB PNG of 7700×7700: a decompression bomb
        out = io.BytesIO()
        Image.new("RGB", size, (200, 40, 40)).save(out, format=fmt)
        return out.getvalue()
    small = Image.effect_noise((max(1, width // 16), max(1, height // 16)), 60).convert("RGB")
    image = small.resize(size, Image.Resampling.BICUBIC)
    if kind == "detail":
        grain = Image.effect_noise(size, 18).convert("RGB")
        image = Image.blend(image, grain, 0.15)
    elif kind == "smooth":
        image = image.filter(ImageFilter.GaussianBlur(2))
    out = io.BytesIO()
    options = {"quality": 88} if fmt == "JPEG" else {}
    image.save(out, format=fmt, **options)
    return out.getvalue()


CASES = [  # name, kind, size, format
    ("phone JPEG 12 MP", "detail", (4000, 3000), "JPEG"),
    ("phone JPEG 50 MP", "detail", (8160, 6120), "JPEG"),
    ("JPEG 60 MP (the cap)", "smooth", (9000, 6660), "JPEG"),
    ("PNG screenshot 8 MP (the cap)", "smooth", (2000, 4000), "PNG"),
    ("WebP 8 MP (the cap)", "smooth", (2000, 4000), "WEBP"),
    ("PNG 7700×7700 (refused by its header)", "flat", (7700, 7700), "PNG"),
]


def status_kb(key: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key + ":"))


def reset_peak() -> int:
    """Linux: set the peak resident size back to the current one (clear_refs 5); returns it."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return status_kb("VmRSS")


def one(index: int, path: str) -> None:
    """In a fresh process: read the case's file, then time store_upload alone."""
    name = CASES[index][0]
    with open(path, "rb") as file:
        data = file.read()
    from crm import create_app
    from crm.photos import services

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "MEDIA_DIR": folder,
                          "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # fmt: skip
        with app.app_context():
            baseline = reset_peak()
            started = time.perf_counter()
            try:
                services.store_upload(io.BytesIO(data), name)
                outcome = "stored"
            except services.PhotoError as error:
                outcome = f"refused: {error.message}"
            seconds = time.perf_counter() - started
            peak = status_kb("VmHWM")
    print(json.dumps({"name": name, "bytes": len(data), "seconds": seconds,
                      "mb": (peak - baseline) / 1024, "outcome": outcome}, ensure_ascii=False))  # fmt: skip


def main() -> None:
    for index, (_, kind, size, fmt) in enumerate(CASES):
        with tempfile.NamedTemporaryFile() as file:
            file.write(picture(kind, size, fmt))
            file.flush()
            found = subprocess.run([sys.executable, __file__, str(index), file.name],
                                   capture_output=True, text=True, cwd=ROOT,
                                   check=True).stdout.strip().splitlines()[-1]  # fmt: skip
        result = json.loads(found)
        ok = result["seconds"] <= TARGET_SECONDS and result["mb"] <= TARGET_MB
        print(f"{result['name']}: {result['bytes'] / 1e6:.1f} MB file, {result['seconds'] * 1000:.0f} ms, "
              f"+{result['mb']:.0f} MB peak, {result['outcome'][:40]} {'✓' if ok else '✗'}")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1:
        one(int(sys.argv[1]), sys.argv[2])
    else:
        main()
