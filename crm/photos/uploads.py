"""The photo field of a form that a phone posts: photos kept from an earlier try, and new ones."""

from flask import current_app, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import MultipleFileField

from crm.core import forms
from crm.photos import services
from crm.photos.services import PhotoError, StoredPhoto


def collect(field: MultipleFileField) -> list[StoredPhoto]:
    """The photos of this posting: those a shown-again form kept (by token), then the new
    uploads. Each refusal goes beside the field; the others are kept."""
    kept, errors = [], []
    for token in request.form.getlist("photo_token"):
        try:
            kept.append(services.redeem(token, current_user.id))
        except PhotoError as error:
            errors.append(error.message)
    for upload in request.files.getlist(field.name):
        if not upload.filename:
            continue
        try:
            kept.append(services.store_upload(upload.stream, upload.filename))
        except PhotoError as error:
            errors.append(error.message)
    limit = current_app.config["PHOTOS_PER_RECORD"]
    if len(kept) > limit:
        errors.append(f"每次最多 {limit} 张照片，现有 {len(kept)} 张，请去掉几张。")
    field.errors = errors
    return kept


def tokens(photos: list[StoredPhoto]) -> list[str]:
    """Tokens for a form shown again, so its photos come back with it."""
    return [services.pending_token(photo, current_user.id) for photo in photos]


def shown_again(form: FlaskForm, pending: list[StoredPhoto], template: str, **context):
    """A phone's form that was not saved: every field's message beside it, its values and its
    photos kept; for the outbox script, the messages as JSON."""
    if request.method == "POST" and form.photos.errors:
        refused = form.photos.errors
        form.validate()  # the other fields' messages too; validate() clears the photos'
        form.photos.errors = refused
    return forms.shown_again(form, template, tokens=tokens(pending),
                             limit=current_app.config["PHOTOS_PER_RECORD"], **context)  # fmt: skip
