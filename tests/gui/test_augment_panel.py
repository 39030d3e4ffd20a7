"""The augmentation group of the Training Settings: shown for pictures, its strip drawn
from the preview's first picture and drawn again at once as a setting is typed, without
reading the data again; each change one undo step."""

from PySide6.QtCore import Qt

from tests.gui.test_data_preview_panel import loaded
from tests.gui.test_inspector import retype


def strip_images(view) -> list[bytes]:
    return [bytes(label.pixmap().toImage().constBits()) for label in view.pictures()]


def test_the_shapes_preset_shows_its_augmented_strip_and_follows_typed_settings(qtbot, window):
    loaded(qtbot, window, "shapes_cnn")  # draws the folder on first use
    settings = window.training_settings
    view = settings.augmentation
    assert settings.augmentation_box.isVisibleTo(window)
    assert view.views() == 8 and view.strip.isVisibleTo(window)
    summary = settings.preview.summary.text()
    assert "3,000 samples" in summary and "4 classes" in summary
    before = strip_images(view)
    check = window.training.session.data_check
    reloads = []
    check.changed.connect(lambda: reloads.append(1))
    field = view.form.editor("augment_rotation").edit
    retype(qtbot, field, "90")
    assert window.document.setting(("data", "augment_rotation")) == 90.0
    after = strip_images(view)
    assert after[0] == before[0]  # the sample as it is
    assert after[1:] != before[1:]
    assert not check.scheduled() and not reloads and check.settled()  # no reload to come
    window.document.undo_stack.undo()
    assert window.document.setting(("data", "augment_rotation")) == 15.0
    assert strip_images(view) == before


def test_a_bad_range_is_explained_under_its_field_and_not_stored(qtbot, window):
    loaded(qtbot, window, "shapes_cnn")
    view = window.training_settings.augmentation
    field = view.form.fields["augment_crop_scale"]
    retype(qtbot, field.editor.edit, "0.9, 0.2")
    assert "low then high" in field.error.text()
    assert window.document.setting(("data", "augment_crop_scale")) == [0.6, 1.0]


def test_crop_ranges_show_only_with_the_crop_and_the_group_hides_for_tables(qtbot, window):
    loaded(qtbot, window, "digits_cnn")
    settings = window.training_settings
    view = settings.augmentation
    assert settings.augmentation_box.isVisibleTo(window)
    assert view.views() == 0 and view.strip.isVisibleTo(window)  # nothing on: the sample
    assert not view.form.form.isRowVisible(view.form.editor("augment_crop_scale"))
    box = view.form.editor("augment_crop").check
    box.setFocus()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=box.rect().center())
    assert window.document.setting(("data", "augment_crop"))
    assert view.form.form.isRowVisible(view.form.editor("augment_crop_scale"))
    assert view.views() == 8
    loaded(qtbot, window, "binary_classifier")
    assert not settings.augmentation_box.isVisibleTo(window)


def test_streaming_fields_show_for_image_data_once_streaming_is_chosen(qtbot, window):
    loaded(qtbot, window, "shapes_cnn")
    data = window.training_settings.data
    shown = {name: data.form.isRowVisible(data.editor(name)) for name in data.fields}
    assert shown["image_loading"] and not shown["num_workers"] and not shown["prefetch_factor"]
    combo = data.editor("image_loading").combo
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # cache -> stream
    assert window.document.setting(("data", "image_loading")) == "stream"
    assert data.form.isRowVisible(data.editor("num_workers"))
    assert data.form.isRowVisible(data.editor("prefetch_factor"))
    window.document.undo_stack.undo()
    assert not data.form.isRowVisible(data.editor("num_workers"))
    loaded(qtbot, window, "digits_mlp")
    assert not data.form.isRowVisible(data.editor("image_loading"))
