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
    uploads. Too many are refused before any is opened, and nothing is written; otherwise each
    refusal goes beside the field and the others are kept for the form shown again."""
    limit = current_app.config["PHOTOS_PER_RECORD"]
    tokens_sent = request.form.getlist("photo_token")
    uploads = [upload for upload in request.files.getlist(field.name) if upload.filename]
    kept, judged, errors = [], [], []
    if len(tokens_sent) + len(uploads) > limit:  # the new ones are not even opened
        errors.append(
            f"每次最多 {limit} 张照片，这次有 {len(tokens_sent) + len(uploads)} 张，"
            "请重新选择，不超过这个数。"
        )
        uploads = []
    for token in tokens_sent:
        try:
            kept.append(services.redeem(token, current_user.id))
        except PhotoError as error:
            errors.append(error.message)
    for upload in uploads:  # every file's size and header first: nothing decoded yet
        try:
            judged.append(services.judge(upload.stream, upload.filename))
        except PhotoError as error:
            errors.append(error.message)
    for upload in judged:
        try:
            kept.append(services.store(upload))
        except PhotoError as error:
            errors.append(error.message)
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
    return forms.shown_again(
        form,
        template,
        tokens=tokens(pending),
        limit=current_app.config["PHOTOS_PER_RECORD"],
        **context,
    )
