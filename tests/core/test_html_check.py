"""The page check every test runs (tests/html_check.py) finds what it is meant to find."""

from tests.html_check import faults_of


def test_a_sound_form_has_no_fault():
    html = """<form><label for="month">月份</label><select id="month" name="month"></select>
      <label>备注 <textarea name="note"></textarea></label>
      <input type="hidden" name="csrf_token"><input aria-label="搜索" name="q">
      <button type="submit">生成</button></form>"""
    assert faults_of(html) == []


def test_duplicate_ids_dangling_labels_and_unlabelled_fields_are_found():
    html = """<form><label for="month">月份</label><select id="month" name="month"></select></form>
      <form><label for="month">月份</label><select id="month" name="month"></select>
      <label for="gone">去向</label><input name="phone" type="tel"></form>"""
    assert faults_of(html) == [
        "id “month” used 2 times",
        "label for “gone”, no such id",
        "<input name=“phone”> has no label",
    ]
