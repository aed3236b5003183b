"""Photos: uploads checked by their bytes, re-encoded without EXIF, stored outside static/."""
